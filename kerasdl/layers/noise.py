"""Input corruption for denoising autoencoders: masking and clipped Gaussian noise.

Both layers corrupt their inputs only when called with `training=True` and are the
identity at inference, so a denoising autoencoder trained on `fit(x, x)` learns to
undo the corruption while `predict(x)` reconstructs the clean input.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import is_number


@keras.saving.register_keras_serializable(package="kerasdl")
class MaskingNoise(keras.layers.Layer):
    """Sets a random fraction `rate` of the input entries to 0 during training.

    Masking noise (Vincent et al., 2008) destroys whole input entries (pixels)
    and leaves the others untouched. Unlike `keras.layers.Dropout`, the kept
    entries are *not* rescaled by `1 / (1 - rate)`: the corruption models missing
    pixels, not an ensemble of thinned networks. Each entry is dropped
    independently with probability `rate`.

    Args:
        rate: Fraction of entries set to 0, a float in `[0, 1)`.
        seed: Integer seed of the layer's `keras.random.SeedGenerator`, or None.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`).

    Call arguments:
        inputs: A tensor of any shape.
        training: Python bool; the inputs are corrupted only when True.

    Returns:
        A tensor shaped like `inputs`: a corrupted copy in training, the inputs
        themselves otherwise.

    Example:

    ```python
    layer = kerasdl.layers.MaskingNoise(0.3, seed=0)
    corrupted = layer(images, training=True)  # ~30% of the pixels are 0
    ```
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not is_number(rate) or not 0.0 <= rate < 1.0:
            raise ValueError(
                f"`rate` must be a float in [0, 1); received rate={rate!r}."
            )
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        keep = ops.greater_equal(
            keras.random.uniform(ops.shape(inputs), seed=self.seed_generator),
            self.rate,
        )
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class ClippedGaussianNoise(keras.layers.Layer):
    """Adds N(0, stddev²) noise during training, then clips to `[clip_min, clip_max]`.

    Like `keras.layers.GaussianNoise`, but the corrupted values are clipped to the
    data's range, so noisy images stay valid images (pixels in [0, 1] by default).
    Either bound may be None (no clipping on that side).

    Args:
        stddev: Standard deviation of the additive noise, a float >= 0.
        clip_min: Lower bound of the corrupted values, or None.
        clip_max: Upper bound of the corrupted values, or None; must exceed
            `clip_min` when both are given.
        seed: Integer seed of the layer's `keras.random.SeedGenerator`, or None.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`).

    Call arguments:
        inputs: A float tensor of any shape.
        training: Python bool; noise is added (and the result clipped) only when
            True. At inference the inputs pass through unchanged (not clipped).

    Returns:
        A tensor shaped like `inputs`.

    Example:

    ```python
    layer = kerasdl.layers.ClippedGaussianNoise(0.2, seed=0)
    noisy = layer(images, training=True)  # images + noise, clipped to [0, 1]
    ```
    """

    def __init__(self, stddev, clip_min=0.0, clip_max=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not is_number(stddev) or stddev < 0:
            raise ValueError(
                f"`stddev` must be a float >= 0; received stddev={stddev!r}."
            )
        for name, value in (("clip_min", clip_min), ("clip_max", clip_max)):
            if value is not None and not is_number(value):
                raise ValueError(
                    f"`{name}` must be a number or None; received {name}={value!r}."
                )
        if clip_min is not None and clip_max is not None and clip_min >= clip_max:
            raise ValueError(
                "`clip_min` must be smaller than `clip_max`; received "
                f"clip_min={clip_min!r}, clip_max={clip_max!r}."
            )
        self.stddev = float(stddev)
        self.clip_min = None if clip_min is None else float(clip_min)
        self.clip_max = None if clip_max is None else float(clip_max)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training:
            return inputs
        noisy = inputs
        if self.stddev > 0:
            noisy = noisy + keras.random.normal(
                ops.shape(inputs),
                stddev=self.stddev,
                dtype=keras.backend.standardize_dtype(inputs.dtype),
                seed=self.seed_generator,
            )
        if self.clip_min is not None:
            noisy = ops.maximum(noisy, ops.cast(self.clip_min, noisy.dtype))
        if self.clip_max is not None:
            noisy = ops.minimum(noisy, ops.cast(self.clip_max, noisy.dtype))
        return noisy

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "stddev": self.stddev,
                "clip_min": self.clip_min,
                "clip_max": self.clip_max,
                "seed": self.seed,
            }
        )
        return config
