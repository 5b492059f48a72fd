"""The usual set of `keras.callbacks`, configured together and written under one folder.

Layout of `out_dir` after a run:

```
out_dir/
  best.keras      the best model so far by `monitor` (ModelCheckpoint, whole model)
  log.csv         one row of logs per epoch (CSVLogger)
  tensorboard/    TensorBoard event files (only with tensorboard=True)
  backup/         BackupAndRestore state; exists only while a run is unfinished
```
"""

from __future__ import annotations

import numbers
import os

import keras

from kerasdl._checks import check_bool

__all__ = [
    "BACKUP_DIR",
    "CHECKPOINT_FILE",
    "CSV_LOG_FILE",
    "TENSORBOARD_DIR",
    "make_callbacks",
]

#: File and folder names under `out_dir`.
CHECKPOINT_FILE = "best.keras"
CSV_LOG_FILE = "log.csv"
TENSORBOARD_DIR = "tensorboard"
BACKUP_DIR = "backup"


def make_callbacks(
    out_dir: str | os.PathLike | None = None,
    *,
    early_stopping_patience: int | None = None,
    monitor: str = "val_loss",
    restore_best_weights: bool = True,
    checkpoint: bool = True,
    csv_log: bool = True,
    tensorboard: bool = False,
    terminate_on_nan: bool = True,
    backup: bool = True,
) -> list[keras.callbacks.Callback]:
    """Build the standard training callbacks.

    In order: `TerminateOnNaN`, `BackupAndRestore` (first of the stateful ones, so the
    restored weights are in place before the others start), `EarlyStopping`,
    `ModelCheckpoint`, `CSVLogger`, `TensorBoard`. Those that write files are
    skipped when `out_dir` is None.

    Resuming: if `out_dir/backup/` exists (a previous run with the same `out_dir` was
    interrupted), `BackupAndRestore` restores the weights, the optimizer state and the
    epoch counter at the start of `fit`, and the CSV log is appended to rather than
    overwritten. `EarlyStopping`'s patience counter and `ModelCheckpoint`'s best
    value start afresh in the resumed run. The backup is deleted when `fit`
    finishes (also after an early stop or a NaN stop).

    Args:
        out_dir: Folder for the files (created if missing), or None for none.
        early_stopping_patience: Epochs without improvement of `monitor` before
            stopping; None disables early stopping.
        monitor: The logged quantity `EarlyStopping` and `ModelCheckpoint` watch
            (`"val_loss"`, `"loss"`, `"val_accuracy"`, ...). Its direction is
            inferred by Keras (`mode="auto"`).
        restore_best_weights: On an early stop, roll back to the best epoch's weights.
        checkpoint: Save the best model as `out_dir/best.keras`.
        csv_log: Log each epoch to `out_dir/log.csv`.
        tensorboard: Write TensorBoard logs to `out_dir/tensorboard/`.
        terminate_on_nan: Stop training at the first NaN or infinite loss.
        backup: Back up the training state every epoch to `out_dir/backup/`, so that a
            rerun with the same `out_dir` resumes where an interrupted one stopped.
            The model must be built before `fit`.

    Returns:
        A list of `keras.callbacks.Callback` to pass to `fit`.

    Raises:
        ValueError: For a negative or non-integer patience, an empty monitor or a
            non-boolean flag.

    Example:
        >>> callbacks = make_callbacks("runs/mlp", early_stopping_patience=5)
        >>> model.fit(x, y, validation_split=0.2, callbacks=callbacks)
    """
    patience = early_stopping_patience
    if patience is not None and (
        not isinstance(patience, numbers.Integral)
        or isinstance(patience, bool)
        or patience < 0
    ):
        raise ValueError(
            "early_stopping_patience must be None or an integer >= 0; "
            f"received {patience!r}."
        )
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(f"monitor must be a non-empty string; received {monitor!r}.")
    for flag, value in {
        "restore_best_weights": restore_best_weights,
        "checkpoint": checkpoint,
        "csv_log": csv_log,
        "tensorboard": tensorboard,
        "terminate_on_nan": terminate_on_nan,
        "backup": backup,
    }.items():
        check_bool(flag, value)

    callbacks: list[keras.callbacks.Callback] = []
    if terminate_on_nan:
        callbacks.append(keras.callbacks.TerminateOnNaN())
    resuming = False
    if out_dir is not None:
        out_dir = os.fspath(out_dir)
        os.makedirs(out_dir, exist_ok=True)
        if backup:
            backup_dir = os.path.join(out_dir, BACKUP_DIR)
            resuming = os.path.isdir(backup_dir)
            callbacks.append(keras.callbacks.BackupAndRestore(backup_dir))
    if patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                patience=int(patience),
                restore_best_weights=restore_best_weights,
            )
        )
    if out_dir is not None:
        if checkpoint:
            callbacks.append(
                keras.callbacks.ModelCheckpoint(
                    os.path.join(out_dir, CHECKPOINT_FILE),
                    monitor=monitor,
                    save_best_only=True,
                )
            )
        if csv_log:
            callbacks.append(
                keras.callbacks.CSVLogger(
                    os.path.join(out_dir, CSV_LOG_FILE), append=resuming
                )
            )
        if tensorboard:
            callbacks.append(
                keras.callbacks.TensorBoard(os.path.join(out_dir, TENSORBOARD_DIR))
            )
    return callbacks
