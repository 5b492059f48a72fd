"""Geometric augmentation layers: `RandomFlip`, `RandomRotation`,
`RandomTranslation` and `RandomZoom`, with per-image random parameters.

Translation and zoom resample each axis on its own (two small `einsum`s per
image), rotation reads the four neighbours of each rotated source point, and
flips choose per image with `ops.where` (`resampling` holds the interpolation;
`affine.RandomAffine` does rotation, translation and zoom in one resampling).
Unlike Keras's own geometric layers, which set `supports_jit = False` and so turn
off XLA for the whole model, these keep the model jit-compilable (see
`benchmarks/bench_augmentation.py`). Images are channels-last.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasdl.layers.augmentation.base import (
    ImageAugmentation,
    as_bounds,
    check_choice,
    check_range,
)
from kerasdl.layers.augmentation.resampling import (
    FILL_MODES,
    INTERPOLATIONS,
    Resampling,
    affine_source,
    centre,
    resample_points,
    resample_separable,
)

__all__ = [
    "FILL_MODES",
    "FLIP_MODES",
    "INTERPOLATIONS",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
]

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
TRANSLATION_UNITS = ("fraction", "pixels")


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="kerasdl")
class RandomFlip(ImageAugmentation):
    """Mirrors each image with probability 1/2, in training only.

    Args:
        mode: `"horizontal"` (left-right), `"vertical"` (up-down) or
            `"horizontal_and_vertical"` (each drawn independently).
        seed: Integer seed (>= 0) of the layer's random draws, or None.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether to augment; otherwise the inputs are returned as is.

    Returns:
        Images of the same shape.

    Example:

    ```python
    x = RandomFlip("horizontal", seed=0)(images, training=True)
    ```
    """

    def __init__(self, mode="horizontal", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.mode = check_choice("mode", mode, FLIP_MODES)

    def augment(self, images):
        batch = ops.shape(images)[0]
        axes = {"horizontal": [2], "vertical": [1]}.get(self.mode, [1, 2])
        for axis in axes:
            flip = self.uniform(batch, (0.0, 1.0)) < 0.5
            images = ops.where(
                ops.reshape(flip, (-1, 1, 1, 1)), ops.flip(images, axis=axis), images
            )
        return images

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode})
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class RandomRotation(Resampling):
    """Rotates each image about its centre by a random angle, in training only.

    The angle of each image is drawn uniformly in degrees from `degrees`
    (a number `d` means `(-d, d)`); positive angles turn the image
    counter-clockwise as displayed (row 0 at the top), like `np.rot90`.
    Resampling reads the four neighbours of each rotated source point through
    flat indices (`ops.take`), which stays cheap and jit-compilable on every
    backend.

    Args:
        degrees: A number >= 0 (range `(-degrees, degrees)`) or a
            `(low, high)` pair, in degrees.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"constant"` (pixels from outside the image are
            `fill_value`) or `"nearest"` (the nearest edge pixel).
        fill_value: The constant fill.
        seed: Integer seed (>= 0) of the layer's random draws, or None.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether to augment; otherwise the inputs are returned as is.

    Returns:
        Images of the same shape.

    Example:

    ```python
    x = RandomRotation(15, seed=0)(images, training=True)  # -15..15 degrees
    ```
    """

    def __init__(
        self,
        degrees,
        interpolation="bilinear",
        fill_mode="constant",
        fill_value=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            interpolation=interpolation,
            fill_mode=fill_mode,
            fill_value=fill_value,
            seed=seed,
            **kwargs,
        )
        self.degrees = check_range("degrees", degrees)

    def is_identity(self):
        return as_bounds(self.degrees) == (0.0, 0.0)

    def augment(self, images):
        _, height, width, _ = images.shape
        low, high = as_bounds(self.degrees)
        angle = self.uniform(
            ops.shape(images)[0], (math.radians(low), math.radians(high))
        )
        # Inverse map: the output pixel at p reads the input at R(-angle) p.
        rows, cols = affine_source(
            height, width, cos=ops.cos(angle), sin=ops.sin(angle)
        )
        return resample_points(images, rows, cols, *self._resample_options())

    def get_config(self):
        config = super().get_config()
        config.update({"degrees": self.degrees})
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class RandomTranslation(Resampling):
    """Moves each image by a random offset, in training only.

    Each image gets its own vertical and horizontal offset, drawn uniformly from
    `height_factor` and `width_factor`: a number `f` means `(-f, f)`. With
    `unit="fraction"` (default) the factors are fractions of the image height
    and width (as in `keras.layers.RandomTranslation`); with `unit="pixels"`
    they are pixels. Positive offsets move the content down / right. Resampling
    is two `einsum`s with per-image interpolation matrices (exact bilinear, or
    whole-pixel moves with `interpolation="nearest"`).

    Args:
        height_factor: Vertical offset range: a number >= 0 or `(low, high)`.
        width_factor: Horizontal offset range; None uses `height_factor`
            (drawn independently).
        unit: `"fraction"` (of the height / width; within [-1, 1]) or
            `"pixels"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"constant"` or `"nearest"` (repeat the edge pixels).
        fill_value: The constant fill.
        seed: Integer seed (>= 0) of the layer's random draws, or None.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether to augment; otherwise the inputs are returned as is.

    Returns:
        Images of the same shape.

    Example:

    ```python
    x = RandomTranslation(0.1, seed=0)(images, training=True)  # up to 10%
    x = RandomTranslation(2, unit="pixels", interpolation="nearest")(images, True)
    ```
    """

    def __init__(
        self,
        height_factor,
        width_factor=None,
        unit="fraction",
        interpolation="bilinear",
        fill_mode="constant",
        fill_value=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            interpolation=interpolation,
            fill_mode=fill_mode,
            fill_value=fill_value,
            seed=seed,
            **kwargs,
        )
        self.unit = check_choice("unit", unit, TRANSLATION_UNITS)
        limit = 1.0 if unit == "fraction" else math.inf
        self.height_factor = check_range(
            "height_factor", height_factor, low=-limit, high=limit
        )
        self.width_factor = (
            None
            if width_factor is None
            else check_range("width_factor", width_factor, low=-limit, high=limit)
        )

    def _bounds(self):
        width = self.height_factor if self.width_factor is None else self.width_factor
        return as_bounds(self.height_factor), as_bounds(width)

    def is_identity(self):
        return self._bounds() == ((0.0, 0.0), (0.0, 0.0))

    def augment(self, images):
        _, height, width, _ = images.shape
        batch = ops.shape(images)[0]
        (h_low, h_high), (w_low, w_high) = self._bounds()
        if self.unit == "fraction":
            h_low, h_high, w_low, w_high = (
                h_low * height,
                h_high * height,
                w_low * width,
                w_high * width,
            )
        dy = self.uniform(batch, (h_low, h_high))
        dx = self.uniform(batch, (w_low, w_high))
        rows = ops.arange(height, dtype="float32")[None, :] - dy[:, None]
        cols = ops.arange(width, dtype="float32")[None, :] - dx[:, None]
        return resample_separable(images, rows, cols, *self._resample_options())

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "height_factor": self.height_factor,
                "width_factor": self.width_factor,
                "unit": self.unit,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class RandomZoom(Resampling):
    """Zooms each image in or out about its centre, in training only.

    As in `keras.layers.RandomZoom`, a factor `f` reads the source at `1 + f`
    times the distance from the centre: `f > 0` zooms out (the content
    shrinks), `f < 0` zooms in. Each image draws its factor uniformly from
    `height_factor` (a number `f` means `(-f, f)`); with `width_factor=None`
    the same draw is used for the width, which keeps the aspect ratio.
    Resampling is two `einsum`s with per-image interpolation matrices.

    Args:
        height_factor: Vertical zoom range: a number in [0, 1) or a
            `(low, high)` pair with `low > -1`.
        width_factor: Horizontal zoom range (drawn independently), or None to
            reuse the vertical factor.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"constant"` or `"nearest"` (repeat the edge pixels).
        fill_value: The constant fill.
        seed: Integer seed (>= 0) of the layer's random draws, or None.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether to augment; otherwise the inputs are returned as is.

    Returns:
        Images of the same shape.

    Example:

    ```python
    x = RandomZoom(0.2, seed=0)(images, training=True)  # 80%..120% sampling
    ```
    """

    def __init__(
        self,
        height_factor,
        width_factor=None,
        interpolation="bilinear",
        fill_mode="constant",
        fill_value=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            interpolation=interpolation,
            fill_mode=fill_mode,
            fill_value=fill_value,
            seed=seed,
            **kwargs,
        )
        self.height_factor = check_range("height_factor", height_factor)
        self.width_factor = (
            None if width_factor is None else check_range("width_factor", width_factor)
        )
        for name, value in (
            ("height_factor", self.height_factor),
            ("width_factor", self.width_factor),
        ):
            if value is not None and as_bounds(value)[0] <= -1.0:
                raise ValueError(
                    f"`{name}` must keep the zoom 1 + factor above 0 (factors "
                    f"> -1); received {name}={value!r}."
                )

    def is_identity(self):
        return as_bounds(self.height_factor) == (0.0, 0.0) and (
            self.width_factor is None or as_bounds(self.width_factor) == (0.0, 0.0)
        )

    def augment(self, images):
        _, height, width, _ = images.shape
        batch = ops.shape(images)[0]
        zoom_y = 1.0 + self.uniform(batch, as_bounds(self.height_factor))
        zoom_x = (
            zoom_y
            if self.width_factor is None
            else 1.0 + self.uniform(batch, as_bounds(self.width_factor))
        )
        cy, cx = centre(height), centre(width)
        u = ops.arange(height, dtype="float32")[None, :] - cy
        v = ops.arange(width, dtype="float32")[None, :] - cx
        rows = zoom_y[:, None] * u + cy
        cols = zoom_x[:, None] * v + cx
        return resample_separable(images, rows, cols, *self._resample_options())

    def get_config(self):
        config = super().get_config()
        config.update(
            {"height_factor": self.height_factor, "width_factor": self.width_factor}
        )
        return config
