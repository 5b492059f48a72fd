"""How much does image augmentation slow a small CNN's training step, per backend?

Protocol, per backend (each in a fresh process) and image size:

1. Data: scikit-learn's 1,797 real 8x8 digits (`kerasdl.data.load_digits`), and
   the same digits upsampled to 32x32 (bilinear, `keras.ops.image.resize`) for a
   larger-image case. Batches of 64 drawn at random (fixed per run).
2. Model: `kerasdl.models.SmallCNN` (8x8: the defaults, filters (32, 64), two
   convolutions per block; 32x32: filters (16, 32), one convolution per block, to
   keep the run short), Adam, sparse categorical cross-entropy, compiled with
   Keras's defaults (`jit_compile="auto"`: XLA where every layer allows it).
3. Variants, each `keras.Sequential([augmentation, SmallCNN])`:
   - `none`: no augmentation;
   - `kerasdl`: the full kerasdl stack `make_augmentation([flip, rotation,
     translation, zoom, brightness, contrast, cutout])` (10 degrees, 10%
     translation, 10% zoom, brightness 0.1, contrast 0.2, cutout 1/4 side);
     rotation, translation and zoom are fused into one `RandomAffine`;
   - `kerasdl_layers`: the same with `fuse_geometric=False` (one layer, and one
     interpolation, per geometric step);
   - `keras`: Keras's own layers with the same settings (RandomFlip,
     RandomRotation, RandomTranslation, RandomZoom, RandomBrightness,
     RandomContrast; Keras has no plain cutout);
   - `keras_jit`: the same Keras layers with `supports_jit` forced to True (a
     diagnosis: Keras's geometric layers set it to False, which turns off XLA
     for the whole model; on JAX that means an op-by-op training step). Where
     the forced compile fails, the row says so.
4. Timing: `model.train_on_batch` (it returns the loss as NumPy, so each call is
   finished when timed); warm-up steps excluded; the variants are interleaved
   step by step (the machine is shared, so load changes hit all variants alike);
   the median step time is reported, and the ratio variant / `none`.

Target: `kerasdl` / `none` <= 1.3 (and `kerasdl_layers` / `none`) on every
backend and size.

    python benchmarks/bench_augmentation.py                       # current backend
    python benchmarks/bench_augmentation.py --backends tensorflow,jax,torch

The table is printed; the numbers go to `benchmarks/results/bench_augmentation.json`.
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
VARIANTS = ("none", "kerasdl", "kerasdl_layers", "keras", "keras_jit")
STEPS = ["flip", "rotation", "translation", "zoom", "brightness", "contrast", "cutout"]
TARGET = 1.3


def _keras_stack(seed):
    import keras

    return [
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(10.0 / 360.0, seed=seed + 1),
        keras.layers.RandomTranslation(0.1, 0.1, seed=seed + 2),
        keras.layers.RandomZoom(0.1, seed=seed + 3),
        keras.layers.RandomBrightness(0.1, value_range=(0.0, 1.0), seed=seed + 4),
        keras.layers.RandomContrast(0.2, value_range=(0.0, 1.0), seed=seed + 5),
    ]


def _build(variant, size, seed):
    import keras

    from kerasdl.layers.augmentation import make_augmentation
    from kerasdl.models import SmallCNN

    if size <= 8:
        cnn = SmallCNN((size, size, 1), 10)
    else:
        cnn = SmallCNN((size, size, 1), 10, filters=(16, 32), convs_per_block=1)
    layers = [keras.Input((size, size, 1))]
    if variant in ("kerasdl", "kerasdl_layers"):
        fuse = variant == "kerasdl"
        layers.append(make_augmentation(STEPS, fuse_geometric=fuse, seed=seed))
    elif variant in ("keras", "keras_jit"):
        stack = _keras_stack(seed)
        if variant == "keras_jit":
            for layer in stack:
                layer.supports_jit = True
        layers.extend(stack)
    model = keras.Sequential([*layers, cnn], name=f"cnn_{variant}")
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy"
    )
    return model


def _time_size(size, args):
    import keras
    import numpy as np

    from kerasdl.data import load_digits

    keras.utils.set_random_seed(args.seed)
    data = load_digits()
    x, y = data.x, data.y
    if size != 8:
        x = keras.ops.convert_to_numpy(
            keras.ops.image.resize(x, (size, size), interpolation="bilinear")
        ).astype("float32")
    rng = np.random.default_rng(args.seed)
    batches = [rng.choice(len(x), args.batch_size, replace=False) for _ in range(16)]
    models, errors = {}, {}
    for variant in VARIANTS:
        model = _build(variant, size, args.seed)
        try:
            for step in range(args.warmup):
                take = batches[step % len(batches)]
                model.train_on_batch(x[take], y[take])
        except Exception as error:  # noqa: BLE001 - a failed compile is a result
            errors[variant] = f"{type(error).__name__}: {str(error)[:200]}"
            continue
        models[variant] = model
    times = {variant: [] for variant in models}
    order = list(models)
    for step in range(args.steps):
        take = batches[step % len(batches)]
        # Rotate the order so no variant always runs first after a pause.
        k = step % len(order)
        for variant in order[k:] + order[:k]:
            start = time.perf_counter()
            models[variant].train_on_batch(x[take], y[take])
            times[variant].append(time.perf_counter() - start)
    base = float(np.median(times["none"]))
    rows = {}
    for variant in VARIANTS:
        if variant in errors:
            rows[variant] = {"error": errors[variant]}
            continue
        median = float(np.median(times[variant]))
        rows[variant] = {
            "median_ms": round(median * 1e3, 2),
            "p25_ms": round(float(np.percentile(times[variant], 25)) * 1e3, 2),
            "p75_ms": round(float(np.percentile(times[variant], 75)) * 1e3, 2),
            "ratio": round(median / base, 2),
            "jit_compile": bool(models[variant].jit_compile),
        }
    return rows


def run_here(args) -> dict:
    """The benchmark on the current backend, in this process."""
    import keras

    backend = keras.backend.backend()
    sizes = {}
    for size in args.sizes:
        start = time.perf_counter()
        rows = _time_size(size, args)
        sizes[str(size)] = rows
        summary = ", ".join(
            f"{v} {r['median_ms']:.1f} ms" if "median_ms" in r else f"{v} failed"
            for v, r in rows.items()
        )
        print(
            f"  {backend} {size}x{size}: {summary} "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    meets = all(
        rows[v]["ratio"] <= TARGET
        for rows in sizes.values()
        for v in ("kerasdl", "kerasdl_layers")
    )
    return {
        "backend": backend,
        "keras": keras.__version__,
        "sizes": sizes,
        "meets_target": meets,
    }


def print_table(rows: list[dict]) -> None:
    print(
        f"\n{'backend':<11} {'size':>5} {'variant':<14} {'median ms':>9} "
        f"{'p25-p75 ms':>13} {'ratio':>6} {'XLA':>5}"
    )
    for row in rows:
        for size, variants in row["sizes"].items():
            for variant, r in variants.items():
                if "error" in r:
                    print(
                        f"{row['backend']:<11} {size + 'x' + size:>5} {variant:<14} "
                        f"failed: {r['error'][:60]}"
                    )
                    continue
                spread = f"{r['p25_ms']:.1f}-{r['p75_ms']:.1f}"
                print(
                    f"{row['backend']:<11} {size + 'x' + size:>5} {variant:<14} "
                    f"{r['median_ms']:>9.1f} {spread:>13} {r['ratio']:>6.2f} "
                    f"{str(r['jit_compile']):>5}"
                )
        print(
            f"{row['backend']:<11} target (kerasdl[_layers] / none <= {TARGET} at "
            "every size) "
            f"{'met' if row['meets_target'] else 'NOT met'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backends",
        default=None,
        help="comma-separated backends, each run in a fresh process "
        "(default: the current KERAS_BACKEND, in this process)",
    )
    parser.add_argument("--sizes", default="8,32")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--row-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]

    if args.row_json:  # a worker started by --backends
        Path(args.row_json).write_text(json.dumps(run_here(args)))
        return 0
    if args.backends:
        argv = [
            f"--sizes={','.join(map(str, args.sizes))}",
            f"--steps={args.steps}",
            f"--warmup={args.warmup}",
            f"--batch-size={args.batch_size}",
            f"--seed={args.seed}",
        ]
        rows = []
        for backend in args.backends.split(","):
            print(f"running the augmentation benchmark with {backend} ...", flush=True)
            rows.append(run_in_fresh_process(__file__, backend, argv))
    else:
        start = time.perf_counter()
        rows = [run_here(args)]
        rows[0]["wall_seconds"] = round(time.perf_counter() - start, 1)
    print_table(rows)

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_augmentation.json"
    payload = {
        "benchmark": "train-step time of a SmallCNN with and without augmentation",
        "dataset": "sklearn 8x8 digits (kerasdl.data.load_digits); 32x32 = the "
        "same digits upsampled (bilinear)",
        "models": {
            "8": "SmallCNN((8, 8, 1), 10) defaults",
            "32": "SmallCNN((32, 32, 1), 10, filters=(16, 32), convs_per_block=1)",
        },
        "kerasdl_stack": STEPS,
        "kerasdl_note": "kerasdl fuses rotation+translation+zoom into RandomAffine; "
        "kerasdl_layers uses one layer per step",
        "keras_stack": [
            "RandomFlip",
            "RandomRotation",
            "RandomTranslation",
            "RandomZoom",
            "RandomBrightness",
            "RandomContrast",
        ],
        "timing": {
            "call": "model.train_on_batch",
            "batch_size": args.batch_size,
            "steps": args.steps,
            "warmup": args.warmup,
            "statistic": "median, variants interleaved",
        },
        "target": f"kerasdl / none and kerasdl_layers / none <= {TARGET} on every "
        "backend and size",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": rows,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}")
    return 0 if all(row["meets_target"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
