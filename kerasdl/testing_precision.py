"""The precision check of `kerasdl.testing.check_model`: a model rebuilt with
`dtype="mixed_bfloat16"` computes in bfloat16, keeps float32 variables, and saves and
reloads with the same policy.
"""

from __future__ import annotations

import copy
import os
import tempfile

import keras
import numpy as np


def _to_numpy(structure):
    return keras.tree.map_structure(
        lambda t: np.asarray(keras.ops.convert_to_numpy(t)), structure
    )


def _flat_arrays(structure):
    return [np.asarray(a) for a in keras.tree.flatten(_to_numpy(structure))]


def _assert_close(expected, actual, atol, what):
    expected, actual = _flat_arrays(expected), _flat_arrays(actual)
    if len(expected) != len(actual):
        raise AssertionError(
            f"{what}: expected {len(expected)} output tensors, got {len(actual)}."
        )
    for i, (a, b) in enumerate(zip(expected, actual)):
        if a.shape != b.shape:
            raise AssertionError(
                f"{what}: output {i} has shape {b.shape}, expected {a.shape}."
            )
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            diff = np.abs(a.astype("float64") - b.astype("float64"))
            worst = float(np.nanmax(diff)) if diff.size else 0.0
            if not np.allclose(a, b, atol=atol, rtol=0.0, equal_nan=True):
                raise AssertionError(
                    f"{what}: output {i} differs by up to {worst:.3g} (atol={atol})."
                )
        elif not np.array_equal(a, b):
            raise AssertionError(f"{what}: output {i} differs.")


def _all_layers(model):
    """The model's layers, with the layers of nested models, depth first."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(_all_layers(layer))
    return found


def _is_plain_keras_model(layer):
    return isinstance(layer, keras.Model) and type(layer).__module__.startswith(
        "keras."
    )


def _float32_numpy(structure):
    """Float outputs as float32 NumPy (NumPy has no bfloat16 arithmetic)."""

    def convert(t):
        dtype = keras.backend.standardize_dtype(t.dtype)
        if "float" in dtype:
            t = keras.ops.cast(t, "float32")
        return np.asarray(keras.ops.convert_to_numpy(t))

    return keras.tree.map_structure(convert, structure)


def _check_policy(model, policy, name, where):
    if model.dtype_policy.name != policy.name:
        raise AssertionError(
            f"{name}{where}: the model's dtype policy is "
            f"{model.dtype_policy.name!r}, expected {policy.name!r}."
        )
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.InputLayer) or _is_plain_keras_model(layer):
            continue  # a plain keras.Model holds no policy config; its layers do
        if layer.dtype_policy.name != policy.name:
            raise AssertionError(
                f"{name}{where}: layer {layer.name!r} has dtype policy "
                f"{layer.dtype_policy.name!r}, expected {policy.name!r} (does the "
                "model's dtype reach every layer?)."
            )
    for weight in model.weights:
        dtype = keras.backend.standardize_dtype(weight.dtype)
        if "float" in dtype and dtype != policy.variable_dtype:
            raise AssertionError(
                f"{name}{where}: variable {weight.path} is {dtype}, expected "
                f"{policy.variable_dtype}."
            )


def _check_compute_dtype(model, policy, name):
    """In a functional graph, every layer's float output is in the compute
    dtype; a model may cast its final outputs (e.g. logits) back to float32."""
    final = {id(t) for t in keras.tree.flatten(getattr(model, "outputs", None) or [])}
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            outputs = keras.tree.flatten(layer.output)
        except (AttributeError, ValueError, RuntimeError):
            continue  # used several times, or not in a functional graph
        for tensor in outputs:
            dtype = keras.backend.standardize_dtype(tensor.dtype)
            if "float" in dtype and dtype != policy.compute_dtype:
                if id(tensor) in final and dtype == "float32":
                    continue
                raise AssertionError(
                    f"{name}: layer {layer.name!r} outputs {dtype}, expected "
                    f"{policy.compute_dtype} under the {policy.name!r} policy."
                )


def _with_policy(config, serialized):
    """`config` with every serialized dtype policy in it (the model's, its
    layers', those of the networks it holds) replaced by `serialized`."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy":
            return copy.deepcopy(serialized)
        return {key: _with_policy(value, serialized) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        return type(config)(_with_policy(value, serialized) for value in config)
    return config


def check_precision(model, x, precision="mixed_bfloat16", *, tmp_dir=None):
    """Check (5) of `check_model`: a rebuild of `model` with `dtype=precision`.

    Args:
        model: A kerasdl model whose config takes `dtype`.
        x: Example input batch.
        precision: The dtype policy to build with.
        tmp_dir: Folder for the `.keras` file; a temporary one when None.

    Returns:
        The rebuilt model's output on `x`, as float32 NumPy.

    Raises:
        AssertionError: Naming the check that failed.
    """
    name = f"{type(model).__name__} [{precision}]"
    policy = keras.dtype_policies.get(precision)
    config = copy.deepcopy(model.get_config())
    if "dtype" not in config:
        raise AssertionError(f"{name}: get_config() has no 'dtype'.")
    config = _with_policy(config, keras.dtype_policies.serialize(policy))
    try:
        mixed = type(model).from_config(config)
    except Exception as error:  # noqa: BLE001 - report any failure as a check
        raise AssertionError(
            f"{name}: building from the config with dtype={precision!r} failed: "
            f"{error!r}"
        ) from error
    output = mixed(x, training=False)
    _check_policy(mixed, policy, name, "")
    _check_compute_dtype(mixed, policy, name)
    output = _float32_numpy(output)
    for array in _flat_arrays(output):
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise AssertionError(f"{name}: the output holds NaN or inf.")
    with tempfile.TemporaryDirectory() as default_dir:
        folder = tmp_dir if tmp_dir is not None else default_dir
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(str(folder), f"{mixed.name}_precision.keras")
        mixed.save(path)
        loaded = keras.saving.load_model(path)
    if type(loaded) is not type(mixed):
        raise AssertionError(
            f"{name}: .keras load returned {type(loaded).__name__}, expected "
            f"{type(mixed).__name__}."
        )
    _check_policy(loaded, policy, name, " after .keras load")
    _assert_close(
        output,
        _float32_numpy(loaded(x, training=False)),
        1e-6,
        f"{name} .keras save/load",
    )
    return output
