"""kerasdl.layers.conv_blocks.ConvBNAct: contract, the maths it computes, errors."""

import keras
import numpy as np
import pytest

from kerasdl.layers.conv_blocks import ConvBNAct
from kerasdl.testing import check_layer


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"filters": 4, "strides": 2}, (2, 4, 3, 4)),
        ({"filters": 4, "padding": "valid", "batch_norm": False}, (2, 6, 4, 4)),
        ({"filters": 4, "kernel_size": (1, 3), "activation": None}, (2, 8, 6, 4)),
    ],
)
def test_conv_bn_act_contract(kwargs, expected, tmp_path):
    layer = ConvBNAct(**kwargs)
    out = check_layer(
        layer, (2, 8, 6, 3), expected_output_shape=expected, tmp_dir=tmp_path
    )
    assert np.all(np.isfinite(out))


def test_inference_is_relu_of_normalized_convolution():
    """Inference: relu(gamma * (conv(x) - mean) / sqrt(var + eps) + beta)."""
    x = _normal(2, 5, 5, 3)
    layer = ConvBNAct(4, 3, epsilon=1e-3)
    layer.build(x.shape)
    assert len(layer.conv.weights) == 1  # no bias before batch norm
    kernel = _normal(3, 3, 3, 4, seed=1)
    gamma, beta = _normal(4, seed=2), _normal(4, seed=3)
    mean, var = _normal(4, seed=4), np.abs(_normal(4, seed=5)) + 0.5
    layer.set_weights([kernel, gamma, beta, mean, var])
    conv = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)
    conv.build(x.shape)
    conv.set_weights([kernel])
    z = _np(conv(x))
    expected = np.maximum(gamma * (z - mean) / np.sqrt(var + 1e-3) + beta, 0.0)
    np.testing.assert_allclose(_np(layer(x, training=False)), expected, atol=1e-5)


def test_training_normalizes_with_batch_statistics():
    x = 3.0 + 2.0 * _normal(16, 6, 6, 2)
    layer = ConvBNAct(5, 3, activation=None)
    y = _np(layer(x, training=True))
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1.0, atol=1e-2)


def test_without_batch_norm_the_conv_has_a_bias():
    layer = ConvBNAct(4, batch_norm=False)
    layer.build((None, 8, 8, 3))
    assert layer.norm is None and len(layer.weights) == 2
    assert (
        ConvBNAct(4, batch_norm=False, use_bias=False).get_config()["use_bias"] is False
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"filters": 0}, "filters"),
        ({"filters": 4, "padding": "full"}, "padding"),
        ({"filters": 4, "activation": "nope"}, "activation"),
        ({"filters": 4, "kernel_size": (3, 3, 3)}, "kernel_size"),
        ({"filters": 4, "batch_norm": 1}, "batch_norm"),
        ({"filters": 4, "kernel_initializer": "nope"}, "kernel_initializer"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConvBNAct(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="rank 4"):
        ConvBNAct(4)(np.zeros((2, 8, 3), "float32"))
    with pytest.raises(ValueError, match="at least 5x5"):
        ConvBNAct(4, 5, padding="valid")(np.zeros((1, 4, 8, 1), "float32"))
