"""kerasdl.backend.compile_input_gradient: value, aux and input gradient, compiled
once and reused, seeing later weight updates; on every backend."""

import keras
import numpy as np
import pytest
from keras import ops

from kerasdl import backend as kb


def test_value_aux_and_gradient_of_a_known_function():
    scale = keras.Variable(np.float32(2.0))

    def fn(x, k):
        y = scale * x**3
        return ops.sum(y * k), y

    gradient_fn = kb.compile_input_gradient(fn, [scale])
    x = np.array([[1.0, -2.0, 3.0]], dtype="float32")
    value, aux, grad = gradient_fn(x, np.float32(0.5))
    assert float(value) == pytest.approx(0.5 * 2 * (1 - 8 + 27))
    np.testing.assert_allclose(ops.convert_to_numpy(aux), 2 * x**3)
    np.testing.assert_allclose(ops.convert_to_numpy(grad), 0.5 * 2 * 3 * x**2)

    scale.assign(np.float32(-1.0))  # later updates are seen (passed in on JAX)
    _, _, grad = gradient_fn(x, np.float32(1.0))
    np.testing.assert_allclose(ops.convert_to_numpy(grad), -3 * x**2)


def test_unused_input_has_a_zero_gradient():
    gradient_fn = kb.compile_input_gradient(lambda x: (ops.sum(x) * 0.0 + 1.0, x), [])
    _, _, grad = gradient_fn(np.ones((2, 3), "float32"))
    np.testing.assert_array_equal(ops.convert_to_numpy(grad), np.zeros((2, 3)))


def test_gradient_through_a_strided_one_by_one_convolution():
    # A ResNet projection shortcut. TensorFlow 2.21's *eager* gradient through it
    # (oneDNN, from 16x16 inputs up) aborts the process; the compiled one must not,
    # and must be right: for a linear conv, d sum(conv(x)) / dx is the kernel summed
    # over its outputs, at the pixels the stride visits.
    conv = keras.layers.Conv2D(8, 1, strides=2, use_bias=False)
    x = np.random.default_rng(0).random((1, 16, 16, 4)).astype("float32")
    conv(x)
    gradient_fn = kb.compile_input_gradient(
        lambda t: (ops.sum(conv(t)), ops.zeros(())), conv.weights
    )
    _, _, grad = gradient_fn(x)
    expected = np.zeros_like(x)
    expected[:, ::2, ::2, :] = ops.convert_to_numpy(conv.kernel)[0, 0].sum(axis=1)
    np.testing.assert_allclose(ops.convert_to_numpy(grad), expected, rtol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="callable"):
        kb.compile_input_gradient(3, [])
    with pytest.raises(ValueError, match="Keras variables"):
        kb.compile_input_gradient(lambda x: (ops.sum(x), x), [np.zeros(2)])
    not_scalar = kb.compile_input_gradient(lambda x: (x * 2.0, x), [])
    with pytest.raises(ValueError, match="scalar"):
        not_scalar(np.ones((2, 3), "float32"))
    not_pair = kb.compile_input_gradient(lambda x: ops.sum(x), [])
    with pytest.raises(ValueError, match="pair"):
        not_pair(np.ones((2, 3), "float32"))
    fine = kb.compile_input_gradient(lambda x: (ops.sum(x), x), [])
    with pytest.raises(ValueError, match="floating point"):
        fine(np.ones((2, 3), "int32"))
