"""`train` and `TrainingConfig` refuse bad input before any step runs, naming the
argument and the value received.

Two of these were silent before: labels outside the model's classes (12 for a
10-class softmax) trained to a loss of exactly 0.0 on JAX (and died in a graph
stack trace on TensorFlow), and one NaN in `x` trained to a NaN loss with only
Keras's "Invalid loss" line to show for it.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerasdl.training import TrainingConfig, train


class NoStep(keras.callbacks.Callback):
    """Fails the test if `fit` ever starts a batch: the check must come first."""

    def on_train_batch_begin(self, batch, logs=None):
        raise AssertionError("training started before the input was checked")


def classifier(classes=10, features=4):
    inputs = keras.Input((features,))
    outputs = keras.layers.Dense(classes, activation="softmax")(inputs)
    return keras.Model(inputs, outputs)


def run(model, x, y, loss="sparse_categorical_crossentropy", **kwargs):
    config = TrainingConfig(
        epochs=1, batch_size=8, verbose=0, checkpoint=False, backup=False
    )
    return train(model, x, y, config=config, loss=loss, callbacks=[NoStep()], **kwargs)


def data(n=16, features=4, classes=10):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, features)).astype("float32")
    y = rng.integers(0, classes, size=n)
    return x, y


# -- labels against the model's classes (silent before) ---------------------------


@pytest.mark.parametrize(
    "bad,message",
    [
        (12, r"y.*\[0, 10\).*10 output units.*received.*12"),
        (-1, r"y.*\[0, 10\).*received.*-1"),
        (10, r"y.*\[0, 10\).*received.*10"),
    ],
)
def test_labels_outside_the_models_classes_are_refused(bad, message):
    x, y = data()
    y[3] = bad
    with pytest.raises(ValueError, match=message):
        run(classifier(), x, y)


@pytest.mark.parametrize(
    "loss",
    [
        "sparse_categorical_crossentropy",
        keras.losses.SparseCategoricalCrossentropy(),
        keras.losses.sparse_categorical_crossentropy,
    ],
    ids=["name", "class", "function"],
)
def test_every_spelling_of_the_sparse_loss_is_checked(loss):
    x, y = data()
    y[0] = 12
    with pytest.raises(ValueError, match=r"y.*received.*12"):
        run(classifier(), x, y, loss=loss)


def test_fractional_labels_are_refused():
    x, y = data()
    y = y.astype("float32")
    y[2] = 2.5
    with pytest.raises(ValueError, match=r"y.*integer class labels.*received.*2\.5"):
        run(classifier(), x, y)


def test_validation_labels_are_checked_too():
    x, y = data()
    y_val = y.copy()
    y_val[0] = 11
    with pytest.raises(ValueError, match=r"validation_data\[1\].*received.*11"):
        run(classifier(), x, y, validation_data=(x, y_val))


def test_ignore_class_is_allowed():
    x, y = data()
    y[0] = -1
    model = classifier()
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    config = TrainingConfig(
        epochs=1, batch_size=8, verbose=0, checkpoint=False, backup=False
    )
    history = train(model, x, y, config=config, loss=loss)
    assert np.isfinite(history.history["loss"][0])


def test_binary_labels_outside_0_1_are_refused():
    x, y = data(classes=3)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    with pytest.raises(ValueError, match=r"y.*\[0, 1\].*received.*2"):
        run(model, x, y.astype("float32"), loss="binary_crossentropy")


def test_labels_in_range_still_train():
    x, y = data()
    model = classifier()
    config = TrainingConfig(
        epochs=1, batch_size=8, verbose=0, checkpoint=False, backup=False
    )
    history = train(model, x, y, config=config, loss="sparse_categorical_crossentropy")
    assert np.isfinite(history.history["loss"][0]) and history.history["loss"][0] > 0


# -- NaN / inf in the arrays (silent before) ---------------------------------------


@pytest.mark.parametrize(
    "where,value,message",
    [
        ("x", np.nan, r"`x` holds 1 NaN or infinite value.*index \(5, 2\)"),
        ("x", np.inf, r"`x` holds 1 NaN or infinite value.*index \(5, 2\).*inf"),
        ("y", np.nan, r"`y` holds 1 NaN or infinite value.*index \(5, 0\)"),
    ],
)
def test_non_finite_arrays_are_refused_before_fit(where, value, message):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    {"x": x, "y": y}[where][5, 2 if where == "x" else 0] = value
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match=message):
        run(model, x, y, loss="mse")


def test_non_finite_validation_data_is_refused():
    x, y = data()
    x_val = x.copy()
    x_val[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"validation_data\[0\].*1 NaN"):
        run(classifier(), x, y, validation_data=(x_val, y))


def test_non_finite_dict_input_names_the_key():
    x, y = data()
    x[1, 1] = np.nan
    inputs = keras.Input((4,), name="features")
    model = keras.Model(
        {"features": inputs}, keras.layers.Dense(10, activation="softmax")(inputs)
    )
    with pytest.raises(ValueError, match=r"x\['features'\].*1 NaN.*index \(1, 1\)"):
        run(model, {"features": x}, y)


# -- arguments train and TrainingConfig already checked ---------------------------


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"epochs": 0}, r"epochs.*received 0"),
        ({"batch_size": -4}, r"batch_size.*received -4"),
        ({"learning_rate": "fast"}, r"learning_rate.*received 'fast'"),
        ({"learning_rate": -1.0}, r"learning_rate.*-1\.0"),
        ({"optimizer": "adamax2"}, r"optimizer.*'adamax2'"),
        ({"precision": "float8"}, r"precision.*received 'float8'"),
        ({"seed": -1}, r"seed.*received -1"),
        ({"momentum": 1.5}, r"momentum.*1\.5"),
        ({"schedule": "linear"}, r"schedule.*received 'linear'"),
        ({"schedule": None, "schedule_kwargs": {"a": 1}}, r"schedule_kwargs.*'a'"),
        ({"early_stopping_patience": -2}, r"early_stopping_patience.*received -2"),
        ({"monitor": ""}, r"monitor.*received ''"),
        ({"verbose": 3}, r"verbose.*received 3"),
        ({"checkpoint": "yes"}, r"checkpoint.*received 'yes'"),
        ({"distribution": "everywhere"}, r"distribution.*'everywhere'"),
    ],
)
def test_impossible_config_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**kwargs)


@pytest.mark.parametrize("split", [1.0, -0.1, "0.2"])
def test_validation_split_outside_0_1(split):
    x, y = data()
    with pytest.raises(ValueError, match=rf"validation_split.*received {split!r}"):
        run(classifier(), x, y, validation_split=split)


def test_policy_mismatch_names_both():
    x, y = data()
    config = TrainingConfig(precision="mixed_bfloat16", epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"'float32'.*'mixed_bfloat16'"):
        train(classifier(), x, y, config=config, loss="mse")
