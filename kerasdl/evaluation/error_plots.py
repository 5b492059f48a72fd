"""The figures of error analysis: the confusion matrix and the most confident
mistakes of an image classifier, as PNG.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

# Above this many classes the confusion-matrix cells are not annotated (unreadable).
_MAX_ANNOTATED_CLASSES = 20


def _ratio(numerator, denominator):
    """Elementwise `numerator / denominator`, 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype="float64")
    denominator = np.asarray(denominator, dtype="float64")
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _pyplot():
    # kerasdl.plotting selects the Agg backend (unless a session chose one) before
    # pyplot is imported; import it first, and only when a figure is drawn.
    from kerasdl.plotting import plt, save_figure

    return plt, save_figure


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def plot_confusion_matrix(matrix, class_names, path, *, title: str = "") -> Path:
    """Draws counts and row-normalised rates side by side and saves a PNG.

    Args:
        matrix: `(k, k)` counts, rows = true class, columns = predicted class.
        class_names: `k` names for the axes.
        path: Destination PNG.
        title: Figure title.

    Returns:
        The `pathlib.Path` written.
    """
    plt, save_figure = _pyplot()
    matrix = np.asarray(matrix)
    k = len(class_names)
    rows = matrix.sum(axis=1, keepdims=True)
    normalised = _ratio(matrix, np.broadcast_to(rows, matrix.shape))
    size = min(max(3.0, 0.45 * k + 2.0), 12.0)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1.5, size))
    labels = [_short(name) for name in class_names]
    panels = (
        (axes[0], matrix, "counts", "d", None),
        (axes[1], normalised, "row-normalised (recall on the diagonal)", ".2f", 1.0),
    )
    for ax, values, subtitle, fmt, vmax in panels:
        image = ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        ax.set_xticks(range(k), labels, rotation=45 if k > 6 else 0, ha="right")
        ax.set_yticks(range(k), labels)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title(subtitle)
        if k <= _MAX_ANNOTATED_CLASSES:
            threshold = (values.max() if vmax is None else vmax) / 2
            for i in range(k):
                for j in range(k):
                    ax.text(
                        j,
                        i,
                        format(values[i, j], fmt),
                        ha="center",
                        va="center",
                        fontsize=8 if k > 10 else 10,
                        color="white" if values[i, j] > threshold else "black",
                    )
    fig.suptitle(title or "Confusion matrix")
    fig.tight_layout()
    return save_figure(fig, path)


def _display(images: np.ndarray) -> tuple[np.ndarray, dict]:
    """Images and imshow arguments to draw them with one shared intensity scale."""
    images = images.astype("float64")
    low, high = float(images.min()), float(images.max())
    if images.shape[-1] == 1:
        return images[..., 0], {"cmap": "gray", "vmin": low, "vmax": high}
    if low < 0 or high > 1:
        images = (images - low) / (high - low if high > low else 1.0)
    return images[..., :3], {}


def plot_confident_mistakes(images, mistakes, path, *, title: str = "") -> Path:
    """Draws a grid of mistakes, each titled "true → predicted (p=0.97)".

    Args:
        images: `(m, h, w, c)` images of the mistakes, in the order of `mistakes`.
        mistakes: `m` dicts with `true_name`, `pred_name` and `confidence`.
        path: Destination PNG.
        title: Figure title.

    Returns:
        The `pathlib.Path` written.
    """
    plt, save_figure = _pyplot()
    count = len(mistakes)
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(2.0 * columns, 2.2 * rows + 0.4), squeeze=False
    )
    pixels, kwargs = _display(np.asarray(images))
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, mistake in zip(axes.ravel(), pixels, mistakes):
        ax.imshow(image, interpolation="nearest", **kwargs)
        ax.set_title(
            f"{_short(mistake['true_name'], 10)} → {_short(mistake['pred_name'], 10)}"
            f"\n(p={mistake['confidence']:.2f})",
            fontsize=9,
        )
    fig.suptitle(title or "Most confident mistakes")
    fig.tight_layout()
    return save_figure(fig, path)
