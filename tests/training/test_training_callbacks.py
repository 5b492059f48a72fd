"""`make_callbacks`: the right Keras callbacks, and the files they write."""

import csv

import keras
import numpy as np
import pytest

from kerasdl.training import (
    CHECKPOINT_FILE,
    CSV_LOG_FILE,
    TrainingConfig,
    make_callbacks,
    train,
)


def kinds(callbacks):
    return [type(c).__name__ for c in callbacks]


def test_without_out_dir_only_in_memory_callbacks():
    assert kinds(make_callbacks()) == ["TerminateOnNaN"]
    assert kinds(make_callbacks(early_stopping_patience=2, terminate_on_nan=False)) == [
        "EarlyStopping"
    ]


def test_with_out_dir_everything_goes_under_it(tmp_path):
    callbacks = make_callbacks(
        tmp_path / "run",
        early_stopping_patience=3,
        monitor="val_accuracy",
        tensorboard=True,
    )
    assert kinds(callbacks) == [
        "TerminateOnNaN",
        "BackupAndRestore",
        "EarlyStopping",
        "ModelCheckpoint",
        "CSVLogger",
        "TensorBoard",
    ]
    _, backup, stop, checkpoint, log, board = callbacks
    root = str(tmp_path / "run")
    assert backup.backup_dir == f"{root}/backup"
    assert stop.patience == 3 and stop.monitor == "val_accuracy"
    assert stop.restore_best_weights
    assert checkpoint.filepath == f"{root}/best.keras" and checkpoint.save_best_only
    assert checkpoint.monitor == "val_accuracy"
    assert log.filename == f"{root}/log.csv" and not log.append
    assert board.log_dir == f"{root}/tensorboard"
    flags = dict(checkpoint=False, csv_log=False, backup=False, terminate_on_nan=False)
    assert make_callbacks(tmp_path, **flags) == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"early_stopping_patience": -1}, "early_stopping_patience"),
        ({"early_stopping_patience": 1.5}, "early_stopping_patience"),
        ({"monitor": ""}, "monitor"),
        ({"backup": 1}, "backup"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_callbacks(**kwargs)


def test_fit_writes_log_and_best_checkpoint(tmp_path, regression_data, make_model):
    x, y = regression_data
    x_val, y_val = x[48:], y[48:]
    config = TrainingConfig(learning_rate=0.05, epochs=3, batch_size=16, verbose=0)
    model = make_model()
    history = train(
        model,
        x[:48],
        y[:48],
        config=config,
        loss="mse",
        validation_data=(x_val, y_val),
        out_dir=tmp_path,
    )

    with open(tmp_path / CSV_LOG_FILE) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    np.testing.assert_allclose(
        [float(r["val_loss"]) for r in rows], history.history["val_loss"], rtol=1e-5
    )

    best = keras.saving.load_model(tmp_path / CHECKPOINT_FILE)
    # The checkpoint is the model of the best epoch: its validation loss is the min.
    best_loss = best.evaluate(x_val, y_val, verbose=0, batch_size=16)
    assert best_loss == pytest.approx(min(history.history["val_loss"]), rel=1e-4)


def test_monitor_falls_back_to_training_loss_without_validation(
    tmp_path, regression_data, make_model
):
    x, y = regression_data
    config = TrainingConfig(epochs=1, verbose=0, early_stopping_patience=1)
    with pytest.warns(UserWarning, match="no validation data"):
        train(make_model(), x, y, config=config, loss="mse", out_dir=tmp_path)
    assert (tmp_path / CHECKPOINT_FILE).is_file()  # saved on "loss"


@pytest.mark.parametrize("terminate_on_nan, epochs_run", [(True, 1), (False, 4)])
def test_terminate_on_nan_stops_the_run(
    regression_data, make_model, terminate_on_nan, epochs_run
):
    x, y = regression_data
    y = y.copy()
    # The second batch of 16 has a target whose squared error overflows float32:
    # the loss becomes inf, then NaN. (A NaN target is refused by `train` itself.)
    y[20] = 1e30
    config = TrainingConfig(
        epochs=4, batch_size=16, verbose=0, terminate_on_nan=terminate_on_nan
    )
    history = train(make_model(), x, y, config=config, loss="mse", shuffle=False)
    assert len(history.epoch) == epochs_run
    assert not np.isfinite(history.history["loss"][0])
