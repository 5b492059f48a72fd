"""Variance schedules of the forward (noising) process of a diffusion model."""

from __future__ import annotations

import numpy as np
from keras import ops

from kerasdl._checks import is_number

SCHEDULES = ("linear", "cosine")


class NoiseSchedule:
    """The betas of a diffusion model and the constants derived from them.

    The forward process adds Gaussian noise in `timesteps` steps,
    `q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)`, so that in one jump
    `q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)` with
    `abar_t = prod_{s <= t} (1 - beta_s)`. Timesteps are indexed from 0 here
    (index `t` is the paper's step `t + 1`): `betas[0]` is the first, smallest
    noise step and `alphas_cumprod[timesteps - 1]` is close to 0 (almost pure
    noise).

    - `"linear"` (Ho et al. 2020, "Denoising Diffusion Probabilistic Models"):
      betas evenly spaced from `beta_start` to `beta_end` (1e-4 to 0.02 for
      T = 1000). For other T, keep `beta_end * T` about 20 so that `abar_T` stays
      near 0.
    - `"cosine"` (Nichol & Dhariwal 2021, "Improved DDPM"):
      `abar(t) = f(t) / f(0)`, `f(t) = cos(((t / T) + s) / (1 + s) * pi / 2) ** 2`,
      and `beta_t = 1 - abar(t) / abar(t - 1)` clipped at 0.999. It destroys the
      signal more slowly than the linear schedule, which matters for small images.

    The constants are computed in float64 with NumPy and stored as float32 arrays.

    Args:
        kind: `"linear"` or `"cosine"`.
        timesteps: Number of diffusion steps T (>= 1).
        beta_start: First beta of the linear schedule, in (0, 1).
        beta_end: Last beta of the linear schedule, in (beta_start, 1).
        cosine_s: Offset `s` of the cosine schedule (>= 0); it keeps the first
            betas from being vanishingly small.

    Attributes:
        betas, alphas, alphas_cumprod, alphas_cumprod_prev: `(T,)` float32 arrays
            (`alphas_cumprod_prev[0] = 1`).
        sqrt_alphas_cumprod, sqrt_one_minus_alphas_cumprod: `(T,)` float32.
        posterior_variance: `(T,)` float32, the variance of `q(x_{t-1} | x_t, x_0)`,
            `beta_tilde_t = beta_t (1 - abar_{t-1}) / (1 - abar_t)` (0 at t = 0).

    Example:

    ```python
    schedule = NoiseSchedule("cosine", timesteps=1000)
    x_t = schedule.q_sample(x0, t, noise)  # inside keras ops, e.g. a loss
    ```
    """

    def __init__(
        self,
        kind="linear",
        timesteps=1000,
        beta_start=1e-4,
        beta_end=0.02,
        cosine_s=0.008,
    ):
        if kind not in SCHEDULES:
            raise ValueError(
                f"`kind` must be one of {SCHEDULES}; received kind={kind!r}."
            )
        if (
            isinstance(timesteps, bool)
            or not isinstance(timesteps, (int, np.integer))
            or timesteps < 1
        ):
            raise ValueError(
                "`timesteps` must be an integer >= 1; received "
                f"timesteps={timesteps!r}."
            )
        for name, value in (
            ("beta_start", beta_start),
            ("beta_end", beta_end),
            ("cosine_s", cosine_s),
        ):
            if not is_number(value, finite=True):
                raise ValueError(
                    f"`{name}` must be a finite number; received {name}={value!r}."
                )
        if kind == "linear":
            if not 0.0 < beta_start < 1.0 or not 0.0 < beta_end < 1.0:
                raise ValueError(
                    "Betas must lie in (0, 1); received "
                    f"beta_start={beta_start!r}, beta_end={beta_end!r}."
                )
            if beta_start >= beta_end:
                raise ValueError(
                    "`beta_start` must be smaller than `beta_end`; received "
                    f"beta_start={beta_start!r}, beta_end={beta_end!r}."
                )
        if cosine_s < 0:
            raise ValueError(
                f"`cosine_s` must be >= 0; received cosine_s={cosine_s!r}."
            )
        self.kind = kind
        self.timesteps = int(timesteps)
        self.beta_start = float(beta_start)
        self.beta_end = float(beta_end)
        self.cosine_s = float(cosine_s)

        betas = self._betas()
        if not np.all((betas > 0.0) & (betas < 1.0)):
            raise ValueError(
                f"The {kind} schedule gives betas outside (0, 1) "
                f"(min {betas.min():.3g}, max {betas.max():.3g}); check its arguments."
            )
        alphas = 1.0 - betas
        alphas_cumprod = np.cumprod(alphas)
        alphas_cumprod_prev = np.concatenate([[1.0], alphas_cumprod[:-1]])
        posterior_variance = (
            betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
        )

        def f32(a):
            return np.asarray(a, dtype="float32")

        self.betas = f32(betas)
        self.alphas = f32(alphas)
        self.alphas_cumprod = f32(alphas_cumprod)
        self.alphas_cumprod_prev = f32(alphas_cumprod_prev)
        self.sqrt_alphas_cumprod = f32(np.sqrt(alphas_cumprod))
        self.sqrt_one_minus_alphas_cumprod = f32(np.sqrt(1.0 - alphas_cumprod))
        self.posterior_variance = f32(posterior_variance)
        # float64 copies for the NumPy sampling loops.
        self._alphas_cumprod64 = alphas_cumprod
        self._betas64 = betas

    def _betas(self) -> np.ndarray:
        steps = self.timesteps
        if self.kind == "linear":
            return np.linspace(self.beta_start, self.beta_end, steps, dtype="float64")
        s = self.cosine_s
        grid = np.arange(steps + 1, dtype="float64") / steps
        f = np.cos((grid + s) / (1.0 + s) * np.pi / 2.0) ** 2
        alphas_cumprod = f / f[0]
        betas = 1.0 - alphas_cumprod[1:] / alphas_cumprod[:-1]
        return np.clip(betas, 0.0, 0.999)

    def __len__(self) -> int:
        return self.timesteps

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"NoiseSchedule({args})"

    def q_sample(self, x0, t, noise):
        """Draw `x_t ~ q(x_t | x_0)`: `sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise`.

        Written with `keras.ops`, so it works on NumPy arrays and inside a traced
        train step alike.

        Args:
            x0: Clean data, `(batch, ...)`.
            t: Integer timesteps in `[0, timesteps)`, shape `(batch,)`.
            noise: Standard normal noise shaped like `x0`.

        Returns:
            `x_t`, shaped like `x0`, in `x0`'s float dtype.
        """
        x0 = ops.convert_to_tensor(x0)
        noise = ops.cast(ops.convert_to_tensor(noise), x0.dtype)
        t = ops.cast(ops.convert_to_tensor(t), "int32")
        broadcast = (-1,) + (1,) * (len(x0.shape) - 1)
        signal = ops.reshape(ops.take(self.sqrt_alphas_cumprod, t), broadcast)
        sigma = ops.reshape(ops.take(self.sqrt_one_minus_alphas_cumprod, t), broadcast)
        return ops.cast(signal, x0.dtype) * x0 + ops.cast(sigma, x0.dtype) * noise

    def get_config(self) -> dict:
        """The `__init__` arguments (a plain dict, JSON-serialisable)."""
        return {
            "kind": self.kind,
            "timesteps": self.timesteps,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "cosine_s": self.cosine_s,
        }

    @classmethod
    def from_config(cls, config: dict) -> NoiseSchedule:
        return cls(**config)


def _as_schedule(schedule) -> NoiseSchedule:
    if schedule is None:
        return NoiseSchedule()
    if isinstance(schedule, NoiseSchedule):
        return schedule
    if isinstance(schedule, dict):
        return NoiseSchedule.from_config(schedule)
    raise ValueError(
        "`schedule` must be a NoiseSchedule, its config dict or None; received "
        f"schedule={schedule!r}."
    )


__all__ = ["NoiseSchedule", "SCHEDULES"]
