"""The deep-model registry: names, input kinds, registration, flat-input builders."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_iris

from kerasdl import data
from kerasdl.baselines import compare, make_deep_estimator
from kerasdl.models import registry
from kerasdl.models.registry import (
    ModelSpec,
    get_model_spec,
    list_models,
    register_model,
)


@pytest.fixture
def clean_registry(monkeypatch):
    """A private copy of the registry (with the built-ins), restored afterwards."""
    list_models()  # make sure the built-ins are in before copying
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    return registry._REGISTRY


@pytest.fixture
def empty_registry(monkeypatch):
    """The registry as a fresh process sees it: built-ins not yet registered."""
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_BUILTINS_REGISTERED", False)
    return registry._REGISTRY


def _linear(input_shape, num_classes, **kwargs):
    inputs = keras.Input((int(np.prod(input_shape)),))
    outputs = keras.layers.Dense(num_classes, activation="softmax")(inputs)
    return keras.Model(inputs, outputs)


def _spec(name="linear", **kwargs):
    kwargs = {"inputs": ("tabular",), "description": "softmax regression", **kwargs}
    return ModelSpec(name=name, builder=_linear, **kwargs)


def test_list_models_by_input_kind():
    assert {"mlp", "cnn"} <= set(list_models())
    assert list_models() == sorted(list_models())
    assert "mlp" in list_models("tabular")
    assert "cnn" not in list_models("tabular")
    assert {"mlp", "cnn"} <= set(list_models("image"))


def test_list_models_unknown_kind_raises():
    with pytest.raises(ValueError, match="'images'"):
        list_models("images")


def test_get_model_spec():
    spec = get_model_spec("mlp")
    assert spec.name == "mlp" and set(spec.inputs) == {"image", "tabular"}
    assert spec.standardize and spec.epochs >= 1 and spec.learning_rate > 0
    cnn = get_model_spec("cnn")
    assert cnn.inputs == ("image",) and not cnn.standardize
    assert cnn.description and spec.description


def test_get_model_spec_unknown_lists_names():
    with pytest.raises(ValueError, match="'nope'.*cnn.*mlp"):
        get_model_spec("nope")


def test_register_duplicate_and_overwrite(clean_registry):
    original = get_model_spec("mlp")
    first = register_model(_spec())
    assert get_model_spec("linear") is first
    assert "linear" in list_models("tabular") and "linear" not in list_models("image")
    with pytest.raises(ValueError, match="'linear' is already registered"):
        register_model(_spec(description="another"))
    with pytest.raises(ValueError, match="'mlp' is already registered"):
        register_model(_spec(name="mlp"))
    assert get_model_spec("mlp") is original
    second = register_model(_spec(description="another"), overwrite=True)
    assert get_model_spec("linear") is second
    assert get_model_spec("linear").description == "another"


def test_registry_is_restored_after_the_test_above():
    assert "linear" not in list_models()


def test_register_into_a_fresh_registry_keeps_the_builtins(empty_registry):
    register_model(_spec())
    assert {"cnn", "linear", "mlp"} <= set(list_models())


def test_overwriting_mlp_first_keeps_cnn(empty_registry):
    custom = register_model(_spec(name="mlp"), overwrite=True)
    assert get_model_spec("mlp") is custom
    assert "cnn" in list_models()


@pytest.mark.parametrize("inputs", [(), ("video",), ("image", "audio"), "tabular"])
def test_model_spec_rejects_bad_inputs(inputs):
    with pytest.raises(ValueError, match="inputs must be a non-empty subset"):
        _spec(inputs=inputs)


def test_model_spec_is_frozen():
    spec = _spec()
    with pytest.raises(AttributeError):
        spec.epochs = 3


@pytest.mark.parametrize(
    "name, input_shape, flat",
    [("mlp", (8, 8, 1), 64), ("mlp", (13,), 13), ("cnn", (8, 8, 1), 64)],
)
def test_builders_take_flat_inputs(name, input_shape, flat):
    spec = get_model_spec(name)
    model = spec.builder(input_shape, 10, **spec.builder_kwargs)
    assert isinstance(model, keras.Model)
    assert model.input_shape == (None, flat)
    assert model.output_shape == (None, 10)
    if name == "cnn":  # reshapes the flat pixels back into images, then convolves
        assert any(isinstance(layer, keras.layers.Reshape) for layer in model.layers)
        assert any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers)


def test_a_registered_model_plugs_into_the_estimator(clean_registry):
    register_model(_spec(epochs=2, batch_size=50, standardize=False))
    x, y = load_iris(return_X_y=True)
    estimator = make_deep_estimator("linear", (4,))
    assert len(estimator.steps) == 1  # standardize=False: no scaler
    estimator.fit(x, y)
    assert len(estimator[-1].history_.history["loss"]) == 2  # the spec's epochs
    assert estimator[-1].model_.count_params() == 4 * 3 + 3
    assert estimator.predict(x[:5]).shape == (5,)


def test_compare_respects_a_registered_models_input_kinds(clean_registry):
    register_model(_spec(name="image_only", inputs=("image",)))
    with pytest.raises(ValueError, match="'image_only' accepts image inputs"):
        compare(data.load_iris(), classical=[], deep=["image_only"], folds=2)
