"""Checks every kerasdl layer and model must pass; used by the test suite.

`check_layer` and `check_model` raise `AssertionError` with a message that says
which check failed and by how much, so a test can simply call them.
"""

from __future__ import annotations

import copy
import inspect
import math
import os
import tempfile

import keras
import numpy as np

from kerasdl.testing_precision import (
    _assert_close,
    _flat_arrays,
    _to_numpy,
    check_precision,
)

__all__ = ["check_layer", "check_model", "check_precision"]


def _shapes_match(expected, actual):
    """True when `actual` (concrete) fits `expected` (None = any size)."""
    expected, actual = tuple(expected), tuple(actual)
    return len(expected) == len(actual) and all(
        e is None or e == a for e, a in zip(expected, actual)
    )


def _is_shape(value):
    return isinstance(value, (tuple, list)) and all(
        isinstance(d, int) and not isinstance(d, bool) for d in value
    )


def _make_inputs(inputs, seed):
    """A shape gives seeded standard-normal float32 data; arrays pass through."""
    if _is_shape(inputs):
        rng = np.random.default_rng(seed)
        return rng.standard_normal(tuple(inputs)).astype("float32")
    return inputs


def _call_args(inputs):
    """A tuple of arrays means several positional inputs; anything else, one."""
    if isinstance(inputs, tuple) and not _is_shape(inputs):
        return tuple(inputs)
    return (inputs,)


def _symbolic_like(args):
    """keras.Input placeholders shaped (and typed) like each array in `args`."""
    count = iter(range(1_000_000))

    def make(x):
        x = x if hasattr(x, "shape") else np.asarray(x)
        dtype = keras.backend.standardize_dtype(x.dtype)
        return keras.Input(
            shape=tuple(x.shape)[1:], dtype=dtype, name=f"input_{next(count)}"
        )

    return keras.tree.map_structure(make, args)


def _check_config_covers_init(obj, config, name):
    """get_config must return every named `__init__` argument (Keras' own classes
    are exempt: some of their arguments are stored only when set)."""
    cls = type(obj)
    if cls.__module__.split(".")[0] == "keras":
        return
    parameters = inspect.signature(cls.__init__).parameters.values()
    missing = [
        p.name
        for p in parameters
        if p.name != "self"
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in config
    ]
    if missing:
        raise AssertionError(
            f"{name}: get_config() does not return the __init__ arguments {missing}."
        )


def _config_round_trip(obj, name):
    """`type(obj).from_config(obj.get_config())`, checking the config survives."""
    config = obj.get_config()
    _check_config_covers_init(obj, config, name)
    try:
        # A copy: some from_config (keras.layers.RNN's) consume the dict they get.
        clone = type(obj).from_config(copy.deepcopy(config))
    except Exception as error:  # noqa: BLE001 - report any failure as a check
        raise AssertionError(
            f"{name}: from_config(get_config()) failed: {error!r}"
        ) from error
    if clone.get_config() != config:
        raise AssertionError(
            f"{name}: the config changed in a round trip:\n{config}\n"
            f"became\n{clone.get_config()}"
        )
    return clone


