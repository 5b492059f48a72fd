"""The checks `train` makes before compiling: finite inputs, labels that fit the loss
and the model's outputs, and a model and batches that fit the distribution.

Each raises a `ValueError` naming the argument, so a user's data mistake never
surfaces as a backend stack trace from inside `fit`.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from kerasdl.training import distribute as _distribute

__all__ = [
    "batches_per_epoch",
    "check_distribution",
    "check_inputs",
    "num_samples",
]


def num_samples(x) -> int | None:
    """The number of samples of array-like input (arrays, lists/dicts of arrays)."""
    sizes = []
    for leaf in keras.tree.flatten(x):
        try:
            sizes.append(int(leaf.shape[0]))
        except (AttributeError, IndexError, TypeError):
            return None
    return sizes[0] if sizes else None


def batches_per_epoch(x, batch_size: int, validation_split: float) -> int | None:
    """Batches `fit` will run per epoch, or None when it cannot be known up front."""
    samples = num_samples(x)
    if samples is not None:
        # As `fit` splits: the first floor(n * (1 - split)) samples train.
        train_samples, _ = _distribute.validation_split_sizes(samples, validation_split)
        return max(1, math.ceil(train_samples / batch_size))
    try:
        length = len(x)  # sized datasets: the number of batches
    except Exception:  # unsized datasets and generators
        return None
    return int(length) if length else None


# -- input checks, once per `train` call, before anything is compiled or run -----------


def _named_leaves(value, name):
    """`(name, leaf)` for every leaf of array input: `x`, `x['key']`, `x[0]`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _named_leaves(item, f"{name}[{key!r}]")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _named_leaves(item, f"{name}[{i}]")
    else:
        yield name, value


def _as_array(leaf):
    """A NumPy array for NumPy and pandas leaves; None for anything else (backend
    tensors, datasets, generators are not materialised here)."""
    if isinstance(leaf, np.ndarray):
        return leaf
    if hasattr(leaf, "to_numpy") and hasattr(leaf, "iloc"):  # pandas
        try:
            return np.asarray(leaf.to_numpy())
        except (TypeError, ValueError):
            return None
    return None


def _check_finite(value, name) -> None:
    """Refuse NaN/inf in the floating-point NumPy (or pandas) leaves of `value`."""
    for leaf_name, leaf in _named_leaves(value, name):
        array = _as_array(leaf)
        if array is None or array.dtype.kind not in "fc":
            continue
        finite = np.isfinite(array)
        if finite.all():
            continue
        count = int(array.size - np.count_nonzero(finite))
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"`{leaf_name}` holds {count} NaN or infinite value(s), the first at "
            f"index {first} (value {array[first].item()!r}); received an array of "
            f"shape {array.shape}. One such value turns the loss into NaN at the "
            "first batch that holds it: impute or drop it before training."
        )


def _label_rule(loss):
    """`("sparse", ignore_class)`, `("binary", None)` or None, from `loss` as
    `compile` takes it (a name, a `keras.losses` function or loss object)."""
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except (ValueError, TypeError):
            return None
    fn, kwargs = loss, {}
    if isinstance(loss, keras.losses.Loss):  # the wrappers keep the function
        fn = getattr(loss, "fn", None)
        # The wrappers' configs hold the function's keyword arguments.
        kwargs = loss.get_config() if fn is not None else {}
    if fn is keras.losses.sparse_categorical_crossentropy:
        return "sparse", kwargs.get("ignore_class")
    if fn in (
        keras.losses.binary_crossentropy,
        keras.losses.binary_focal_crossentropy,
    ):
        return "binary", None
    return None


def _output_units(model, x) -> int | None:
    """The size of the last axis of the model's single output, if known up front."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs:
        if len(outputs) != 1:
            return None
        units = outputs[0].shape[-1]
    elif type(model).compute_output_shape is not keras.Model.compute_output_shape:
        # A subclassed model that states its output shape (GPTLanguageModel does).
        array = _as_array(x)
        if array is None or array.ndim == 0:
            return None
        try:
            units = model.compute_output_shape((None, *array.shape[1:]))[-1]
        except Exception:  # a shape it cannot state is left for fit to find
            return None
    else:
        return None
    return int(units) if isinstance(units, int) else None


def _check_labels(model, x, y, loss, name) -> None:
    """Integer labels must index the model's outputs (sparse categorical losses);
    binary targets must lie in [0, 1]. NumPy/pandas `y` only."""
    rule = _label_rule(loss)
    labels = _as_array(y)
    if rule is None or labels is None or labels.size == 0:
        return
    if labels.dtype.kind not in "iuf":
        return
    kind, ignore_class = rule
    flat = labels.reshape(-1)
    loss_name = getattr(loss, "name", None) or getattr(loss, "__name__", loss)
    if kind == "binary":
        low, high = flat.min(), flat.max()
        if low < 0 or high > 1:
            raise ValueError(
                f"`{name}` must hold targets in [0, 1] for {loss_name}; received "
                f"values from {low.item()!r} to {high.item()!r}."
            )
        return
    if ignore_class is not None:
        flat = flat[flat != ignore_class]
        if flat.size == 0:
            return
    if flat.dtype.kind == "f":
        fractional = np.flatnonzero(flat != np.floor(flat))
        if fractional.size:
            first = int(fractional[0])
            raise ValueError(
                f"`{name}` must hold integer class labels for {loss_name}; received "
                f"a non-integer label {flat[first].item()!r} (flat index {first}). "
                "Fractional labels would be truncated silently."
            )
    units = _output_units(model, x)
    if units is None:
        return
    outside = np.flatnonzero((flat < 0) | (flat >= units))
    if outside.size:
        first = int(outside[0])
        hint = (
            " With one output unit, use binary_crossentropy instead."
            if units == 1
            else ""
        )
        raise ValueError(
            f"`{name}` must hold class labels in [0, {units}) for {loss_name}: the "
            f"model has {units} output units; received {outside.size} label(s) "
            f"outside, values from {flat.min().item()!r} to {flat.max().item()!r} "
            f"(the first at flat index {first}: {flat[first].item()!r}). Such labels "
            "train on a meaningless loss (exactly 0.0 on JAX) instead of failing."
            + hint
        )


def check_inputs(model, x, y, loss, validation_data) -> None:
    _check_finite(x, "x")
    _check_finite(y, "y")
    _check_labels(model, x, y, loss, "y")
    if isinstance(validation_data, tuple | list) and validation_data:
        _check_finite(validation_data[0], "validation_data[0]")
        if len(validation_data) > 1:
            _check_finite(validation_data[1], "validation_data[1]")
            _check_labels(
                model,
                validation_data[0],
                validation_data[1],
                loss,
                "validation_data[1]",
            )


def check_distribution(model, x, config, validation_split, validation_data) -> None:
    """The model is distributed as configured and every batch splits evenly."""
    replicas = _distribute.model_replicas(model)
    if config.distribution is not None and replicas is None:
        raise ValueError(
            f"config.distribution is {config.distribution!r} but the model's weights "
            "are on one device: build the model after config.setup() or inside "
            "`with config.scope():` (weights are placed when they are created)."
        )
    if replicas is None or replicas <= 1:
        return
    train_samples = validation_samples = None
    samples = num_samples(x)
    if samples is not None:
        train_samples, validation_samples = _distribute.validation_split_sizes(
            samples, validation_split
        )
    if isinstance(validation_data, tuple | list) and validation_data:
        validation_samples = num_samples(validation_data[0])
    _distribute.check_batches(
        replicas, config.batch_size, train_samples, validation_samples
    )
