"""`find_learning_rate`: the range test suggests a rate that trains, on any backend."""

import json
import math

import keras
import numpy as np
import pytest

from kerasdl.models import MLP
from kerasdl.training import LRFinderResult, find_learning_rate, set_seed


@pytest.fixture
def linear_data():
    """256 samples of a noisy linear function of 4 features (synthetic).

    With the MSE loss, plain SGD on a linear model converges for rates below
    2 / (largest eigenvalue of the Hessian), about 0.84 here, and diverges
    exponentially above: the range where training works is known.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    w = np.array([[1.0], [-2.0], [0.5], [3.0]], dtype="float32")
    y = (x @ w + 0.1 * rng.normal(size=(256, 1))).astype("float32")
    return x, y


def linear_model() -> keras.Model:
    set_seed(0)
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(1)(inputs))


def train_losses(weights, x, y, learning_rate, epochs=5):
    """(loss before, loss after) `epochs` of SGD from `weights`."""
    model = linear_model()
    model.set_weights(weights)
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=epochs, batch_size=32, shuffle=False, verbose=0)
    return before, model.evaluate(x, y, verbose=0)


def test_suggestion_trains_and_100x_diverges(linear_data):
    x, y = linear_data
    model = linear_model()
    weights = model.get_weights()
    result = find_learning_rate(
        model, x, y, loss="mse", optimizer="sgd", min_lr=1e-4, max_lr=10.0,
        steps=100, seed=0,
    )  # fmt: skip
    assert isinstance(result, LRFinderResult)
    # The run stopped on divergence: the rates really grew inside the compiled step.
    assert result.diverged_lr is not None
    assert len(result.losses) < 100
    assert 1e-4 < result.suggestion < result.min_loss_lr < result.diverged_lr
    assert all(math.isfinite(v) for v in result.losses)

    before, after = train_losses(weights, x, y, result.suggestion)
    assert after < 0.1 * before, (result.suggestion, before, after)
    # 100x the suggestion is past the stable range: the loss grows instead.
    before, after = train_losses(weights, x, y, 100 * result.suggestion)
    assert not after < before, (100 * result.suggestion, before, after)
    # And so does the rate at which the finder stopped.
    before, after = train_losses(weights, x, y, result.diverged_lr)
    assert not after < before, (result.diverged_lr, before, after)


def test_recorded_rates_are_the_rates_applied():
    """loss = mean(bias) with zero inputs: each SGD update lowers it by exactly lr."""
    inputs = keras.Input((2,))
    outputs = keras.layers.Dense(
        1,
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(10.0),
    )(inputs)
    model = keras.Model(inputs, outputs)
    x = np.zeros((64, 2), dtype="float32")
    y = np.zeros((64, 1), dtype="float32")

    def loss(y_true, y_pred):
        return keras.ops.mean(y_pred)

    with pytest.warns(UserWarning, match="still falling at max_lr"):
        result = find_learning_rate(
            model, x, y, loss=loss, min_lr=1e-2, max_lr=1.0, steps=20, smoothing=0.0
        )
    rates = np.asarray(result.learning_rates)
    assert len(rates) == 20
    np.testing.assert_allclose(rates[[0, -1]], [1e-2, 1.0], rtol=1e-12)
    np.testing.assert_allclose(rates[1:] / rates[:-1], 100 ** (1 / 19), rtol=1e-9)
    drops = -np.diff(result.losses)
    np.testing.assert_allclose(drops, rates[:-1], rtol=1e-3)
    assert result.losses[0] == pytest.approx(10.0)
    assert result.smoothed_losses == result.losses  # smoothing=0


def test_weights_and_compiled_state_restored():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = rng.integers(0, 3, size=96)
    set_seed(0)
    # Dropout and batch norm: seed-generator states and moving statistics too.
    model = MLP((6,), 3, depth=2, width=16, dropout=0.2, batch_norm=True)
    optimizer = keras.optimizers.Adam(1e-3)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    variables = [np.array(v) for v in model.variables]
    optimizer_variables = [np.array(v) for v in optimizer.variables]
    attributes = dict(model.__dict__)

    result = find_learning_rate(
        model, x, y, loss="sparse_categorical_crossentropy", optimizer="adam",
        min_lr=1e-4, max_lr=10.0, steps=30, seed=0,
    )  # fmt: skip
    assert len(set(result.losses)) > 1  # it did train
    assert len(model.variables) == len(variables)
    for restored, original in zip(model.variables, variables):
        np.testing.assert_array_equal(np.array(restored), original)
    assert model.optimizer is optimizer
    assert int(optimizer.iterations) == 3
    for restored, original in zip(optimizer.variables, optimizer_variables):
        np.testing.assert_array_equal(np.array(restored), original)
    changed = {
        k
        for k, v in model.__dict__.items()
        if k not in attributes or attributes[k] is not v
    }
    assert changed <= {"_called"}, changed
    assert set(attributes) <= set(model.__dict__)

    # Training goes on as before: same optimizer, same metrics.
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert int(optimizer.iterations) == 6


def test_uncompiled_model_stays_uncompiled(linear_data):
    x, y = linear_data
    model = linear_model()
    weights = model.get_weights()
    find_learning_rate(model, x, y, loss="mse", min_lr=1e-4, steps=20, seed=0)
    assert not model.compiled
    assert getattr(model, "optimizer", None) is None
    for restored, original in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(restored, original)
    model.compile(keras.optimizers.SGD(0.05), "mse")
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]


def test_optimizer_instance_is_cloned_not_used(linear_data):
    x, y = linear_data
    optimizer = keras.optimizers.SGD(0.5, momentum=0.9)
    result = find_learning_rate(
        linear_model(), x, y, loss="mse", optimizer=optimizer, min_lr=1e-4,
        steps=20, seed=0,
    )  # fmt: skip
    assert result.optimizer == "SGD"
    assert not optimizer.built
    assert int(optimizer.iterations) == 0
    assert float(optimizer.learning_rate) == pytest.approx(0.5)


def test_model_and_optimizer_untouched_by_the_run(linear_data):
    """The range test trains a clone: the model given is never trained or compiled."""
    x, y = linear_data
    model = linear_model()
    optimizer = keras.optimizers.SGD(0.05, momentum=0.5)
    model.compile(optimizer, "mse", metrics=["mae"])
    weights = model.get_weights()
    loss, train_function = model.loss, model.train_function

    result = find_learning_rate(
        model, x, y, loss="mae", optimizer="adam", min_lr=1e-4, steps=20, seed=0
    )
    assert len(set(result.losses)) > 1  # the clone did train
    for kept, original in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(kept, original)
    assert model.compiled and model.optimizer is optimizer
    assert model.loss is loss and model.train_function is train_function is None
    assert not optimizer.built and int(optimizer.iterations) == 0
    assert float(optimizer.learning_rate) == pytest.approx(0.05)

    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    assert int(optimizer.iterations) == 8


@pytest.mark.filterwarnings("ignore:The smoothed loss")  # 12 steps: no real curve
def test_the_clone_carries_the_seed_state_so_runs_repeat():
    """The clone copies every variable, dropout seed states included: two runs with
    one `seed` give the same curve, and the model's own next draws are unchanged."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, 3, size=64)
    set_seed(0)
    model = MLP((6,), 3, depth=2, width=16, dropout=0.5)
    model(x[:2])
    states = [np.array(v) for v in model.variables]
    runs = [
        find_learning_rate(
            model, x, y, loss="sparse_categorical_crossentropy", min_lr=1e-3,
            max_lr=1.0, steps=12, seed=0,
        ).losses
        for _ in range(2)
    ]  # fmt: skip
    assert runs[0] == runs[1]
    for kept, original in zip(model.variables, states):
        np.testing.assert_array_equal(np.array(kept), original)


