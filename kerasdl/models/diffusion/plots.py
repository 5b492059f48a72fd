"""Figures of diffusion models: a denoising trajectory as a PNG grid."""

from __future__ import annotations

import numpy as np

from kerasdl._checks import check_int


def plot_denoising_trajectory(
    trajectory, path, *, num_samples=6, show="both", title=None
):
    """Saves a denoising trajectory as a PNG: one row per sample, one column per step.

    Args:
        trajectory: A `Trajectory` from `DDPM.sample(..., return_trajectory=True)`
            or `sample_ddim`.
        path: Destination `.png`.
        num_samples: How many of the sampled images to show (rows).
        show: `"x_t"` (the noisy images), `"x0"` (the network's clean estimate) or
            `"both"` (a row of each per sample).
        title: Optional figure title.

    Returns:
        The `pathlib.Path` written.
    """
    from kerasdl.plotting import save_image_grid  # plotting imports kerasdl.models

    if show not in ("x_t", "x0", "both"):
        raise ValueError(f"`show` must be 'x_t', 'x0' or 'both'; received {show!r}.")
    num_samples = check_int("num_samples", num_samples)
    frames, n = trajectory.x_t.shape[:2]
    rows = []
    for i in range(min(num_samples, n)):
        if show in ("x_t", "both"):
            rows.append(trajectory.x_t[:, i])
        if show in ("x0", "both"):
            rows.append(trajectory.x0[:, i])
    images = np.concatenate(rows)
    titles = [f"t={t}" for t in trajectory.timesteps] + [""] * (len(images) - frames)
    if title is None and show == "both":
        title = "Denoising: rows alternate x_t and the predicted x0"
    return save_image_grid(images, path, ncols=frames, titles=titles, title=title)
