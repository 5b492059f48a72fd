"""Keras Tuner search on the real 8x8 digits: RandomSearch, Hyperband or Bayesian.

Searches a model family's hyperparameters (`kerasdl.hypermodels`: architecture,
learning rate, schedule, optimizer, batch size) on a validation part of the
training data, then scores the best model once on a held-out test part (20%).
Results go to `runs/tuning/<name>/` (git-ignored): `tune.json`, `trials.csv`,
`trials.png`, `best_model.keras`. Interrupt it (Ctrl-C) and run the same command
again: the finished trials are kept and only the rest run (`--overwrite` starts
afresh).

Run:

    python tuning/search_digits.py                          # cnn, hyperband
    python tuning/search_digits.py --tuner random --max-trials 10
    python tuning/search_digits.py --tuner bayesian --family mlp --epochs 20
    KERAS_BACKEND=jax python tuning/search_digits.py --family transformer \\
        --set num_layers=1:2 --set hidden_dim=32,64
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

NAME = "search_digits"


def _subset(dataset, limit, seed):
    """A stratified subset of `limit` samples (for quick runs)."""
    from sklearn.model_selection import train_test_split

    if limit is None or limit >= len(dataset.y):
        return dataset
    keep, _ = train_test_split(
        range(len(dataset.y)), train_size=limit, random_state=seed, stratify=dataset.y
    )
    return dataclasses.replace(dataset, x=dataset.x[keep], y=dataset.y[keep])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="cnn", help="mlp, cnn, recurrent, ...")
    parser.add_argument(
        "--tuner", default="hyperband", help="hyperband, random or bayesian"
    )
    parser.add_argument(
        "--max-trials",
        type=int,
        default=None,
        help="default: hyperband one full iteration (23 trials for 9 epochs), else 10",
    )
    parser.add_argument("--epochs", type=int, default=9, help="per trial (max)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--limit", type=int, default=None, help="use a stratified subset"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="search-space override: width=32:256, optimizer=adam,sgd, depth=2",
    )
    parser.add_argument("--overwrite", action="store_true", help="start afresh")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from kerasdl.data import load_digits
    from kerasdl.hypermodels import parse_search_space, run_search

    out = args.out or Path("runs") / "tuning" / f"digits-{args.family}-{args.tuner}"
    result = run_search(
        args.family,
        _subset(load_digits(), args.limit, args.seed),
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
        f"{args.family} on digits, {args.tuner}: best val_accuracy "
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
