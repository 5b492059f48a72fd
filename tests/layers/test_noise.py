"""kerasdl.layers.MaskingNoise and ClippedGaussianNoise: corruption in training only."""

import keras
import numpy as np
import pytest

from kerasdl.layers import ClippedGaussianNoise, MaskingNoise
from kerasdl.testing import check_layer

RNG = np.random.default_rng(0)
# Strictly positive, so a masked entry (0) is told apart from a kept one.
X = (0.05 + 0.9 * RNG.random((200, 500))).astype("float32")


def _np(tensor):
    return keras.ops.convert_to_numpy(tensor)


@pytest.mark.parametrize(
    "layer", [MaskingNoise(0.4, seed=1), ClippedGaussianNoise(0.3, seed=1)]
)
def test_layer_contract_and_identity_at_inference(layer, tmp_path):
    output = check_layer(
        layer, X[:4, :6], expected_output_shape=(4, 6), tmp_dir=tmp_path
    )
    np.testing.assert_array_equal(output, X[:4, :6])
    np.testing.assert_array_equal(_np(layer(X)), X)  # `training` defaults to False
    np.testing.assert_array_equal(_np(layer(X, training=False)), X)


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_masking_drops_a_fraction_rate_without_rescaling(rate):
    corrupted = _np(MaskingNoise(rate, seed=0)(X, training=True))
    dropped = corrupted == 0
    # 100,000 Bernoulli(rate) draws: the observed rate is within ~5 std of rate.
    assert abs(dropped.mean() - rate) < 0.01
    np.testing.assert_array_equal(corrupted[~dropped], X[~dropped])  # no 1/(1-rate)


def test_masking_rate_zero_is_identity_in_training():
    np.testing.assert_array_equal(_np(MaskingNoise(0.0)(X, training=True)), X)


def test_noise_is_seeded_and_fresh_per_call():
    a, b = MaskingNoise(0.3, seed=7), MaskingNoise(0.3, seed=7)
    first = _np(a(X, training=True))
    np.testing.assert_array_equal(first, _np(b(X, training=True)))
    assert not np.array_equal(first, _np(a(X, training=True)))


def test_gaussian_noise_statistics_without_clipping():
    layer = ClippedGaussianNoise(0.2, clip_min=None, clip_max=None, seed=0)
    noise = _np(layer(X, training=True)) - X
    assert abs(noise.mean()) < 0.005
    assert abs(noise.std() - 0.2) < 0.005


def test_gaussian_noise_is_clipped_to_the_bounds():
    noisy = _np(ClippedGaussianNoise(1.0, seed=0)(X, training=True))
    assert noisy.min() == 0.0 and noisy.max() == 1.0  # large noise hits both bounds
    assert np.mean((noisy > 0) & (noisy < 1)) > 0.3
    lower_only = _np(ClippedGaussianNoise(1.0, 0.5, None, seed=0)(X, training=True))
    assert lower_only.min() == 0.5 and lower_only.max() > 1.5


def test_gaussian_noise_in_a_model_follows_fit_and_predict():
    inputs = keras.Input((6,))
    model = keras.Model(inputs, ClippedGaussianNoise(0.5, seed=0)(inputs))
    np.testing.assert_array_equal(model.predict(X[:8, :6], verbose=0), X[:8, :6])
    assert not np.allclose(_np(model(X[:8, :6], training=True)), X[:8, :6])


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.3", True, None])
def test_bad_rate_raises(rate):
    with pytest.raises(ValueError, match=r"`rate` must be a float in \[0, 1\)"):
        MaskingNoise(rate)


@pytest.mark.parametrize("stddev", [-0.1, "0.2", None, False])
def test_bad_stddev_raises(stddev):
    with pytest.raises(ValueError, match=r"`stddev` must be a float >= 0"):
        ClippedGaussianNoise(stddev)


def test_bad_clip_bounds_raise():
    with pytest.raises(ValueError, match=r"clip_min.*smaller than.*clip_max"):
        ClippedGaussianNoise(0.1, clip_min=1.0, clip_max=1.0)
    with pytest.raises(ValueError, match=r"`clip_max` must be a number or None"):
        ClippedGaussianNoise(0.1, clip_max="1")
