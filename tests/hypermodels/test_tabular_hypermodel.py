"""The tabular HyperModels and `run_search` on tables: defaults equal the untuned
estimator, both tasks build and train, searches on a raw classification table
(penguins) and a raw regression table (cars) write a `best_model.keras` that
predicts raw rows, the encoder sees only the search's training part, and a family
given the wrong kind of data is refused before any trial."""

from __future__ import annotations

import dataclasses
import json
import warnings

import keras
import keras_tuner as kt
import numpy as np
import pytest

from kerasdl.baselines.keras_tabular import KerasTabularClassifier
from kerasdl.baselines.tabular_compile_cache import bucket_size
from kerasdl.data import load_dataset
from kerasdl.hypermodels import get_hypermodel, run_search
from kerasdl.hypermodels.registry import (
    get_tabular_hypermodel,
    is_tabular_family,
    list_hypermodels,
)
from kerasdl.hypermodels.search import _prepare_table
from kerasdl.hypermodels.tabular import (
    FTTransformerHyperModel,
    TabularMLPHyperModel,
)
from kerasdl.models.tabular import (
    FT_TRANSFORMER_SMALL,
    FTTransformer,
    TableEncoder,
    TabularMLP,
    TabularModel,
)

SEARCH = dict(tuner="random", max_trials=2, epochs=2, seed=0, verbose=False)
# The searches below take the smallest networks of their space: every trial's
# network is compiled (on JAX most of a search's time), and that grows with depth.
SMALL_FT = {"n_blocks": 1, "d_token": 32}
SMALL_MLP = {"depth": 1, "width": 32}


def _without_name(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "name"}


@pytest.fixture(scope="module")
def penguins():
    return load_dataset("penguins")


@pytest.fixture(scope="module")
def cars():
    return load_dataset("cars")


@pytest.fixture(scope="module")
def penguins_encoder(penguins):
    return TableEncoder(missing_indicators="all").fit(
        penguins.x, penguins.feature_types
    )


def test_the_tabular_families_are_registered_and_take_an_encoder(penguins_encoder):
    families = list_hypermodels()
    assert families[-2:] == ["tabular_mlp", "ft_transformer"]
    assert is_tabular_family("ft_transformer") and not is_tabular_family("mlp")
    hypermodel = get_tabular_hypermodel(
        "tabular_mlp", penguins_encoder, task="classification", num_classes=3
    )
    assert isinstance(hypermodel, TabularMLPHyperModel)
    assert (hypermodel.n_numeric, hypermodel.cardinalities) == (
        penguins_encoder.n_numeric,
        penguins_encoder.cardinalities,
    )
    with pytest.raises(ValueError, match="tabular_mlp family takes an encoded"):
        get_hypermodel("tabular_mlp", (7,), 3)
    with pytest.raises(ValueError, match="cnn family is a classifier on arrays"):
        get_tabular_hypermodel("cnn", penguins_encoder, num_classes=3)


@pytest.mark.parametrize("architecture", ["mlp", "ft_transformer"])
def test_defaults_equal_the_network_the_untuned_estimator_trains(
    architecture, penguins
):
    """The untuned HyperModel builds the estimator's network (the estimator only
    rounds category counts up to a power of two, to share compiled shapes)."""
    family = {"mlp": "tabular_mlp", "ft_transformer": "ft_transformer"}[architecture]
    estimator = KerasTabularClassifier(
        architecture, feature_types=penguins.feature_types, epochs=1, random_state=0
    ).fit(penguins.x, np.asarray(penguins.class_names)[penguins.y])
    hypermodel = get_tabular_hypermodel(
        family, estimator.encoder_, task="classification", num_classes=3
    )
    network = hypermodel.build(kt.HyperParameters())
    ours, theirs = network.get_config(), dict(estimator.network_config_)
    assert theirs.pop("cardinalities") == [
        bucket_size(c) for c in ours.pop("cardinalities")
    ]
    assert _without_name(ours) == _without_name(theirs)
    learning_rate = keras.ops.convert_to_numpy(network.optimizer.learning_rate)
    assert float(learning_rate) == pytest.approx(
        {"mlp": 1e-3, "ft_transformer": 3e-4}[architecture]
    )
    assert network.optimizer.weight_decay == estimator.weight_decay


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("family", ["tabular_mlp", "ft_transformer"])
def test_defaults_config_equals_the_untuned_network_for_both_tasks(
    family, task, penguins_encoder
):
    encoder = penguins_encoder
    units = 3 if task == "classification" else 1
    hypermodel = get_tabular_hypermodel(
        family,
        encoder,
        task=task,
        num_classes=3 if task == "classification" else None,
    )
    model = hypermodel.build(kt.HyperParameters())
    table = (encoder.n_numeric, encoder.cardinalities, units)
    if family == "tabular_mlp":
        reference = TabularMLP(*table, n_dense=encoder.n_dense)
        expected_lr = 1e-3
    else:
        reference = FTTransformer(
            *table, n_dense=encoder.n_dense, **FT_TRANSFORMER_SMALL
        )
        expected_lr = 3e-4
    assert _without_name(model.get_config()) == _without_name(reference.get_config())
    assert model.count_params() == reference.count_params()
    optimizer = keras.optimizers.AdamW(learning_rate=expected_lr, weight_decay=1e-4)
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert _without_name(model.optimizer.get_config()) == _without_name(
        optimizer.get_config()
    )
    if task == "classification":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        loss = keras.losses.MeanSquaredError()
    assert model.loss.get_config() == loss.get_config()
    assert hypermodel.default_values()["learning_rate"] == expected_lr


