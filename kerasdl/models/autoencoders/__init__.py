"""Autoencoders (plain, denoising, convolutional), the variational autoencoder, and
the figures that show what they learned.
"""

from kerasdl.models.autoencoders.anomaly import (
    anomaly_detection_auc,
    reconstruction_error,
)
from kerasdl.models.autoencoders.autoencoders import Autoencoder
from kerasdl.models.autoencoders.plots import (
    plot_interpolation,
    plot_latent_grid,
    plot_latent_samples,
    plot_latent_space,
    plot_reconstructions,
)
from kerasdl.models.autoencoders.vae import (
    VAE,
    kl_divergence,
    reconstruction_nll,
)
from kerasdl.models.autoencoders.vae_builders import (
    build_vae,
    vae_decoder,
    vae_encoder,
)

__all__ = [
    "Autoencoder",
    "VAE",
    "anomaly_detection_auc",
    "build_vae",
    "kl_divergence",
    "plot_interpolation",
    "plot_latent_grid",
    "plot_latent_samples",
    "plot_latent_space",
    "plot_reconstructions",
    "reconstruction_error",
    "reconstruction_nll",
    "vae_decoder",
    "vae_encoder",
]
