"""kerasdl.layers.augmentation.photometric: brightness, contrast and cutout."""

import numpy as np
import pytest
from augmentation_helpers import N, _images, _np

from kerasdl.layers.augmentation import Cutout, RandomBrightness, RandomContrast

# ---------------------------------------------------------------------------
# Photometric and cutout
# ---------------------------------------------------------------------------


def test_brightness_adds_one_delta_per_image_within_the_range():
    x = _images(low=0.3, high=0.7)
    delta = _np(RandomBrightness(0.2, seed=0)(x, training=True)) - x
    per_image = delta.reshape(N, -1)
    np.testing.assert_allclose(per_image - per_image[:, :1], 0.0, atol=1e-6)
    assert np.all(np.abs(per_image) <= 0.2 + 1e-6)
    assert per_image[:, 0].min() < -0.1 and per_image[:, 0].max() > 0.1
    # A value range of width 10 scales the delta; the result is clipped to it.
    wide = RandomBrightness((0.5, 0.5), value_range=(0, 10))(x * 10, training=True)
    np.testing.assert_allclose(_np(wide), np.minimum(x * 10 + 5, 10), atol=1e-5)
    clipped = _np(RandomBrightness((0.9, 0.9))(x, training=True))
    np.testing.assert_array_equal(clipped, np.ones_like(x))


def test_contrast_scales_deviations_per_image_within_the_range():
    x = _images(low=0.3, high=0.7)
    out = _np(RandomContrast(0.3, value_range=None, seed=0)(x, training=True))
    mean_in, mean_out = x.mean(axis=(1, 2)), out.mean(axis=(1, 2))
    np.testing.assert_allclose(mean_out, mean_in, atol=1e-5)  # mean kept
    ratio = out.std(axis=(1, 2)) / x.std(axis=(1, 2))  # (N, channels)
    np.testing.assert_allclose(ratio - ratio[:, :1], 0.0, atol=1e-4)
    assert ratio.min() >= 0.7 - 1e-4 and ratio.max() <= 1.3 + 1e-4
    assert ratio.min() < 0.85 and ratio.max() > 1.15
    # (lower, upper) = (0, 5): only stronger contrast, clipped to [0, 1].
    strong = _np(RandomContrast((0.0, 5.0), seed=0)(x, training=True))
    assert strong.min() >= 0.0 and strong.max() <= 1.0
    # Deviations up to 0.2 times a factor drawn from U(0, 5) leave [0, 1] for
    # about 15 % of the pixels in expectation (each backend draws other factors).
    assert np.mean((strong == 0.0) | (strong == 1.0)) > 0.05


@pytest.mark.parametrize("size,side", [(3, 3), (1, 1), (0.5, 3), (0.01, 1)])
def test_cutout_erases_exactly_one_square_per_image(size, side):
    x = _images()
    out = _np(Cutout(size, fill_value=-1.0, seed=0)(x, training=True))
    corners = set()
    for image, cut in zip(x, out):
        erased = np.any(cut != image, axis=-1)
        rows, cols = np.nonzero(erased)
        assert erased.sum() == side * side
        assert rows.max() - rows.min() + 1 == side == cols.max() - cols.min() + 1
        assert np.all(cut[erased] == -1.0)
        np.testing.assert_array_equal(cut[~erased], image[~erased])
        corners.add((rows.min(), cols.min()))
    assert len(corners) >= 6  # placed per image


def test_cutout_larger_than_the_image_is_rejected():
    with pytest.raises(ValueError, match="`size`=7"):
        Cutout(7)(np.zeros((1, 6, 8, 1), "float32"), training=True)
