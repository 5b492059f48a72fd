"""kerasdl.layers.augmentation: every layer's contract (identity at inference,
seeded fresh draws per image, jit-compatible) and its argument and input checks."""

import keras
import numpy as np
import pytest
from augmentation_helpers import SHAPE, N, _images, _layers, _np

from kerasdl.layers.augmentation import (
    Cutout,
    RandomAffine,
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    make_augmentation,
)
from kerasdl.testing import check_layer

# ---------------------------------------------------------------------------
# The layer contract, inference and determinism
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layer", _layers(), ids=lambda layer: type(layer).__name__)
def test_contract_identity_at_inference_and_fresh_draws(layer, tmp_path):
    x = _images()
    out = check_layer(layer, x, expected_output_shape=x.shape, tmp_dir=tmp_path)
    np.testing.assert_array_equal(out, x)  # training=False
    np.testing.assert_array_equal(_np(layer(x)), x)  # training defaults to None
    first = _np(layer(x, training=True))
    assert first.shape == x.shape and not np.array_equal(first, x)
    # Seeded: a new layer with the same seed draws the same; the next call differs.
    twin = type(layer).from_config(layer.get_config())
    np.testing.assert_allclose(_np(twin(x, training=True)), first, atol=1e-6)
    assert not np.allclose(_np(layer(x, training=True)), first)
    assert layer.supports_jit  # unlike Keras's geometric layers


@pytest.mark.parametrize("layer", _layers()[1:], ids=lambda layer: type(layer).__name__)
def test_parameters_are_drawn_per_image(layer):
    x = np.repeat(_images(1, seed=3), N, axis=0)  # N copies of one image
    out = _np(layer(x, training=True)).reshape(N, -1)
    assert len({row.tobytes() for row in out.round(5)}) >= 8


def test_integer_images_are_cast_to_float_in_training():
    x = (np.arange(N * 6 * 7 * 2).reshape(N, *SHAPE) % 7).astype("uint8")
    out = RandomRotation((180, 180))(x, training=True)
    assert "float" in keras.backend.standardize_dtype(out.dtype)
    np.testing.assert_allclose(_np(out), np.rot90(x, 2, axes=(1, 2)), atol=1e-4)


@pytest.mark.parametrize(
    "make,name",
    [
        (lambda: make_augmentation(["rotate"]), "steps"),
        (lambda: make_augmentation("flip"), "steps"),
        (lambda: make_augmentation(["flip"], seed=1.5), "seed"),
        (lambda: make_augmentation(["zoom"], fuse_geometric=1), "fuse_geometric"),
        (lambda: RandomAffine(rotation=-1), "rotation"),
        (lambda: RandomAffine(translation=2.0), "translation"),
        (lambda: RandomAffine(zoom=(-1.5, 0)), "zoom"),
        (lambda: RandomFlip("diagonal"), "mode"),
        (lambda: RandomRotation(-5), "degrees"),
        (lambda: RandomRotation((10, 5)), "degrees"),
        (lambda: RandomRotation(10, interpolation="cubic"), "interpolation"),
        (lambda: RandomRotation(10, fill_mode="reflect"), "fill_mode"),
        (lambda: RandomRotation(10, seed=-1), "seed"),
        (lambda: RandomTranslation(1.5), "height_factor"),
        (lambda: RandomTranslation(0.1, "x"), "width_factor"),
        (lambda: RandomTranslation(3, unit="cm"), "unit"),
        (lambda: RandomZoom((-1.0, 0.5)), "height_factor"),
        (lambda: RandomZoom(0.2, (-2, 0)), "width_factor"),
        (lambda: RandomZoom(0.2, fill_value=float("nan")), "fill_value"),
        (lambda: RandomBrightness(1.5), "factor"),
        (lambda: RandomBrightness(0.1, value_range=(1, 0)), "value_range"),
        (lambda: RandomContrast(-0.1), "factor"),
        (lambda: RandomContrast((2.0, 0.1)), "factor"),
        (lambda: Cutout(0), "size"),
        (lambda: Cutout(1.5), "size"),
        (lambda: Cutout(True), "size"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(make, name):
    with pytest.raises(ValueError, match=f"`{name}`.*received"):
        make()


@pytest.mark.parametrize("layer", _layers(), ids=lambda layer: type(layer).__name__)
def test_bad_input_rank_is_a_clear_error(layer):
    with pytest.raises(ValueError, match=r"rank 4.*\(2, 4, 4\)"):
        layer(np.zeros((2, 4, 4), "float32"), training=True)
