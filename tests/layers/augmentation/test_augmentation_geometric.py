"""kerasdl.layers.augmentation.geometric and .affine: flips, rotations,
translations and zooms against NumPy and Keras's affine transform."""

import numpy as np
import pytest
from augmentation_helpers import SQUARE, N, _affine, _images, _np, _shifted

from kerasdl.layers.augmentation import (
    RandomAffine,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)

# ---------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dy,dx", [(2, -1), (0, 3), (-3, 0)])
def test_integer_translation_is_a_roll_with_zero_fill(dy, dx):
    x = _images()
    layer = RandomTranslation((dy, dy), (dx, dx), unit="pixels")
    expected = np.stack([_shifted(image, dy, dx) for image in x])
    np.testing.assert_allclose(_np(layer(x, training=True)), expected, atol=1e-6)
    # The same move as fractions of the height and width.
    fraction = RandomTranslation((dy / 6, dy / 6), (dx / 7, dx / 7))
    np.testing.assert_allclose(_np(fraction(x, training=True)), expected, atol=1e-5)


def test_translation_fill_value_and_nearest_fill_mode():
    x = _images()
    filled = RandomTranslation((1, 1), (-2, -2), unit="pixels", fill_value=0.5)
    expected = np.stack([_shifted(image, 1, -2, fill=0.5) for image in x])
    np.testing.assert_allclose(_np(filled(x, training=True)), expected, atol=1e-6)
    edge = RandomTranslation((2, 2), (0, 0), unit="pixels", fill_mode="nearest")
    padded = np.pad(x, ((0, 0), (2, 0), (0, 0), (0, 0)), mode="edge")[:, :6]
    np.testing.assert_allclose(_np(edge(x, training=True)), padded, atol=1e-6)


def test_nearest_interpolation_moves_by_whole_pixels():
    x = _images()
    out = _np(
        RandomTranslation(1.4, unit="pixels", interpolation="nearest", seed=0)(
            x, training=True
        )
    )
    seen = set()
    for image, moved in zip(x, out):
        matches = [
            (dy, dx)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if np.array_equal(moved, _shifted(image, dy, dx))
        ]
        assert len(matches) == 1, "not a whole-pixel move within +-1"
        seen.add(matches[0])
    assert len(seen) >= 5


def test_fractional_translation_matches_keras_affine_transform():
    x = _images()
    layer = RandomTranslation((0.25, 0.25), (-0.3, -0.3), fill_value=0.2)
    # Keras maps output (col, row) to input (col - dx, row - dy).
    expected = _affine(x, [1, 0, 0.3 * 7, 0, 1, -0.25 * 6, 0, 0], fill_value=0.2)
    np.testing.assert_allclose(_np(layer(x, training=True)), expected, atol=1e-5)


@pytest.mark.parametrize("degrees,k", [(90, 1), (-90, -1), (180, 2)])
def test_right_angle_rotations_equal_np_rot90(degrees, k):
    x = _images(shape=SQUARE)
    out = _np(RandomRotation((degrees, degrees))(x, training=True))
    np.testing.assert_allclose(out, np.rot90(x, k, axes=(1, 2)), atol=1e-5)


@pytest.mark.parametrize("fill_value", [0.0, 0.3])
def test_rotation_matches_keras_affine_transform(fill_value):
    x = _images()
    theta = np.radians(30.0)
    c, s, cy, cx = np.cos(theta), np.sin(theta), 2.5, 3.0
    transform = [c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy, 0, 0]
    out = _np(RandomRotation((30, 30), fill_value=fill_value)(x, training=True))
    np.testing.assert_allclose(out, _affine(x, transform, fill_value), atol=1e-5)


def test_rotation_nearest_modes_keep_values_from_the_image():
    x = _images()
    layer = RandomRotation(40, interpolation="nearest", fill_mode="nearest", seed=0)
    out = _np(layer(x, training=True))
    for image, rotated in zip(x, out):
        assert set(rotated.ravel()) <= set(image.ravel())


