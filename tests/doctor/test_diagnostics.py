"""TrainingDiagnostics: each failure, provoked on purpose, is caught; a healthy run not.

Every run uses the same "armed" settings (a probe every 2 steps, no-progress judged
after 20 steps, a 10-batch window for the learning-rate check), so the silence of the
healthy run is as meaningful as the findings of the broken ones. Data: synthetic
regression (a linear function of 8 Gaussian features) and scikit-learn's breast
cancer set for the healthy classifier.
"""

import glob
import os

import keras
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from kerasdl import backend as kb
from kerasdl.doctor import DIAGNOSTIC_CHECKS, Finding, TrainingDiagnostics

ARMED = dict(every_n_batches=2, no_progress_steps=20, lr_window=10, verbose=False)


def regression_data(n=256, d=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    w = rng.normal(size=(d, 1)).astype("float32")
    y = (x @ w + 0.1 * rng.normal(size=(n, 1))).astype("float32")
    return x, y


def mlp(widths, d=8, activation="relu", out_activation=None, seed=0, **dense_kwargs):
    """Dense layers `hidden_0`, `hidden_1`, ... and `output` (fixed seed)."""
    kb.set_random_seed(seed)
    inputs = keras.Input((d,))
    h = inputs
    for i, width in enumerate(widths):
        h = keras.layers.Dense(
            width, activation=activation, name=f"hidden_{i}", **dense_kwargs
        )(h)
    outputs = keras.layers.Dense(1, activation=out_activation, name="output")(h)
    return keras.Model(inputs, outputs)


def diagnose(model, optimizer, x, y, *, epochs, loss="mse", batch_size=32, **kwargs):
    """Fit with a TrainingDiagnostics on the first 64 samples; return it and history."""
    fit_kwargs = {
        k: kwargs.pop(k)
        for k in ("validation_data", "callbacks", "shuffle")
        if k in kwargs
    }
    diagnostics = TrainingDiagnostics(x[:64], y[:64], **{**ARMED, **kwargs})
    model.compile(optimizer=optimizer, loss=loss)
    callbacks = fit_kwargs.pop("callbacks", []) + [diagnostics]
    history = model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        verbose=0,
        callbacks=callbacks,
        **fit_kwargs,
    )
    for finding in diagnostics.findings:
        assert isinstance(finding, Finding)
        assert finding.check in DIAGNOSTIC_CHECKS
        assert finding.fix
    return diagnostics, history


# ------------------------------------------------------------------------------------
# A healthy run says nothing
# ------------------------------------------------------------------------------------


def test_healthy_run_reports_nothing():
    x, y = load_breast_cancer(return_X_y=True)
    x = StandardScaler().fit_transform(x).astype("float32")
    y = y.astype("float32")[:, None]
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    model = mlp([16, 8], d=30, out_activation="sigmoid")
    diagnostics, history = diagnose(
        model,
        keras.optimizers.Adam(1e-3),
        x[:455],
        y[:455],
        epochs=8,
        loss="binary_crossentropy",
        validation_data=(x[455:], y[455:]),
        every_n_batches=3,
    )
    assert diagnostics.findings == [], diagnostics.summary()
    assert "nothing to report" in diagnostics.summary()
    # The detectors were armed: 8 epochs x 15 steps, a probe every 3 steps.
    assert len(history.history["loss"]) == 8
    assert len(diagnostics.records) >= 30
    assert diagnostics.records[-1]["step"] >= ARMED["no_progress_steps"]
    assert history.history["val_loss"][-1] < history.history["val_loss"][0]
    record = diagnostics.records[-1]
    assert list(record["layer_grad_norms"]) == ["hidden_0", "hidden_1", "output"]
    assert set(record["dead_relu_fractions"]) == {"hidden_0", "hidden_1"}
    assert record["grad_norm"] > 0
    stats = record["activation_stats"]["hidden_0"]
    assert set(stats) == {"mean", "std", "zero_fraction"}


# ------------------------------------------------------------------------------------
# Each failure, provoked
# ------------------------------------------------------------------------------------


def test_learning_rate_of_10_is_caught_and_training_stops():
    x, y = regression_data()
    diagnostics, history = diagnose(
        mlp([16]), keras.optimizers.SGD(10.0), x, y, epochs=5
    )
    assert "learning_rate_too_high" in diagnostics.checks, diagnostics.summary()
    assert {"exploding_gradients", "nan_loss"} <= set(diagnostics.checks)
    assert len(history.history["loss"]) == 1  # stopped in the first epoch


