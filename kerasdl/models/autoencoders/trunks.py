"""The encoder and decoder trunks shared by `Autoencoder` and `VAE`.

Dense or convolutional stacks, their argument checks, and the seeded kernel
initializers, used by `autoencoders.py` and `vae.py`.
"""

from __future__ import annotations

import math

import keras

KINDS = ("dense", "conv")
NOISES = ("gaussian", "masking")
LIKELIHOODS = ("bernoulli", "gaussian")
DEFAULT_HIDDEN = {"dense": (128,), "conv": (16, 32)}
DEFAULT_NOISE_LEVEL = {"gaussian": 0.25, "masking": 0.3}


# === Validation ===
def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; received kind={kind!r}.")


def _resolve_hidden(hidden, kind, sample_shape):
    """Checks `hidden` (units for dense, filters for conv) and the conv geometry."""
    hidden = DEFAULT_HIDDEN[kind] if hidden is None else hidden
    if isinstance(hidden, int) or not isinstance(hidden, (tuple, list)):
        raise ValueError(
            "`hidden` must be a tuple of positive integers (units per dense layer, "
            f"or filters per stride-2 convolution); received hidden={hidden!r}."
        )
    if not all(
        isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden
    ):
        raise ValueError(
            f"`hidden` must contain positive integers; received hidden={hidden!r}."
        )
    hidden = tuple(int(h) for h in hidden)
    if kind == "conv":
        if len(sample_shape) != 3:
            raise ValueError(
                'kind="conv" needs images: `input_shape` must be (height, width, '
                f"channels); received input_shape={sample_shape!r}."
            )
        if not hidden:
            raise ValueError('kind="conv" needs at least one entry in `hidden`.')
        factor = 2 ** len(hidden)
        if sample_shape[0] % factor or sample_shape[1] % factor:
            raise ValueError(
                f"With {len(hidden)} stride-2 convolutions (hidden={hidden!r}) the "
                f"height and width must be divisible by 2**{len(hidden)} = {factor}; "
                f"received input_shape={sample_shape!r}. Use fewer entries in "
                "`hidden` or pad the images."
            )
    return hidden


def _check_activation(output_activation):
    try:
        keras.activations.get(output_activation)
    except (ValueError, TypeError) as error:
        raise ValueError(
            "`output_activation` must be a Keras activation name or None; received "
            f"output_activation={output_activation!r}."
        ) from error


def _kernel_init(seed, index, kind="he_normal"):
    if seed is None:
        return kind
    cls = (
        keras.initializers.HeNormal
        if kind == "he_normal"
        else (keras.initializers.GlorotUniform)
    )
    return cls(seed=seed + index)


# === Encoder / decoder trunks (shared by the autoencoder and the VAE) ===
def _encoder_features(inputs, kind, hidden, seed):
    """Flat features of `inputs`: dense layers, or stride-2 3x3 convolutions."""
    if kind == "dense":
        x = keras.layers.Flatten(name="flatten")(inputs)
        for i, units in enumerate(hidden, start=1):
            x = keras.layers.Dense(
                units,
                "relu",
                kernel_initializer=_kernel_init(seed, i),
                name=f"dense_{i}",
            )(x)
        return x
    x = inputs
    for i, filters in enumerate(hidden, start=1):
        x = keras.layers.Conv2D(
            filters,
            3,
            strides=2,
            padding="same",
            activation="relu",
            kernel_initializer=_kernel_init(seed, i),
            name=f"conv_{i}",
        )(x)
    return keras.layers.Flatten(name="flatten")(x)


def _decoder_outputs(latent, sample_shape, kind, hidden, output_activation, seed):
    """Mirror of `_encoder_features`: from a latent vector to a sample."""
    offset = 100  # decoder initializer seeds differ from the encoder's
    if kind == "dense":
        x = latent
        for i, units in enumerate(reversed(hidden), start=1):
            x = keras.layers.Dense(
                units,
                "relu",
                kernel_initializer=_kernel_init(seed, offset + i),
                name=f"dense_{i}",
            )(x)
        x = keras.layers.Dense(
            math.prod(sample_shape),
            output_activation,
            kernel_initializer=_kernel_init(seed, offset, "glorot_uniform"),
            name="pixels",
        )(x)
        return keras.layers.Reshape(sample_shape, name="reshape")(x)
    factor = 2 ** len(hidden)
    small = (sample_shape[0] // factor, sample_shape[1] // factor, hidden[-1])
    x = keras.layers.Dense(
        math.prod(small),
        "relu",
        kernel_initializer=_kernel_init(seed, offset + 50),
        name="project",
    )(latent)
    x = keras.layers.Reshape(small, name="reshape")(x)
    for i, filters in enumerate(reversed(hidden), start=1):
        x = keras.layers.Conv2DTranspose(
            filters,
            3,
            strides=2,
            padding="same",
            activation="relu",
            kernel_initializer=_kernel_init(seed, offset + i),
            name=f"deconv_{i}",
        )(x)
    return keras.layers.Conv2D(
        sample_shape[-1],
        3,
        padding="same",
        activation=output_activation,
        kernel_initializer=_kernel_init(seed, offset, "glorot_uniform"),
        name="pixels",
    )(x)


def _decoder_model(
    latent_dim, sample_shape, kind, hidden, output_activation, seed, name
):
    latent = keras.Input(shape=(latent_dim,), name="latent")
    outputs = _decoder_outputs(
        latent, sample_shape, kind, hidden, output_activation, seed
    )
    return keras.Model(latent, outputs, name=name)


# === Autoencoder ===
