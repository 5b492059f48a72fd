"""models/mlp/activations: the activation functions and their derivatives, plotted
as a PNG next to the JSON of the curves."""

import json
import math

import numpy as np
import pytest

from kerasdl.models.mlp import activations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _at(data, name, key, x):
    index = int(np.argmin(np.abs(np.asarray(data["x"]) - x)))
    assert abs(data["x"][index] - x) < 1e-9, "the default grid must hold 0 and +-1"
    return data["activations"][name][key][index]


@pytest.fixture(scope="module")
def activation_plot(tmp_path_factory):
    path = tmp_path_factory.mktemp("plots") / "sub" / "activations.png"
    png = activations.plot_activations(path)
    return png, json.loads(png.with_suffix(".json").read_text())


def test_plot_activations_writes_png_and_json(activation_plot):
    png, data = activation_plot
    assert png.exists() and png.read_bytes()[:8] == PNG_SIGNATURE
    assert png.with_suffix(".json").exists()
    assert set(data["activations"]) == set(activations.ACTIVATIONS)
    for values in data["activations"].values():
        assert len(values["value"]) == len(values["derivative"]) == len(data["x"])
    assert data["x"][0] == -4.0 and data["x"][-1] == 4.0


@pytest.mark.parametrize(
    "name, x, value, derivative",
    [
        ("sigmoid", 0.0, 0.5, 0.25),
        ("tanh", 0.0, 0.0, 1.0),
        ("relu", 1.0, 1.0, 1.0),
        ("relu", -1.0, 0.0, 0.0),
        ("softmax", 0.0, 0.5, 0.25),  # softmax([x, 0])[0] == sigmoid(x)
        ("leaky_relu", -1.0, -0.2, 0.2),  # Keras' default negative_slope
        ("elu", -1.0, math.exp(-1) - 1, math.exp(-1)),
        ("selu", 1.0, 1.0507009873554805, 1.0507009873554805),
        ("gelu", 0.0, 0.0, 0.5),
    ],
)
def test_known_values_and_derivatives(activation_plot, name, x, value, derivative):
    _, data = activation_plot
    assert _at(data, name, "value", x) == pytest.approx(value, abs=1e-6)
    assert _at(data, name, "derivative", x) == pytest.approx(derivative, abs=1e-4)


def test_derivatives_match_closed_forms_on_the_whole_grid(activation_plot):
    _, data = activation_plot
    x = np.asarray(data["x"])
    sigmoid = 1 / (1 + np.exp(-x))
    closed = {
        "sigmoid": sigmoid * (1 - sigmoid),
        "softmax": sigmoid * (1 - sigmoid),
        "tanh": 1 - np.tanh(x) ** 2,
        "elu": np.where(x > 0, 1.0, np.exp(x)),
    }
    away_from_kink = np.abs(x) > 0.02
    for name, expected in closed.items():
        got = np.asarray(data["activations"][name]["derivative"])
        np.testing.assert_allclose(
            got[away_from_kink], expected[away_from_kink], atol=1e-4, err_msg=name
        )


def test_subset_and_custom_range(tmp_path):
    png = activations.plot_activations(
        tmp_path / "two.png", activations=("relu", "tanh"), x_range=(-1, 2), num=31
    )
    data = json.loads(png.with_suffix(".json").read_text())
    assert list(data["activations"]) == ["relu", "tanh"]
    assert len(data["x"]) == 31 and data["x"][0] == -1.0 and data["x"][-1] == 2.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"activations": ("relu", "swish")}, r"'swish'"),
        ({"activations": ()}, r"at least one"),
        ({"x_range": (1, -1)}, r"x_range=\(1, -1\)"),
        ({"num": 1}, r"num=1"),
    ],
)
def test_bad_arguments_raise(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        activations.plot_activations(tmp_path / "bad.png", **kwargs)
