"""overlay_heatmap and save_explanation: the blend formula, image kinds, the PNG."""

import matplotlib.image
import numpy as np
import pytest

from kerasdl._figures import plt
from kerasdl.explain import overlay_heatmap, save_explanation

RNG = np.random.default_rng(0)


def test_overlay_is_the_weighted_blend_of_image_and_colormap():
    image = RNG.random((6, 7, 3)).astype("float32")
    heatmap = RNG.random((6, 7)).astype("float32")
    colored = plt.get_cmap("jet")(heatmap)[..., :3]
    for alpha in (0.0, 0.4, 1.0):
        blended = overlay_heatmap(image, heatmap, alpha=alpha)
        assert blended.shape == (6, 7, 3) and blended.dtype == np.float32
        np.testing.assert_allclose(
            blended, (1 - alpha) * image + alpha * colored, atol=1e-6
        )


def test_image_kinds_are_shown_as_rgb_in_unit_range():
    heatmap = np.zeros((4, 4), "float32")
    gray = RNG.random((4, 4)).astype("float32")
    expected = np.repeat(gray[..., None], 3, axis=-1)
    for image in (gray, gray[..., None], gray[None, ..., None]):
        np.testing.assert_allclose(overlay_heatmap(image, heatmap, alpha=0.0), expected)
    uint8 = (gray * 255).astype("uint8")
    np.testing.assert_allclose(
        overlay_heatmap(uint8, heatmap, alpha=0.0)[..., 0], uint8 / 255.0, atol=1e-6
    )
    standardized = (gray - gray.mean()) / gray.std()  # rescaled for display
    shown = overlay_heatmap(standardized, heatmap, alpha=0.0)
    assert shown.min() == 0.0 and shown.max() == pytest.approx(1.0)
    rgba = np.concatenate([expected, np.ones((4, 4, 1), "float32")], axis=-1)
    np.testing.assert_allclose(overlay_heatmap(rgba, heatmap, alpha=0.0), expected)


def test_a_coarse_heatmap_is_resized_to_the_image():
    heatmap = np.array([[1.0, 0.0], [0.0, 0.0]], "float32")  # the top-left cell
    blended = overlay_heatmap(np.zeros((8, 8)), heatmap, alpha=1.0)
    assert blended.shape == (8, 8, 3)
    hot = plt.get_cmap("jet")(1.0)[:3]
    np.testing.assert_allclose(blended[0, 0], hot, atol=1e-6)
    assert not np.allclose(blended[7, 7], hot)


def test_save_explanation_writes_a_png(tmp_path):
    image = RNG.random((8, 8, 1)).astype("float32")
    heatmap = RNG.random((4, 4)).astype("float32")
    path = save_explanation(image, heatmap, tmp_path / "sub" / "digit.png", title="7")
    assert path == tmp_path / "sub" / "digit.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[1] > 2 * pixels.shape[0]  # 3 panels


@pytest.mark.parametrize(
    "image, heatmap, kwargs, message",
    [
        (np.zeros((4, 4, 2)), np.zeros((4, 4)), {}, "image"),
        (np.zeros(4), np.zeros((4, 4)), {}, "image"),
        (np.full((4, 4), np.nan), np.zeros((4, 4)), {}, "NaN"),
        (np.zeros((4, 4)), np.zeros((4, 4, 1)), {}, "heatmap"),
        (np.zeros((4, 4)), np.full((4, 4), 2.0), {}, r"heatmap.*\[0, 1\]"),
        (np.zeros((4, 4)), np.full((4, 4), np.nan), {}, "heatmap"),
        (np.zeros((4, 4)), np.zeros((4, 4)), {"alpha": 1.5}, "alpha"),
        (np.zeros((4, 4)), np.zeros((4, 4)), {"colormap": "nope"}, "colormap"),
    ],
)
def test_bad_arguments(image, heatmap, kwargs, message):
    with pytest.raises(ValueError, match=message):
        overlay_heatmap(image, heatmap, **kwargs)