def test_overshooting_loss_is_learning_rate_too_high():
    # The case `kerasdl train mlp --optimizer sgd --learning-rate 5` met on digits:
    # batch norm keeps the loss finite, it jumps far above its start, then sits near
    # chance level (ln 10). Neither divergence nor a late climb; an overshoot.
    from sklearn.datasets import load_digits

    from kerasdl.models import MLP

    x, y = load_digits(return_X_y=True)
    x = StandardScaler().fit_transform(x).astype("float32")
    keras.utils.set_random_seed(0)
    model = MLP((64,), 10, depth=2, width=128, batch_norm=True, dropout=0.3)
    diagnostics, _ = diagnose(
        model,
        keras.optimizers.SGD(5.0),
        x[:1280],
        y[:1280],
        epochs=2,
        loss="sparse_categorical_crossentropy",
    )
    assert "learning_rate_too_high" in diagnostics.checks, diagnostics.summary()


def test_diverging_loss_is_learning_rate_too_high():
    # Linear regression on standardised features: SGD is stable below lr = 1; at 1.05
    # the error grows ~1.1x per step, without reaching NaN in these 3 epochs.
    x, y = regression_data()
    diagnostics, _ = diagnose(
        mlp([]), keras.optimizers.SGD(1.05), x, y, epochs=3, batch_size=16
    )
    assert diagnostics.checks[0] == "learning_rate_too_high", diagnostics.summary()
    # Either detector may see it first: the batch losses diverging, or the probe loss
    # overshooting its value before training.
    message = diagnostics.findings[0].message
    assert "diverging" in message or "overshot" in message
    assert "nan_loss" not in diagnostics.checks


def raise_lr_after(epochs, low, high):
    return keras.callbacks.LearningRateScheduler(
        lambda epoch, lr: low if epoch < epochs else high
    )


def test_loss_climbing_back_up_is_learning_rate_too_high():
    # Two good epochs (Adam, lr 0.1) lower the loss; then lr 2.0 makes it bounce
    # back up (Adam's steps are ~lr per weight, so it oscillates rather than explode).
    x, y = regression_data()
    diagnostics, history = diagnose(
        mlp([]),
        keras.optimizers.Adam(0.1),
        x,
        y,
        epochs=3,
        batch_size=16,
        callbacks=[raise_lr_after(2, 0.1, 2.0)],
    )
    assert diagnostics.checks == ["learning_rate_too_high"], diagnostics.summary()
    assert "climbed back up" in diagnostics.findings[0].message
    loss = history.history["loss"]
    assert loss[1] < loss[0] and loss[2] > 2 * loss[1]


def test_gradient_norm_jump_is_exploding_gradients():
    # After a good epoch the gradient is small; SGD at lr 1.5 (unstable above ~0.7
    # here) then multiplies it by ~2 every step.
    x, y = regression_data()
    diagnostics, _ = diagnose(
        mlp([]),
        keras.optimizers.SGD(0.05),
        x,
        y,
        epochs=2,
        batch_size=16,
        every_n_batches=1,
        callbacks=[raise_lr_after(1, 0.05, 1.5)],
    )
    assert "exploding_gradients" in diagnostics.checks, diagnostics.summary()
    finding = diagnostics.findings[diagnostics.checks.index("exploding_gradients")]
    assert "jumped" in finding.message
    assert finding.severity == "error"


def test_huge_gradients_at_init_are_exploding_gradients():
    # Six linear layers with N(0, 1) weights: the output (and gradient) scales as
    # 64^3 per input unit, far past 1e4 before the first step.
    x, y = regression_data()
    model = mlp(
        [64] * 6,
        activation=None,
        kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=0),
    )
    diagnostics, _ = diagnose(model, keras.optimizers.SGD(1e-9), x, y, epochs=1)
    assert diagnostics.checks[0] == "exploding_gradients", diagnostics.summary()
    assert "above 1e+04" in diagnostics.findings[0].message
    assert "(step 0;" in diagnostics.findings[0].message


