"""The headless matplotlib set-up and `save_figure`, without Keras: shared by
`kerasdl.plotting` and by keras-free modules (tabular RL's learning curves)."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

# Headless: never open a window, never need a display. Guarded so that importing
# kerasdl does not switch the backend of a session (a notebook) that chose one.
if "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

__all__ = ["plt", "save_figure"]


def save_figure(fig, path, *, dpi=120, close=True):
    """Saves a matplotlib figure, creating the parent folders.

    Args:
        fig: A `matplotlib.figure.Figure`.
        path: Destination file; the suffix picks the format (`.png`, `.pdf`...).
        dpi: Resolution of raster formats.
        close: Whether to close the figure afterwards (frees its memory).

    Returns:
        The `pathlib.Path` written.

    Example:

    ```python
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    save_figure(fig, "runs/plots/line.png")
    ```
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if close:
        plt.close(fig)
    return path
