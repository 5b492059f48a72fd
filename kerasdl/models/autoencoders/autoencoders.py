"""`Autoencoder`: undercomplete and denoising autoencoders, dense or convolutional.

`Autoencoder` is encoder -> small latent code -> decoder; with
`noise="gaussian"` or `"masking"` it is a *denoising* autoencoder (the noise
layer sits at the input and is active only in training). Its trunks live in
`trunks.py`, shared with the variational autoencoder (`vae.py`); anomaly
scores in `anomaly.py`; plots in `plots.py`.
"""

from __future__ import annotations

import math

import keras

from kerasdl._checks import check_int, check_sample_shape
from kerasdl.layers.noise import ClippedGaussianNoise, MaskingNoise
from kerasdl.models.autoencoders.trunks import (
    DEFAULT_NOISE_LEVEL,
    NOISES,
    _check_activation,
    _check_kind,
    _decoder_model,
    _encoder_features,
    _kernel_init,
    _resolve_hidden,
)
from kerasdl.models.base import FunctionalModel


@keras.saving.register_keras_serializable(package="kerasdl")
class Autoencoder(FunctionalModel):
    """An undercomplete autoencoder, optionally denoising: input -> code -> input.

    The encoder maps a sample to a `latent_dim` code (linear); the decoder maps
    the code back to a sample. The code must be smaller than the input
    (undercomplete), so the network cannot learn the identity and must keep what
    matters. `kind="dense"` uses `hidden` Dense(ReLU) layers; `kind="conv"` uses
    one 3x3 stride-2 convolution per entry of `hidden` (filters) and mirrored
    transposed convolutions, so it works on 8x8 digits and 28x28 images.

    With `noise` set it is a denoising autoencoder (Vincent et al., 2008): a
    `ClippedGaussianNoise` (`"gaussian"`, std `noise_level`, clipped to [0, 1]
    when `output_activation="sigmoid"`) or `MaskingNoise` (`"masking"`, a fraction
    `noise_level` of the pixels set to 0) layer corrupts the input *in training
    only*. Train with `fit(x, x)`: the model learns to reconstruct the clean
    input from a corrupted one, and `predict(x)` reconstructs clean inputs.

    Args:
        input_shape: Shape of one sample without the batch axis, e.g. `(8, 8, 1)`.
        latent_dim: Size of the code, >= 1 and smaller than the input size.
        kind: `"dense"` or `"conv"` (needs `(height, width, channels)` with
            height and width divisible by `2 ** len(hidden)`).
        hidden: Units of the hidden Dense layers (dense) or filters of the
            stride-2 convolutions (conv), encoder order; the decoder mirrors
            them. Default: `(128,)` for dense, `(16, 32)` for conv.
        noise: None, `"gaussian"` or `"masking"`.
        noise_level: Standard deviation (gaussian) or rate (masking); default
            0.25 (gaussian) or 0.3 (masking). Must be None when `noise` is None.
        output_activation: Activation of the decoder's last layer: `"sigmoid"`
            for data in [0, 1] (pair with `binary_crossentropy` or `mse`), None
            (linear) for standardized data.
        seed: Seed of the kernel initializers and of the noise, or None.
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Tensor of shape `(batch, *input_shape)`.
        training: Python bool; the noise layer is active only when True.

    Returns:
        The reconstruction, shaped like `inputs`.

    Example:

    ```python
    model = kerasdl.models.Autoencoder((8, 8, 1), latent_dim=8, noise="masking")
    model.compile("adam", "binary_crossentropy")
    model.fit(x, x, epochs=30)
    codes = model.encoder.predict(x)
    ```
    """

    def __init__(
        self,
        input_shape,
        latent_dim=16,
        *,
        kind="dense",
        hidden=None,
        noise=None,
        noise_level=None,
        output_activation="sigmoid",
        seed=0,
        name="autoencoder",
        **kwargs,
    ):
        sample_shape = check_sample_shape(input_shape)
        check_int("latent_dim", latent_dim, 1)
        if latent_dim >= math.prod(sample_shape):
            raise ValueError(
                "An undercomplete autoencoder needs `latent_dim` smaller than the "
                f"input size {math.prod(sample_shape)} (input_shape="
                f"{sample_shape!r}); received latent_dim={latent_dim}."
            )
        _check_kind(kind)
        hidden = _resolve_hidden(hidden, kind, sample_shape)
        if noise is not None and noise not in NOISES:
            raise ValueError(
                f"`noise` must be None or one of {NOISES}; received noise={noise!r}."
            )
        if noise is None and noise_level is not None:
            raise ValueError(
                "`noise_level` is only used with `noise`; received "
                f"noise_level={noise_level!r} with noise=None."
            )
        if noise is not None and noise_level is None:
            noise_level = DEFAULT_NOISE_LEVEL[noise]
        if noise is not None:
            low, high, what = (
                (0.0, 1.0, "rate")
                if noise == "masking"
                else (0.0, math.inf, "standard deviation")
            )
            if (
                isinstance(noise_level, bool)
                or not isinstance(noise_level, (int, float))
                or not low <= noise_level < high
            ):
                raise ValueError(
                    f"`noise_level` (the {what} of the {noise} noise) must be in "
                    f"[{low:g}, {high:g}); received noise_level={noise_level!r}."
                )
        _check_activation(output_activation)

        # === Layers ===
        if noise == "gaussian":
            clip = (0.0, 1.0) if output_activation == "sigmoid" else (None, None)
            noise_layer = ClippedGaussianNoise(
                noise_level, *clip, seed=seed, name="noise"
            )
        elif noise == "masking":
            noise_layer = MaskingNoise(noise_level, seed=seed, name="noise")
        else:
            noise_layer = None
        encoder_inputs = keras.Input(shape=sample_shape, name="pixels")
        features = _encoder_features(encoder_inputs, kind, hidden, seed)
        code = keras.layers.Dense(
            latent_dim,
            kernel_initializer=_kernel_init(seed, 0, "glorot_uniform"),
            name="code",
        )(features)
        encoder = keras.Model(encoder_inputs, code, name="encoder")
        decoder = _decoder_model(
            latent_dim,
            sample_shape,
            kind,
            hidden,
            output_activation,
            seed,
            name="decoder",
        )

        # === Functional model ===
        inputs = keras.Input(shape=sample_shape, name="inputs")
        x = noise_layer(inputs) if noise_layer is not None else inputs
        outputs = decoder(encoder(x))
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.sample_shape = sample_shape
        self.latent_dim = latent_dim
        self.kind = kind
        self.hidden = hidden
        self.noise = noise
        self.noise_level = noise_level
        self.output_activation = output_activation
        self.seed = seed

    @property
    def encoder(self):
        """The encoder sub-model: sample -> code `(batch, latent_dim)`."""
        return self.get_layer("encoder")

    @property
    def decoder(self):
        """The decoder sub-model: code -> reconstruction."""
        return self.get_layer("decoder")

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self.sample_shape,
            "latent_dim": self.latent_dim,
            "kind": self.kind,
            "hidden": self.hidden,
            "noise": self.noise,
            "noise_level": self.noise_level,
            "output_activation": self.output_activation,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["input_shape"] = tuple(config["input_shape"])
        config["hidden"] = tuple(config["hidden"])
        return cls(**config)
