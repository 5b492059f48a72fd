"""DDPM: a diffusion model trained to predict noise; DDPM and DDIM sampling.

The figure of a denoising trajectory is drawn by `plots.py` beside this module.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from kerasdl._checks import check_image_shape, check_int, is_number
from kerasdl.backend import MultiOptimizerModel, Phase
from kerasdl.models.base import SubclassedModel, composed_dtype_policy
from kerasdl.models.diffusion.noise_schedule import _as_schedule

SAMPLERS = ("ddpm", "ddim")
# Training images may stray this far outside [0, 1] (round-off) before `fit` refuses
# them as being on another scale.
_RANGE_TOLERANCE = 0.01


class Trajectory(NamedTuple):
    """Snapshots of a sampling run, for plots of the denoising process.

    Attributes:
        timesteps: `(frames,)` int array, the timestep `t` of each snapshot
            (from `T - 1`, pure noise, down to 0).
        x_t: `(frames, n, H, W, C)` float32, the noisy images fed to the network at
            those steps, mapped to [0, 1] and clipped for display.
        x0: `(frames, n, H, W, C)` float32, the network's estimate of the clean
            image at those steps (`(x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)`),
            mapped to [0, 1] and clipped.
    """

    timesteps: np.ndarray
    x_t: np.ndarray
    x0: np.ndarray


def _check_seed(name, value):
    if value is not None and not is_number(value, integer=True):
        raise ValueError(
            f"`{name}` must be an integer or None; received {name}={value!r}."
        )
    return None if value is None else int(value)


def _to_unit(x):
    """[-1, 1] model space -> [0, 1] image space, clipped, float32."""
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0).astype("float32")


@keras.saving.register_keras_serializable(package="kerasdl")
class DDPM(SubclassedModel, MultiOptimizerModel):
    """A denoising diffusion probabilistic model (Ho et al. 2020) around a network.

    Training (`fit`) runs one phase, `"denoise"`: for a batch of clean images
    `x0` it draws timesteps `t ~ U{0, ..., T-1}` and noise `eps ~ N(0, I)` (with
    `keras.random` and a `keras.random.SeedGenerator` held on the model, so it is
    seeded and jit-compatible), forms `x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t)
    eps` and minimises `mean((eps - network([x_t, t])) ** 2)`, the "simple" loss of
    Ho et al. It runs on TensorFlow (a `tf.function`) and JAX (stateless, jitted)
    through `kerasdl.backend.MultiOptimizerModel`.

    Data convention: give images in [0, 1] (as `kerasdl.data.load_digits` does);
    the model maps them to [-1, 1] for the diffusion, and samples come back in
    [0, 1], clipped.

    Sampling runs the network once per step, through its compiled
    `predict_on_batch` (not op by op), and does the update arithmetic in NumPy
    with `np.random.default_rng(seed)`, so a seed gives the same images on every
    call and after a `.keras` save/load:

    - `sample(n)`: ancestral DDPM sampling over all T steps, with the posterior
      variance `sigma_t^2 = beta_tilde_t = beta_t (1 - abar_{t-1}) / (1 - abar_t)`
      (Ho et al. report `beta_t` and `beta_tilde_t` give similar samples;
      `beta_tilde_t` is the exact variance of `q(x_{t-1} | x_t, x_0)` and makes
      the sampler the `eta = 1` case of DDIM).
    - `sample_ddim(n, steps=50, eta=0.0)`: DDIM (Song et al. 2021) on an evenly
      spaced sub-sequence of `steps` timesteps from `T - 1` down to 0;
      deterministic given the starting noise when `eta = 0`.

    With `clip_denoised=True` (the default, as in the reference implementations)
    each step clips the network's estimate of `x0` to [-1, 1] before using it
    (and, for DDIM, re-derives the noise from the clipped `x0`).

    `call([x_t, t])` (and so `predict`) returns the network's noise prediction:
    the model *is* its noise predictor, plus the schedule and the samplers.

    Args:
        network: A Keras model with inputs `[x_t, t]` (images `(batch, H, W, C)`
            and timesteps `(batch,)`) returning the predicted noise shaped like
            `x_t`, e.g. `diffusion_unet(...)`.
        schedule: A `NoiseSchedule`, its config dict, or None for
            `NoiseSchedule("linear", 1000)`.
        image_shape: `(H, W, C)`; default: read from the network's first input.
        seed: Seed of the training noise (`keras.random.SeedGenerator`).
        clip_denoised: Whether samplers clip the estimated `x0` to [-1, 1].
        dtype: Dtype policy of the DDPM (e.g. `"mixed_bfloat16"`), which must be
            the network's (build it with the same `dtype=`, e.g.
            `diffusion_unet(..., dtype=...)`); None takes the network's. The
            loss is computed in float32 whatever the policy.
        **kwargs: Passed to `SubclassedModel` (`name`, `trainable`).

    Call arguments:
        inputs: `[x_t, t]`, noisy images in [-1, 1] space and timesteps.
        training: Python bool, passed to the network.

    Returns:
        The predicted noise, shaped like `x_t`.

    Example:

    ```python
    network = diffusion_unet((8, 8, 1))
    model = DDPM(network, NoiseSchedule("cosine", 1000))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(load_digits().x, batch_size=64, epochs=100)
    images = model.sample_ddim(64, steps=50, seed=0)  # (64, 8, 8, 1) in [0, 1]
    ```
    """

    def __init__(
        self,
        network,
        schedule=None,
        image_shape=None,
        seed=0,
        clip_denoised=True,
        dtype=None,
        **kwargs,
    ):
        kwargs.setdefault("name", "ddpm")
        dtype = composed_dtype_policy(dtype, {"network": network}, "DDPM")
        super().__init__(dtype=dtype, **kwargs)
        if not isinstance(network, keras.Model):
            raise ValueError(
                "`network` must be a keras.Model with inputs [x_t, t] (e.g. "
                f"diffusion_unet(...)); received network={network!r}."
            )
        inputs = getattr(network, "inputs", None)
        if inputs is None or len(inputs) != 2:
            count = "unknown" if inputs is None else len(inputs)
            raise ValueError(
                "`network` must take two inputs [x_t, t] (a functional model such as "
                f"diffusion_unet(...)); received one with {count} input(s)."
            )
        declared = tuple(inputs[0].shape[1:])
        if image_shape is None:
            if None in declared or len(declared) != 3:
                raise ValueError(
                    "Cannot read image_shape (H, W, C) from the network's first "
                    f"input {declared}; pass image_shape."
                )
            image_shape = declared
        image_shape = check_image_shape("image_shape", image_shape)
        if len(declared) != 3 or any(
            d is not None and d != s for d, s in zip(declared, image_shape)
        ):
            raise ValueError(
                f"image_shape={image_shape} does not fit the network's first input "
                f"{declared}."
            )
        self.network = network
        self.schedule = _as_schedule(schedule)
        self.image_shape = image_shape
        self.seed = _check_seed("seed", seed)
        self.clip_denoised = bool(clip_denoised)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.built = True  # the network is built; the DDPM has no weights of its own

    # === Training ===

    def call(self, inputs, training=False):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "DDPM expects inputs [x_t, t]: noisy images (batch, H, W, C) and "
                f"timesteps (batch,); received {type(inputs).__name__}."
            )
        x_t, t = inputs
        return self.network([x_t, ops.cast(t, "float32")], training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def denoising_loss(self, data):
        """The "simple" DDPM loss `mean((eps - eps_theta(x_t, t)) ** 2)` on a batch.

        Args:
            data: A batch `x0` of images in [0, 1], or `(x0, ...)` (labels are
                ignored).

        Returns:
            The scalar loss.
        """
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if tuple(x.shape[1:]) != self.image_shape:
            expected = ", ".join(map(str, self.image_shape))
            raise ValueError(
                f"DDPM expects images of shape (batch, {expected}) with values in "
                f"[0, 1]; received shape {tuple(x.shape)}."
            )
        x0 = ops.cast(x, "float32") * 2.0 - 1.0
        batch = ops.shape(x0)[0]
        t = keras.random.randint(
            (batch,), 0, self.schedule.timesteps, seed=self.seed_generator
        )
        noise = keras.random.normal(ops.shape(x0), seed=self.seed_generator)
        x_t = self.schedule.q_sample(x0, t, noise)
        predicted = self.network([x_t, ops.cast(t, "float32")], training=True)
        return ops.mean(ops.square(noise - ops.cast(predicted, "float32")))

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit`, after checking that NumPy images lie in [0, 1].

        Images on another scale (0-255, or already in [-1, 1]) would train a model
        of the wrong data without any error: they are rejected here. Datasets and
        generators are passed through unchecked.
        """
        if isinstance(x, np.ndarray) and x.size and x.dtype.kind in "fiu":
            low, high = float(x.min()), float(x.max())
            if low < -_RANGE_TOLERANCE or high > 1.0 + _RANGE_TOLERANCE:
                raise ValueError(
                    "DDPM expects images with values in [0, 1] (it maps them to "
                    f"[-1, 1] itself); received values in [{low:g}, {high:g}]. "
                    "Rescale them, e.g. x / 255.0."
                )
        return super().fit(x, y, *args, **kwargs)

    def train_phases(self):
        return [
            Phase(
                "denoise",
                "denoise",
                self.network.trainable_variables,
                self.denoising_loss,
            )
        ]

    def compile(self, optimizer=None, *, optimizers=None, **kwargs):
        """Configure training: one optimizer for the `"denoise"` phase.

        Args:
            optimizer: A Keras optimizer (or its name); default
                `keras.optimizers.Adam(1e-3)`.
            optimizers: Alternatively `{"denoise": optimizer}`, the
                `MultiOptimizerModel` form. Give one of the two.
            **kwargs: Passed to `keras.Model.compile` (e.g. `jit_compile`).
        """
        if optimizer is not None and optimizers is not None:
            raise ValueError(
                "Give DDPM.compile either optimizer=... or "
                "optimizers={'denoise': ...}, not both."
            )
        if optimizers is None:
            if optimizer is None:
                optimizer = keras.optimizers.Adam(1e-3)
            optimizers = {"denoise": optimizer}
        super().compile(optimizers=optimizers, **kwargs)

    # === Sampling ===

    def predict_noise(self, x_t, t):
        """The network's noise estimate for NumPy images at one timestep.

        Args:
            x_t: `(n, H, W, C)` noisy images in [-1, 1] space.
            t: One integer timestep for the whole batch.

        Returns:
            `(n, H, W, C)` float64 NumPy array.
        """
        x_t = np.asarray(x_t, dtype="float32")
        t = np.full((len(x_t),), float(t), dtype="float32")
        return np.asarray(self.network.predict_on_batch([x_t, t]), dtype="float64")

    def _estimate_x0(self, x, t):
        """(x0_hat, eps_hat) at timestep t; x0 clipped when clip_denoised."""
        abar = self.schedule._alphas_cumprod64[t]
        eps = self.predict_noise(x, t)
        x0 = (x - np.sqrt(1.0 - abar) * eps) / np.sqrt(abar)
        if self.clip_denoised:
            x0 = np.clip(x0, -1.0, 1.0)
            eps = (x - np.sqrt(abar) * x0) / np.sqrt(1.0 - abar)
        return x0, eps

    def _start(self, n, seed, batch_size):
        n = check_int("n", n)
        seed = _check_seed("seed", seed)
        batch_size = n if batch_size is None else check_int("batch_size", batch_size)
        return n, np.random.default_rng(seed), batch_size

    def sample(
        self,
        n,
        seed=None,
        method="ddpm",
        *,
        return_trajectory=False,
        trajectory_frames=10,
        batch_size=None,
    ):
        """Generate `n` images by ancestral (DDPM) sampling over all T steps.

        From `x_{T-1} ~ N(0, I)`, each step `t = T-1, ..., 0` predicts the noise,
        estimates `x0` (clipped to [-1, 1] with `clip_denoised`) and draws
        `x_{t-1} ~ N(mu_tilde_t(x_t, x0), beta_tilde_t I)`, the posterior of the
        forward process; the last step returns the mean. Without clipping,
        `mu_tilde_t = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t)`,
        Algorithm 2 of Ho et al.

        Args:
            n: Number of images.
            seed: Seed of the sampler's NumPy generator (None: fresh entropy).
            method: `"ddpm"`, or `"ddim"` for `sample_ddim(n, steps, seed=seed)`
                with `steps = min(50, T)` and eta 0.
            return_trajectory: Whether to return a `Trajectory` as well.
            trajectory_frames: Snapshots in the trajectory (evenly spaced steps).
            batch_size: Images per network call; default all `n` at once. The
                random draws (hence the images) depend on it.

        Returns:
            `(n, H, W, C)` float32 images in [0, 1]; with `return_trajectory`,
            `(images, trajectory)`.
        """
        if method not in SAMPLERS:
            raise ValueError(
                f"`method` must be one of {SAMPLERS}; received method={method!r}."
            )
        if method == "ddim":
            return self.sample_ddim(
                n,
                steps=min(50, self.schedule.timesteps),
                seed=seed,
                return_trajectory=return_trajectory,
                trajectory_frames=trajectory_frames,
                batch_size=batch_size,
            )
        n, rng, batch_size = self._start(n, seed, batch_size)
        s = self.schedule
        betas, abar = s._betas64, s._alphas_cumprod64
        abar_prev = np.concatenate([[1.0], abar[:-1]])
        variance = betas * (1.0 - abar_prev) / (1.0 - abar)
        coef_x0 = betas * np.sqrt(abar_prev) / (1.0 - abar)
        coef_xt = (1.0 - abar_prev) * np.sqrt(1.0 - betas) / (1.0 - abar)

        def step(x, t):
            x0, _ = self._estimate_x0(x, t)
            mean = coef_x0[t] * x0 + coef_xt[t] * x
            if t > 0:
                return mean + np.sqrt(variance[t]) * rng.standard_normal(x.shape), x0
            return mean, x0

        timesteps = np.arange(s.timesteps - 1, -1, -1)
        return self._run(
            n, rng, batch_size, timesteps, step, return_trajectory, trajectory_frames
        )

    def sample_ddim(
        self,
        n,
        steps=50,
        eta=0.0,
        seed=None,
        *,
        return_trajectory=False,
        trajectory_frames=10,
        batch_size=None,
    ):
        """Generate `n` images with DDIM (Song et al. 2021) in `steps` network calls.

        The timesteps `tau_S > ... > tau_1` are `steps` evenly spaced integers from
        `T - 1` down to 0. Each step estimates `x0` and `eps` at `tau_i` and moves
        to `tau_{i-1}` (after `tau_1`: `abar = 1`, the clean image):
        `x = sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma^2) eps + sigma z` with
        `sigma = eta * sqrt((1 - abar_prev) / (1 - abar_t)) *
        sqrt(1 - abar_t / abar_prev)`. `eta = 0` is deterministic given the
        starting noise; `eta = 1` with `steps = T` is the DDPM sampler of
        `sample` (same draws for the same seed, same images up to rounding).

        Args:
            n: Number of images.
            steps: Number of sampling steps, 1 <= steps <= T.
            eta: Stochasticity, >= 0 (0: DDIM, 1: DDPM-like variance).
            seed: Seed of the sampler's NumPy generator (None: fresh entropy).
            return_trajectory: Whether to return a `Trajectory` as well.
            trajectory_frames: Snapshots in the trajectory (evenly spaced steps).
            batch_size: Images per network call; default all `n` at once.

        Returns:
            `(n, H, W, C)` float32 images in [0, 1]; with `return_trajectory`,
            `(images, trajectory)`.
        """
        steps = check_int("steps", steps)
        if steps > self.schedule.timesteps:
            raise ValueError(
                f"`steps` must be at most the schedule's timesteps "
                f"({self.schedule.timesteps}); received steps={steps}."
            )
        if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta >= 0:
            raise ValueError(f"`eta` must be a number >= 0; received eta={eta!r}.")
        n, rng, batch_size = self._start(n, seed, batch_size)
        abar = self.schedule._alphas_cumprod64
        T = self.schedule.timesteps
        timesteps = np.round(np.linspace(T - 1, 0, steps)).astype(int)
        previous = dict(zip(timesteps[:-1].tolist(), timesteps[1:].tolist()))

        def step(x, t):
            x0, eps = self._estimate_x0(x, t)
            prev = previous.get(t)
            abar_t, abar_prev = abar[t], 1.0 if prev is None else abar[prev]
            sigma = eta * np.sqrt(
                (1.0 - abar_prev) / (1.0 - abar_t) * (1.0 - abar_t / abar_prev)
            )
            direction = np.sqrt(max(1.0 - abar_prev - sigma**2, 0.0))
            x = np.sqrt(abar_prev) * x0 + direction * eps
            if prev is not None and eta > 0:
                x = x + sigma * rng.standard_normal(x.shape)
            return x, x0

        return self._run(
            n, rng, batch_size, timesteps, step, return_trajectory, trajectory_frames
        )

    def _run(self, n, rng, batch_size, timesteps, step, return_trajectory, frames):
        frames = check_int("trajectory_frames", frames)
        keep = set(
            np.round(np.linspace(0, len(timesteps) - 1, min(frames, len(timesteps))))
            .astype(int)
            .tolist()
        )
        images, snapshots_xt, snapshots_x0 = [], [], []
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            x = rng.standard_normal((size, *self.image_shape))
            xs, x0s = [], []
            for i, t in enumerate(timesteps.tolist()):
                x_in = x
                x, x0 = step(x, t)
                if return_trajectory and i in keep:
                    xs.append(_to_unit(x_in))
                    x0s.append(_to_unit(x0))
            images.append(_to_unit(x))
            snapshots_xt.append(xs)
            snapshots_x0.append(x0s)
        images = np.concatenate(images)
        if not return_trajectory:
            return images
        trajectory = Trajectory(
            timesteps=timesteps[sorted(keep)],
            x_t=np.concatenate([np.stack(s) for s in snapshots_xt], axis=1),
            x0=np.concatenate([np.stack(s) for s in snapshots_x0], axis=1),
        )
        return images, trajectory

    # === Config ===

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "network": keras.saving.serialize_keras_object(self.network),
                "schedule": self.schedule.get_config(),
                "image_shape": list(self.image_shape),
                "seed": self.seed,
                "clip_denoised": self.clip_denoised,
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        # Keras's functional from_config consumes the dict it is given: copy it.
        config["network"] = keras.saving.deserialize_keras_object(
            copy.deepcopy(config["network"]), custom_objects=custom_objects
        )
        config["image_shape"] = tuple(config["image_shape"])
        return cls(**config)
