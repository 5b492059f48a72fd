"""Autoencoder: dense, convolutional and denoising; the model contract and training."""

import keras
import numpy as np
import pytest

from kerasdl import backend
from kerasdl.data import load_digits
from kerasdl.layers import ClippedGaussianNoise, MaskingNoise
from kerasdl.models import (
    Autoencoder,
    reconstruction_error,
)
from kerasdl.testing import check_model

DIGITS = load_digits()
X = DIGITS.x[:64]  # (64, 8, 8, 1) in [0, 1]
TINY = {"hidden": (8,)}  # one small shape set, reused: JAX compiles per shape


def _np(tensor):
    return keras.ops.convert_to_numpy(tensor)


# --- Autoencoder ---


def test_dense_autoencoder_contract(tmp_path):
    model = Autoencoder((8, 8, 1), 4, noise="masking", **TINY)
    output = check_model(model, X[:16], X[:16], tmp_dir=tmp_path)
    assert output.shape == (16, 8, 8, 1)
    assert np.all((output > 0) & (output < 1))  # sigmoid output
    assert model.encoder.output_shape == (None, 4)
    assert model.decoder.output_shape == (None, 8, 8, 1)
    # The model is decoder(encoder(x)) at inference (the noise layer is inactive).
    recomposed = model.decoder(model.encoder(X[:16]))
    np.testing.assert_allclose(output, _np(recomposed), atol=1e-6)


def test_conv_autoencoder_contract_and_downsampling(tmp_path):
    model = Autoencoder((8, 8, 1), 4, kind="conv", hidden=(4, 8), noise="gaussian")
    # One stride-2 convolution per entry of `hidden`: 8x8 -> 4x4 -> 2x2.
    assert model.encoder.get_layer("conv_2").output.shape == (None, 2, 2, 8)
    assert model.decoder.get_layer("reshape").output.shape == (None, 2, 2, 8)
    output = check_model(model, X[:8], X[:8], tmp_dir=tmp_path)
    assert output.shape == (8, 8, 8, 1)


def test_conv_autoencoder_on_28x28_images():
    model = Autoencoder((28, 28, 1), 4, kind="conv", hidden=(4, 8))
    assert model.encoder.get_layer("conv_2").output.shape == (None, 7, 7, 8)
    assert model.decoder.get_layer("reshape").output.shape == (None, 7, 7, 8)
    assert model.output_shape == (None, 28, 28, 1)


@pytest.mark.parametrize(
    "noise, layer_type, level",
    [("gaussian", ClippedGaussianNoise, 0.25), ("masking", MaskingNoise, 0.3)],
)
def test_denoising_noise_acts_in_training_only(noise, layer_type, level):
    model = Autoencoder((8, 8, 1), 4, noise=noise, **TINY)
    layer = model.get_layer("noise")
    assert isinstance(layer, layer_type) and model.noise_level == level
    clean = _np(model(X, training=False))
    np.testing.assert_allclose(model.predict(X, verbose=0), clean, atol=1e-6)
    np.testing.assert_allclose(_np(model(X, training=False)), clean, atol=1e-6)
    assert np.abs(_np(model(X, training=True)) - clean).max() > 1e-3
    if noise == "gaussian":  # digits live in [0, 1]: the noisy input stays there
        assert (layer.clip_min, layer.clip_max) == (0.0, 1.0)
    linear = Autoencoder((8, 8, 1), 4, noise="gaussian", output_activation=None)
    assert linear.get_layer("noise").clip_min is None


def test_denoising_autoencoder_training_lowers_the_loss():
    backend.set_random_seed(0)
    model = Autoencoder((8, 8, 1), 8, noise="masking", hidden=(32,))
    model.compile(keras.optimizers.Adam(3e-3), "binary_crossentropy")
    before = reconstruction_error(model, X)
    history = model.fit(X, X, epochs=6, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert reconstruction_error(model, X).mean() < 0.7 * before.mean()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"latent_dim": 64}, r"undercomplete.*latent_dim=64"),
        ({"latent_dim": 0}, r"`latent_dim` must be an integer >= 1"),
        ({"kind": "lstm"}, r"`kind` must be one of"),
        ({"kind": "conv", "hidden": (4, 8, 8, 8)}, r"divisible by 2\*\*4 = 16"),
        ({"hidden": 8}, r"`hidden` must be a tuple"),
        ({"noise": "salt"}, r"`noise` must be None or one of"),
        ({"noise_level": 0.1}, r"`noise_level` is only used with `noise`"),
        ({"noise": "masking", "noise_level": 1.0}, r"`noise_level` \(the rate"),
        ({"noise": "gaussian", "noise_level": -1.0}, r"`noise_level` \(the stan"),
        ({"output_activation": "nope"}, r"`output_activation` must be"),
    ],
)
def test_autoencoder_bad_arguments_raise(kwargs, match):
    kwargs = {"latent_dim": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        Autoencoder((8, 8, 1), **kwargs)


def test_conv_needs_images():
    with pytest.raises(ValueError, match=r'kind="conv" needs images'):
        Autoencoder((64,), 4, kind="conv")