def test_deep_sigmoid_mlp_has_vanishing_gradients():
    x, y = regression_data(n=128)
    diagnostics, _ = diagnose(
        mlp([16] * 20, activation="sigmoid"),
        keras.optimizers.Adam(1e-3),
        x,
        y,
        epochs=1,
    )
    assert diagnostics.checks == ["vanishing_gradients"], diagnostics.summary()
    ratio = diagnostics.records[0]["layer_grad_norms"]
    assert ratio["hidden_0"] < 1e-3 * ratio["output"]
    assert "he_normal" in diagnostics.findings[0].fix


def test_unregularised_wide_mlp_on_30_samples_overfits():
    x, _ = regression_data(n=60, seed=1)
    y = np.random.default_rng(2).normal(size=(60, 1)).astype("float32")  # noise
    diagnostics, history = diagnose(
        mlp([256, 256]),
        keras.optimizers.Adam(1e-2),
        x[:30],
        y[:30],
        epochs=25,
        validation_data=(x[30:], y[30:]),
        every_n_batches=5,
    )
    assert "overfitting" in diagnostics.checks, diagnostics.summary()
    finding = diagnostics.findings[diagnostics.checks.index("overfitting")]
    assert "val_loss rose" in finding.message
    assert "Dropout" in finding.fix
    val, loss = history.history["val_loss"], history.history["loss"]
    best = int(np.argmin(val))
    assert val[-1] > val[best] and loss[-1] < loss[best]


def test_zero_learning_rate_makes_no_progress():
    x, y = regression_data()
    diagnostics, _ = diagnose(mlp([16]), keras.optimizers.SGD(0.0), x, y, epochs=3)
    assert diagnostics.checks == ["no_progress"], diagnostics.summary()
    assert "After 2" in diagnostics.findings[0].message  # after >= 20 steps


def test_huge_input_value_gives_nan_loss_and_stops_training():
    x, y = regression_data()
    x[100, 0] = 1e30  # in the 4th batch (unshuffled), outside the probe batch
    diagnostics, history = diagnose(
        mlp([16]), keras.optimizers.Adam(1e-3), x, y, epochs=5, shuffle=False
    )
    assert diagnostics.checks[0] == "nan_loss", diagnostics.summary()
    assert diagnostics.findings[0].severity == "error"
    assert "epoch 1, batch 4" in diagnostics.findings[0].message
    assert len(history.history["loss"]) == 1
    # Training stopped at the bad batch: no probe after it.
    assert diagnostics.records[-1]["step"] <= 4


def test_negative_bias_init_gives_dead_relus():
    x, y = regression_data(n=128)
    model = mlp([32, 32], bias_initializer=keras.initializers.Constant(-5.0))
    # 6 epochs x 4 steps: past no_progress_steps (20), when dead units are judged.
    diagnostics, _ = diagnose(model, keras.optimizers.Adam(1e-3), x, y, epochs=6)
    assert diagnostics.checks == ["dead_relu"], diagnostics.summary()
    assert "'hidden_0': 100%" in diagnostics.findings[0].message
    assert diagnostics.records[-1]["dead_relu_fractions"]["hidden_1"] == 1.0


# ------------------------------------------------------------------------------------
# Reporting, TensorBoard, models without reachable activations
# ------------------------------------------------------------------------------------


def test_each_finding_is_reported_once_across_epochs_and_fits(capsys):
    x, y = regression_data(n=128)
    model = mlp([16])
    diagnostics = TrainingDiagnostics(x[:64], y[:64], **{**ARMED, "verbose": True})
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    for _ in range(2):
        model.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[diagnostics])
    assert diagnostics.checks == ["no_progress"]
    printed = capsys.readouterr().out
    assert printed.count("[kerasdl doctor]") == 1
    assert "fix: Check that the learning rate" in printed


def test_tensorboard_histograms_of_weights_gradients_and_activations(tmp_path):
    x, y = regression_data(n=64)
    diagnostics, _ = diagnose(
        mlp([8]), keras.optimizers.Adam(1e-3), x, y, epochs=1, log_dir=tmp_path
    )
    events = glob.glob(os.path.join(tmp_path, "diagnostics", "events.out.tfevents*"))
    assert events
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    accumulator = EventAccumulator(os.path.dirname(events[0]))
    accumulator.Reload()
    tags = accumulator.Tags()
    histograms = tags["histograms"] + tags["tensors"]
    for prefix in ("weights/hidden_0/kernel", "gradients/output/", "activations/"):
        assert any(t.startswith(prefix) for t in histograms), histograms
    scalars = tags["scalars"] + tags["tensors"]
    assert "grad_norm/hidden_0" in scalars and "probe/loss" in scalars, scalars
    assert "dead_relu_fraction/hidden_0" in scalars


