"""Pictures of autoencoders and VAEs as PNG files: reconstructions, samples, latents.

Every function writes one PNG (parent folders created) with `kerasdl.plotting`
and returns its `pathlib.Path`.
"""

from __future__ import annotations

import numpy as np

from kerasdl import plotting
from kerasdl._checks import check_int


def _images(x, name="x"):
    x = np.asarray(x, dtype="float32")
    if x.ndim == 2:  # flat samples of a square image
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(
                f"`{name}` must hold images (n, h, w[, c]); received shape {x.shape}."
            )
        x = x.reshape(len(x), side, side)
    if x.ndim not in (3, 4) or len(x) == 0:
        raise ValueError(
            f"`{name}` must hold images (n, h, w[, c]); received shape {x.shape}."
        )
    return x


def _predict(model, x):
    return np.asarray(model.predict(np.asarray(x, "float32"), verbose=0))


def plot_reconstructions(model, x, path, *, n=10, x_noisy=None, title=None):
    """Originals above their reconstructions (and the corrupted inputs, if given).

    Args:
        model: An autoencoder (`predict(x)` has the shape of `x`).
        x: Samples `(m, h, w[, c])`; the first `n` are drawn.
        path: Destination PNG.
        n: Number of samples (columns).
        x_noisy: Optional corrupted copies of `x`: the rows are then original,
            corrupted, reconstruction of the corrupted input (denoising).
        title: Figure title; a default names the rows.

    Returns:
        The `pathlib.Path` written.

    Example:

    ```python
    plot_reconstructions(autoencoder, x_test, "runs/ae/reconstructions.png")
    ```
    """
    check_int("n", n)
    x = np.asarray(x, dtype="float32")[:n]
    rows = [x]
    names = ["original"]
    if x_noisy is not None:
        x_noisy = np.asarray(x_noisy, dtype="float32")[: len(x)]
        if x_noisy.shape != x.shape:
            raise ValueError(
                f"`x_noisy` must be shaped like `x` {x.shape}; received "
                f"{x_noisy.shape}."
            )
        rows.append(x_noisy)
        names.append("corrupted")
        rows.append(_predict(model, x_noisy))
    else:
        rows.append(_predict(model, x))
    names.append("reconstruction")
    images = np.concatenate([_images(r) for r in rows])
    return plotting.save_image_grid(
        images, path, ncols=len(x), title=title or " / ".join(names) + " (rows)"
    )


def plot_latent_samples(vae, path, n=16, *, seed=0, title="Samples z ~ N(0, I)"):
    """Decodes `n` latents drawn from the prior `N(0, I)` (see `VAE.sample`).

    Args:
        vae: A `VAE`.
        path: Destination PNG.
        n: Number of samples.
        seed: Seed of the latent draws.
        title: Figure title.

    Returns:
        The `pathlib.Path` written.
    """
    check_int("n", n)
    return plotting.save_image_grid(
        _images(vae.sample(n, seed=seed)), path, title=title
    )


def plot_interpolation(vae, x_a, x_b, path, steps=10, *, title=None):
    """Decodes a straight line between the latent means of two samples.

    Args:
        vae: A `VAE`.
        x_a: First sample `(h, w[, c])`.
        x_b: Last sample.
        path: Destination PNG.
        steps: Number of decoded points (>= 2), both ends included.
        title: Figure title.

    Returns:
        The `pathlib.Path` written.
    """
    check_int("steps", steps, 2)
    images = _images(vae.interpolate(x_a, x_b, steps))
    return plotting.save_image_grid(
        images, path, ncols=steps, title=title or "Latent interpolation"
    )


def plot_latent_grid(vae, path, n=15, span=2.5, *, title=None):
    """Decodes an `n` x `n` grid over the 2-D latent plane `[-span, span]²`.

    Rows run from high to low `z[1]`, columns from low to high `z[0]`, so the
    picture reads like a plot of the plane.

    Args:
        vae: A `VAE` with `latent_dim == 2`.
        path: Destination PNG.
        n: Points per axis (>= 2).
        span: Half-width of the grid, in prior standard deviations (> 0).
        title: Figure title.

    Returns:
        The `pathlib.Path` written.
    """
    if vae.latent_dim != 2:
        raise ValueError(
            "plot_latent_grid needs a 2-D latent space; received a VAE with "
            f"latent_dim={vae.latent_dim}."
        )
    check_int("n", n, 2)
    if not span > 0:
        raise ValueError(f"`span` must be > 0; received span={span!r}.")
    axis = np.linspace(-span, span, n, dtype="float32")
    z = np.array([[z0, z1] for z1 in axis[::-1] for z0 in axis], dtype="float32")
    images = _images(vae.decode(z))
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    height, width = images.shape[1:3]
    # One mosaic image (one imshow) instead of n * n subplots: fast for n = 15+.
    mosaic = images.reshape(n, n, height, width, *images.shape[3:])
    mosaic = mosaic.swapaxes(1, 2).reshape(n * height, n * width, *images.shape[3:])
    fig, ax = plotting.plt.subplots(figsize=(0.45 * n + 1.2, 0.45 * n + 1.0))
    half = span / (n - 1)  # half a grid step: cells are centred on the grid points
    extent = (-span - half, span + half, -span - half, span + half)
    ax.imshow(np.clip(mosaic, 0.0, 1.0), cmap="gray", vmin=0.0, vmax=1.0, extent=extent)
    for edge in np.linspace(-span - half, span + half, n + 1)[1:-1]:
        ax.axvline(edge, color="tab:blue", linewidth=0.4)
        ax.axhline(edge, color="tab:blue", linewidth=0.4)
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title(title or f"Decoded latent grid, z in [-{span}, {span}]²")
    return plotting.save_figure(fig, path)


def plot_latent_space(vae, x, y, path, *, title=None):
    """Scatter of the latent means `z_mean` of `x`, coloured by label `y`.

    A latent space of more than two dimensions is projected on its first two
    principal components (the axis labels say so).

    Args:
        vae: A `VAE`.
        x: Samples.
        y: Integer labels, one per sample.
        path: Destination PNG.
        title: Figure title.

    Returns:
        The `pathlib.Path` written.
    """
    y = np.asarray(y)
    z, _ = vae.encode(x)
    if len(y) != len(z):
        raise ValueError(
            f"`y` must hold one label per sample ({len(z)}); received {len(y)}."
        )
    if z.shape[1] == 1:
        z = np.concatenate([z, np.zeros_like(z)], axis=1)
        labels = ("z[0]", "")
    elif z.shape[1] == 2:
        labels = ("z[0]", "z[1]")
    else:
        centred = z - z.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        z = centred @ vt[:2].T
        labels = ("PC 1 of z_mean", "PC 2 of z_mean")
    fig, ax = plotting.plt.subplots(figsize=(5.5, 4.5))
    points = ax.scatter(z[:, 0], z[:, 1], c=y, cmap="tab10", s=6)
    fig.colorbar(points, ax=ax, label="label")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title or "Latent means z_mean by label")
    return plotting.save_figure(fig, path)
