"""How well does a small U-Net segment synthetic shapes (and real digits)?

Protocol:

1. Data (synthetic, made up by `kerasdl.data.shapes.make_shapes_segmentation`; no
   image shipped with the dependencies has masks): 32x32 grey images with 1-3
   circles, squares and triangles of random size, position and brightness on a
   noisy background; per-pixel masks with 4 classes (background + 3 shapes).
   Training images come from seed 0, test images from seed 1 (independent draws).
2. Model: `kerasdl.models.UNet((32, 32, 1), 4, depth=3, base_filters=8)`
   (transposed-conv up-sampling, BatchNorm); loss
   `DiceCrossEntropyLoss()` (cross-entropy + soft Dice, weight 1 each); Adam with
   cosine decay from 3e-3, batch 32. No validation-based selection: the last
   epoch's model is scored.
3. Score on the held-out images: IoU and Dice per class (pixels pooled over all
   test images), their means over the 4 classes and over the 3 shapes, and pixel
   accuracy.
4. Real-image substitute (`--digits`, on by default): the 1,797 real 8x8 digits
   with masks from thresholding the clean grey levels at 0.5
   (`kerasdl.data.shapes.load_digits_segmentation`), Gaussian noise (sd 0.3)
   added to the inputs only; a stratified 70/15/15 split (validation part
   unused), `UNet((8, 8, 1), 2, depth=2, base_filters=8)`, same loss. Baseline:
   thresholding the noisy input at 0.5. It shows the U-Net uses a pixel's
   neighbourhood to undo noise; it is easy and says little about real
   segmentation.

Target: mean IoU over the 4 classes > 0.8 on the test shapes, on each backend.

    python benchmarks/bench_segmentation.py                        # current backend
    python benchmarks/bench_segmentation.py --backends tensorflow,jax

The table is printed; the numbers go to `benchmarks/results/bench_segmentation.json`
and test images with true and predicted masks (first backend) to
`benchmarks/results/bench_segmentation.png`.
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
OPTIONS = (
    ("train", int, 2000),
    ("test", int, 200),
    ("size", int, 32),
    ("depth", int, 3),
    ("base_filters", int, 8),
    ("epochs", int, 15),
    ("batch_size", int, 32),
    ("learning_rate", float, 3e-3),
    ("digits", int, 1),
    ("digits_noise", float, 0.3),
    ("digits_epochs", int, 30),
    ("seed", int, 0),
)
PLOT_IMAGES = 6


def _train(model, x, y, args, epochs):
    import keras

    from kerasdl.models.segmentation.metrics import DiceCrossEntropyLoss

    steps = epochs * -(-len(x) // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)
    model.compile(keras.optimizers.Adam(schedule), loss=DiceCrossEntropyLoss())
    start = time.perf_counter()
    history = model.fit(
        x, y, epochs=epochs, batch_size=args.batch_size, shuffle=True, verbose=0
    )
    return time.perf_counter() - start, [round(v, 4) for v in history.history["loss"]]


def run_here(args) -> dict:
    """The benchmark on the current backend, in this process."""
    import keras
    import numpy as np

    from kerasdl import backend as kbackend
    from kerasdl.data import load_digits, train_val_test_split
    from kerasdl.data.shapes import load_digits_segmentation, make_shapes_segmentation
    from kerasdl.models.segmentation.metrics import segmentation_report
    from kerasdl.models.segmentation.unet import UNet

    name = keras.backend.backend()
    kbackend.set_random_seed(args.seed)
    train = make_shapes_segmentation(args.train, size=args.size, seed=0)
    test = make_shapes_segmentation(args.test, size=args.size, seed=1)
    model = UNet(
        (args.size, args.size, 1),
        len(train.class_names),
        depth=args.depth,
        base_filters=args.base_filters,
    )
    seconds, losses = _train(model, train.images, train.masks, args, args.epochs)
    probs = model.predict(test.images, batch_size=100, verbose=0)
    report = segmentation_report(test.masks, probs, train.class_names)
    print(
        f"  {name} shapes: mean IoU {report['mean_iou']:.3f}, mean Dice "
        f"{report['mean_dice']:.3f} ({seconds:.0f} s, {model.count_params():,} "
        "parameters)",
        flush=True,
    )
    row = {
        "backend": name,
        "keras": keras.__version__,
        "shapes": {
            **report,
            "train_seconds": round(seconds, 1),
            "parameters": model.count_params(),
            "losses": losses,
            "meets_target": report["mean_iou"] > 0.8,
        },
        "plot_data": {
            "images": test.images[:PLOT_IMAGES, :, :, 0].round(3).tolist(),
            "masks": test.masks[:PLOT_IMAGES].tolist(),
            "predicted": probs[:PLOT_IMAGES].argmax(-1).tolist(),
        },
    }
    if args.digits:
        digits = load_digits_segmentation(noise=args.digits_noise, seed=args.seed)
        parts = train_val_test_split(
            np.arange(len(digits.images)), load_digits().y, seed=args.seed
        )
        train_idx, test_idx = parts.x_train, parts.x_test
        digit_model = UNet((8, 8, 1), 2, depth=2, base_filters=8, name="digits_unet")
        digit_seconds, digit_losses = _train(
            digit_model,
            digits.images[train_idx],
            digits.masks[train_idx],
            args,
            args.digits_epochs,
        )
        x_test, y_test = digits.images[test_idx], digits.masks[test_idx]
        digit_probs = digit_model.predict(x_test, batch_size=256, verbose=0)
        digit_report = segmentation_report(y_test, digit_probs, digits.class_names)
        baseline = segmentation_report(
            y_test, (x_test[..., 0] > 0.5).astype(np.int64), digits.class_names
        )
        row["digits"] = {
            **digit_report,
            "threshold_baseline": baseline,
            "train_images": len(train_idx),
            "test_images": len(test_idx),
            "train_seconds": round(digit_seconds, 1),
            "losses": digit_losses,
        }
        row["plot_data"]["digits"] = {
            "images": x_test[:PLOT_IMAGES, :, :, 0].round(3).tolist(),
            "masks": y_test[:PLOT_IMAGES].tolist(),
            "predicted": digit_probs[:PLOT_IMAGES].argmax(-1).tolist(),
        }
        print(
            f"  {name} digits: IoU(digit) {digit_report['iou']['digit']:.3f} vs "
            f"threshold baseline {baseline['iou']['digit']:.3f}",
            flush=True,
        )
    return row


def print_table(rows: list[dict]) -> None:
    names = list(rows[0]["shapes"]["iou"])
    print("\nU-Net on synthetic shapes (held-out images): IoU / Dice per class")
    header = f"{'backend':<11}" + "".join(f" {n:>16}  " for n in names)
    print(header + f" {'mean IoU':>8} {'mean Dice':>9} {'pix acc':>7} {'train s':>7}")
    for row in rows:
        s = row["shapes"]
        cells = "".join(f" {s['iou'][n]:>8.3f} /{s['dice'][n]:>6.3f}  " for n in names)
        print(
            f"{row['backend']:<11}{cells} {s['mean_iou']:>8.3f} "
            f"{s['mean_dice']:>9.3f} {s['pixel_accuracy']:>7.3f} "
            f"{s['train_seconds']:>7.0f}"
        )
        print(
            f"{row['backend']:<11} target (mean IoU > 0.8) "
            f"{'met' if s['meets_target'] else 'NOT met'}; mean IoU over the "
            f"shapes only {s['mean_iou_foreground']:.3f}"
        )
    if "digits" in rows[0]:
        print("\nReal 8x8 digits, foreground masks by thresholding, noisy inputs:")
        print(
            f"{'backend':<11} {'IoU digit':>9} {'Dice digit':>10} {'mean IoU':>8} "
            f"{'threshold IoU digit':>19} {'train s':>7}"
        )
        for row in rows:
            d = row["digits"]
            print(
                f"{row['backend']:<11} {d['iou']['digit']:>9.3f} "
                f"{d['dice']['digit']:>10.3f} {d['mean_iou']:>8.3f} "
                f"{d['threshold_baseline']['iou']['digit']:>19.3f} "
                f"{d['train_seconds']:>7.0f}"
            )


def plot(rows: list[dict], path: Path) -> None:
    import numpy as np

    from kerasdl.plotting import plt, save_figure

    data = rows[0]["plot_data"]
    groups = [("shapes", data)]
    if "digits" in data:
        groups.append(("digits", data["digits"]))
    columns = PLOT_IMAGES
    fig, axes = plt.subplots(
        3 * len(groups), columns, figsize=(1.5 * columns, 4.6 * len(groups))
    )
    axes = np.asarray(axes).reshape(3 * len(groups), columns)
    for g, (label, d) in enumerate(groups):
        vmax = 3 if label == "shapes" else 1
        for k in range(columns):
            axes[3 * g, k].imshow(d["images"][k], cmap="gray", vmin=0, vmax=1)
            axes[3 * g + 1, k].imshow(d["masks"][k], cmap="viridis", vmin=0, vmax=vmax)
            axes[3 * g + 2, k].imshow(
                d["predicted"][k], cmap="viridis", vmin=0, vmax=vmax
            )
            for r in range(3):
                axes[3 * g + r, k].set_xticks([])
                axes[3 * g + r, k].set_yticks([])
        axes[3 * g, 0].set_ylabel(f"{label}: input")
        axes[3 * g + 1, 0].set_ylabel("true mask")
        axes[3 * g + 2, 0].set_ylabel("U-Net")
    fig.suptitle(
        f"U-Net on held-out images ({rows[0]['backend']}); shapes: "
        "background/circle/square/triangle"
    )
    fig.tight_layout()
    save_figure(fig, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=None)
    for option, kind, default in OPTIONS:
        parser.add_argument(f"--{option.replace('_', '-')}", type=kind, default=default)
    parser.add_argument("--row-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.row_json:  # a worker started by --backends
        Path(args.row_json).write_text(json.dumps(run_here(args)))
        return 0
    if args.backends:
        argv = [f"--{o.replace('_', '-')}={getattr(args, o)}" for o, _, _ in OPTIONS]
        rows = []
        for backend in args.backends.split(","):
            print(f"running the segmentation benchmark with {backend} ...", flush=True)
            rows.append(run_in_fresh_process(__file__, backend, argv))
    else:
        start = time.perf_counter()
        rows = [run_here(args)]
        rows[0]["wall_seconds"] = round(time.perf_counter() - start, 1)
    print_table(rows)

    RESULTS.mkdir(parents=True, exist_ok=True)
    png = RESULTS / "bench_segmentation.png"
    plot(rows, png)
    for row in rows:
        row.pop("plot_data")
    path = RESULTS / "bench_segmentation.json"
    payload = {
        "benchmark": "U-Net semantic segmentation: IoU/Dice on held-out images",
        "dataset": "SYNTHETIC shapes (kerasdl.data.shapes.make_shapes_segmentation): "
        f"{args.train} train (seed 0) / {args.test} test (seed 1) images "
        f"{args.size}x{args.size}, classes background/circle/square/triangle",
        "digits_substitute": "real sklearn digits, masks = clean grey level > 0.5, "
        f"Gaussian noise sd {args.digits_noise} on the inputs; baseline = "
        "threshold of the noisy input"
        if args.digits
        else None,
        "model": f"UNet(depth={args.depth}, base_filters={args.base_filters})",
        "training": {
            "epochs": args.epochs,
            "digits_epochs": args.digits_epochs,
            "batch_size": args.batch_size,
            "learning_rate": f"{args.learning_rate} cosine decay to 0",
            "loss": "DiceCrossEntropyLoss()",
            "optimizer": "adam",
        },
        "target": "mean IoU over the 4 classes > 0.8",
        "plot": str(png.relative_to(ROOT)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": rows,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}\nwrote {png}")
    return 0 if all(row["shapes"]["meets_target"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
