"""Does the learning-rate finder's suggestion train the digits MLP to >= 0.95 accuracy?

Issue #8, "Must show": the suggestion of `kerasdl.training.find_learning_rate` for the
MLP on digits trains to at least 0.95 test accuracy in a stated budget.

Protocol, per seed:

1. Data: scikit-learn's 1,797 digits, flattened to 64 pixels; a stratified
   train/validation/test split (70/15/15, `train_val_test_split(seed=0)`, the same
   split for every seed); each pixel standardised with statistics of the training
   part only (`Standardizer`).
2. Model: `kerasdl.models.MLP((64,), 10)` with its defaults: 2 hidden layers of 128
   ReLU units, He initialisation, softmax head, no dropout or regularisation.
3. Range test: `find_learning_rate` with Adam (by default; `--optimizer`), batch 32,
   rates 1e-6 to 10 over 200 updates, batch order from the seed. Its loss-vs-rate
   PNG and JSON go to `runs/bench_lr_finder/<backend>/`.
4. Budget: a fresh MLP (same seed) trained with a constant rate equal to the
   suggestion, the same optimizer, 20 epochs of batch 32 (800 updates), no early
   stopping, no schedule; test accuracy measured once at the end. The validation
   part is only reported.

Target: test accuracy >= 0.95 for every seed.

Adam is the default because it is what the target is stated for. Plain SGD (no
momentum, `--optimizer sgd`) is a weaker optimizer in this budget: in a grid of
constant rates its best test accuracy over 3 seeds averaged 0.963 with one seed at
0.948, so with it expect a mean above 0.95 but single seeds just below.

    python benchmarks/bench_lr_finder.py                        # current KERAS_BACKEND
    python benchmarks/bench_lr_finder.py --backends tensorflow,jax

With `--backends`, each backend runs in its own process (as
`benchmarks/bench_compare.py` does). The table is printed and the numbers written to
`benchmarks/results/bench_lr_finder.json`.
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
RUNS = ROOT / "runs" / "bench_lr_finder"
TARGET_ACCURACY = 0.95


def run_here(args) -> dict:
    """The benchmark on the current backend, in this process."""
    import keras
    import numpy as np

    from kerasdl.data import Standardizer, load_digits, train_val_test_split
    from kerasdl.models import MLP
    from kerasdl.training import find_learning_rate, get_optimizer, set_seed

    backend = keras.backend.backend()
    digits = load_digits()
    x = digits.x.reshape(len(digits.x), -1)
    parts = train_val_test_split(x, digits.y, val_size=0.15, test_size=0.15, seed=0)
    scaler = Standardizer().fit(parts.x_train)
    x_train, x_val, x_test = (
        scaler.transform(a).astype("float32")
        for a in (parts.x_train, parts.x_val, parts.x_test)
    )
    loss = "sparse_categorical_crossentropy"
    out_dir = RUNS / backend
    seeds = []
    for seed in args.seeds:
        set_seed(seed)
        model = MLP((64,), 10)
        start = time.perf_counter()
        result = find_learning_rate(
            model,
            x_train,
            parts.y_train,
            loss=loss,
            optimizer=args.optimizer,
            min_lr=1e-6,
            max_lr=10.0,
            steps=args.steps,
            batch_size=args.batch_size,
            out=out_dir / f"lr_finder_seed{seed}.png",
            seed=seed,
        )
        finder_seconds = time.perf_counter() - start

        set_seed(seed)
        fresh = MLP((64,), 10)
        fresh.compile(
            get_optimizer(args.optimizer, result.suggestion),
            loss=loss,
            metrics=["accuracy"],
        )
        start = time.perf_counter()
        history = fresh.fit(
            x_train,
            parts.y_train,
            epochs=args.epochs,
            batch_size=args.batch_size,
            validation_data=(x_val, parts.y_val),
            verbose=0,
        )
        train_seconds = time.perf_counter() - start
        _, test_accuracy = fresh.evaluate(x_test, parts.y_test, verbose=0)
        seeds.append(
            {
                "seed": seed,
                "suggestion": result.suggestion,
                "min_loss_lr": result.min_loss_lr,
                "diverged_lr": result.diverged_lr,
                "finder_updates": len(result.losses),
                "finder_seconds": round(finder_seconds, 2),
                "train_seconds": round(train_seconds, 2),
                "final_train_loss": float(history.history["loss"][-1]),
                "val_accuracy": float(history.history["val_accuracy"][-1]),
                "test_accuracy": float(test_accuracy),
                "plot": str(Path(result.plot_path).relative_to(ROOT)),
            }
        )
        print(
            f"  {backend} seed {seed}: suggestion {result.suggestion:.3g} "
            f"-> test accuracy {test_accuracy:.4f}",
            flush=True,
        )
    accuracies = np.array([s["test_accuracy"] for s in seeds])
    return {
        "backend": backend,
        "keras": keras.__version__,
        "mean_test_accuracy": float(accuracies.mean()),
        "min_test_accuracy": float(accuracies.min()),
        "meets_target": bool(accuracies.min() >= TARGET_ACCURACY),
        "seeds": seeds,
    }


def run_subprocess(backend: str, argv: list[str]) -> dict:
    """The benchmark in a fresh process with `KERAS_BACKEND=backend`."""
    return run_in_fresh_process(__file__, backend, argv)


def print_table(rows: list[dict]) -> None:
    print(
        f"\n{'backend':<11} {'seed':>4} {'suggested lr':>12} {'min-loss lr':>11} "
        f"{'finder s':>8} {'train s':>7} {'val acc':>7} {'test acc':>8}"
    )
    for row in rows:
        for s in row["seeds"]:
            print(
                f"{row['backend']:<11} {s['seed']:>4} {s['suggestion']:>12.3g} "
                f"{s['min_loss_lr']:>11.3g} {s['finder_seconds']:>8.1f} "
                f"{s['train_seconds']:>7.1f} {s['val_accuracy']:>7.4f} "
                f"{s['test_accuracy']:>8.4f}"
            )
        print(
            f"{row['backend']:<11} mean test accuracy {row['mean_test_accuracy']:.4f}, "
            f"min {row['min_test_accuracy']:.4f}: target >= {TARGET_ACCURACY} on "
            f"every seed {'met' if row['meets_target'] else 'NOT met'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backends",
        default=None,
        help="comma-separated backends, each run in a fresh process "
        "(default: the current KERAS_BACKEND, in this process)",
    )
    parser.add_argument("--optimizer", default="adam", help="sgd, rmsprop, adam, adamw")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--row-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]

    if args.row_json:  # a worker started by --backends
        Path(args.row_json).write_text(json.dumps(run_here(args)))
        return 0
    if args.backends:
        argv = [
            f"--optimizer={args.optimizer}",
            f"--seeds={','.join(map(str, args.seeds))}",
            f"--epochs={args.epochs}",
            f"--batch-size={args.batch_size}",
            f"--steps={args.steps}",
        ]
        rows = []
        for backend in args.backends.split(","):
            print(f"running the LR-finder benchmark with {backend} ...", flush=True)
            rows.append(run_subprocess(backend, argv))
    else:
        start = time.perf_counter()
        rows = [run_here(args)]
        rows[0]["wall_seconds"] = round(time.perf_counter() - start, 1)
    print_table(rows)

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_lr_finder.json"
    payload = {
        "benchmark": "LR finder suggestion -> digits MLP test accuracy",
        "dataset": "digits (sklearn), 70/15/15 stratified split seed 0, "
        "pixels standardised on train",
        "model": "kerasdl.models.MLP((64,), 10): depth 2, width 128, relu",
        "optimizer": args.optimizer,
        "finder": {
            "min_lr": 1e-6,
            "max_lr": 10.0,
            "steps": args.steps,
            "batch_size": args.batch_size,
        },
        "budget": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": "the suggestion, constant",
        },
        "target": f"test accuracy >= {TARGET_ACCURACY} on every seed",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": rows,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}")
    return 0 if all(row["meets_target"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