def test_a_model_that_cannot_be_cloned_is_refused(linear_data):
    class NoConfig(keras.Model):
        def __init__(self, units):
            super().__init__()
            self.dense = keras.layers.Dense(units)

        def call(self, inputs):
            return self.dense(inputs)

    x, y = linear_data
    model = NoConfig(1)
    model(x[:2])
    with pytest.raises(ValueError, match="could not be cloned: NoConfig needs a"):
        find_learning_rate(model, x, y, loss="mse", steps=20, seed=0)


def test_nan_stops_the_run_and_a_range_too_high_is_reported(linear_data):
    x, y = linear_data
    result = find_learning_rate(
        linear_model(), x, y, loss="mse", min_lr=1e-4, max_lr=1e12, steps=100,
        divergence_factor=1e30, seed=0,
    )  # fmt: skip
    assert result.diverged_lr is not None
    assert all(math.isfinite(v) for v in result.losses)
    with pytest.warns(UserWarning, match="never fell.*lower min_lr"):
        result = find_learning_rate(
            linear_model(), x, y, loss="mse", min_lr=1e3, max_lr=1e4, steps=10
        )
    assert result.suggestion == pytest.approx(100.0)
    assert result.diverged_lr is not None
    bad_x = x.copy()
    bad_x[:] = np.nan
    with pytest.raises(ValueError, match="NaN/inf at update 0.*check the data"):
        find_learning_rate(linear_model(), bad_x, y, loss="mse", steps=10)


