"""`RandomAffine`: random zoom, rotation and translation in one resampling.

Three geometric layers in a row interpolate three times, and each bilinear
interpolation blurs a little, which shows on images as small as 8x8 digits.
`RandomAffine` composes the three maps per image and interpolates once (through
`resample_points`: four gathers and a blend), so it is sharper and cheaper than
`RandomZoom -> RandomRotation -> RandomTranslation`. `make_augmentation` uses it
for consecutive rotation / translation / zoom steps.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasdl.layers.augmentation.base import as_bounds, check_range
from kerasdl.layers.augmentation.resampling import (
    Resampling,
    affine_source,
    resample_points,
)

__all__ = ["RandomAffine"]


@keras.saving.register_keras_serializable(package="kerasdl")
class RandomAffine(Resampling):
    """Zooms, rotates and moves each image at random with one interpolation.

    Per image, in this order: a zoom drawn from `zoom` (Keras's convention, as
    in `RandomZoom`: the source is read at `1 + f` times the distance from the
    centre, so `f > 0` zooms out; the same factor for both axes), a rotation by
    an angle drawn from `rotation` (degrees, counter-clockwise as displayed), and
    a move by fractions of the height and width drawn independently from
    `translation` (positive: down / right). A number `r` means the range
    `(-r, r)`; a `(low, high)` pair is used as is; 0 leaves that step out. The
    output pixel at `p` (from the centre) reads the input at
    `(1 + f) R(-angle) (p - shift)`.

    Args:
        rotation: Rotation range in degrees: a number >= 0 or `(low, high)`.
        translation: Translation range as a fraction of the height / width,
            within [-1, 1].
        zoom: Zoom range: a number in [0, 1) or a pair with `low > -1`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"constant"` (pixels from outside the image are `fill_value`)
            or `"nearest"` (the nearest edge pixel).
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
    layer = RandomAffine(rotation=12, translation=0.1, zoom=0.1, seed=0)
    x = layer(images, training=True)
    ```
    """

    def __init__(
        self,
        rotation=0.0,
        translation=0.0,
        zoom=0.0,
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
        self.rotation = check_range("rotation", rotation)
        self.translation = check_range("translation", translation, low=-1.0, high=1.0)
        self.zoom = check_range("zoom", zoom)
        if as_bounds(self.zoom)[0] <= -1.0:
            raise ValueError(
                "`zoom` must keep the zoom 1 + factor above 0 (factors > -1); "
                f"received zoom={zoom!r}."
            )

    def is_identity(self):
        return all(
            as_bounds(v) == (0.0, 0.0)
            for v in (self.rotation, self.translation, self.zoom)
        )

    def augment(self, images):
        _, height, width, _ = images.shape
        batch = ops.shape(images)[0]
        steps = {}
        if as_bounds(self.zoom) != (0.0, 0.0):
            steps["zoom"] = 1.0 + self.uniform(batch, as_bounds(self.zoom))
        if as_bounds(self.rotation) != (0.0, 0.0):
            low, high = as_bounds(self.rotation)
            angle = self.uniform(batch, (math.radians(low), math.radians(high)))
            steps["cos"], steps["sin"] = ops.cos(angle), ops.sin(angle)
        if as_bounds(self.translation) != (0.0, 0.0):
            low, high = as_bounds(self.translation)
            steps["shift"] = (
                self.uniform(batch, (low * height, high * height)),
                self.uniform(batch, (low * width, high * width)),
            )
        rows, cols = affine_source(height, width, **steps)
        return resample_points(images, rows, cols, *self._resample_options())

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "rotation": self.rotation,
                "translation": self.translation,
                "zoom": self.zoom,
            }
        )
        return config
