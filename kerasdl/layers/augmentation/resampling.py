"""Resampling for the geometric augmentation layers: exact bilinear (or nearest)
interpolation written with `keras.ops` only, cheap and jit-compilable on every
backend.

- `resample_separable`: when each output row reads one source row and each output
  column one source column (translation, zoom), two `einsum`s with per-image
  `(height, height)` and `(width, width)` interpolation matrices; row `i` of a
  matrix holds the "tent" weights `max(0, 1 - |source_i - k|)`.
- `resample_points`: any source point per output pixel (rotation, affine maps):
  the four neighbours are read through flat indices into the whole batch
  (`ops.take`) and blended.

Pixels from outside the image are `fill_value` (`fill_mode="constant"`: the same
bilinear blend with the fill value as `keras.ops.image.affine_transform`) or the
nearest edge pixel (`fill_mode="nearest"`).
"""

from __future__ import annotations

from keras import ops

from kerasdl._checks import check_float
from kerasdl.layers.augmentation.base import ImageAugmentation, check_choice

__all__ = [
    "FILL_MODES",
    "INTERPOLATIONS",
    "Resampling",
    "affine_source",
    "centre",
    "resample_points",
    "resample_separable",
]

FILL_MODES = ("constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


# ---------------------------------------------------------------------------
# Resampling
# ---------------------------------------------------------------------------


def _axis_weights(coords, size, interpolation, fill_mode):
    """Interpolation weights `(..., n, size)` of source coordinates `(..., n)`."""
    if fill_mode == "nearest":
        coords = ops.clip(coords, 0.0, size - 1.0)
    grid = ops.arange(size, dtype="float32")
    if interpolation == "bilinear":
        return ops.relu(1.0 - ops.abs(ops.expand_dims(coords, -1) - grid))
    nearest = ops.expand_dims(ops.floor(coords + 0.5), -1)
    return ops.cast(ops.equal(nearest, grid), "float32")


def resample_separable(images, rows, cols, interpolation, fill_mode, fill_value):
    """Resamples each image at `rows x cols` source coordinates (axis-separable).

    Output pixel `(i, j)` of image `b` is the interpolated input at
    `(rows[b, i], cols[b, j])`: two `einsum`s with per-image interpolation
    matrices, exact for bilinear and nearest interpolation.

    Args:
        images: `(batch, height, width, channels)` floats.
        rows: `(batch, height)` source row of each output row (float32).
        cols: `(batch, width)` source column of each output column (float32).
        interpolation: `"bilinear"` or `"nearest"`.
        fill_mode: `"constant"` or `"nearest"`.
        fill_value: Value outside the image for `fill_mode="constant"`.

    Returns:
        The resampled images, shaped and typed like `images`.
    """
    _, height, width, _ = images.shape
    row_weights = _axis_weights(rows, height, interpolation, fill_mode)
    col_weights = _axis_weights(cols, width, interpolation, fill_mode)
    dtype = images.dtype
    out = ops.einsum("bik,bklc->bilc", ops.cast(row_weights, dtype), images)
    out = ops.einsum("bjl,bilc->bijc", ops.cast(col_weights, dtype), out)
    if fill_mode == "constant" and fill_value != 0:
        # The weights of in-image pixels sum to < 1 near the border; the rest
        # of the (separable) kernel's mass falls on fill pixels.
        coverage = (
            ops.sum(row_weights, -1)[:, :, None, None]
            * ops.sum(col_weights, -1)[:, None, :, None]
        )
        out = out + ops.cast(fill_value * (1.0 - coverage), dtype)
    return out


def resample_points(images, rows, cols, interpolation, fill_mode, fill_value):
    """Resamples each image at arbitrary source points (gather-based).

    Output pixel `(i, j)` of image `b` is the interpolated input at
    `(rows[b, i, j], cols[b, i, j])`, read with flat indices into the whole
    batch (`ops.take`): four gathers for bilinear, one for nearest.

    Args:
        images: `(batch, height, width, channels)` floats.
        rows: `(batch, height, width)` source rows (float32).
        cols: `(batch, height, width)` source columns (float32).
        interpolation: `"bilinear"` or `"nearest"`.
        fill_mode: `"constant"` or `"nearest"`.
        fill_value: Value outside the image for `fill_mode="constant"`.

    Returns:
        The resampled images, shaped and typed like `images`.
    """
    _, height, width, channels = images.shape
    batch = ops.shape(images)[0]
    if fill_mode == "nearest":
        rows = ops.clip(rows, 0.0, height - 1.0)
        cols = ops.clip(cols, 0.0, width - 1.0)
    flat = ops.reshape(images, (-1, channels))
    base = ops.reshape(ops.arange(batch, dtype="int32") * (height * width), (-1, 1, 1))
    if interpolation == "nearest":
        corners = [(ops.floor(rows + 0.5), ops.floor(cols + 0.5), None)]
    else:
        top, left = ops.floor(rows), ops.floor(cols)
        dy, dx = rows - top, cols - left
        corners = [
            (top, left, (1.0 - dy) * (1.0 - dx)),
            (top, left + 1.0, (1.0 - dy) * dx),
            (top + 1.0, left, dy * (1.0 - dx)),
            (top + 1.0, left + 1.0, dy * dx),
        ]
    out, coverage = 0.0, 0.0
    for r, c, weight in corners:
        r, c = ops.cast(r, "int32"), ops.cast(c, "int32")
        inside = ops.logical_and(
            ops.logical_and(r >= 0, r < height), ops.logical_and(c >= 0, c < width)
        )
        index = base + ops.clip(r, 0, height - 1) * width + ops.clip(c, 0, width - 1)
        values = ops.reshape(
            ops.take(flat, ops.reshape(index, (-1,)), axis=0),
            (-1, height, width, channels),
        )
        weight = ops.cast(inside, "float32") if weight is None else weight
        weight = ops.where(inside, weight, 0.0)
        out = out + ops.cast(weight[..., None], images.dtype) * values
        coverage = coverage + weight
    if fill_mode == "constant" and fill_value != 0:
        out = out + ops.cast(fill_value * (1.0 - coverage[..., None]), images.dtype)
    return out


class Resampling(ImageAugmentation):
    """Shared arguments of the resampling layers."""

    def __init__(
        self, interpolation="bilinear", fill_mode="constant", fill_value=0.0, **kwargs
    ):
        super().__init__(**kwargs)
        self.interpolation = check_choice(
            "interpolation", interpolation, INTERPOLATIONS
        )
        self.fill_mode = check_choice("fill_mode", fill_mode, FILL_MODES)
        self.fill_value = check_float("fill_value", fill_value)

    def _resample_options(self):
        return (self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "interpolation": self.interpolation,
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
            }
        )
        return config


