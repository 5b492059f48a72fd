"""GANs trained with `fit()` on every backend: DCGAN, conditional GAN, WGAN, WGAN-GP.

Each is a `kerasdl.backend.MultiOptimizerModel` built from a generator, a
discriminator (critic) and `latent_dim`, compiled with one optimizer per network.
`dcgan_generator` and `dcgan_discriminator` build default digit-sized networks.
"""

from kerasdl.models.gans.base import GAN
from kerasdl.models.gans.callbacks import GANSampleGrid
from kerasdl.models.gans.dcgan import DCGAN, ConditionalGAN
from kerasdl.models.gans.networks import dcgan_discriminator, dcgan_generator
from kerasdl.models.gans.wgan import WGAN, WGANGP

__all__ = [
    "DCGAN",
    "GAN",
    "WGAN",
    "WGANGP",
    "ConditionalGAN",
    "GANSampleGrid",
    "dcgan_discriminator",
    "dcgan_generator",
]
