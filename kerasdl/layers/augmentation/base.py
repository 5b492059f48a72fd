"""What every kerasdl image augmentation layer shares: the input check, the
training gate, the seed and the parsing of `(low, high)` ranges."""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasdl._checks import check_choice, check_int, is_number

__all__ = ["ImageAugmentation", "check_choice", "check_range"]


def check_range(name, value, *, symmetric=True, low=-math.inf, high=math.inf):
    """A factor given as one number or a `(low, high)` pair, as a checked value.

    A single number `f` stands for the range `(-f, f)` when `symmetric` (and must
    then be >= 0); a pair must have `low <= high`. Every end must lie in
    `[low, high]` (the function's bounds). Returns the value as given, with floats
    (a number) or a tuple of two floats (a pair), so `get_config` round-trips it;
    `as_bounds` turns it into the pair.
    """
    message = (
        f"`{name}` must be a number >= 0 or a (low, high) pair with low <= high, "
        f"within [{low}, {high}]; received {name}={value!r}."
    )
    if is_number(value, finite=True):
        value = float(value)
        ends = (-value, value) if symmetric else (value, value)
        if symmetric and value < 0:
            raise ValueError(message)
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(is_number(v, finite=True) for v in value)
        and value[0] <= value[1]
    ):
        value = (float(value[0]), float(value[1]))
        ends = value
    else:
        raise ValueError(message)
    if ends[0] < low or ends[1] > high:
        raise ValueError(message)
    return value


def as_bounds(value):
    """`(low, high)` of a value returned by `check_range(symmetric=True)`."""
    if isinstance(value, tuple):
        return value
    return (-value, value)


def check_value_range(value_range, allow_none=True):
    """`(low, high)` with low < high (or None when allowed)."""
    if value_range is None and allow_none:
        return None
    if (
        not isinstance(value_range, (tuple, list))
        or len(value_range) != 2
        or not all(is_number(v, finite=True) for v in value_range)
        or not value_range[0] < value_range[1]
    ):
        raise ValueError(
            "`value_range` must be a (low, high) pair of numbers with low < high"
            f"{' or None' if allow_none else ''}; received "
            f"value_range={value_range!r}."
        )
    return (float(value_range[0]), float(value_range[1]))


class ImageAugmentation(keras.layers.Layer):
    """Base of the augmentation layers: images in, images out, training only.

    Subclasses implement `augment(images)` (float images, rank 4, called only in
    training) and may override `is_identity()` (True when their settings make the
    layer do nothing) and `check_image_shape(shape)` (extra checks, e.g. a cutout
    larger than the image).

    Args:
        seed: Integer seed (>= 0) of the layer's `keras.random.SeedGenerator`, or
            None for a random one.
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def check_image_shape(self, shape):
        """Hook for subclasses: raise ValueError for images they cannot handle."""

    def _check(self, shape):
        shape = tuple(shape)
        if len(shape) != 4 or None in shape[1:]:
            raise ValueError(
                f"{type(self).__name__}: expected `inputs` of rank 4 (batch, "
                "height, width, channels) with known height, width and channels; "
                f"received shape {shape}."
            )
        self.check_image_shape(shape)
        return shape

    def build(self, input_shape):
        self._check(input_shape)

    def is_identity(self):
        return False

    def augment(self, images):
        raise NotImplementedError

    def call(self, inputs, training=None):
        self._check(inputs.shape)
        if not training or self.is_identity():
            return inputs
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if "float" not in dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        return self.augment(inputs)

    def compute_output_shape(self, input_shape):
        return self._check(input_shape)

    def uniform(self, batch, bounds, dtype="float32"):
        """`(batch,)` values drawn uniformly in `bounds`, from the layer's seed."""
        return keras.random.uniform(
            (batch,),
            minval=bounds[0],
            maxval=bounds[1],
            dtype=dtype,
            seed=self.seed_generator,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
