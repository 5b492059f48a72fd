"""kerasdl.testing.check_layer passes good layers and says what is wrong with bad."""

import keras
import numpy as np
import pytest

from kerasdl.testing import check_layer


@keras.saving.register_keras_serializable(package="kerasdl_tests")
class Scale(keras.layers.Layer):
    """A correct layer: y = x * w (one weight per feature)."""

    def __init__(self, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="random_normal")

    def call(self, inputs):
        return inputs * self.w + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


@keras.saving.register_keras_serializable(package="kerasdl_tests")
class WrongShape(Scale):
    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (1,)


@keras.saving.register_keras_serializable(package="kerasdl_tests")
class ForgetsOffset(Scale):
    def get_config(self):
        return keras.layers.Layer.get_config(self)


@keras.saving.register_keras_serializable(package="kerasdl_tests")
class LosesOffset(Scale):
    """Stores the argument but rebuilds with a different value."""

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "offset": 0.0})

    def get_config(self):
        return {**super().get_config(), "offset": 0.0}


class Unregistered(Scale):
    pass


def test_good_layer_passes_and_returns_output(tmp_path):
    out = check_layer(
        Scale(offset=1.0), (3, 4), expected_output_shape=(3, 4), tmp_dir=tmp_path
    )
    assert out.shape == (3, 4)
    assert list(tmp_path.glob("*.keras"))


def test_several_positional_inputs():
    rng = np.random.default_rng(0)
    query = rng.standard_normal((2, 3, 4)).astype("float32")
    value = rng.standard_normal((2, 5, 4)).astype("float32")
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=2)
    out = check_layer(layer, (query, value), expected_output_shape=(2, 3, 4))
    assert out.shape == (2, 3, 4)


@pytest.mark.parametrize(
    "layer, kwargs, match",
    [
        (Scale(), {"expected_output_shape": (3, 5)}, r"output shape"),
        (WrongShape(), {}, r"compute_output_shape"),
        (ForgetsOffset(offset=1.0), {}, r"__init__ arguments \['offset'\]"),
        (LosesOffset(offset=1.0), {}, r"config round trip"),
        (Unregistered(), {}, r"loading the saved .keras file failed"),
    ],
    ids=["shape", "compute_output_shape", "config_args", "round_trip", "save_load"],
)
def test_bad_layers_fail_with_a_clear_message(layer, kwargs, match):
    with pytest.raises(AssertionError, match=match):
        check_layer(layer, (3, 4), **kwargs)


def test_a_list_is_one_input():
    a, b = np.ones((2, 3), "float32"), np.zeros((2, 4), "float32")
    out = check_layer(keras.layers.Concatenate(), [a, b], expected_output_shape=(2, 7))
    np.testing.assert_array_equal(out, np.concatenate([a, b], axis=1))
