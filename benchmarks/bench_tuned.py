"""Does tuning the CNN inside each training fold match or beat the untuned CNN?

Protocol, per backend (each in a fresh process):

1. Data: scikit-learn's 1,797 real 8x8 digits; the same 5 stratified folds
   (seed 0) for both models, as `kerasdl compare` makes them.
2. Untuned: the registry's `cnn` (SmallCNN, 60 epochs, Adam 1e-3 with cosine
   decay, label smoothing 0.1, standardised inputs).
3. Tuned (`compare(..., tuned=["cnn"])`): in every fold, a random search runs on
   that fold's training part only (its validation part, 20%, split from it):
   `--trials` trials of `--epochs` epochs; trial 0 is the untuned defaults. The
   best configuration is then trained on the whole training part and scored on
   the test fold, which the search never saw (nested cross-validation).
4. Score: 5-fold mean accuracy of each.

Tuning budget (stated in the JSON): folds x trials x epochs trial epochs, plus
folds x epochs for the final fits.

    python benchmarks/bench_tuned.py                         # current KERAS_BACKEND
    python benchmarks/bench_tuned.py --backends tensorflow,jax

The table is printed; the numbers go to `benchmarks/results/bench_tuned.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from _workers import run_in_fresh_process

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def run_here(args) -> dict:
    """The benchmark on the current backend, in this process."""
    import keras

    from kerasdl.baselines import compare
    from kerasdl.data import load_digits

    start = time.perf_counter()
    report = compare(
        load_digits(),
        classical=[],
        deep=["cnn"],
        tuned=["cnn"],
        tuned_trials=args.trials,
        tuned_epochs=args.epochs,
        tuner="random",
        folds=args.folds,
        seed=args.seed,
        verbose=True,
    )
    rows = {row["model"]: row for row in report["results"]}
    untuned, tuned = rows["cnn"], rows["cnn-tuned"]
    return {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "untuned_accuracy": untuned["accuracy_mean"],
        "untuned_folds": untuned["fold_accuracies"],
        "tuned_accuracy": tuned["accuracy_mean"],
        "tuned_folds": tuned["fold_accuracies"],
        "tuned_at_least_untuned": tuned["accuracy_mean"] >= untuned["accuracy_mean"],
        "fold_best_hyperparameters": tuned["fold_best_hyperparameters"],
        "untuned_fit_seconds_per_fold": untuned["fit_seconds"],
        "tuned_fit_seconds_per_fold": tuned["fit_seconds"],
        "tuning_budget": report["tuning_budget"],
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=None)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--row-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row_json:
        Path(args.row_json).write_text(json.dumps(run_here(args)))
        return 0
    if args.backends:
        argv = [
            f"--trials={args.trials}",
            f"--epochs={args.epochs}",
            f"--folds={args.folds}",
            f"--seed={args.seed}",
        ]
        rows = [
            run_in_fresh_process(__file__, backend, argv)
            for backend in args.backends.split(",")
        ]
    else:
        rows = [run_here(args)]
    print(f"\n{'backend':<11} {'untuned':>8} {'tuned':>8} {'tuned >= untuned':>17}")
    for row in rows:
        print(
            f"{row['backend']:<11} {row['untuned_accuracy']:>8.4f} "
            f"{row['tuned_accuracy']:>8.4f} {str(row['tuned_at_least_untuned']):>17}"
        )
    trial_epochs = args.folds * args.trials * args.epochs
    payload = {
        "benchmark": "CNN tuned inside each training fold vs the untuned CNN, digits",
        "budget": {
            "tuner": "random (trial 0 = the untuned defaults)",
            "trials_per_fold": args.trials,
            "epochs_per_trial": args.epochs,
            "trial_epochs_in_all": trial_epochs,
            "final_fit_epochs_in_all": args.folds * args.epochs,
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_tuned.json"
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}")
    return 0 if all(row["tuned_at_least_untuned"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