def test_search_spaces_and_their_defaults():
    mlp = TabularMLPHyperModel(4, [3, 5], num_classes=2)
    assert mlp.default_values() == {
        "depth": 2,
        "width": 256,
        "dropout": 0.1,
        "numeric_embedding": "none",
        "learning_rate": 1e-3,
    }
    assert mlp.search_space_summary()["numeric_embedding"] == (
        "['none', 'periodic'], default 'none'"
    )
    ft = FTTransformerHyperModel(4, [3], task="regression")
    assert ft.default_values() == {
        "d_token": 64,
        "n_blocks": 1,
        "attention_dropout": 0.1,
        "ffn_dropout": 0.1,
        "learning_rate": 3e-4,
    }
    assert ft.space["learning_rate"].low == 1e-5
    periodic = TabularMLPHyperModel(
        4, [3], num_classes=2, numeric_embedding="periodic", depth=1, width=16
    ).build(kt.HyperParameters())
    assert periodic.numeric_embedding == "periodic" and periodic.depth == 1
    small = FTTransformerHyperModel(
        4, [], task="regression", d_token=32, n_blocks=1
    ).build(kt.HyperParameters())
    assert (small.d_token, small.n_blocks, small.output_units) == (32, 1, 1)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: TabularMLPHyperModel(4, [3]), "`num_classes` must be an integer"),
        (
            lambda: TabularMLPHyperModel(4, [3], task="regression", num_classes=2),
            "`num_classes` must be None for regression",
        ),
        (lambda: TabularMLPHyperModel(4, [3], task="ranking"), "`task` must be one"),
        (
            lambda: TabularMLPHyperModel(4, [3], num_classes=2, height=3),
            "Unknown hyperparameter 'height' for the tabular_mlp family",
        ),
        (
            lambda: TabularMLPHyperModel(4, [3], num_classes=2, width=(512, 32)),
            "`width` range must be (low, high)",
        ),
        (
            lambda: TabularMLPHyperModel(
                4, [3], num_classes=2, numeric_embedding="linear"
            ),
            "`numeric_embedding` choices must each be one of ['none', 'periodic']",
        ),
        (
            lambda: FTTransformerHyperModel(4, [3], num_classes=2, d_token=[30, 64]),
            "Every `d_token` must be divisible by the 4 attention heads",
        ),
        (
            lambda: FTTransformerHyperModel(0, [], task="regression"),
            "A tabular model needs at least one input column",
        ),
    ],
)
def test_bad_hypermodel_arguments_raise_one_line(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_both_tasks_train_one_epoch_and_check_their_targets(task):
    rng = np.random.default_rng(0)
    x = {
        "numeric": rng.normal(size=(32, 3)).astype("float32"),
        "categorical": rng.integers(0, 4, size=(32, 2)).astype("int32"),
    }
    classes = task == "classification"
    y = np.arange(32) % 3 if classes else rng.normal(size=32)
    hypermodel = TabularMLPHyperModel(
        3,
        [4, 4],
        task=task,
        num_classes=3 if classes else None,
        batch_size=16,
        seed=0,
        width=16,
        depth=1,
    )
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    before = [w.copy() for w in model.get_weights()]
    history = hypermodel.fit(
        hp, model, x, y, epochs=1, validation_data=(x, y), verbose=0
    )
    assert np.isfinite(history.history["val_loss"][0])
    assert ("val_accuracy" in history.history) == classes
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    assert model.predict(x, verbose=0).shape == (32, 3 if classes else 1)
    with pytest.raises(ValueError, match="`batch_size` is set when creating"):
        hypermodel.fit(hp, model, x, y, batch_size=8)
    bad = np.full(32, 3) if classes else np.full(32, np.nan)
    with pytest.raises(ValueError, match="Expected `y`"):
        hypermodel.fit(hp, model, x, bad, epochs=1)


def test_the_encoder_is_fitted_on_the_search_training_part_only(penguins):
    """Neither the validation nor the test rows shape the encoder: its numeric
    statistics are those of the training part, and a category found only in the
    test part maps to the unseen index 0."""
    kwargs = dict(
        test_size=0.2, val_size=0.2, seed=0, standardize=None, search_space=None
    )
    plan = _prepare_table("tabular_mlp", penguins, None, None, **kwargs)
    test_rows = list(plan["test"][0].index[:2])  # positions in penguins.x
    x = penguins.x.copy()
    x.iloc[test_rows, x.columns.get_loc("island")] = "Atlantis"
    planted = dataclasses.replace(penguins, x=x)
    plan = _prepare_table("tabular_mlp", planted, None, None, **kwargs)
    x_test = plan["test"][0]
    assert list(x_test.index[:2]) == test_rows  # the same split
    encoder = plan["encoder"]
    island = list(encoder.feature_types).index("island")
    codes = encoder.transform(x_test)["categorical"][:, island]
    assert list(codes[:2]) == [0, 0] and np.all(codes[2:] > 0)
    fit_numeric, val_numeric = plan["fit"][0]["numeric"], plan["val"][0]["numeric"]
    np.testing.assert_allclose(fit_numeric[:, 0].mean(), 0.0, atol=1e-5)
    assert abs(val_numeric[:, 0].mean()) > 1e-3  # not fitted on validation rows
    sizes = plan["data"]
    assert sizes["train_samples"] == len(plan["fit"][1])
    assert sizes["train_samples"] + sizes["val_samples"] + sizes["test_samples"] == (
        len(penguins.y)
    )


@pytest.fixture(scope="module")
def penguins_search(penguins, tmp_path_factory):
    """An FT-Transformer search on penguins with a category planted in two test
    rows only."""
    plan = _prepare_table(
        "ft_transformer",
        penguins,
        None,
        None,
        test_size=0.2,
        val_size=0.2,
        seed=0,
        standardize=None,
        search_space=None,
    )
    test_rows = list(plan["test"][0].index)
    x = penguins.x.copy()
    x.iloc[test_rows[:2], x.columns.get_loc("island")] = "Atlantis"
    out = tmp_path_factory.mktemp("tune_penguins")
    result = run_search(
        "ft_transformer",
        dataclasses.replace(penguins, x=x),
        out_dir=out,
        search_space=SMALL_FT,
        **SEARCH,
    )
    return {"result": result, "out": out, "x": x, "test_rows": test_rows}


def test_a_search_on_a_raw_classification_table(penguins_search, penguins):
    result, out = penguins_search["result"], penguins_search["out"]
    for name in ("tune.json", "trials.csv", "trials.png", "best_model.keras"):
        assert (out / name).is_file(), name
    assert json.loads((out / "tune.json").read_text()) == result
    assert (result["family"], result["task"]) == ("ft_transformer", "classification")
    assert result["objective"] == {"name": "val_accuracy", "direction": "max"}
    assert result["completed_trials"] == 2
    assert result["trials"][0]["hyperparameters"] == result["default_hyperparameters"]
    scores = [t["score"] for t in result["trials"]]
    assert result["best_score"] == max(scores)
    data = result["data"]
    assert data["raw_table"] is True and data["class_names"] == penguins.class_names
    assert data["feature_types"] == penguins.feature_types
    assert data["test_samples"] == len(penguins_search["test_rows"])
    # The saved model is the one scored: its accuracy on the test rows. It is
    # saved uncompiled (no optimizer state to skip when loading).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.saving.load_model(out / "best_model.keras")
    assert not [w for w in caught if "Skipping variable" in str(w.message)]
    assert isinstance(model, TabularModel) and model.task == "classification"
    x_test = penguins_search["x"].iloc[penguins_search["test_rows"]]
    truth = np.asarray(penguins.class_names)[penguins.y[penguins_search["test_rows"]]]
    accuracy = float(np.mean(model.predict_labels(x_test) == truth))
    assert accuracy == pytest.approx(result["test_accuracy"])
    # The planted test-only category was never seen: index 0.
    island = list(model.encoder.feature_types).index("island")
    assert list(model.encode(x_test.iloc[:2])["categorical"][:, island]) == [0, 0]


def test_the_saved_classifier_predicts_raw_rows_with_missing_cells(
    penguins_search, penguins
):
    model = keras.saving.load_model(penguins_search["out"] / "best_model.keras")
    rows = penguins.x.iloc[:3].copy()
    rows.iloc[0, rows.columns.get_loc("bill_length_mm")] = np.nan
    rows.iloc[1, rows.columns.get_loc("sex")] = None
    probabilities = model.predict(rows)
    assert probabilities.shape == (3, 3) and np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert set(model.predict_labels(rows)) <= set(penguins.class_names)


@pytest.fixture(scope="module")
def cars_search(cars, tmp_path_factory):
    out = tmp_path_factory.mktemp("tune_cars")
    result = run_search(
        "tabular_mlp", cars, out_dir=out, search_space=SMALL_MLP, **SEARCH
    )
    plan = _prepare_table(
        "tabular_mlp",
        cars,
        None,
        None,
        test_size=0.2,
        val_size=0.2,
        seed=0,
        standardize=None,
        search_space=None,
    )
    return {"result": result, "out": out, "plan": plan}


def test_a_search_on_a_raw_regression_table(cars_search, cars):
    result, out = cars_search["result"], cars_search["out"]
    for name in ("tune.json", "trials.csv", "trials.png", "best_model.keras"):
        assert (out / name).is_file(), name
    assert (result["family"], result["task"]) == ("tabular_mlp", "regression")
    assert result["objective"] == {"name": "val_loss", "direction": "min"}
    assert result["test_accuracy"] is None
    scores = [t["score"] for t in result["trials"]]
    assert result["best_score"] == min(scores)
    assert result["trials"][0]["hyperparameters"] == result["default_hyperparameters"]
    data = result["data"]
    assert data["num_classes"] is None and data["class_names"] is None
    assert data["train_samples"] + data["val_samples"] + data["test_samples"] == 398
    # The target is standardised with the training part's mean and std.
    plan = cars_search["plan"]
    assert (data["target_mean"], data["target_std"]) == pytest.approx(
        (plan["target_mean"], plan["target_std"])
    )
    np.testing.assert_allclose(plan["fit"][1].mean(), 0.0, atol=1e-5)
    model = keras.saving.load_model(out / "best_model.keras")
    assert isinstance(model, TabularModel) and model.task == "regression"
    x_test, y_test = cars_search["plan"]["test"]
    pred = model.predict(x_test)
    rmse = float(np.sqrt(np.mean((pred - y_test) ** 2)))
    assert rmse == pytest.approx(result["test_rmse"], rel=1e-5)
    assert result["test_rmse"] > 0 and -10 < result["test_r2"] <= 1


def test_the_saved_regressor_predicts_raw_rows_with_missing_and_unseen_cells(
    cars_search, cars
):
    model = keras.saving.load_model(cars_search["out"] / "best_model.keras")
    rows = cars.x.iloc[:4].copy()
    rows.iloc[0, rows.columns.get_loc("Horsepower")] = np.nan
    rows.iloc[1, rows.columns.get_loc("Origin")] = "Mars"
    rows.iloc[2, rows.columns.get_loc("Name")] = None
    values = model.predict(rows)
    assert values.shape == (4,) and np.all(np.isfinite(values))
    # On the target's own scale (miles per gallon), not the standardised one.
    assert 0 < np.mean(values) < 100


@pytest.mark.parametrize(
    "family, dataset, words",
    [
        ("tabular_mlp", "digits", ["tabular_mlp family tunes tables", "images"]),
        ("ft_transformer", "sunspots", ["ft_transformer family", "forecasting"]),
        ("mlp", "penguins", ["The mlp family", "raw classification table"]),
        ("cnn", "cars", ["The cnn family", "raw regression table"]),
        ("mlp", "diabetes", ["The mlp family", "numeric regression table"]),
    ],
)
def test_a_family_given_the_wrong_data_is_refused_before_any_trial(
    family, dataset, words, tmp_path
):
    with pytest.raises(ValueError) as error:
        run_search(family, dataset, out_dir=tmp_path, **SEARCH)
    message = str(error.value)
    assert "\n" not in message and f"{dataset!r}" in message
    for word in words:
        assert word in message
    assert not any(tmp_path.iterdir())  # no trial, no file


def test_tabular_search_space_overrides_and_reserved_names(tmp_path, penguins):
    with pytest.raises(ValueError, match="search_space takes hyperparameters only"):
        run_search("tabular_mlp", penguins, out_dir=tmp_path, search_space={"seed": 1})
    with pytest.raises(ValueError, match="Unknown hyperparameter 'patch_size'"):
        run_search(
            "tabular_mlp", penguins, out_dir=tmp_path, search_space={"patch_size": 2}
        )
    with pytest.raises(ValueError, match="always standardises"):
        run_search("ft_transformer", penguins, out_dir=tmp_path, standardize=False)
