"""The tuner helpers: Hyperband's trial count, `--set` parsing, tuner names."""

from __future__ import annotations

import keras_tuner as kt
import pytest

from kerasdl.hypermodels import hyperband_trials, parse_search_space
from kerasdl.hypermodels.tuners import check_tuner


def test_parse_search_space():
    assert parse_search_space(
        ["width=32:256", "optimizer=adam,sgd", "depth=2", "dropout=[0.1, 0.4]"]
    ) == {
        "width": (32, 256),
        "optimizer": ["adam", "sgd"],
        "depth": 2,
        "dropout": [0.1, 0.4],
    }
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_search_space(["width"])


@pytest.mark.parametrize("epochs", [1, 3, 9])
def test_hyperband_trials_counts_what_the_keras_tuner_oracle_creates(epochs, tmp_path):
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = kt.oracles.HyperbandOracle(
        kt.Objective("score", "max"),
        max_epochs=epochs,
        factor=3,
        hyperband_iterations=1,
        hyperparameters=hp,
        seed=0,
    )
    oracle._set_project_dir(tmp_path, "p")
    oracle.verbose = 0
    created = 0
    while True:
        trial = oracle.create_trial("tuner0")
        if trial.status == "STOPPED":
            break
        oracle.update_trial(trial.trial_id, {"score": trial.hyperparameters["x"]})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        created += 1
    assert hyperband_trials(epochs) == created
    assert hyperband_trials(9) == 23


def test_check_tuner_names_the_choices():
    assert check_tuner("Random") == "random"
    with pytest.raises(ValueError) as error:
        check_tuner("grid")
    assert str(error.value) == (
        "Unknown tuner 'grid'; choose one of: hyperband, random, bayesian."
    )


@pytest.mark.parametrize("name", ["random", "bayesian"])
def test_first_trial_is_the_untuned_defaults(name, tmp_path):
    """Trial 0 runs the search space's defaults; later trials are the tuner's own."""
    from kerasdl.hypermodels import get_hypermodel
    from kerasdl.hypermodels.tuners import make_tuner

    hypermodel = get_hypermodel("mlp", (4,), 3)
    tuner = make_tuner(
        name,
        hypermodel,
        max_trials=3,
        epochs=1,
        seed=0,
        directory=tmp_path,
        project_name=name,
        overwrite=True,
        verbose=False,
    )
    defaults = {hp.name: hp.default for hp in tuner.oracle.hyperparameters.space}
    first = tuner.oracle.create_trial("tuner0")
    active = first.hyperparameters.values
    assert active and all(active[k] == defaults[k] for k in active)
    tuner.oracle.end_trial(first)
    second = tuner.oracle.create_trial("tuner0")
    assert second.hyperparameters.values != active
