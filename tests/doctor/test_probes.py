"""The probe helpers of `TrainingDiagnostics` (`kerasdl.doctor.probes`)."""

import math

import keras
import numpy as np
import pytest

from kerasdl.doctor import probes


def test_dead_fraction_counts_units_that_are_zero_for_every_sample():
    value = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 3.0]])
    assert probes._dead_fraction(value, keras.layers.ReLU()) == 0.5
    # Channels-last feature maps: a channel is dead when zero everywhere.
    maps = np.zeros((2, 3, 3, 4))
    maps[1, 2, 0, 1] = 1.0
    assert probes._dead_fraction(maps, keras.layers.ReLU()) == 0.75
    assert probes._dead_fraction(np.zeros(5), keras.layers.ReLU()) == 0.0


def test_stats_ignore_non_finite_values():
    stats = probes._stats(np.array([1.0, 3.0, 0.0, np.nan]))
    assert stats["mean"] == pytest.approx(4 / 3)
    assert stats["zero_fraction"] == 0.25
    assert math.isnan(probes._stats(np.array([np.inf]))["mean"])


def test_activation_model_reaches_the_activation_layers_of_a_graph():
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(1, name="linear_out")(hidden)
    model = keras.Model(inputs, outputs)
    probe_model, layers, reachable = probes._activation_model(model)
    assert reachable and [layer.name for layer in layers] == ["hidden"]
    assert probe_model(np.ones((2, 3), "float32")).shape == (2, 4)
    assert probes._is_relu(model.get_layer("hidden"))
    assert not probes._has_activation(model.get_layer("linear_out"))


def test_activation_model_is_unavailable_for_a_subclassed_model():
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2, activation="relu")

        def call(self, inputs):
            return self.dense(inputs)

    model = Subclassed()
    model(np.ones((1, 3), "float32"))
    assert probes._activation_model(model) == (None, [], False)


@pytest.mark.parametrize(
    ("value", "integer", "match"),
    [
        (0, True, "an integer >= 1"),
        (1.5, True, "an integer >= 1"),
        (-1.0, False, "a finite number > 0"),
        (math.inf, False, "a finite number > 0"),
    ],
)
def test_check_positive_names_the_argument(value, integer, match):
    with pytest.raises(ValueError, match=f"every_n_batches must be {match}"):
        probes._check_positive("every_n_batches", value, integer=integer)
