"""Default GAN networks: a DCGAN-style generator and discriminator/critic.

Both are plain functional `keras.Model`s, so any other pair of models with the same
inputs and outputs can be given to the GAN classes instead. Sizes default to the 8x8
digits that ship with scikit-learn and scale to 28x28 or 32x32 images by the number
of up/down-sampling stages.

The architecture follows Radford et al. (2016), "Unsupervised representation
learning with deep convolutional GANs": strided (transposed) convolutions instead of
pooling, batch normalisation in the generator, LeakyReLU(0.2) in the discriminator,
no dense hidden layers except the generator's projection of the noise.
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_image_shape, check_int
from kerasdl.models.base import dtype_policy_scope

NORMALIZATIONS = ("batch", "layer", None)


def _check_image_shape(image_shape, stages, what):
    return check_image_shape(
        "image_shape",
        image_shape,
        divisible_by=2**stages,
        reason=f"The {what} halves the image {stages} times; change `stages` or "
        "pad the images.",
    )


def _normalization(kind, name):
    if kind == "batch":
        return keras.layers.BatchNormalization(name=name)
    if kind == "layer":
        return keras.layers.LayerNormalization(name=name)
    return None


def _label_input(num_classes):
    check_int("num_classes", num_classes, minimum=2)
    return keras.Input((1,), dtype="int32", name="label")


def dcgan_generator(
    latent_dim=32,
    image_shape=(8, 8, 1),
    *,
    base_filters=32,
    stages=2,
    num_classes=None,
    output_activation="sigmoid",
    name="generator",
    dtype=None,
):
    """A DCGAN generator: noise -> dense projection -> transposed convolutions.

    The noise is projected to a `(h / 2**stages, w / 2**stages, base_filters *
    2**stages)` map; each stage is a 4x4 `Conv2DTranspose` with stride 2 that doubles
    the size and halves the filters, followed by batch normalisation and ReLU. A 3x3
    convolution maps to the image channels.

    Args:
        latent_dim: Size of the noise vector.
        image_shape: `(height, width, channels)` of the generated images; height and
            width must be multiples of `2**stages`.
        base_filters: Filters of the last stage (the first has `base_filters *
            2**(stages - 1)`).
        stages: Number of upsampling stages.
        num_classes: If set, the generator is conditional: it takes a second input,
            integer labels `(batch, 1)`, embedded and concatenated to the noise.
        output_activation: `"sigmoid"` for images in [0, 1] (kerasdl's convention),
            `"tanh"` for [-1, 1].
        name: Model name.
        dtype: Dtype policy of every layer (e.g. `"mixed_bfloat16"`), or None
            for the global policy.

    Returns:
        A functional `keras.Model` mapping `z` (or `[z, labels]`) to images.

    Example:

    ```python
    generator = dcgan_generator(latent_dim=32, image_shape=(8, 8, 1))
    images = generator(keras.random.normal((16, 32)))  # (16, 8, 8, 1)
    ```
    """
    check_int("latent_dim", latent_dim)
    check_int("base_filters", base_filters)
    check_int("stages", stages)
    height, width, channels = _check_image_shape(image_shape, stages, "generator")
    with dtype_policy_scope(dtype):
        z = keras.Input((latent_dim,), name="z")
        inputs = [z]
        h = z
        if num_classes is not None:
            label = _label_input(num_classes)
            inputs.append(label)
            embedded = keras.layers.Flatten()(
                keras.layers.Embedding(num_classes, latent_dim, name="label_embedding")(
                    label
                )
            )
            h = keras.layers.Concatenate(name="z_and_label")([z, embedded])
        filters = base_filters * 2**stages
        start = (height // 2**stages, width // 2**stages)
        h = keras.layers.Dense(start[0] * start[1] * filters, use_bias=False)(h)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.ReLU()(h)
        h = keras.layers.Reshape((*start, filters))(h)
        for stage in range(stages):
            filters //= 2
            h = keras.layers.Conv2DTranspose(
                filters,
                4,
                strides=2,
                padding="same",
                use_bias=False,
                name=f"up{stage + 1}",
            )(h)
            h = keras.layers.BatchNormalization()(h)
            h = keras.layers.ReLU()(h)
        images = keras.layers.Conv2D(
            channels, 3, padding="same", activation=output_activation, name="to_image"
        )(h)
        return keras.Model(inputs if len(inputs) > 1 else z, images, name=name)


def dcgan_discriminator(
    image_shape=(8, 8, 1),
    *,
    base_filters=32,
    stages=2,
    normalization="batch",
    dropout=0.0,
    num_classes=None,
    name="discriminator",
    dtype=None,
):
    """A DCGAN discriminator (or WGAN critic): strided convolutions -> one logit.

    Each stage is a 4x4 convolution with stride 2 (doubling the filters), optional
    normalisation (none on the first stage) and LeakyReLU(0.2); the map is flattened
    into one linear unit: a logit for the DCGAN, a score for a Wasserstein critic.

    Args:
        image_shape: `(height, width, channels)` of the images; height and width
            must be multiples of `2**stages`.
        base_filters: Filters of the first stage.
        stages: Number of downsampling stages.
        normalization: `"batch"` (DCGAN), `"layer"` or `None`. A WGAN-GP critic
            must not use batch normalisation: the penalty is on each sample's own
            gradient, which batch statistics would mix; use `"layer"` or `None`.
        dropout: Dropout rate before the output unit.
        num_classes: If set, the discriminator is conditional: integer labels
            `(batch, 1)` are embedded as an extra image channel.
        name: Model name.
        dtype: Dtype policy of every layer (e.g. `"mixed_bfloat16"`), or None
            for the global policy.

    Returns:
        A functional `keras.Model` mapping images (or `[images, labels]`) to
        `(batch, 1)` unbounded scores.
    """
    check_int("base_filters", base_filters)
    check_int("stages", stages)
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"`normalization` must be one of {NORMALIZATIONS}; received "
            f"normalization={normalization!r}."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` must be in [0, 1); received dropout={dropout!r}.")
    height, width, _ = _check_image_shape(image_shape, stages, "discriminator")
    with dtype_policy_scope(dtype):
        images = keras.Input(image_shape, name="images")
        inputs = [images]
        h = images
        if num_classes is not None:
            label = _label_input(num_classes)
            inputs.append(label)
            plane = keras.layers.Embedding(
                num_classes, height * width, name="label_embedding"
            )(label)
            plane = keras.layers.Reshape((height, width, 1))(plane)
            h = keras.layers.Concatenate(name="image_and_label")([images, plane])
        filters = base_filters
        for stage in range(stages):
            h = keras.layers.Conv2D(
                filters, 4, strides=2, padding="same", name=f"down{stage + 1}"
            )(h)
            if stage > 0:
                norm = _normalization(normalization, f"norm{stage + 1}")
                if norm is not None:
                    h = norm(h)
            h = keras.layers.LeakyReLU(0.2)(h)
            filters *= 2
        h = keras.layers.Flatten()(h)
        if dropout:
            h = keras.layers.Dropout(dropout)(h)
        score = keras.layers.Dense(1, name="score")(h)
        return keras.Model(inputs if len(inputs) > 1 else images, score, name=name)