def test_plot_and_json_written(tmp_path, linear_data):
    x, y = linear_data
    out = tmp_path / "plots" / "lr_finder.png"
    result = find_learning_rate(
        linear_model(), x, y, loss="mse", min_lr=1e-4, max_lr=10.0, steps=60,
        out=out, seed=0,
    )  # fmt: skip
    assert result.plot_path == str(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(out.with_suffix(".json").read_text())
    assert data == result.to_dict()
    assert data["suggestion"] == result.suggestion
    assert len(data["learning_rates"]) == len(data["losses"])
    assert "steepest" in data["rule"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_lr": 1.0, "max_lr": 1.0}, "min_lr must be smaller than max_lr"),
        ({"min_lr": 10.0, "max_lr": 1.0}, "min_lr must be smaller than max_lr"),
        ({"min_lr": 0.0}, "min_lr must be a finite number > 0"),
        ({"min_lr": -1e-3}, "min_lr must be a finite number > 0"),
        ({"max_lr": float("inf")}, "max_lr must be a finite number > 0"),
        ({"steps": 9}, "steps must be an integer >= 10"),
        ({"steps": 50.0}, "steps must be an integer >= 10"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"smoothing": 1.0}, r"smoothing must be a number in \[0, 1\)"),
        ({"divergence_factor": 1.0}, "divergence_factor must be a finite number > 1"),
        ({"seed": -1}, "seed must be None or an integer >= 0"),
        ({"optimizer": "adagrad"}, "optimizer must be one of"),
        ({"out": "runs/lr.json"}, "out is the path of the plot"),
        ({"x": np.zeros((0, 4), "float32")}, "x is empty"),
        ({"y": np.zeros((10, 1), "float32")}, "same number of samples"),
        ({"loss": None}, "loss must be given"),
    ],
)
def test_bad_arguments_raise(kwargs, match, linear_data):
    x, y = linear_data
    arguments = {"x": x, "y": y, "loss": "mse", **kwargs}
    model = linear_model()
    weights = model.get_weights()
    with pytest.raises(ValueError, match=match):
        find_learning_rate(model, **arguments)
    for kept, original in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(kept, original)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"optimizer": 0.1}, "optimizer must be a name"),
        ({"model": "not a model"}, "model must be a keras.Model"),
    ],
)
def test_bad_types_raise(kwargs, match, linear_data):
    x, y = linear_data
    arguments = {"model": linear_model(), "x": x, "y": y, "loss": "mse", **kwargs}
    with pytest.raises(TypeError, match=match):
        find_learning_rate(**arguments)
