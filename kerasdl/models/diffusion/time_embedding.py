"""The sinusoidal timestep embedding of diffusion models and transformers."""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasdl")
class SinusoidalTimeEmbedding(keras.layers.Layer):
    """Embeds a (possibly fractional) timestep as sines and cosines of it.

    The transformer's positional encoding (Vaswani et al. 2017) applied to the
    diffusion timestep, as in Ho et al. 2020: with `half = dim // 2` frequencies
    `w_i = max_period ** (-i / half)`, `i = 0..half-1`, the embedding of `t` is
    `[sin(t * w_0), ..., sin(t * w_{half-1}), cos(t * w_0), ..., cos(t * w_{half-1})]`.
    Nearby timesteps get similar vectors; the network reads "how noisy" from it.
    The layer has no weights.

    Args:
        dim: Size of the embedding (an even integer >= 2).
        max_period: Longest wavelength (> 1); 10000 as in the transformer.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`).

    Call arguments:
        t: Timesteps, shape `(batch,)` (or any shape `s`), integer or float.

    Returns:
        A float tensor of shape `(batch, dim)` (or `s + (dim,)`).

    Example:

    ```python
    emb = SinusoidalTimeEmbedding(64)(np.array([0, 10, 999]))  # (3, 64)
    ```
    """

    def __init__(self, dim, max_period=10000.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2 or dim % 2:
            raise ValueError(
                f"`dim` must be an even integer >= 2; received dim={dim!r}."
            )
        if (
            isinstance(max_period, bool)
            or not isinstance(max_period, (int, float))
            or not max_period > 1
        ):
            raise ValueError(
                "`max_period` must be a number > 1; received "
                f"max_period={max_period!r}."
            )
        self.dim = dim
        self.max_period = float(max_period)

    def call(self, t):
        dtype = self.compute_dtype
        half = self.dim // 2
        exponents = ops.arange(half, dtype="float32") / half
        frequencies = ops.exp(-math.log(self.max_period) * exponents)
        angles = ops.expand_dims(ops.cast(t, "float32"), -1) * frequencies
        embedding = ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)
        return ops.cast(embedding, dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.dim,)

    def get_config(self):
        config = super().get_config()
        config.update({"dim": self.dim, "max_period": self.max_period})
        return config
