"""One-stage object detection with CenterNet on synthetic shapes: objects as points.

Shows:

- the data: **synthetic** 48x48 images with 1-4 circles, squares and triangles
  and their exact boxes (`kerasdl.data.shapes.make_shapes_detection`); no image
  that ships with the dependencies has boxes, so the shapes stand in here;
- the CenterNet idea: every object is the peak of a per-class heatmap on a
  feature map 4x smaller than the image, and two small heads read off the box
  size and the exact centre at that peak; `encode_targets` draws the training
  heatmaps (a Gaussian bump per object), `decode_predictions` turns the model's
  peaks back into boxes (no anchors, and the 3x3 peak test replaces NMS);
- the loss: focal loss on the heatmaps (most cells are empty, so easy negatives
  are down-weighted) plus L1 on size and offset at the centres (`CenterNetLoss`);
- scoring with VOC-style mean average precision (`mean_average_precision`) at
  IoU 0.5 and 0.75, and drawing the detections and the heatmaps.

Writes, under `--out`: `detections.png`, `heatmaps.png`, `history.json` and
`results.json`. The benchmark (2,000 images, both backends) is
`benchmarks/bench_detection.py`.

Run:

    python examples/object_detection.py
    KERAS_BACKEND=jax python examples/object_detection.py --epochs 12
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras
import numpy as np
from matplotlib.patches import Rectangle

from kerasdl import backend, plotting
from kerasdl.data import make_shapes_detection
from kerasdl.models import (
    CenterNet,
    CenterNetLoss,
    encode_targets,
    mean_average_precision,
)

NAME = "object_detection"
COLOURS = ("tab:red", "tab:green", "tab:orange")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1500, help="training images")
    parser.add_argument("--test", type=int, default=200, help="held-out images")
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--max-objects", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--score-threshold", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def _draw_box(ax, box, colour, **kwargs):
    x0, y0, x1, y1 = box
    # imshow puts pixel j at [j - 0.5, j + 0.5]; boxes put it at [j, j + 1).
    ax.add_patch(
        Rectangle(
            (x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=colour, **kwargs
        )
    )


def plot_detections(images, truth, detections, class_names, path, count=8):
    count = min(count, len(images))
    cols = min(count, 4)
    rows = -(-count // cols)
    fig, axes = plotting.plt.subplots(rows, cols, figsize=(2.6 * cols, 2.7 * rows))
    axes = np.asarray(axes).reshape(-1)
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= count:
            ax.axis("off")
            continue
        ax.imshow(images[k, :, :, 0], cmap="gray", vmin=0, vmax=1)
        for box in truth[k][0]:
            _draw_box(ax, box, "white", ls="--", lw=1)
        found = detections[k]
        for box, score, label in zip(found.boxes, found.scores, found.classes):
            colour = COLOURS[label % len(COLOURS)]
            _draw_box(ax, box, colour, lw=1.5)
            ax.text(
                box[0],
                box[1] - 1.5,
                f"{class_names[label]} {score:.2f}",
                color=colour,
                fontsize=6,
            )
    fig.suptitle("Held-out images: dashed = truth, coloured = CenterNet")
    fig.tight_layout()
    return plotting.save_figure(fig, path)


def plot_heatmaps(images, targets, outputs, num_classes, path, count=4):
    count = min(count, len(images))
    fig, axes = plotting.plt.subplots(3, count, figsize=(2.2 * count, 6.6))
    axes = np.asarray(axes).reshape(3, count)
    for k in range(count):
        axes[0, k].imshow(images[k, :, :, 0], cmap="gray", vmin=0, vmax=1)
        axes[1, k].imshow(targets[k, :, :, :num_classes].max(-1), vmin=0, vmax=1)
        axes[2, k].imshow(outputs[k, :, :, :num_classes].max(-1), vmin=0, vmax=1)
        for ax in axes[:, k]:
            ax.set_xticks([])
            ax.set_yticks([])
    for ax, label in zip(axes[:, 0], ("image", "target heatmap", "predicted")):
        ax.set_ylabel(label)
    fig.suptitle("Heatmaps (max over classes) on the 4x smaller feature map")
    fig.tight_layout()
    return plotting.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    backend.set_random_seed(args.seed)

    shape = {"size": args.size, "max_objects": args.max_objects}
    train = make_shapes_detection(args.train, seed=args.seed, **shape)
    test = make_shapes_detection(args.test, seed=args.seed + 1, **shape)
    names = train.class_names
    num_classes = len(names)
    print(
        f"synthetic shapes: {args.train} training / {args.test} test images of "
        f"{args.size}x{args.size}, {int((train.classes >= 0).sum())} training "
        f"objects; classes {', '.join(names)}"
    )

    model = CenterNet(
        (args.size, args.size, 1),
        num_classes,
        filters=(16, 32, 64, 64),
        stride=4,
        head_filters=32,
    )
    y_train = encode_targets(train.boxes, train.classes, args.size, num_classes, 4)
    y_test = encode_targets(test.boxes, test.classes, args.size, num_classes, 4)
    steps = args.epochs * -(-args.train // args.batch_size)
    model.compile(
        keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)
        ),
        loss=CenterNetLoss(),
    )
    print(
        f"CenterNet: {model.count_params():,} parameters; output map "
        f"{y_train.shape[1]}x{y_train.shape[2]} with {num_classes} heatmaps + "
        "size (w, h) + offset (x, y)"
    )
    history = model.fit(
        train.images,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_data=(test.images, y_test),
        verbose=2,
    )
    history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    (out / "history.json").write_text(json.dumps(history, indent=2))

    # A low score threshold for mAP (the ranking does the work), a higher one to
    # draw the boxes a user would keep.
    ranked = model.detect(test.images, score_threshold=0.05, max_detections=20)
    truth = test.ground_truth()
    map50, per_class = mean_average_precision(
        ranked, truth, 0.5, num_classes=num_classes, per_class=True
    )
    map75 = mean_average_precision(ranked, truth, 0.75, num_classes=num_classes)
    print(f"\nmAP@0.5 {map50:.3f}   mAP@0.75 {map75:.3f}")
    for label, ap in per_class.items():
        print(f"  AP@0.5 {names[label]:<9} {ap:.3f}")
    shown = model.detect(test.images[:8], score_threshold=args.score_threshold)
    plot_detections(test.images, truth, shown, names, out / "detections.png")
    outputs = model.predict(test.images[:4], verbose=0)
    plot_heatmaps(test.images, y_test, outputs, num_classes, out / "heatmaps.png")

    results = {
        "backend": keras.backend.backend(),
        "data": "synthetic shapes (kerasdl.data.shapes.make_shapes_detection)",
        "train_images": args.train,
        "test_images": args.test,
        "epochs": args.epochs,
        "parameters": model.count_params(),
        "map50": map50,
        "map75": map75,
        "ap50_per_class": {names[c]: ap for c, ap in per_class.items()},
        "final_val_loss": history["val_loss"][-1],
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
