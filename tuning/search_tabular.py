"""Keras Tuner search of the MLP on the embedded tables (breast cancer, wine, iris).

The MLP family (`kerasdl.hypermodels.MLPHyperModel`: width, depth, dropout, batch
norm, learning rate, schedule, optimizer, batch size) is searched on a validation
part of the training data; the features are standardised with the statistics of
the training part (a `Normalization` layer inside the saved model, so it takes raw
features); the best model is scored once on a held-out test part (20%). Results go
to `runs/tuning/<name>/` (git-ignored). Running the same command again resumes an
interrupted search.

Run:

    python tuning/search_tabular.py                         # breast_cancer, random
    python tuning/search_tabular.py --dataset wine --tuner bayesian --max-trials 12
    python tuning/search_tabular.py --dataset iris --tuner hyperband --epochs 27
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "search_tabular"
DATASETS = ("breast_cancer", "wine", "iris")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="breast_cancer", choices=DATASETS)
    parser.add_argument(
        "--tuner", default="random", help="random, bayesian or hyperband"
    )
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=20, help="per trial (max)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="search-space override: width=16:128, depth=1:2, optimizer=adam,sgd",
    )
    parser.add_argument("--overwrite", action="store_true", help="start afresh")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from kerasdl.hypermodels import parse_search_space, run_search

    out = args.out or Path("runs") / "tuning" / f"{args.dataset}-mlp-{args.tuner}"
    result = run_search(
        "mlp",
        args.dataset,
        tuner=args.tuner,
        max_trials=args.max_trials,
        epochs=args.epochs,
        out_dir=out,
        seed=args.seed,
        overwrite=args.overwrite,
        search_space=parse_search_space(args.set),
        verbose=not args.quiet,
    )
    print(
        f"mlp on {args.dataset}, {args.tuner}: best val_accuracy "
        f"{result['best_score']:.4f} (trial {result['best_trial_id']} of "
        f"{result['completed_trials']}), test accuracy {result['test_accuracy']:.4f}"
    )
    print(f"best hyperparameters: {result['best_hyperparameters']}")
    print(f"wrote {out}/tune.json, trials.csv, trials.png, best_model.keras")
    return result


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # run_search said how to resume
        raise SystemExit(130) from None