def check_layer(
    layer,
    inputs,
    *,
    expected_output_shape=None,
    call_kwargs=None,
    atol=1e-6,
    tmp_dir=None,
    seed=0,
):
    """Checks the layer contract and returns the layer's output on `inputs`.

    Checks that (1) the output has `expected_output_shape` (when given); (2)
    `compute_output_shape` agrees with the real output shape; (3)
    `get_config` returns every named `__init__` argument (classes outside Keras)
    and `type(layer).from_config(layer.get_config())` builds, gives the same config,
    and with the weights copied gives the same output; (4) a functional model
    wrapping the layer survives a `.keras` save/load with identical outputs.
    Outputs are computed in inference mode (`training=False` when the layer's
    `call` takes it).

    Args:
        layer: A Keras layer instance (built or not).
        inputs: Example input: an array, a shape tuple including the batch axis
            (seeded standard-normal float32 data of that shape is used), or a
            tuple of arrays passed as separate positional arguments.
        expected_output_shape: The expected output shape including the batch axis
            (a nested structure for layers with several outputs), or None.
        call_kwargs: Extra keyword arguments for every call (e.g. a mask).
        atol: Absolute tolerance for "same output".
        tmp_dir: Folder for the `.keras` file; a temporary one when None.
        seed: Seed for data generated from a shape.

    Returns:
        The layer's output on the inputs, as NumPy (nested like the output).

    Raises:
        AssertionError: Naming the check that failed.

    Example:

    ```python
    check_layer(kerasdl.layers.Perceptron(3), (4, 5), expected_output_shape=(4, 3))
    ```
    """
    call_kwargs = dict(call_kwargs or {})
    args = _call_args(_make_inputs(inputs, seed))
    takes_training = "training" in inspect.signature(layer.call).parameters
    if takes_training and "training" not in call_kwargs:
        call_kwargs["training"] = False
    name = type(layer).__name__

    output = _to_numpy(layer(*args, **call_kwargs))
    out_shapes = keras.tree.map_structure(lambda a: tuple(a.shape), output)
    out_shapes_flat = [tuple(a.shape) for a in keras.tree.flatten(output)]

    # 1. Output shape.
    if expected_output_shape is not None:
        expected_flat = (
            [tuple(expected_output_shape)]
            if _is_shape(expected_output_shape)
            else [tuple(s) for s in _flatten_shapes(expected_output_shape)]
        )
        if len(expected_flat) != len(out_shapes_flat) or not all(
            _shapes_match(e, a) for e, a in zip(expected_flat, out_shapes_flat)
        ):
            raise AssertionError(
                f"{name}: output shape {out_shapes}, expected {expected_output_shape}."
            )

    # 2. compute_output_shape.
    shape_args = tuple(
        keras.tree.map_structure(lambda a: tuple(np.shape(a)), arg) for arg in args
    )
    try:
        computed = layer.compute_output_shape(*shape_args)
    except NotImplementedError as error:
        raise AssertionError(
            f"{name}: compute_output_shape is not implemented."
        ) from error
    computed_flat = (
        [tuple(computed)] if _is_shape_or_none(computed) else _flatten_shapes(computed)
    )
    if len(computed_flat) != len(out_shapes_flat) or not all(
        _shapes_match(c, a) for c, a in zip(computed_flat, out_shapes_flat)
    ):
        raise AssertionError(
            f"{name}: compute_output_shape{shape_args} returned {computed}, but "
            f"the layer returned {out_shapes}."
        )

    # 3. Config round trip with copied weights.
    clone = _config_round_trip(layer, name)
    clone(*args, **call_kwargs)
    try:
        clone.set_weights(layer.get_weights())
    except ValueError as error:
        raise AssertionError(
            f"{name}: the clone from config has different weights: {error}"
        ) from error
    _assert_close(
        output, clone(*args, **call_kwargs), atol, f"{name} config round trip"
    )

    # 4. .keras save/load of a model wrapping the layer.
    symbolic = _symbolic_like(args)
    model = keras.Model(list(symbolic), layer(*symbolic, **call_kwargs))
    _check_save_load(model, list(args), output, atol, tmp_dir, name)
    return output


def _is_shape_or_none(value):
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value
    )


def _flatten_shapes(structure):
    if _is_shape_or_none(structure):
        return [tuple(structure)]
    if isinstance(structure, dict):
        structure = [structure[k] for k in sorted(structure)]
    shapes = []
    for item in structure:
        shapes.extend(_flatten_shapes(item))
    return shapes


def _check_save_load(model, x, expected, atol, tmp_dir, name):
    with tempfile.TemporaryDirectory() as default_dir:
        folder = tmp_dir if tmp_dir is not None else default_dir
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(str(folder), f"{model.name}_check.keras")
        model.save(path)
        try:
            loaded = keras.saving.load_model(path)
        except Exception as error:  # noqa: BLE001 - report any failure as a check
            raise AssertionError(
                f"{name}: loading the saved .keras file failed (is the class "
                f"registered with keras.saving.register_keras_serializable?): "
                f"{error!r}"
            ) from error
        if type(loaded) is not type(model):
            raise AssertionError(
                f"{name}: .keras load returned {type(loaded).__name__}, expected "
                f"{type(model).__name__} (is the class registered?)."
            )
        _assert_close(
            expected, loaded(x, training=False), atol, f"{name} .keras save/load"
        )


def _default_loss(y, output_shape):
    y = np.asarray(y)
    classes = output_shape[-1] if output_shape else None
    sparse = y.ndim == len(output_shape) - 1
    if y.dtype.kind in "iu" and classes not in (None, 1) and sparse:
        return "sparse_categorical_crossentropy"
    return "mse"


