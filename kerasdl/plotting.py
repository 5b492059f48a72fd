"""Plots are files: PNG figures (matplotlib, Agg backend) next to their data as JSON.

The figure helpers every topic shares (`save_figure`, `save_image_grid`); the plots
of one topic live with it (e.g. `kerasdl.models.mlp.plot_activations`).
"""

from __future__ import annotations

import numpy as np

from kerasdl._figures import plt, save_figure  # noqa: F401  (public here)


def save_image_grid(images, path, *, ncols=None, titles=None, title=None, cmap="gray"):
    """Saves a batch of images as one grid PNG (samples, reconstructions, latents).

    Args:
        images: Array `(n, height, width)` or `(n, height, width, channels)` with 1
            or 3 channels, values in [0, 1] (clipped to it for display).
        path: Destination file (`.png`).
        ncols: Images per row; default: about the square root of `n`.
        titles: Optional list of `n` short captions (e.g. predicted classes).
        title: Optional figure title.
        cmap: Colour map for single-channel images.

    Returns:
        The `pathlib.Path` written.

    Example:

    ```python
    save_image_grid(load_digits().x[:16], "runs/plots/digits.png", ncols=8)
    ```
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim == 4 and images.shape[-1] in (1, 3):
        images = images[..., 0] if images.shape[-1] == 1 else images
    elif images.ndim != 3:
        raise ValueError(
            "images must have shape (n, height, width) or (n, height, width, 1|3); "
            f"received shape {images.shape}."
        )
    n = len(images)
    if n == 0:
        raise ValueError("images is empty; nothing to draw.")
    if titles is not None and len(titles) != n:
        raise ValueError(
            f"titles must have one entry per image ({n}); received {len(titles)}."
        )
    ncols = int(ncols or int(np.ceil(np.sqrt(n))))
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1; received {ncols}.")
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(1.1 * ncols, 1.1 * nrows + (0.3 if title else 0)),
        squeeze=False,
    )
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(np.clip(images[i], 0.0, 1.0), cmap=cmap, vmin=0.0, vmax=1.0)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)
