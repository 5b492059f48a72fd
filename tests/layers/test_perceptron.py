"""kerasdl.layers.Perceptron: a Heaviside step of xW + b, as a Keras layer."""

import keras
import numpy as np
import pytest

from kerasdl.layers import Perceptron
from kerasdl.testing import check_layer


def test_layer_contract(tmp_path):
    layer = Perceptron(3, kernel_initializer="random_normal", bias_initializer="ones")
    output = check_layer(layer, (4, 5), expected_output_shape=(4, 3), tmp_dir=tmp_path)
    assert set(np.unique(output)) <= {0.0, 1.0}


def test_higher_rank_inputs_act_on_last_axis():
    layer = Perceptron(2, kernel_initializer="random_normal")
    x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype("float32")
    output = check_layer(layer, x, expected_output_shape=(3, 4, 2))
    flat = keras.ops.convert_to_numpy(layer(x.reshape(12, 5)))
    np.testing.assert_array_equal(output.reshape(12, 2), flat)


def test_step_of_affine_map_with_strict_threshold():
    layer = Perceptron(2)
    layer.build((None, 2))
    layer.set_weights(
        [np.array([[1.0, -1.0], [2.0, 0.0]], "float32"), np.array([-1.0, 0.5], "f4")]
    )
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1, 0.2]], "f4")
    z = x @ layer.get_weights()[0] + layer.get_weights()[1]
    output = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_array_equal(output, (z > 0).astype("float32"))
    # (1, 0) puts unit 0 exactly on the threshold: a zero pre-activation gives 0.
    assert z[1, 0] == 0.0 and output[1, 0] == 0.0
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer.pre_activation(x)), z, atol=1e-6
    )


def test_default_weights_are_zero_so_output_is_zero():
    output = keras.ops.convert_to_numpy(Perceptron()(np.ones((2, 3), "float32")))
    np.testing.assert_array_equal(output, np.zeros((2, 1)))


@pytest.mark.parametrize("units", [0, -1, 1.5, True, "2"])
def test_bad_units_raise(units):
    with pytest.raises(ValueError, match=r"units"):
        Perceptron(units)


def test_rank_one_input_raises():
    with pytest.raises(ValueError, match=r"ndim|rank"):
        Perceptron()(np.ones((3,), "float32"))
