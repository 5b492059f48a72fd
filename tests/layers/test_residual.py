"""kerasdl.layers.residual.ResidualBlock: contract, shortcut rule, identity maths."""

import keras
import numpy as np
import pytest

from kerasdl.backend import input_gradient
from kerasdl.layers.residual import ResidualBlock
from kerasdl.testing import check_layer


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


@pytest.mark.parametrize(
    "kwargs, in_channels, expected",
    [
        ({"filters": 4, "strides": 2}, 3, (2, 3, 4, 4)),
        ({"filters": 4}, 4, (2, 6, 7, 4)),
        ({"filters": 2, "kind": "bottleneck"}, 8, (2, 6, 7, 8)),
        ({"filters": 2, "kind": "bottleneck", "strides": 2}, 4, (2, 3, 4, 8)),
    ],
)
def test_residual_block_contract(kwargs, in_channels, expected, tmp_path):
    block = ResidualBlock(**kwargs)
    check_layer(
        block, (2, 6, 7, in_channels), expected_output_shape=expected, tmp_dir=tmp_path
    )


@pytest.mark.parametrize(
    "kind, filters, strides, in_channels, projection",
    [
        ("basic", 4, 1, 4, False),
        ("basic", 4, 2, 4, True),  # stride changes the shape
        ("basic", 4, 1, 3, True),  # channels change
        ("bottleneck", 2, 1, 8, False),  # 2 * 4 == 8
        ("bottleneck", 2, 1, 2, True),
        ("bottleneck", 2, 2, 8, True),
    ],
)
def test_projection_shortcut_exactly_when_needed(
    kind, filters, strides, in_channels, projection
):
    block = ResidualBlock(filters, kind=kind, strides=strides)
    block.build((None, 8, 8, in_channels))
    assert block.needs_projection(in_channels) is projection
    assert (block.shortcut is not None) is projection
    if projection:
        kernel = block.shortcut.conv.kernel
        assert tuple(kernel.shape) == (1, 1, in_channels, block.out_channels)
        assert block.shortcut.conv.strides == (strides, strides)
    # Weights: 2 (basic) or 3 (bottleneck) ConvBNActs, +1 for the projection.
    convs = (2 if kind == "basic" else 3) + int(projection)
    assert len(block.trainable_weights) == 3 * convs  # kernel, gamma, beta


@pytest.mark.parametrize("kind, filters", [("basic", 4), ("bottleneck", 1)])
def test_identity_shortcut_with_zeroed_convs_returns_relu_of_input(kind, filters):
    x = _normal(3, 5, 5, 4)
    block = ResidualBlock(filters, kind=kind)
    block.build(x.shape)
    assert block.shortcut is None
    block.set_weights(
        [np.zeros_like(w) if "kernel" in w.path else _np(w) for w in block.weights]
    )
    np.testing.assert_allclose(_np(block(x, training=False)), np.maximum(x, 0.0))
    # ...and the branch really is used once the weights are not zero (fixed
    # positive kernels: a random one-filter bottleneck can be all zero after its
    # middle ReLU, by chance):
    block.set_weights(
        [np.full_like(w, 0.5) if "kernel" in w.path else _np(w) for w in block.weights]
    )
    assert not np.allclose(_np(block(x, training=False)), np.maximum(x, 0.0))


def test_zero_init_residual_starts_as_the_shortcut():
    x = _normal(2, 6, 6, 3, seed=1)
    block = ResidualBlock(4, strides=2, zero_init_residual=True)
    out = _np(block(x, training=False))
    shortcut = _np(block.shortcut(x, training=False))
    np.testing.assert_allclose(out, np.maximum(shortcut, 0.0), atol=1e-6)
    assert np.all(_np(block.convs[-1].norm.gamma) == 0.0)
    assert np.all(_np(block.convs[0].norm.gamma) == 1.0)


def test_gradient_reaches_the_input_through_the_shortcut():
    """Even with a dead branch (zero kernels), the identity passes gradients."""
    x = keras.ops.convert_to_tensor(np.abs(_normal(1, 4, 4, 2)) + 0.1)
    block = ResidualBlock(2)
    block.build(x.shape)
    block.set_weights(
        [np.zeros_like(w) if "kernel" in w.path else _np(w) for w in block.weights]
    )
    grad = _np(input_gradient(lambda t: keras.ops.sum(block(t, training=False)), x))
    np.testing.assert_allclose(grad, np.ones_like(grad), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"filters": 4, "kind": "wide"}, "kind"),
        ({"filters": 4, "expansion": 2}, "expansion"),
        ({"filters": 4, "strides": 0}, "strides"),
        ({"filters": 4, "zero_init_residual": "yes"}, "zero_init_residual"),
        ({"filters": -1}, "filters"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ResidualBlock(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="rank 4"):
        ResidualBlock(4)(np.zeros((2, 8, 4), "float32"))
