"""The private Keras internals kerasdl relies on, checked against the installed Keras.

Each function of `kerasdl/_backends/keras_internals.py` wraps one private Keras use
that has no public equivalent. If a Keras upgrade moves or changes one, a test here
fails, naming it, before any user meets the change inside Grad-CAM or a GAN.
"""

import random

import keras
import numpy as np
import pytest

from kerasdl import backend as kb
from kerasdl._backends import keras_internals


def _skip_model():
    """Input -> Dense a -> Dense b -> Add(a, b) -> Dense out (a skip connection)."""
    inputs = keras.Input((3,), name="x")
    a = keras.layers.Dense(4, name="a")(inputs)
    b = keras.layers.Dense(4, name="b")(a)
    added = keras.layers.Add(name="add")([a, b])
    outputs = keras.layers.Dense(2, name="out")(added)
    return keras.Model(inputs, outputs), inputs, a


def test_set_keras_seed_restarts_keras_global_random_state():
    """Keras draws the global generator's seed from Python's `random` when it makes
    the generator; `set_keras_seed` drops the old generator, so the draws restart."""

    def draws(seed):
        random.seed(0)
        keras_internals.set_keras_seed(seed)
        return keras.ops.convert_to_numpy(keras.random.normal((5,)))

    first = draws(3)
    np.testing.assert_array_equal(draws(3), first)
    keras.random.normal((5,))  # the global generator moves on ...
    np.testing.assert_array_equal(draws(3), first)  # ... and is restarted


def test_sublayers_finds_every_nested_layer():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="deep")])
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1, name="top")(inner(inputs)))
    names = [layer.name for layer in kb.sublayers(model)]
    assert {"deep", "top", inner.name} <= set(names)
    assert model.name not in names
    assert kb.sublayers(model, include_self=True)[0] is model


def test_functional_graph_is_recognised_and_its_calls_listed():
    model, inputs, a = _skip_model()
    assert kb.is_functional(model)
    assert not kb.is_functional(keras.Sequential([keras.layers.Dense(1)]))
    assert not kb.is_functional(keras.layers.Dense(1))
    calls = {op.name: inputs_ for op, inputs_ in kb.graph_calls(model)}
    assert set(calls) == {"a", "b", "add", "out"}
    assert calls["a"][0] is inputs
    assert [t is a for t in calls["add"]] == [True, False]


def test_run_graph_reruns_the_model_with_a_layer_replaced():
    model, _, _ = _skip_model()
    x = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x))
    same = kb.run_graph(model, [x], lambda op: op)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(same), expected, rtol=1e-6)

    # Zeroing layer "b": the Add passes "a" through, so out = Dense_out(a).
    def zero_b(op):
        if op.name == "b":
            return lambda *args, **kwargs: keras.ops.zeros_like(op(*args, **kwargs))
        return op

    probed = keras.ops.convert_to_numpy(kb.run_graph(model, x, zero_b))
    a_out = model.get_layer("a")(x)
    direct = keras.ops.convert_to_numpy(model.get_layer("out")(a_out))
    np.testing.assert_allclose(probed, direct, rtol=1e-5, atol=1e-6)


def test_producing_layer_is_the_layer_that_made_the_tensor():
    model, _, a = _skip_model()
    assert kb.producing_layer(model.outputs[0]) is model.get_layer("out")
    assert kb.producing_layer(a) is model.get_layer("a")


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda: kb.sublayers(object()), "Layer._flatten_layers"),
        (lambda: kb.graph_calls(object()), "Functional._nodes_by_depth"),
        (lambda: kb.run_graph(object(), [], None), "Functional._run_through_graph"),
        (lambda: kb.producing_layer(object()), "KerasTensor._keras_history"),
    ],
)
def test_a_missing_internal_fails_with_a_message_naming_it(call, what):
    message = f"private {what}.*must be updated"
    with pytest.raises(kb.KerasInternalsError, match=message):
        call()
