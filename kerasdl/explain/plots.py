"""Showing explanations: a heatmap blended over its image, saved to a PNG."""

from __future__ import annotations

import numpy as np

from kerasdl._checks import check_float
from kerasdl._figures import plt, save_figure
from kerasdl.explain._checks import resize_map

__all__ = ["overlay_heatmap", "save_explanation"]


def _display_rgb(image) -> np.ndarray:
    """`image` as float32 RGB `(h, w, 3)` in [0, 1], for display."""
    array = np.asarray(image)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "Expected `image` of shape (height, width), (height, width, 1), "
            f"(height, width, 3) or (height, width, 4); received shape "
            f"{np.shape(image)}."
        )
    if not (
        np.issubdtype(array.dtype, np.floating)
        or np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(f"Expected `image` to hold numbers; received {array.dtype}.")
    if array.dtype == np.uint8:
        array = array.astype("float32") / 255.0
    else:
        array = array.astype("float32")
        if not np.all(np.isfinite(array)):
            raise ValueError("`image` contains NaN or infinite values.")
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:  # e.g. standardized pixels: rescale for display
            array = (array - low) / (high - low) if high > low else array * 0.0
    array = array[..., :3]
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return array


def _check_heatmap(heatmap) -> np.ndarray:
    array = np.asarray(heatmap, dtype="float32")
    if array.ndim != 2:
        raise ValueError(
            "Expected `heatmap` of shape (height, width) (as grad_cam and saliency "
            f"return); received shape {np.shape(heatmap)}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("`heatmap` contains NaN or infinite values.")
    if array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(
            "Expected `heatmap` values in [0, 1] (as grad_cam and saliency return); "
            f"received values in [{array.min():.3g}, {array.max():.3g}]."
        )
    return array


def overlay_heatmap(image, heatmap, alpha: float = 0.4, colormap: str = "jet"):
    """Blend a colour-mapped heatmap over an image.

    Args:
        image: `(h, w)`, `(h, w, 1)`, `(h, w, 3)` or `(h, w, 4)` (alpha dropped);
            uint8 in [0, 255], or numbers in [0, 1] (other ranges are min-max
            scaled to [0, 1] for display, e.g. standardized pixels).
        heatmap: `(h', w')` values in [0, 1]; resized (bilinear) to the image if
            its size differs.
        alpha: Weight of the heatmap colour, in [0, 1].
        colormap: A matplotlib colormap name.

    Returns:
        A float32 RGB array `(h, w, 3)` in [0, 1]:
        `(1 - alpha) * image + alpha * colormap(heatmap)`.
    """
    rgb = _display_rgb(image)
    heat = _check_heatmap(heatmap)
    alpha = check_float("alpha", alpha, low=0.0, high=1.0)
    try:
        cmap = plt.get_cmap(colormap)
    except ValueError as exc:
        raise ValueError(
            f"`colormap` must be a matplotlib colormap name; received {colormap!r}."
        ) from exc
    heat = np.clip(resize_map(heat, rgb.shape[:2]), 0.0, 1.0)
    colored = np.asarray(cmap(heat), dtype="float32")[..., :3]
    return ((1.0 - alpha) * rgb + alpha * colored).astype("float32")


def save_explanation(
    image,
    heatmap,
    path,
    *,
    alpha: float = 0.4,
    title: str | None = None,
    colormap: str = "jet",
):
    """Save the image, the heatmap and their overlay side by side as one figure.

    Args:
        image: The explained image (see `overlay_heatmap`).
        heatmap: `(h, w)` values in [0, 1], e.g. from `grad_cam` or `saliency`.
        path: Destination file (`.png`); parent folders are created.
        alpha: Heatmap weight in the overlay.
        title: Optional figure title (e.g. the true and predicted class).
        colormap: A matplotlib colormap name.

    Returns:
        The `pathlib.Path` written.
    """
    overlay = overlay_heatmap(image, heatmap, alpha=alpha, colormap=colormap)
    rgb = _display_rgb(image)
    heat = _check_heatmap(heatmap)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
    axes[0].imshow(rgb, interpolation="nearest")
    axes[0].set_title("image")
    shown = axes[1].imshow(
        heat, cmap=colormap, vmin=0.0, vmax=1.0, interpolation="nearest"
    )
    axes[1].set_title(f"heatmap {heat.shape[0]}x{heat.shape[1]}")
    fig.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.04)
    axes[2].imshow(overlay, interpolation="nearest")
    axes[2].set_title(f"overlay (alpha {alpha:g})")
    for ax in axes:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
