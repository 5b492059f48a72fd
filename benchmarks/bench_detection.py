"""How well does a small CenterNet detect synthetic shapes? mAP@0.5 on held-out images.

Protocol:

1. Data (synthetic, made up by `kerasdl.data.shapes.make_shapes_detection`; no
   image shipped with the dependencies has boxes): 48x48 grey images with 1-4
   non-touching circles, squares and triangles (8-19 px wide) of random
   brightness on a noisy background, with exact boxes. Training images come from
   seed 0, test images from seed 1 (independent draws).
2. Model: `kerasdl.models.detection.centernet.CenterNet((48, 48, 1), 3,
   filters=(16, 32, 64, 64), stride=4, head_filters=32)`: output map 12x12;
   targets from `kerasdl.models.detection.boxes.encode_targets`; loss `CenterNetLoss()`
   (focal loss on the heatmaps + 0.5 x L1 size + 1 x L1 offset); Adam with
   cosine decay from 2e-3, batch 32. The last epoch's model is scored.
3. Decoding: `decode_predictions` (3x3 local maxima of the heatmap, no NMS),
   score threshold 0.05 and at most 20 detections per image for the mAP (a low
   threshold, as usual for AP: the ranking does the work).
4. Score: VOC-style mAP (all-point interpolation) at IoU 0.5 over the 3 classes,
   per-class AP, and mAP at IoU 0.75 (stricter localisation), on the test images.

Target: mAP@0.5 > 0.7 on each backend.

    python benchmarks/bench_detection.py                        # current backend
    python benchmarks/bench_detection.py --backends tensorflow,jax

The table is printed; the numbers go to `benchmarks/results/bench_detection.json`
and test images with true and predicted boxes (first backend) to
`benchmarks/results/bench_detection.png`.
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
    ("train", int, 1500),
    ("test", int, 200),
    ("size", int, 48),
    ("max_objects", int, 4),
    ("filters", str, "16,32,64,64"),
    ("head_filters", int, 32),
    ("stride", int, 4),
    ("epochs", int, 10),
    ("batch_size", int, 32),
    ("learning_rate", float, 2e-3),
    ("score_threshold", float, 0.05),
    ("seed", int, 0),
)
PLOT_IMAGES = 8
PLOT_SCORE = 0.3  # detections drawn in the PNG


def run_here(args) -> dict:
    """The benchmark on the current backend, in this process."""
    import keras

    from kerasdl import backend as kbackend
    from kerasdl.data.shapes import make_shapes_detection
    from kerasdl.models.detection.boxes import encode_targets, mean_average_precision
    from kerasdl.models.detection.centernet import CenterNet, CenterNetLoss

    name = keras.backend.backend()
    kbackend.set_random_seed(args.seed)
    shape = {"size": args.size, "max_objects": args.max_objects}
    train = make_shapes_detection(args.train, seed=0, **shape)
    test = make_shapes_detection(args.test, seed=1, **shape)
    num_classes = len(train.class_names)
    model = CenterNet(
        (args.size, args.size, 1),
        num_classes,
        filters=tuple(int(f) for f in args.filters.split(",")),
        stride=args.stride,
        head_filters=args.head_filters,
    )
    y = encode_targets(train.boxes, train.classes, args.size, num_classes, args.stride)
    steps = args.epochs * -(-args.train // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)
    model.compile(keras.optimizers.Adam(schedule), loss=CenterNetLoss())
    start = time.perf_counter()
    history = model.fit(
        train.images, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0
    )
    seconds = time.perf_counter() - start
    detections = model.detect(
        test.images, score_threshold=args.score_threshold, max_detections=20
    )
    truth = test.ground_truth()
    map50, per_class = mean_average_precision(
        detections, truth, 0.5, num_classes=num_classes, per_class=True
    )
    map75 = mean_average_precision(detections, truth, 0.75, num_classes=num_classes)
    kept = [d.scores >= PLOT_SCORE for d in detections]
    print(
        f"  {name}: mAP@0.5 {map50:.3f}, mAP@0.75 {map75:.3f} ({seconds:.0f} s, "
        f"{model.count_params():,} parameters)",
        flush=True,
    )
    return {
        "backend": name,
        "keras": keras.__version__,
        "map50": map50,
        "map75": map75,
        "ap50_per_class": {train.class_names[c]: ap for c, ap in per_class.items()},
        "test_objects": int((test.classes >= 0).sum()),
        "detections_at_plot_score": int(sum(k.sum() for k in kept)),
        "train_seconds": round(seconds, 1),
        "parameters": model.count_params(),
        "losses": [round(v, 4) for v in history.history["loss"]],
        "meets_target": map50 > 0.7,
        "plot_data": {
            "images": test.images[:PLOT_IMAGES, :, :, 0].round(3).tolist(),
            "truth": [(b.tolist(), c.tolist()) for b, c in truth[:PLOT_IMAGES]],
            "detections": [
                (
                    d.boxes[k].tolist(),
                    d.scores[k].tolist(),
                    d.classes[k].tolist(),
                )
                for d, k in zip(detections[:PLOT_IMAGES], kept[:PLOT_IMAGES])
            ],
            "class_names": list(train.class_names),
        },
    }


def print_table(rows: list[dict]) -> None:
    names = list(rows[0]["ap50_per_class"])
    print("\nCenterNet on synthetic shapes (held-out images)")
    print(
        f"{'backend':<11} {'mAP@0.5':>7} {'mAP@0.75':>8} "
        + " ".join(f"{'AP50 ' + n:>13}" for n in names)
        + f" {'train s':>7} {'params':>8}"
    )
    for row in rows:
        print(
            f"{row['backend']:<11} {row['map50']:>7.3f} {row['map75']:>8.3f} "
            + " ".join(f"{row['ap50_per_class'][n]:>13.3f}" for n in names)
            + f" {row['train_seconds']:>7.0f} {row['parameters']:>8,}"
        )
        print(
            f"{row['backend']:<11} target (mAP@0.5 > 0.7) "
            f"{'met' if row['meets_target'] else 'NOT met'}"
        )


def plot(rows: list[dict], path: Path) -> None:
    from matplotlib.patches import Rectangle

    from kerasdl.plotting import plt, save_figure

    data = rows[0]["plot_data"]
    colours = ("tab:red", "tab:green", "tab:orange")
    fig, axes = plt.subplots(2, PLOT_IMAGES // 2, figsize=(2.4 * PLOT_IMAGES // 2, 5))
    for k, ax in enumerate(axes.ravel()):
        ax.imshow(data["images"][k], cmap="gray", vmin=0, vmax=1)
        for box in data["truth"][k][0]:
            x0, y0, x1, y1 = box
            ax.add_patch(
                Rectangle(
                    (x0 - 0.5, y0 - 0.5),
                    x1 - x0,
                    y1 - y0,
                    fill=False,
                    ec="white",
                    ls="--",
                    lw=1,
                )
            )
        for box, score, label in zip(*data["detections"][k]):
            x0, y0, x1, y1 = box
            ax.add_patch(
                Rectangle(
                    (x0 - 0.5, y0 - 0.5),
                    x1 - x0,
                    y1 - y0,
                    fill=False,
                    ec=colours[label % 3],
                    lw=1.5,
                )
            )
            ax.text(
                x0 - 0.5,
                y0 - 1.5,
                f"{data['class_names'][label]} {score:.2f}",
                color=colours[label % 3],
                fontsize=6,
            )
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        f"CenterNet on held-out synthetic images ({rows[0]['backend']}): dashed = "
        f"truth, coloured = detections with score >= {PLOT_SCORE}"
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
            print(f"running the detection benchmark with {backend} ...", flush=True)
            rows.append(run_in_fresh_process(__file__, backend, argv))
    else:
        start = time.perf_counter()
        rows = [run_here(args)]
        rows[0]["wall_seconds"] = round(time.perf_counter() - start, 1)
    print_table(rows)

    RESULTS.mkdir(parents=True, exist_ok=True)
    png = RESULTS / "bench_detection.png"
    plot(rows, png)
    for row in rows:
        row.pop("plot_data")
    path = RESULTS / "bench_detection.json"
    payload = {
        "benchmark": "CenterNet object detection: VOC mAP on held-out images",
        "dataset": "SYNTHETIC shapes (kerasdl.data.shapes.make_shapes_detection): "
        f"{args.train} train (seed 0) / {args.test} test (seed 1) images "
        f"{args.size}x{args.size}, 1-{args.max_objects} objects, classes "
        "circle/square/triangle",
        "model": f"CenterNet(filters=({args.filters}), stride={args.stride}, "
        f"head_filters={args.head_filters})",
        "training": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": f"{args.learning_rate} cosine decay to 0",
            "loss": "CenterNetLoss()",
            "optimizer": "adam",
        },
        "evaluation": f"decode_predictions(score_threshold={args.score_threshold}, "
        "max_detections=20, no NMS); VOC all-point AP",
        "target": "mAP@0.5 > 0.7",
        "plot": str(png.relative_to(ROOT)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": rows,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}\nwrote {png}")
    return 0 if all(row["meets_target"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
