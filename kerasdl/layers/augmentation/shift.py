"""`RandomShift`: whole-pixel random shifts with one-hot selection matrices.

Its registered name is `kerasdl>RandomShift` wherever the module lives, so saved
models load.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import check_float, check_int

__all__ = ["RandomShift"]


@keras.saving.register_keras_serializable(package="kerasdl")
class RandomShift(keras.layers.Layer):
    """Shifts each image by a random whole number of pixels, in training only.

    Each image of the batch gets its own vertical and horizontal shift, drawn
    uniformly from `-max_shift..max_shift`; pixels shifted in are `fill_value`.
    The crop is done by multiplying with one-hot row and column selection
    matrices (`einsum`), which is exact and cheap for small images and traces
    the same on every backend. At inference (`training` false or None) the
    layer returns its inputs unchanged. (`RandomTranslation(max_shift,
    unit="pixels", interpolation="nearest")` is the continuous-draw cousin.)

    Args:
        max_shift: Largest shift in pixels (>= 0; 0 turns the layer off).
        fill_value: Value of the pixels shifted in (0 = background of the
            digits).
        seed: Integer seed of the shifts.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether to shift.

    Returns:
        Images of the same shape.

    Example:

    ```python
    x = RandomShift(1, seed=0)(images, training=True)
    ```
    """

    def __init__(self, max_shift=1, fill_value=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.max_shift = check_int("max_shift", max_shift, minimum=0)
        self.fill_value = check_float("fill_value", fill_value)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.seed_generator = keras.random.SeedGenerator(seed)

    @staticmethod
    def _check(shape):
        shape = tuple(shape)
        if len(shape) != 4 or None in shape[1:]:
            raise ValueError(
                "Expected `inputs` of rank 4 (batch, height, width, channels) with "
                f"known height, width and channels; received shape {shape}."
            )
        return shape

    def build(self, input_shape):
        self._check(input_shape)

    def _selection(self, batch, size):
        """One-hot `(batch, size, size + 2s)`: output pixel k reads padded k + d."""
        span = 2 * self.max_shift + 1
        offsets = keras.random.randint(
            (batch, 1), 0, span, dtype="int32", seed=self.seed_generator
        )
        index = offsets + ops.expand_dims(ops.arange(size, dtype="int32"), 0)
        return ops.one_hot(index, size + 2 * self.max_shift)

    def call(self, inputs, training=None):
        _, height, width, _ = self._check(inputs.shape)
        if not training or self.max_shift == 0:
            return inputs
        s = self.max_shift
        padded = ops.pad(
            inputs,
            ((0, 0), (s, s), (s, s), (0, 0)),
            constant_values=self.fill_value,
        )
        batch = ops.shape(inputs)[0]
        rows = ops.cast(self._selection(batch, height), inputs.dtype)
        cols = ops.cast(self._selection(batch, width), inputs.dtype)
        x = ops.einsum("bhi,biwc->bhwc", rows, padded)
        return ops.einsum("bwj,bhjc->bhwc", cols, x)

    def compute_output_shape(self, input_shape):
        return self._check(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_shift": self.max_shift,
                "fill_value": self.fill_value,
                "seed": self.seed,
            }
        )
        return config
