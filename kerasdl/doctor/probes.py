"""Measuring a model on the diagnostics' probe batch: helpers of `TrainingDiagnostics`.

The model of its activation layers' outputs, dead-unit fractions, summary statistics
of weights and activations, NumPy conversions and the argument checks.
"""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np
from keras import ops

from kerasdl._checks import is_number

_ACTIVATION_LAYERS = (
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.PReLU,
    keras.layers.ELU,
    keras.layers.Softmax,
)


def _check_positive(name: str, value, *, integer: bool = False) -> None:
    ok = (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if integer
        else is_number(value) and math.isfinite(value)
    )
    if not ok or value <= 0:
        kind = "an integer >= 1" if integer else "a finite number > 0"
        raise ValueError(f"{name} must be {kind}; received {value!r}.")


def _median(values) -> float:
    return float(np.median(np.asarray(values, dtype="float64")))


def _to_numpy(tensor) -> np.ndarray:
    # Sparse gradients (TensorFlow's IndexedSlices for embeddings) become dense first.
    if hasattr(tensor, "indices") and hasattr(tensor, "dense_shape"):
        tensor = ops.convert_to_tensor(tensor)
    return np.asarray(ops.convert_to_numpy(tensor))


def _variable_numpy(variable) -> np.ndarray:
    return np.array(ops.convert_to_numpy(variable.value))


def _is_relu(layer) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return not float(getattr(layer, "negative_slope", 0.0) or 0.0)
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) == "relu"


def _has_activation(layer) -> bool:
    if isinstance(layer, _ACTIVATION_LAYERS):
        return True
    activation = getattr(layer, "activation", None)
    return callable(activation) and getattr(activation, "__name__", "") != "linear"


def _layer_key(variable) -> str:
    path = getattr(variable, "path", None) or variable.name
    return path.rsplit("/", 1)[0] if "/" in path else path


def _probe_error(model, what: str, error: Exception) -> ValueError:
    return ValueError(
        f"TrainingDiagnostics could not {what} its probe batch (x, y) for "
        f"{type(model).__name__}: {type(error).__name__}: {error} Pass a batch that "
        "the model and its loss accept, e.g. x_train[:64], y_train[:64]."
    )


def _first_dim(data):
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape):
        return shape[0]
    return None


def _as_float(value):
    if value is None:
        return None
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError):
        return None


def _nan_to_inf(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _uses_default_compute_loss(model) -> bool:
    return type(model).compute_loss is keras.Model.compute_loss


def _activation_model(model):
    """`(model, layers, reachable)`: a model from `model.inputs` to the outputs of
    `layers` (its activation layers), or None when there are none (`reachable`) or
    they cannot be reached (not `reachable`: subclassed models)."""
    try:
        inputs = model.inputs
        layers = list(model.layers)
    except (AttributeError, ValueError):
        return None, [], False
    if not inputs:
        return None, [], False
    try:
        inputs = model.input  # The structure it was built with (a tensor, a dict...)
    except (AttributeError, ValueError):  # Sequential has `inputs` only.
        inputs = inputs[0] if len(inputs) == 1 else inputs
    reachable, outputs = [], []
    for layer in layers:
        if not _has_activation(layer):
            continue
        try:
            output = layer.output
        except (AttributeError, ValueError):  # e.g. a layer used twice
            continue
        if isinstance(output, keras.KerasTensor):
            reachable.append(layer)
            outputs.append(output)
    if not outputs:
        return None, [], True
    try:
        return keras.Model(inputs, outputs), reachable, True
    except (ValueError, TypeError):  # pragma: no cover - unusual graphs
        return None, [], False


def _dead_fraction(value: np.ndarray, layer) -> float:
    if value.ndim < 2:
        return 0.0
    channels_first = getattr(layer, "data_format", None) == "channels_first"
    axis = 1 if channels_first and value.ndim > 2 else value.ndim - 1
    alive = np.any(value != 0, axis=tuple(a for a in range(value.ndim) if a != axis))
    return float(1.0 - np.mean(alive))


def _stats(value: np.ndarray) -> dict:
    value = np.asarray(value, dtype="float64")
    finite = value[np.isfinite(value)]
    if not finite.size:
        return {"mean": math.nan, "std": math.nan, "zero_fraction": math.nan}
    return {
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "zero_fraction": float(np.mean(value == 0)),
    }
