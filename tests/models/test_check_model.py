"""kerasdl.testing.check_model passes good models and says what is wrong with bad."""

import keras
import numpy as np
import pytest

from kerasdl.models import MLP
from kerasdl.models.base import FunctionalModel
from kerasdl.testing import check_model, check_precision

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 3)).astype("float32")
Y = RNG.integers(0, 2, 8)


@keras.saving.register_keras_serializable(package="kerasdl_tests")
class ForgetsWidth(MLP):
    def get_config(self):
        config = super().get_config()
        config.pop("width")
        return config


class UnregisteredMLP(MLP):
    pass


@keras.saving.register_keras_serializable(package="kerasdl_tests")
class Float32Head(FunctionalModel):
    """Builds its head with dtype="float32", whatever the model's policy."""

    def __init__(self, **kwargs):
        inputs = keras.Input((3,))
        hidden = keras.layers.Dense(4, name="hidden")(inputs)
        outputs = keras.layers.Dense(2, dtype="float32", name="head")(hidden)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)


def test_good_model_passes_and_is_left_untouched(tmp_path):
    model = MLP((3,), 2, depth=1, width=4)
    before = [w.copy() for w in model.get_weights()]
    out = check_model(model, X, Y, tmp_dir=tmp_path)
    assert out.shape == (8, 2)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)  # the fit step ran on a copy


def test_missing_config_argument_fails():
    with pytest.raises(AssertionError, match=r"__init__ arguments \['width'\]"):
        check_model(ForgetsWidth((3,), 2, depth=1, width=4), X)


def test_unregistered_class_fails_save_load():
    with pytest.raises(AssertionError, match=r"loading the saved .keras file"):
        check_model(UnregisteredMLP((3,), 2, depth=1, width=4), X)


def test_diverging_fit_step_fails():
    model = MLP((3,), 1, depth=1, width=4, output_activation=None)
    compile_kwargs = {"optimizer": keras.optimizers.SGD(1e30), "loss": "mse"}
    with pytest.raises(AssertionError, match=r"non-finite|NaN or inf"):
        check_model(
            model,
            1e10 * X,
            1e10 * X[:, :1],
            compile_kwargs=compile_kwargs,
            batch_size=2,
        )


def test_precision_check_passes_a_model_built_with_the_policy(tmp_path):
    model = MLP((3,), 2, depth=1, width=4)
    out = check_precision(model, X, "mixed_bfloat16", tmp_dir=tmp_path)
    assert out.shape == (8, 2) and out.dtype == np.float32
    assert model.dtype_policy.name == "float32"  # the model itself is untouched


def test_precision_check_finds_a_layer_that_ignores_the_model_dtype():
    with pytest.raises(AssertionError, match=r"layer 'head' has dtype policy"):
        check_model(Float32Head(), X)
    check_model(Float32Head(), X, precision=None)  # the other checks pass
