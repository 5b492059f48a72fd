"""run_search: a real interrupted-and-resumed search, tune.json and the files beside
it, and tune_on_training_data."""

from __future__ import annotations

import contextlib
import csv
import io
import json

import keras
import numpy as np
import pytest

from kerasdl.data import load_digits
from kerasdl.hypermodels import run_search, tune_on_training_data

# One width and batch sizes that divide the parts: on JAX every new weight shape
# and batch shape costs a compilation, so the trials share them.
TINY = {"width": 8, "depth": 1, "batch_size": [32, 64]}
EXECUTIONS = []  # one entry per trial fit (callbacks are deep-copied by the tuner)


class _Count(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        EXECUTIONS.append(1)


class _InterruptSecondTrial(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        if len(EXECUTIONS) == 2:
            raise KeyboardInterrupt  # as Ctrl-C in the middle of trial 2


def _digits(n=256):
    data = load_digits()
    return data.x[:n], data.y[:n]


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    """A 3-trial random search interrupted in trial 2, then run again."""
    out = tmp_path_factory.mktemp("tune")
    x, y = _digits()
    common = dict(
        family="mlp",
        x=x,
        y=y,
        dataset="digits256",
        val_size=0.25,
        tuner="random",
        max_trials=3,
        epochs=1,
        out_dir=out,
        seed=0,
        search_space=TINY,
    )
    EXECUTIONS.clear()
    with pytest.raises(KeyboardInterrupt):
        run_search(**common, callbacks=[_Count(), _InterruptSecondTrial()])
    first_run = len(EXECUTIONS)
    trial_0 = (out / "mlp_random" / "trial_0" / "trial.json").read_text()
    log = io.StringIO()
    with contextlib.redirect_stderr(log):
        result = run_search(**common, callbacks=[_Count()])
    return {
        "result": result,
        "out": out,
        "first_run": first_run,
        "second_run": len(EXECUTIONS) - first_run,
        "trial_0_before": trial_0,
        "log": log.getvalue(),
        "common": common,
    }


def test_an_interrupted_search_reruns_only_the_unfinished_trials(resumed):
    assert resumed["first_run"] == 2  # trial 1 finished, trial 2 interrupted
    assert resumed["second_run"] == 2  # trial 2 again, then trial 3; not trial 1
    log = resumed["log"]
    assert "resuming" in log and "1 trial(s) finished, 1 interrupted" in log
    assert "[1]" in log and "[2]" in log and "[0]" not in log
    trial_0 = resumed["out"] / "mlp_random" / "trial_0" / "trial.json"
    assert trial_0.read_text() == resumed["trial_0_before"]  # untouched
    result = resumed["result"]
    assert result["resumed"] is True and result["completed_before"] == 1
    assert result["completed_trials"] == 3
    assert [t["status"] for t in result["trials"]] == ["COMPLETED"] * 3


def test_tune_json_holds_the_search_and_its_best_trial(resumed):
    out, result = resumed["out"], resumed["result"]
    assert json.loads((out / "tune.json").read_text()) == result
    assert (result["family"], result["dataset"], result["tuner"]) == (
        "mlp",
        "digits256",
        "random",
    )
    assert result["objective"] == {"name": "val_accuracy", "direction": "max"}
    assert result["budget"]["max_trials"] == 3 and result["budget"]["epochs"] == 1
    assert (result["data"]["train_samples"], result["data"]["val_samples"]) == (192, 64)
    assert result["data"]["test_samples"] is None  # user data: no test part
    assert result["test_accuracy"] is None
    scores = [t["score"] for t in result["trials"]]
    assert result["best_score"] == max(scores)
    best = next(t for t in result["trials"] if t["trial_id"] == result["best_trial_id"])
    assert best["score"] == max(scores)
    assert result["best_hyperparameters"] == best["hyperparameters"]
    for trial in result["trials"]:
        hp = trial["hyperparameters"]
        assert (hp["width"], hp["depth"]) == (8, 1)
        assert hp["batch_size"] in (32, 64)
    assert result["default_hyperparameters"]["width"] == 8
    assert result["search_space"]["width"] == "fixed 8"
    rows = list(csv.DictReader(open(out / "trials.csv", encoding="utf-8")))
    assert [r["trial_id"] for r in rows] == ["0", "1", "2"]
    assert {"status", "score", "width", "learning_rate"} <= set(rows[0])
    assert (out / "trials.png").read_bytes()[:4] == b"\x89PNG"


def test_the_best_model_is_saved_and_takes_raw_inputs(resumed):
    model = keras.saving.load_model(resumed["out"] / "best_model.keras")
    x, _ = _digits(8)
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (8, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert model.get_layer("standardize") is not None  # the MLP standardizes


def test_resuming_with_other_settings_is_refused(resumed):
    settings = {**resumed["common"], "epochs": 2}
    with pytest.raises(ValueError, match="holds a search with epochs=1, not 2"):
        run_search(**settings)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"family": "gan"}, "Unknown family 'gan'"),
        ({"family": "mlp", "tuner": "grid"}, "Unknown tuner 'grid'"),
        ({"family": "mlp", "max_trials": 0}, "`max_trials` must be an integer"),
        ({"family": "mlp", "dataset": "sunspots"}, "needs a classification dataset"),
    ],
)
def test_bad_arguments_raise_one_line(kwargs, message, tmp_path):
    with pytest.raises(ValueError) as error:
        run_search(out_dir=tmp_path, verbose=False, **kwargs)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_tune_on_training_data_returns_a_builder_of_the_best_model():
    x, y = _digits(200)
    flat = x.reshape(len(x), -1)
    best_hp, build_fn = tune_on_training_data(
        "mlp",
        flat,
        y,
        input_shape=(8, 8, 1),
        tuner="random",
        max_trials=1,
        epochs=1,
        search_space={"width": 8, "depth": 1},
    )
    assert best_hp["width"] == 8 and best_hp["batch_size"] in (16, 32, 64, 128)
    model = build_fn()
    assert model.input_shape == (None, 64)
    mean = model.get_layer("standardize").mean
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(mean).reshape(-1), flat.mean(axis=0), atol=1e-5
    )
    assert model.predict(flat[:4], verbose=0).shape == (4, 10)
    assert build_fn() is not model  # a fresh model per call
