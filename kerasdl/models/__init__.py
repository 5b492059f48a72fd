"""Model families as functional Keras models in a class.

The registry (`kerasdl.models.registry`) maps names such as `"mlp"` and `"cnn"` to
builders and training settings; import it from its module.
"""

from kerasdl.models.autoencoder_plots import (
    plot_interpolation,
    plot_latent_grid,
    plot_latent_samples,
    plot_latent_space,
    plot_reconstructions,
)
from kerasdl.models.autoencoders import (
    VAE,
    Autoencoder,
    anomaly_detection_auc,
    build_vae,
    reconstruction_error,
    vae_decoder,
    vae_encoder,
)
from kerasdl.models.cnn import SmallCNN
from kerasdl.models.diffusion import (
    DDPM,
    NoiseSchedule,
    SinusoidalTimeEmbedding,
    diffusion_unet,
)
from kerasdl.models.mlp import MLP
from kerasdl.models.perceptron import Perceptron

__all__ = [
    "Autoencoder",
    "VAE",
    "anomaly_detection_auc",
    "build_vae",
    "plot_interpolation",
    "plot_latent_grid",
    "plot_latent_samples",
    "plot_latent_space",
    "plot_reconstructions",
    "reconstruction_error",
    "vae_decoder",
    "vae_encoder",
    "DDPM",
    "MLP",
    "NoiseSchedule",
    "Perceptron",
    "SinusoidalTimeEmbedding",
    "SmallCNN",
    "diffusion_unet",
]