def check_model(
    model,
    x,
    y=None,
    *,
    loss=None,
    tmp_dir=None,
    train=None,
    compile_kwargs=None,
    batch_size=None,
    atol=1e-6,
    precision="mixed_bfloat16",
):
    """Checks a model end to end and returns its output on `x`.

    Checks that (1) the output fits `model.output_shape` (functional models) or
    `model.compute_output_shape`; (2) `get_config` returns every named `__init__`
    argument, and `type(model).from_config(model.get_config())` gives the same
    config and, with the weights copied, the same output; (3) a
    `.keras` save/load returns the same class with identical outputs; (4) one
    `fit` epoch on a copy of the model (the model itself is left untouched)
    gives a finite loss and finite weights; (5) the precision check: the model
    rebuilt from its config with `dtype=precision` has that policy on itself and
    on every layer (nested models' layers too), computes in the policy's compute
    dtype (each layer's output in a functional graph), keeps its variables in
    the policy's variable dtype, gives a finite output, and reloads from a
    `.keras` file with the same policy and output. Outputs are computed with
    `training=False`.

    Args:
        model: A built Keras model whose class has `get_config`/`from_config`.
        x: Example input batch (array, or a list/dict of arrays).
        y: Targets for the fit step, or None.
        loss: Loss for the fit step. When None: `sparse_categorical_crossentropy`
            for integer `y` and a multi-unit output, else `"mse"`; with `y=None`
            the copy is compiled without a loss (for models that override
            `compute_loss`).
        tmp_dir: Folder for the `.keras` file; a temporary one when None.
        train: Whether to run the fit step; default: when `y` is given.
        compile_kwargs: If given, `compile(**compile_kwargs)` is used for the
            fit step instead of Adam + `loss` (e.g. for GAN-style models).
        batch_size: Batch size of the fit step; default: the whole of `x` (up to
            32 samples).
        atol: Absolute tolerance for "same output".
        precision: Dtype policy of the precision check (5), e.g.
            `"mixed_bfloat16"`; None skips it (for a model whose class takes no
            `dtype`, say why where you skip it).

    Returns:
        The model's output on `x`, as NumPy.

    Raises:
        AssertionError: Naming the check that failed.

    Example:

    ```python
    model = kerasdl.models.MLP((4,), num_classes=3, depth=1, width=8)
    check_model(model, x, y)  # x: (n, 4) float32, y: (n,) int
    ```
    """
    name = type(model).__name__
    output = _to_numpy(model(x, training=False))
    out_shapes = _flatten_shapes(keras.tree.map_structure(lambda a: a.shape, output))

    # 1. Output shape.
    try:
        declared = model.output_shape
    except (AttributeError, ValueError):
        declared = model.compute_output_shape(
            keras.tree.map_structure(lambda a: tuple(np.shape(a)), x)
        )
    declared_flat = _flatten_shapes(declared)
    if len(declared_flat) != len(out_shapes) or not all(
        _shapes_match(d, a) for d, a in zip(declared_flat, out_shapes)
    ):
        raise AssertionError(
            f"{name}: output shapes {out_shapes} do not fit the declared output "
            f"shape {declared}."
        )
    for array in _flat_arrays(output):
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise AssertionError(f"{name}: the output holds NaN or inf.")

    # 2. Config round trip.
    clone = _config_round_trip(model, name)
    if not clone.built:
        clone(x, training=False)
    try:
        clone.set_weights(model.get_weights())
    except ValueError as error:
        raise AssertionError(
            f"{name}: the clone from config has different weights: {error}"
        ) from error
    _assert_close(output, clone(x, training=False), atol, f"{name} config round trip")

    # 3. .keras save/load.
    _check_save_load(model, x, output, atol, tmp_dir, name)

    # 4. One fit step on the clone.
    if train is None:
        train = y is not None
    if train:
        if compile_kwargs is not None:
            clone.compile(**compile_kwargs)
        else:
            if loss is None and y is not None:
                loss = _default_loss(y, out_shapes[0])
            clone.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
        n = len(keras.tree.flatten(x)[0])
        history = clone.fit(
            x, y, epochs=1, batch_size=batch_size or min(n, 32), verbose=0
        )
        for key, values in history.history.items():
            if not all(math.isfinite(float(v)) for v in values):
                raise AssertionError(
                    f"{name}: one fit epoch gave a non-finite {key}: {values}."
                )
        for weight in clone.weights:
            value = np.asarray(keras.ops.convert_to_numpy(weight))
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                raise AssertionError(
                    f"{name}: weight {weight.path} holds NaN or inf after one fit "
                    "epoch."
                )

    # 5. Precision.
    if precision is not None:
        check_precision(model, x, precision, tmp_dir=tmp_dir)
    return output