def centre(size):
    return (size - 1) / 2.0


def affine_source(height, width, *, cos=None, sin=None, zoom=None, shift=None):
    """Source rows and columns `(batch, height, width)` of an affine map.

    The output pixel at `p` (relative to the image centre) reads the input at
    `zoom * R(-angle) (p - shift)`: the content is zoomed (by `1 / zoom`), then
    rotated counter-clockwise by `angle`, then moved by `shift`. Each argument is
    a `(batch,)` tensor or None (no such step); `cos`/`sin` are of the angle,
    `zoom` multiplies the source distance from the centre (Keras's convention:
    > 1 zooms out), `shift` is `(dy, dx)` in pixels (positive: down, right).
    """
    cy, cx = centre(height), centre(width)
    u = ops.reshape(ops.arange(height, dtype="float32") - cy, (1, -1, 1))
    v = ops.reshape(ops.arange(width, dtype="float32") - cx, (1, 1, -1))

    def per_image(t):
        return ops.reshape(t, (-1, 1, 1))

    if shift is not None:
        u = u - per_image(shift[0])
        v = v - per_image(shift[1])
    if cos is not None:
        cos, sin = per_image(cos), per_image(sin)
        u, v = cos * u + sin * v, cos * v - sin * u
    if zoom is not None:
        u, v = per_image(zoom) * u, per_image(zoom) * v
    rows = u + cy
    cols = v + cx
    return rows, cols
