"""The reparameterisation trick of a variational autoencoder, as a layer."""

from __future__ import annotations

import keras
from keras import ops


def _describe(inputs):
    if isinstance(inputs, (list, tuple)):
        return f"a {type(inputs).__name__} of {len(inputs)} inputs"
    return f"one tensor of shape {tuple(getattr(inputs, 'shape', ()))}"


def _as_shape(shape):
    return tuple(shape) if shape is not None else None


@keras.saving.register_keras_serializable(package="kerasdl")
class Sampling(keras.layers.Layer):
    """Draws `z = z_mean + exp(0.5 * z_log_var) * eps` with `eps ~ N(0, I)`.

    The reparameterisation trick (Kingma & Welling, 2014) writes a sample of the
    diagonal Gaussian `q(z|x) = N(z_mean, exp(z_log_var))` as a differentiable
    function of its parameters and of parameter-free noise `eps`, so gradients
    flow from the decoder back into the encoder.

    The layer always samples, in training and at inference alike: a VAE samples
    its latent code whenever it estimates the ELBO or generates. Code that wants
    the deterministic latent (the posterior mean) uses `z_mean` directly, as
    `kerasdl.models.VAE` does for `call(x, training=False)`.

    Args:
        seed: Integer seed of the layer's `keras.random.SeedGenerator`, or None.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`).

    Call arguments:
        inputs: A list `[z_mean, z_log_var]` of two tensors of the same shape
            `(batch, latent_dim)` (any shape works as long as both agree).

    Returns:
        A tensor `z` shaped like `z_mean`.

    Example:

    ```python
    z = kerasdl.layers.Sampling(seed=0)([z_mean, z_log_var])
    ```
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @staticmethod
    def _check_shapes(input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != 2
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            raise ValueError(
                "Sampling expects a list of two inputs [z_mean, z_log_var]; "
                f"received input shape(s) {input_shape!r}."
            )
        mean_shape, log_var_shape = (_as_shape(s) for s in input_shape)
        compatible = len(mean_shape) == len(log_var_shape) and all(
            a is None or b is None or a == b for a, b in zip(mean_shape, log_var_shape)
        )
        if not compatible:
            raise ValueError(
                "Sampling expects z_mean and z_log_var of the same shape; received "
                f"z_mean shape {mean_shape} and z_log_var shape {log_var_shape}."
            )
        return mean_shape

    def build(self, input_shape):
        self._check_shapes(input_shape)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "Sampling expects a list of two inputs [z_mean, z_log_var]; "
                f"received {_describe(inputs)}."
            )
        z_mean, z_log_var = inputs
        self._check_shapes([tuple(z_mean.shape), tuple(z_log_var.shape)])
        eps = keras.random.normal(
            ops.shape(z_mean),
            dtype=keras.backend.standardize_dtype(z_mean.dtype),
            seed=self.seed_generator,
        )
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return self._check_shapes(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
