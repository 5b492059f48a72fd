"""Grad-CAM and saliency maps: where a CNN looks when it reads a handwritten digit.

Shows:

- `SmallCNN` trained briefly on scikit-learn's real 8x8 digits;
- Grad-CAM (`kerasdl.explain.grad_cam`): the feature maps of the last convolution
  (after its ReLU, chosen by `default_target_layer`) weighed by the class logit's
  average gradient, upsampled to the digit;
- a gradient saliency map with SmoothGrad (`kerasdl.explain.saliency`): how much
  each pixel moves the logit, averaged over noisy copies of the digit;
- a check that the explanations are faithful, not just pretty: blanking the pixels
  each map ranks highest lowers the predicted class's probability more than
  blanking as many random ink pixels (a "deletion" test).

The gradients with respect to an inner layer are taken through
`kerasdl.backend` (the graph is re-run with a probe on that layer), so this runs
the same on TensorFlow and JAX.

Writes, under `--out`: `digit_<k>.png` (digit | Grad-CAM | overlay) for each
explained test digit, `explanations.png` (all of them, Grad-CAM and saliency
overlays), and `results.json` (accuracy, per-digit classes and deletion scores).

Run:

    python examples/grad_cam.py
    KERAS_BACKEND=jax python examples/grad_cam.py --examples 12 --epochs 20
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np

from kerasdl import backend, data, explain, plotting
from kerasdl.models import SmallCNN

NAME = "grad_cam"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--filters",
        default="32,64",
        help="filters of SmallCNN's blocks, comma-separated (default: 32,64)",
    )
    parser.add_argument("--dense-units", type=int, default=128)
    parser.add_argument("--examples", type=int, default=8, help="test digits to plot")
    parser.add_argument(
        "--deletion-examples",
        type=int,
        default=100,
        help="test digits scored by the deletion test",
    )
    parser.add_argument("--delete", type=int, default=8, help="pixels blanked")
    parser.add_argument("--smooth-samples", type=int, default=32)
    parser.add_argument(
        "--train-limit",
        type=int,
        default=None,
        help="use only the first N training images (for quick tests)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def deletion_drop(model, image, heatmap, class_index, k, rng):
    """Probability drop of `class_index` when the k top-ranked pixels are blanked,
    and when k random ink pixels are (the baseline a useful map must beat)."""
    flat = image.reshape(-1)
    ranked = np.argsort(heatmap.reshape(-1))[::-1][:k]
    ink = np.flatnonzero(flat > 0)
    random = rng.choice(ink if len(ink) >= k else np.arange(flat.size), k, False)
    batch = np.repeat(image[None], 3, axis=0)
    batch[1].reshape(-1)[ranked] = 0.0
    batch[2].reshape(-1)[random] = 0.0
    probabilities = model.predict_on_batch(batch)[:, class_index]
    probabilities = keras.ops.convert_to_numpy(probabilities)
    return float(probabilities[0] - probabilities[1]), float(
        probabilities[0] - probabilities[2]
    )


def plot_grid(images, labels, predictions, cams, saliencies, path):
    n = len(images)
    fig, axes = plotting.plt.subplots(3, n, figsize=(1.5 * n, 4.8), squeeze=False)
    for k in range(n):
        axes[0, k].imshow(images[k, :, :, 0], cmap="gray", vmin=0, vmax=1)
        axes[0, k].set_title(f"{labels[k]} -> {predictions[k]}", fontsize="small")
        axes[1, k].imshow(explain.overlay_heatmap(images[k], cams[k], alpha=0.5))
        axes[2, k].imshow(explain.overlay_heatmap(images[k], saliencies[k], alpha=0.5))
        for ax in axes[:, k]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("digit")
    axes[1, 0].set_ylabel("Grad-CAM")
    axes[2, 0].set_ylabel("SmoothGrad")
    fig.tight_layout()
    return plotting.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    filters = tuple(int(f) for f in args.filters.split(","))

    digits = data.load_digits()
    parts = data.train_val_test_split(digits.x, digits.y, seed=args.seed)
    x_train, y_train = parts.x_train, parts.y_train
    if args.train_limit:
        x_train, y_train = x_train[: args.train_limit], y_train[: args.train_limit]
    backend.set_random_seed(args.seed)
    model = SmallCNN(
        digits.x.shape[1:], 10, filters=filters, dense_units=args.dense_units
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(
        x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0
    )
    seconds = time.perf_counter() - start
    probabilities = model.predict(parts.x_test, verbose=0)
    predictions = probabilities.argmax(-1)
    accuracy = float(np.mean(predictions == parts.y_test))
    layer = explain.default_target_layer(model)
    print(
        f"SmallCNN{filters} trained {args.epochs} epochs on {len(x_train)} digits in "
        f"{seconds:.0f} s; test accuracy {accuracy:.4f}. Grad-CAM layer: {layer}"
    )

    # --- Explain a few test digits ---------------------------------------------------
    n = min(args.examples, len(parts.x_test))
    images, labels = parts.x_test[:n], parts.y_test[:n]
    cams, saliencies, rows = [], [], []
    for k in range(n):
        cam = explain.grad_cam(model, images[k])
        smooth = explain.saliency(
            model, images[k], smooth_samples=args.smooth_samples, seed=args.seed
        )
        cams.append(cam)
        saliencies.append(smooth)
        explain.save_explanation(
            images[k],
            cam,
            out / f"digit_{k}.png",
            title=f"true {labels[k]}, predicted {predictions[k]} "
            f"({probabilities[k].max():.2f})",
        )
        rows.append(
            {
                "index": k,
                "label": int(labels[k]),
                "predicted": int(predictions[k]),
                "probability": round(float(probabilities[k].max()), 4),
                "grad_cam_peak": [
                    int(v) for v in np.unravel_index(cam.argmax(), cam.shape)
                ],
            }
        )
    grid = plot_grid(
        images, labels, predictions[:n], cams, saliencies, out / "explanations.png"
    )

    # --- Are the maps faithful? The deletion test ------------------------------------
    rng = np.random.default_rng(args.seed)
    m = min(args.deletion_examples, len(parts.x_test))
    drops = {"grad_cam": [], "saliency": [], "random": []}
    for k in range(m):
        image, predicted = parts.x_test[k], int(predictions[k])
        cam = explain.grad_cam(model, image, class_index=predicted)
        smooth = explain.saliency(
            model,
            image,
            class_index=predicted,
            smooth_samples=args.smooth_samples,
            seed=args.seed,
        )
        cam_drop, random_drop = deletion_drop(
            model, image, cam, predicted, args.delete, rng
        )
        saliency_drop, _ = deletion_drop(
            model, image, smooth, predicted, args.delete, rng
        )
        drops["grad_cam"].append(cam_drop)
        drops["saliency"].append(saliency_drop)
        drops["random"].append(random_drop)
    deletion = {key: round(float(np.mean(values)), 4) for key, values in drops.items()}
    print(
        f"Blanking the {args.delete} top pixels of {m} test digits lowers the "
        f"predicted probability by {deletion['grad_cam']:.3f} (Grad-CAM), "
        f"{deletion['saliency']:.3f} (SmoothGrad), "
        f"{deletion['random']:.3f} (random ink pixels)"
    )

    results = {
        "backend": keras.backend.backend(),
        "epochs": args.epochs,
        "filters": list(filters),
        "train_size": int(len(x_train)),
        "test_accuracy": round(accuracy, 4),
        "train_seconds": round(seconds, 2),
        "grad_cam_layer": layer,
        "examples": rows,
        "deletion": {
            "pixels": args.delete,
            "digits": m,
            "mean_probability_drop": deletion,
        },
        "figures": [grid.name] + [f"digit_{k}.png" for k in range(n)],
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"Wrote {grid} and {n} per-digit figures.")
    return results


if __name__ == "__main__":
    main()
