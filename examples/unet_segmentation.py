"""Semantic segmentation with a U-Net on synthetic shapes: a class for every pixel.

Shows:

- the data: **synthetic** 32x32 images of circles, squares and triangles on a
  noisy background, with exact per-pixel masks
  (`kerasdl.data.shapes.make_shapes_segmentation`); no image that ships with the
  dependencies has masks, so the shapes stand in for real data here;
- `UNet`: an encoder that halves the resolution `depth` times, a decoder that
  doubles it back, and skip connections that concatenate each encoder level to
  the decoder level of the same size (the fine detail pooling threw away);
- training on `DiceCrossEntropyLoss` (cross-entropy for every pixel, Dice for
  every class whatever its area) with `IoUScore` and `DiceCoefficient` as
  metrics;
- scoring held-out images per class (IoU, Dice) and drawing the predicted
  masks next to the true ones; the model survives a `.keras` save/load.

Writes, under `--out`: `predictions.png`, `history.json`, `unet.keras` and
`results.json`. The benchmark (2,000 images, both backends, plus a real-digits
substitute) is `benchmarks/bench_segmentation.py`.

Run:

    python examples/unet_segmentation.py
    KERAS_BACKEND=jax python examples/unet_segmentation.py --epochs 15
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras
import numpy as np

from kerasdl import backend, plotting
from kerasdl.data import make_shapes_segmentation
from kerasdl.models import (
    DiceCoefficient,
    DiceCrossEntropyLoss,
    IoUScore,
    UNet,
    segmentation_report,
)

NAME = "unet_segmentation"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1000, help="training images")
    parser.add_argument("--test", type=int, default=200, help="held-out images")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--base-filters", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def plot_predictions(images, masks, predicted, class_names, path, count=6):
    count = min(count, len(images))
    fig, axes = plotting.plt.subplots(3, count, figsize=(1.6 * count, 5))
    axes = np.asarray(axes).reshape(3, count)
    vmax = len(class_names) - 1
    for k in range(count):
        axes[0, k].imshow(images[k, :, :, 0], cmap="gray", vmin=0, vmax=1)
        axes[1, k].imshow(masks[k], cmap="viridis", vmin=0, vmax=vmax)
        axes[2, k].imshow(predicted[k], cmap="viridis", vmin=0, vmax=vmax)
        for ax in axes[:, k]:
            ax.set_xticks([])
            ax.set_yticks([])
    for ax, label in zip(axes[:, 0], ("input", "true mask", "U-Net")):
        ax.set_ylabel(label)
    fig.suptitle("Held-out synthetic shapes: " + " / ".join(class_names))
    fig.tight_layout()
    return plotting.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    backend.set_random_seed(args.seed)

    # Independent seeds: the test images are new draws, never seen in training.
    train = make_shapes_segmentation(args.train, size=args.size, seed=args.seed)
    test = make_shapes_segmentation(args.test, size=args.size, seed=args.seed + 1)
    names = train.class_names
    num_classes = len(names)
    print(
        f"synthetic shapes: {args.train} training / {args.test} test images of "
        f"{args.size}x{args.size}; classes {', '.join(names)}"
    )

    model = UNet(
        (args.size, args.size, 1),
        num_classes,
        depth=args.depth,
        base_filters=args.base_filters,
    )
    steps = args.epochs * -(-args.train // args.batch_size)
    model.compile(
        keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)
        ),
        loss=DiceCrossEntropyLoss(),
        metrics=[IoUScore(num_classes), DiceCoefficient(num_classes)],
    )
    print(f"U-Net depth {args.depth}: {model.count_params():,} parameters")
    history = model.fit(
        train.images,
        train.masks,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_data=(test.images, test.masks),
        verbose=2,
    )
    history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    (out / "history.json").write_text(json.dumps(history, indent=2))

    probs = model.predict(test.images, batch_size=100, verbose=0)
    report = segmentation_report(test.masks, probs, names)
    print(f"\n{'class':<12} {'IoU':>6} {'Dice':>6}")
    for name in names:
        print(f"{name:<12} {report['iou'][name]:>6.3f} {report['dice'][name]:>6.3f}")
    print(
        f"{'mean':<12} {report['mean_iou']:>6.3f} {report['mean_dice']:>6.3f}   "
        f"(pixel accuracy {report['pixel_accuracy']:.3f})"
    )
    plot_predictions(
        test.images, test.masks, probs.argmax(-1), names, out / "predictions.png"
    )

    path = out / "unet.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    same = bool(
        np.allclose(reloaded.predict(test.images[:8], verbose=0), probs[:8], atol=1e-5)
    )
    print(f"reloaded from {path}: same predictions: {same}")
    results = {
        "backend": keras.backend.backend(),
        "data": "synthetic shapes (kerasdl.data.shapes.make_shapes_segmentation)",
        "train_images": args.train,
        "test_images": args.test,
        "epochs": args.epochs,
        "parameters": model.count_params(),
        "report": report,
        "final_val_iou_metric": history["val_iou"][-1],
        "loaded_model_predicts_the_same": same,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
