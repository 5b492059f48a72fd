"""The autoencoder plots write PNG files."""

import pytest

from kerasdl.data import load_digits
from kerasdl.models import (
    Autoencoder,
    build_vae,
    plot_interpolation,
    plot_latent_grid,
    plot_latent_samples,
    plot_latent_space,
    plot_reconstructions,
)

DIGITS = load_digits()
X = DIGITS.x[:64]  # (64, 8, 8, 1) in [0, 1]
TINY = {"hidden": (8,)}  # one small shape set, reused: JAX compiles per shape


# --- Plots ---


def test_plots_write_pngs(tmp_path):
    vae = build_vae((8, 8, 1), 2, **TINY)
    model = Autoencoder((8, 8, 1), 4, noise="masking", **TINY)
    paths = [
        plot_reconstructions(model, X, tmp_path / "rec.png", n=4),
        plot_reconstructions(model, X, tmp_path / "denoise.png", n=4, x_noisy=X * 0.5),
        plot_latent_samples(vae, tmp_path / "samples.png", n=4),
        plot_interpolation(vae, X[0], X[1], tmp_path / "interp.png", steps=3),
        plot_latent_grid(vae, tmp_path / "grid.png", n=3),
        plot_latent_space(vae, X, DIGITS.y[:64], tmp_path / "latent.png"),
    ]
    for path in paths:
        assert path.is_file() and path.stat().st_size > 0
    with pytest.raises(ValueError, match=r"latent_dim=3"):
        plot_latent_grid(build_vae((8, 8, 1), 3, **TINY), tmp_path / "no.png")