def test_backend_summary_writers_create_event_files(tmp_path):
    kb.write_scalars(tmp_path / "run", 3, {"a/b": 1.5, "skipped": float("nan")})
    kb.write_histograms(tmp_path / "run", 3, {"w": np.arange(10.0), "empty": []})
    kb.close_summaries(tmp_path / "run")
    assert glob.glob(str(tmp_path / "run" / "events.out.tfevents*"))


class TwoLayerNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.out = keras.layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_model_skips_activations_but_still_probes_gradients():
    x, y = regression_data(n=64)
    kb.set_random_seed(0)
    diagnostics, _ = diagnose(
        TwoLayerNet(), keras.optimizers.Adam(1e-3), x, y, epochs=1, loss="mse"
    )
    assert diagnostics.checks == ["activations_unavailable"]
    assert diagnostics.findings[0].severity == "info"
    assert len(diagnostics.records[-1]["layer_grad_norms"]) == 2
    assert diagnostics.records[-1]["dead_relu_fractions"] == {}


def test_explicit_loss_matches_the_compiled_one_and_probing_changes_nothing():
    x, y = regression_data(n=64)
    model = mlp([8])
    model.compile(optimizer="adam", loss="mse")
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.weights]
    values = []
    for loss in (None, "mse", keras.losses.MeanSquaredError()):
        diagnostics = TrainingDiagnostics(x, y, loss=loss, verbose=False)
        diagnostics.set_model(model)
        diagnostics.on_train_begin()
        values.append(diagnostics.records[0]["loss"])
    np.testing.assert_allclose(values, values[0], rtol=1e-6)
    for old, variable in zip(before, model.weights):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(variable))


def test_probe_leaves_the_per_output_loss_trackers_of_a_multi_output_model_alone():
    x, y = regression_data(n=64)
    inputs = keras.Input((8,))
    h = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = {"a": keras.layers.Dense(1, name="a")(h), "b": keras.layers.Dense(1)(h)}
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss={"a": "mse", "b": "mse"})
    model.fit(x, {"a": y, "b": y}, epochs=1, verbose=0)
    before = [
        keras.ops.convert_to_numpy(v.value).copy() for v in model.metrics_variables
    ]
    assert len(before) == 6  # total, a and b: a sum and a count each
    diagnostics = TrainingDiagnostics(x, {"a": y, "b": 2 * y}, verbose=False)
    diagnostics.set_model(model)
    diagnostics.on_train_begin()
    assert diagnostics.records[0]["loss"] > 0
    for old, variable in zip(before, model.metrics_variables):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(variable.value))


def test_model_without_a_loss_is_reported_not_probed():
    x, y = regression_data(n=16)
    model = mlp([4])  # not compiled: no loss to probe with
    diagnostics = TrainingDiagnostics(x, y, verbose=False)
    diagnostics.set_model(model)
    diagnostics.on_train_begin()
    assert diagnostics.checks == ["gradient_probes_unavailable"]
    assert diagnostics.records == []
    assert "loss='mse'" in diagnostics.findings[0].fix


def test_a_probe_batch_the_model_cannot_take_is_a_clear_error():
    x, y = regression_data(n=16)
    model = mlp([4])
    model.compile(optimizer="adam", loss="mse")
    diagnostics = TrainingDiagnostics(x[:, :3], y, verbose=False)  # 3 features, not 8
    diagnostics.set_model(model)
    with pytest.raises(ValueError, match="could not run the model on its probe batch"):
        diagnostics.on_train_begin()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x=None), "x and y"),
        (dict(y=np.zeros((3, 1))), "same number of samples"),
        (dict(every_n_batches=0), "every_n_batches must be an integer >= 1"),
        (dict(vanish_ratio=-1.0), "vanish_ratio must be a finite number > 0"),
        (dict(dead_relu_fraction=1.5), r"dead_relu_fraction must be in \(0, 1\]"),
        (dict(lr_rise_factor=1.0), "lr_rise_factor must be a number > 1"),
        (dict(loss="no_such_loss"), "loss must be a Keras loss name"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    args = {"x": np.zeros((4, 2)), "y": np.zeros((4, 1)), **kwargs}
    with pytest.raises(ValueError, match=match):
        TrainingDiagnostics(args.pop("x"), args.pop("y"), **args)