@pytest.mark.parametrize("factor", [0.3, -0.4])
def test_zoom_matches_keras_affine_transform(factor):
    x = _images()
    zoom = 1.0 + factor
    transform = [zoom, 0, 3.0 * (1 - zoom), 0, zoom, 2.5 * (1 - zoom), 0, 0]
    out = _np(RandomZoom((factor, factor), fill_value=0.1)(x, training=True))
    np.testing.assert_allclose(out, _affine(x, transform, 0.1), atol=1e-5)


def test_affine_composes_zoom_rotation_and_translation_in_one_interpolation():
    x = _images()  # 6 x 7: a 10% move is 0.6 pixels down and 0.7 right
    z, theta, ty, tx = 1.2, np.radians(25.0), 0.6, 0.7
    layer = RandomAffine(rotation=(25, 25), translation=(0.1, 0.1), zoom=(0.2, 0.2))
    c, s, cy, cx = np.cos(theta), np.sin(theta), 2.5, 3.0
    # Output (col, row) reads input z R(-theta) (p - shift), as Keras's matrix.
    transform = [
        z * c,
        -z * s,
        cx - z * c * (cx + tx) + z * s * (cy + ty),
        z * s,
        z * c,
        cy - z * s * (cx + tx) - z * c * (cy + ty),
        0,
        0,
    ]
    out = _np(layer(x, training=True))
    np.testing.assert_allclose(out, _affine(x, transform), atol=1e-5)
    # One step alone is the single-step layer.
    alone = RandomAffine(rotation=(25, 25))(x, training=True)
    single = RandomRotation((25, 25))(x, training=True)
    np.testing.assert_allclose(_np(alone), _np(single), atol=1e-6)


def test_zero_ranges_resample_to_the_identity():
    x = _images()
    # `augment` skips the shortcut that returns the inputs for a zero range.
    zero = (0.0, 0.0)
    for layer in (
        RandomZoom(zero),
        RandomRotation(zero),
        RandomAffine(rotation=zero, translation=zero, zoom=zero),
    ):
        assert layer.is_identity()
        np.testing.assert_array_equal(_np(layer(x, training=True)), x)
        np.testing.assert_allclose(_np(layer.augment(x)), x, atol=1e-6)


def test_zoom_keeps_the_aspect_ratio_unless_a_width_factor_is_given():
    x = np.zeros((N, *SQUARE), "float32")
    x[:, 1:5, 1:5] = 1.0  # a centred square stays square with one draw
    square = _np(RandomZoom((-0.4, 0.4), seed=0)(x, training=True))[..., 0]
    np.testing.assert_allclose(square, np.transpose(square, (0, 2, 1)), atol=1e-6)
    free = _np(RandomZoom((-0.4, 0.4), (-0.4, 0.4), seed=0)(x, training=True))
    assert not np.allclose(free[..., 0], np.transpose(free[..., 0], (0, 2, 1)))


def test_flip_is_per_image_and_the_same_flip_twice_is_the_identity():
    x = _images()
    out = _np(RandomFlip("horizontal_and_vertical", seed=4)(x, training=True))
    kinds = []
    for image, flipped in zip(x, out):
        candidates = {
            "none": image,
            "h": image[:, ::-1],
            "v": image[::-1],
            "hv": image[::-1, ::-1],
        }
        kinds += [k for k, c in candidates.items() if np.array_equal(flipped, c)]
    assert len(kinds) == N and set(kinds) == {"none", "h", "v", "hv"}
    again = _np(RandomFlip("horizontal_and_vertical", seed=4)(out, training=True))
    np.testing.assert_array_equal(again, x)  # same seed, same flips: undone
    only_h = _np(RandomFlip("horizontal", seed=1)(x, training=True))
    assert all(
        np.array_equal(o, i) or np.array_equal(o, i[:, ::-1]) for o, i in zip(only_h, x)
    )
