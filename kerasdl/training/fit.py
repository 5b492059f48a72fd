"""`train`: compile a model with a `TrainingConfig` and fit it with its callbacks.

The inputs are checked first (`kerasdl.training.fit_checks`); an interrupted run in
`out_dir/backup/` is resumed.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import warnings

import keras

from kerasdl.training import distribute as _distribute
from kerasdl.training.config import TrainingConfig
from kerasdl.training.fit_checks import (
    batches_per_epoch,
    check_distribution,
    check_inputs,
    num_samples,
)

__all__ = ["train"]


def train(
    model: keras.Model,
    x,
    y=None,
    *,
    config: TrainingConfig,
    loss,
    metrics=None,
    validation_data=None,
    validation_split: float = 0.0,
    out_dir: str | os.PathLike | None = None,
    callbacks=(),
    shuffle: bool = True,
) -> keras.callbacks.History:
    """Compile `model` with the config's optimizer and fit it with its callbacks.

    Call `config.setup()` before building `model` (see the module docstring). The
    model is (re)compiled with `config.make_optimizer(...)` (its schedule spans
    `config.epochs`), `loss` and `metrics`, then `model.fit` runs `config.epochs`
    epochs of `config.batch_size` with `config.make_callbacks(out_dir)` followed by
    `callbacks`. If `out_dir/backup/` holds the state of an interrupted run, training
    resumes from it. The global dtype policy is left as it is.

    Input checks, before anything is compiled or run (cheap: one pass over each
    array per call): NaN/inf in NumPy or pandas `x`, `y` and `validation_data`,
    and labels against the loss and the model's output units. A
    `tf.data.Dataset`, a `keras.utils.PyDataset` or a generator is not read
    ahead of `fit`, so its batches are not checked (check the arrays before
    wrapping them).

    If `config.monitor` is a validation quantity (`"val_..."`) but there is no
    validation data, early stopping and checkpointing watch the training quantity
    instead (`"loss"` for `"val_loss"`), with a warning.

    Args:
        model: A built `keras.Model` (functional models are built on creation).
        x: Inputs, as for `fit` (arrays, a dict of arrays, a `tf.data.Dataset`,
            a `keras.utils.PyDataset`, ...).
        y: Targets for array inputs.
        config: The `TrainingConfig`.
        loss: As for `compile`.
        metrics: As for `compile`.
        validation_data: As for `fit`.
        validation_split: As for `fit` (array inputs only), in [0, 1).
        out_dir: Folder for the checkpoint, log, TensorBoard files and backup;
            None writes nothing.
        callbacks: Extra callbacks, run after the configured ones.
        shuffle: Shuffle array inputs each epoch (as for `fit`).

    Returns:
        The `keras.callbacks.History` of the fit.

    Raises:
        TypeError: If `model` is not a Keras model or `config` not a
            `TrainingConfig`.
        ValueError: If the model was built under another dtype policy than
            `config.precision`, or `validation_split` is outside [0, 1); if a
            NumPy (or pandas) `x`, `y` or `validation_data` array holds NaN or
            inf; if NumPy labels do not fit the loss: with a sparse categorical
            loss, labels that are not integers or fall outside `[0, units)` of
            the model's output (an `ignore_class` is allowed), with a binary
            loss, targets outside [0, 1]; with a
            distributed model (or `config.distribution`): if the model is not
            distributed as configured, or a batch (the last, partial ones
            included) does not split evenly over the data-parallel replicas.

    Example:
        >>> config = TrainingConfig(epochs=3, seed=0)
        >>> config.setup()
        >>> model = build_model()
        >>> history = train(model, x, y, config=config, loss="mse", out_dir="runs/a")
    """
    if not isinstance(config, TrainingConfig):
        raise TypeError(
            f"config must be a TrainingConfig; received {type(config).__name__}."
        )
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"model must be a keras.Model; received {type(model).__name__}."
        )
    policy = model.dtype_policy.name
    if policy != config.precision:
        raise ValueError(
            f"The model was built with dtype policy {policy!r} but "
            f"config.precision is {config.precision!r}. Call config.setup() before "
            "building the model: layers take the global dtype policy when they are "
            "created."
        )
    if (
        not isinstance(validation_split, numbers.Real)
        or not 0.0 <= validation_split < 1.0
    ):
        raise ValueError(
            f"validation_split must be in [0, 1); received {validation_split!r}."
        )
    check_inputs(model, x, y, loss, validation_data)
    array_input = num_samples(x) is not None
    check_distribution(model, x, config, validation_split, validation_data)
    steps = batches_per_epoch(x, config.batch_size, validation_split)
    # On TensorFlow the optimizer's variables must live under the model's strategy.
    with _distribute.model_scope(model):
        optimizer = config.make_optimizer(steps_per_epoch=steps)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)

    callback_config = config
    has_validation = validation_data is not None or validation_split > 0
    watches = config.early_stopping_patience is not None or (
        config.checkpoint and out_dir is not None
    )
    if config.monitor.startswith("val_") and not has_validation and watches:
        fallback = config.monitor[len("val_") :]
        warnings.warn(
            f"config.monitor is {config.monitor!r} but there is no validation data; "
            f"early stopping and checkpointing watch {fallback!r} instead.",
            stacklevel=2,
        )
        callback_config = dataclasses.replace(config, monitor=fallback)
    all_callbacks = callback_config.make_callbacks(out_dir) + list(callbacks)

    return model.fit(
        x,
        y,
        batch_size=config.batch_size if array_input else None,
        epochs=config.epochs,
        verbose=config.verbose,
        callbacks=all_callbacks,
        validation_data=validation_data,
        validation_split=validation_split,
        shuffle=shuffle,
    )
