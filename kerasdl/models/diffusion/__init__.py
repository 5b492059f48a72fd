"""Denoising diffusion: noise schedules, a U-Net noise predictor, DDPM and DDIM.

- `NoiseSchedule`: linear (Ho et al. 2020) or cosine (Nichol & Dhariwal 2021)
  betas and the constants derived from them; `q_sample` noises data in one jump.
- `SinusoidalTimeEmbedding` and `DiffusionUNet` (built by `diffusion_unet`): the
  noise predictor `eps_theta(x_t, t)`.
- `DDPM`: trains the predictor (`fit`) and samples with DDPM (`sample`) or DDIM
  (`sample_ddim`); `plot_denoising_trajectory` draws a denoising trajectory.
"""

from kerasdl.models.diffusion.ddpm import DDPM, Trajectory
from kerasdl.models.diffusion.diffusion_unet import DiffusionUNet, diffusion_unet
from kerasdl.models.diffusion.noise_schedule import NoiseSchedule
from kerasdl.models.diffusion.plots import plot_denoising_trajectory
from kerasdl.models.diffusion.time_embedding import SinusoidalTimeEmbedding

__all__ = [
    "DDPM",
    "DiffusionUNet",
    "NoiseSchedule",
    "SinusoidalTimeEmbedding",
    "Trajectory",
    "diffusion_unet",
    "plot_denoising_trajectory",
]
