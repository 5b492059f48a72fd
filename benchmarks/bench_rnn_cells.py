"""Training-step time of the hand-written recurrent cells vs Keras's built-in layers.

For each cell (SimpleRNN, LSTM, GRU) and backend, two sequence classifiers are timed
that differ only in their recurrent layer:

- built-in: `keras.layers.SimpleRNN/LSTM/GRU(units)`;
- ours: `keras.layers.RNN(kerasdl.layers.recurrent.<Cell>(units))`.

Model: `Input((timesteps, features))` -> recurrent layer (last output) ->
`Dense(classes, softmax)`, Adam, sparse categorical cross-entropy. Data: one fixed
batch of synthetic standard-normal sequences with random labels (speed only; no
dataset is needed to time a step). Protocol: `train_on_batch` (a full forward,
backward and update, result fetched to the host), `--warmup` untimed steps per
model, then `--steps` timed steps per model, the two models alternating step by
step (the order flipped every round) so machine load hits both alike; the median
step time in ms is reported, and ratio = ours / built-in.

Target: ratio <= 1.5 for every cell and backend.

    python benchmarks/bench_rnn_cells.py                         # tensorflow, jax
    python benchmarks/bench_rnn_cells.py --backends jax --steps 5 # a smoke run

Each backend runs in its own process (`_workers.run_in_fresh_process`). The table is
printed and the numbers written to `benchmarks/results/bench_rnn_cells.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from _workers import run_in_fresh_process

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TARGET_RATIO = 1.5
CELLS = ("simple_rnn", "lstm", "gru")


def _build(cell_name: str, ours: bool, args):
    import keras

    from kerasdl.layers import recurrent

    builtin, cell = {
        "simple_rnn": (keras.layers.SimpleRNN, recurrent.SimpleRNNCell),
        "lstm": (keras.layers.LSTM, recurrent.LSTMCell),
        "gru": (keras.layers.GRU, recurrent.GRUCell),
    }[cell_name]
    layer = keras.layers.RNN(cell(args.units)) if ours else builtin(args.units)
    model = keras.Sequential(
        [
            keras.Input((args.timesteps, args.features)),
            layer,
            keras.layers.Dense(args.classes, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy"
    )
    return model


def run_here(args) -> dict:
    """The benchmark on the current backend, in this process."""
    import keras
    import numpy as np

    backend = keras.backend.backend()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch_size, args.timesteps, args.features))
    x = x.astype("float32")
    y = rng.integers(0, args.classes, size=(args.batch_size,))
    cells = []
    for cell_name in args.cells:
        keras.utils.set_random_seed(0)
        models = {"builtin": _build(cell_name, False, args)}
        models["ours"] = _build(cell_name, True, args)
        models["ours"].set_weights(models["builtin"].get_weights())
        for model in models.values():
            for _ in range(args.warmup):
                model.train_on_batch(x, y)
        times = {name: [] for name in models}
        for step in range(args.steps):
            order = ["builtin", "ours"] if step % 2 == 0 else ["ours", "builtin"]
            for name in order:
                start = time.perf_counter()
                models[name].train_on_batch(x, y)
                times[name].append((time.perf_counter() - start) * 1000.0)
        builtin_ms = statistics.median(times["builtin"])
        ours_ms = statistics.median(times["ours"])
        ratio = ours_ms / builtin_ms
        cells.append(
            {
                "cell": cell_name,
                "builtin_ms": round(builtin_ms, 3),
                "ours_ms": round(ours_ms, 3),
                "ratio": round(ratio, 3),
                "meets_target": bool(ratio <= TARGET_RATIO),
            }
        )
        print(
            f"  {backend} {cell_name}: built-in {builtin_ms:.2f} ms, "
            f"ours {ours_ms:.2f} ms, ratio {ratio:.2f}",
            flush=True,
        )
    return {
        "backend": backend,
        "keras": keras.__version__,
        "meets_target": all(c["meets_target"] for c in cells),
        "cells": cells,
    }


def print_table(rows: list[dict]) -> None:
    print(
        f"\n{'backend':<11} {'cell':<11} {'built-in ms':>11} {'ours ms':>9} "
        f"{'ratio':>6}  target <= {TARGET_RATIO}"
    )
    for row in rows:
        for c in row["cells"]:
            print(
                f"{row['backend']:<11} {c['cell']:<11} {c['builtin_ms']:>11.2f} "
                f"{c['ours_ms']:>9.2f} {c['ratio']:>6.2f}  "
                f"{'met' if c['meets_target'] else 'NOT met'}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backends",
        default="tensorflow,jax,torch",
        help="comma-separated backends, each run in a fresh process",
    )
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--steps", type=int, default=50, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--timesteps", type=int, default=20)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--row-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cells = [c for c in args.cells.split(",") if c]
    unknown = sorted(set(args.cells) - set(CELLS))
    if unknown:
        parser.error(f"--cells: unknown {unknown}; choose from {list(CELLS)}")
    if args.steps < 1 or args.warmup < 1:
        parser.error("--steps and --warmup must be at least 1")

    if args.row_json:  # a worker started by main() below
        Path(args.row_json).write_text(json.dumps(run_here(args)))
        return 0
    argv = [
        f"--cells={','.join(args.cells)}",
        f"--steps={args.steps}",
        f"--warmup={args.warmup}",
        f"--batch-size={args.batch_size}",
        f"--timesteps={args.timesteps}",
        f"--features={args.features}",
        f"--units={args.units}",
        f"--classes={args.classes}",
    ]
    rows = []
    for backend in args.backends.split(","):
        print(f"timing RNN cells with {backend} ...", flush=True)
        rows.append(run_in_fresh_process(__file__, backend, argv))
    print_table(rows)

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_rnn_cells.json"
    payload = {
        "benchmark": "training-step time: kerasdl recurrent cells in keras.layers.RNN "
        "vs keras.layers.SimpleRNN/LSTM/GRU",
        "model": f"Input(({args.timesteps}, {args.features})) -> recurrent "
        f"{args.units} units (last output) -> Dense({args.classes}, softmax); Adam",
        "data": "one fixed synthetic batch (standard normal, random labels)",
        "protocol": {
            "batch_size": args.batch_size,
            "warmup_steps": args.warmup,
            "timed_steps": args.steps,
            "statistic": "median ms per train_on_batch, models alternating",
        },
        "target": f"ratio ours/built-in <= {TARGET_RATIO}",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "runs": rows,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}")
    return 0 if all(row["meets_target"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
