"""kerasdl.layers.mbconv: MBConv and SqueezeExcitation contract and behaviour."""

import keras
import numpy as np
import pytest

from kerasdl.layers.mbconv import MBConv, SqueezeExcitation
from kerasdl.testing import check_layer


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


@pytest.mark.parametrize(
    "kwargs, in_channels, expected, residual",
    [
        ({"filters": 4, "drop_rate": 0.5, "seed": 1}, 4, (2, 6, 5, 4), True),
        ({"filters": 6, "strides": 2, "kernel_size": 5}, 4, (2, 3, 3, 6), False),
        ({"filters": 6, "expand_ratio": 1, "se_ratio": 0.0}, 4, (2, 6, 5, 6), False),
    ],
)
def test_mbconv_contract(kwargs, in_channels, expected, residual, tmp_path):
    block = MBConv(**kwargs)
    check_layer(
        block, (2, 6, 5, in_channels), expected_output_shape=expected, tmp_dir=tmp_path
    )
    assert block.has_residual is residual


def test_mbconv_structure():
    block = MBConv(8, expand_ratio=6, se_ratio=0.25)
    plain = MBConv(8, expand_ratio=1, se_ratio=0.0)
    # Shapes only: skip initializing the weights (slow on JAX for new shapes).
    with keras.StatelessScope(initialize_variables=False):
        block.build((None, 6, 6, 8))
        plain.build((None, 6, 6, 8))
    keras.backend.clear_session()
    assert tuple(block.expand.conv.kernel.shape) == (1, 1, 8, 48)
    assert tuple(block.depthwise.kernel.shape) == (3, 3, 48, 1)
    # The squeeze width follows the block's *input* channels: 8 * 0.25 = 2.
    assert tuple(block.se.reduce.kernel.shape) == (1, 1, 48, 2)
    assert tuple(block.project.conv.kernel.shape) == (1, 1, 48, 8)
    assert plain.expand is None and plain.se is None


def test_stochastic_depth_drops_whole_samples_in_training_only():
    x = _normal(64, 6, 5, 4)
    block = MBConv(4, drop_rate=0.5, seed=3)
    out = _np(block(x, training=True))
    dropped = np.all(out == x, axis=(1, 2, 3))
    assert 10 <= dropped.sum() <= 54  # Binomial(64, 0.5)
    assert not np.any(np.all(out == x, axis=(1, 2, 3)) & ~dropped)
    # Inference is deterministic and keeps every branch.
    first, second = _np(block(x, training=False)), _np(block(x, training=False))
    np.testing.assert_array_equal(first, second)
    assert not np.any(np.all(first == x, axis=(1, 2, 3)))
    # Without a residual there is nothing to drop.
    strided = MBConv(4, strides=2, drop_rate=0.5, seed=3)
    assert not np.any(np.all(_np(strided(x, training=True)) == 0.0, axis=(1, 2, 3)))


def test_squeeze_excitation_gates():
    x = np.abs(_normal(3, 4, 4, 6)) + 0.1
    se = SqueezeExcitation(2)
    check_layer(se, x, expected_output_shape=(3, 4, 4, 6))
    gates = _np(se.gates(x))
    assert gates.shape == (3, 1, 1, 6) and np.all((gates > 0) & (gates < 1))
    np.testing.assert_allclose(_np(se(x)), x * gates, rtol=1e-6)
    # A zero bottleneck and zero gate bias: every gate is sigmoid(0) = 1/2.
    se.set_weights([np.zeros_like(_np(w)) for w in se.weights])
    np.testing.assert_allclose(_np(se(x)), 0.5 * x, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"filters": 4, "se_ratio": 1.5}, "se_ratio"),
        ({"filters": 4, "drop_rate": 1.0}, "drop_rate"),
        ({"filters": 4, "expand_ratio": 0}, "expand_ratio"),
        ({"filters": 4, "activation": "nope"}, "activation"),
        ({"filters": 4, "seed": -1}, "seed"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MBConv(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="rank 4"):
        MBConv(4)(np.zeros((2, 8, 4), "float32"))
    with pytest.raises(ValueError, match="squeeze_filters"):
        SqueezeExcitation(0)


def test_mbconv_trains_in_a_compiled_fit():
    """Stochastic depth (a per-sample noise shape) inside a compiled train step."""
    x = _normal(8, 6, 5, 4, seed=4)
    inputs = keras.Input((6, 5, 4))
    model = keras.Model(inputs, MBConv(4, drop_rate=0.5, seed=0)(inputs))
    model.compile(keras.optimizers.SGD(0.05), "mse")
    target = 0.5 * x
    before = model.evaluate(x, target, verbose=0)
    model.fit(x, target, epochs=5, batch_size=8, verbose=0)
    after = model.evaluate(x, target, verbose=0)
    assert np.isfinite(after) and after < before
