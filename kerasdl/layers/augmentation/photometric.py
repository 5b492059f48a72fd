"""Photometric image augmentation and cutout: per-image random brightness,
contrast and an erased square, in training only (identity at inference).

Each is a handful of element-wise `keras.ops` per batch, so it costs next to
nothing on every backend. Images are channels-last floats; `value_range` is the
range of valid pixel values (`(0, 1)` for `kerasdl.data.load_digits`).
"""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops

from kerasdl._checks import check_float
from kerasdl.layers.augmentation.base import (
    ImageAugmentation,
    as_bounds,
    check_range,
    check_value_range,
)

__all__ = ["Cutout", "RandomBrightness", "RandomContrast"]


@keras.saving.register_keras_serializable(package="kerasdl")
class RandomBrightness(ImageAugmentation):
    """Adds a random constant to each image, in training only.

    Each image draws `delta` uniformly from `factor` (a number `f` means
    `(-f, f)`), as a fraction of the width of `value_range`, and gets
    `images + delta * (high - low)`, clipped to `value_range`.

    Args:
        factor: A number in [0, 1] or a `(low, high)` pair within [-1, 1].
        value_range: `(low, high)` of valid pixel values; the result is
            clipped to it.
        seed: Integer seed (>= 0) of the layer's random draws, or None.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether to augment; otherwise the inputs are returned as is.

    Returns:
        Images of the same shape.

    Example:

    ```python
    x = RandomBrightness(0.2, seed=0)(images, training=True)  # +-20% of [0, 1]
    ```
    """

    def __init__(self, factor, value_range=(0.0, 1.0), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = check_range("factor", factor, low=-1.0, high=1.0)
        self.value_range = check_value_range(value_range, allow_none=False)

    def is_identity(self):
        return as_bounds(self.factor) == (0.0, 0.0)

    def augment(self, images):
        low, high = self.value_range
        delta = self.uniform(ops.shape(images)[0], as_bounds(self.factor)) * (
            high - low
        )
        out = images + ops.cast(ops.reshape(delta, (-1, 1, 1, 1)), images.dtype)
        return ops.clip(out, low, high)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


def _check_contrast_factor(factor):
    def valid(lower, upper):
        return all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
            for v in (lower, upper)
        ) and (0.0 <= lower <= 1.0 and upper >= 0.0)

    if isinstance(factor, (tuple, list)) and len(factor) == 2 and valid(*factor):
        return (float(factor[0]), float(factor[1]))
    if not isinstance(factor, (tuple, list)) and valid(factor, factor) and factor <= 1:
        return float(factor)
    raise ValueError(
        "`factor` must be a number in [0, 1] or a (lower, upper) pair with lower "
        f"in [0, 1] and upper >= 0; received factor={factor!r}."
    )


@keras.saving.register_keras_serializable(package="kerasdl")
class RandomContrast(ImageAugmentation):
    """Scales each image's deviations from its mean, in training only.

    Each image draws a contrast multiplier `c` uniformly from
    `[1 - lower, 1 + upper]` (`factor` is `f` for `lower = upper = f`, or the
    pair `(lower, upper)`, as in `keras.layers.RandomContrast`) and becomes
    `(images - mean) * c + mean`, the mean taken per image and channel over
    height and width; the result is clipped to `value_range` (None: no clip).

    Args:
        factor: A number in [0, 1], or a `(lower, upper)` pair with `lower` in
            [0, 1] and `upper` >= 0.
        value_range: `(low, high)` of valid pixel values, or None.
        seed: Integer seed (>= 0) of the layer's random draws, or None.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether to augment; otherwise the inputs are returned as is.

    Returns:
        Images of the same shape.

    Example:

    ```python
    x = RandomContrast(0.3, seed=0)(images, training=True)  # c in [0.7, 1.3]
    ```
    """

    def __init__(self, factor, value_range=(0.0, 1.0), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _check_contrast_factor(factor)
        self.value_range = check_value_range(value_range)

    def _multipliers(self):
        if isinstance(self.factor, tuple):
            return (1.0 - self.factor[0], 1.0 + self.factor[1])
        return (1.0 - self.factor, 1.0 + self.factor)

    def is_identity(self):
        return self._multipliers() == (1.0, 1.0)

    def augment(self, images):
        contrast = self.uniform(ops.shape(images)[0], self._multipliers())
        contrast = ops.cast(ops.reshape(contrast, (-1, 1, 1, 1)), images.dtype)
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        out = (images - mean) * contrast + mean
        if self.value_range is not None:
            out = ops.clip(out, *self.value_range)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class Cutout(ImageAugmentation):
    """Erases one random square per image, in training only (DeVries & Taylor,
    2017).

    Each image gets one `size x size` square, placed uniformly so that it lies
    wholly inside the image, set to `fill_value`.

    Args:
        size: Side of the square: an int >= 1 (pixels) or a float in (0, 1]
            (fraction of the shorter image side, rounded, at least 1 pixel).
        fill_value: Value of the erased pixels.
        seed: Integer seed (>= 0) of the layer's random draws, or None.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)` with height and width
            at least the square's side.
        training: Whether to augment; otherwise the inputs are returned as is.

    Returns:
        Images of the same shape.

    Example:

    ```python
    x = Cutout(0.25, seed=0)(images, training=True)  # a 2x2 hole on 8x8 digits
    ```
    """

    def __init__(self, size, fill_value=0.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if isinstance(size, bool) or not (
            (isinstance(size, numbers.Integral) and size >= 1)
            or (isinstance(size, float) and 0.0 < size <= 1.0)
        ):
            raise ValueError(
                "`size` must be an int >= 1 (pixels) or a float in (0, 1] "
                f"(fraction of the shorter side); received size={size!r}."
            )
        self.size = int(size) if isinstance(size, numbers.Integral) else float(size)
        self.fill_value = check_float("fill_value", fill_value)

    def side(self, height, width):
        """The square's side in pixels for images of `height x width`."""
        if isinstance(self.size, int):
            return self.size
        return max(1, round(self.size * min(height, width)))

    def check_image_shape(self, shape):
        side = self.side(shape[1], shape[2])
        if side > min(shape[1], shape[2]):
            raise ValueError(
                f"Cutout: `size`={self.size!r} ({side} pixels) does not fit in "
                f"images of shape {shape}."
            )

    def augment(self, images):
        _, height, width, _ = images.shape
        side = self.side(height, width)
        batch = ops.shape(images)[0]
        top = keras.random.randint(
            (batch, 1), 0, height - side + 1, dtype="int32", seed=self.seed_generator
        )
        left = keras.random.randint(
            (batch, 1), 0, width - side + 1, dtype="int32", seed=self.seed_generator
        )
        rows = ops.arange(height, dtype="int32")[None, :]
        cols = ops.arange(width, dtype="int32")[None, :]
        in_rows = ops.logical_and(rows >= top, rows < top + side)  # (batch, height)
        in_cols = ops.logical_and(cols >= left, cols < left + side)
        hole = ops.logical_and(in_rows[:, :, None, None], in_cols[:, None, :, None])
        return ops.where(hole, ops.cast(self.fill_value, images.dtype), images)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "fill_value": self.fill_value})
        return config
