"""compare() on raw tables and regression: folds, metrics, and no leakage."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from kerasdl import data
from kerasdl.baselines import KerasTabularClassifier, compare, make_folds
from kerasdl.data import Dataset

PLANTED = "ZZZ-only-in-the-test-fold"
EXTREME = 1e6


def _raw_table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    num = rng.normal(size=n)
    cat = rng.choice(["a", "b", "c"], size=n).astype(object)
    cat[rng.choice(n, 4, replace=False)] = None
    y = (num + (cat == "a") > 0.3).astype("int64")
    frame = pd.DataFrame({"num": num, "cat": cat})
    return frame, y


def _table_dataset(frame, y, task="classification"):
    return Dataset(
        x=frame,
        y=y,
        name="planted",
        task=task,
        description="a small raw table with a planted test-only category",
        class_names=["no", "yes"] if task == "classification" else None,
        feature_names=list(frame.columns),
        feature_types={"num": "numeric", "cat": "categorical"},
    )


def _fitted_transformers(column_transformer):
    """Every fitted transformer inside a ColumnTransformer (Pipelines opened)."""
    for _, transformer, _ in column_transformer.transformers_:
        steps = transformer.steps if isinstance(transformer, Pipeline) else []
        yield from (step for _, step in steps) if steps else [transformer]


@pytest.fixture(scope="module")
def planted_run():
    """compare on a raw table where fold 0's test rows hold a category and a value
    that no training row of fold 0 has; every fitted model is recorded in order."""
    frame, y = _raw_table()
    test0 = make_folds("classification", y, 3, seed=0)[0][1]
    frame.loc[test0[:2], "cat"] = PLANTED
    frame.loc[test0[:2], "num"] = EXTREME
    fitted = {"pipeline": [], "deep": []}
    pipe_fit, deep_fit = Pipeline.fit, KerasTabularClassifier.fit

    def spy_pipe(self, X, y=None, **kwargs):
        fitted["pipeline"].append((self, len(X)))
        return pipe_fit(self, X, y, **kwargs)

    def spy_deep(self, X, y=None, **kwargs):
        fitted["deep"].append((self, len(X)))
        return deep_fit(self, X, y, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Pipeline, "fit", spy_pipe)
        mp.setattr(KerasTabularClassifier, "fit", spy_deep)
        report = compare(
            _table_dataset(frame, y),
            classical=["logreg", "lightgbm"],
            deep=["mlp"],
            folds=3,
            epochs=3,
            verbose=False,
        )
    return report, fitted, test0


def test_no_statistic_of_a_test_fold_reaches_its_training(planted_run):
    _, fitted, test0 = planted_run
    logreg, lightgbm = fitted["pipeline"][0][0], fitted["pipeline"][3][0]
    assert fitted["pipeline"][0][1] == 60 - len(test0)  # fold 0's training rows
    for pipeline in (logreg, lightgbm):
        parts = list(_fitted_transformers(pipeline.named_steps["preprocess"]))
        encoders = [p for p in parts if hasattr(p, "categories_")]
        assert encoders, parts
        for encoder in encoders:
            for categories in encoder.categories_:
                assert PLANTED not in list(categories)
        for part in parts:
            for attribute in ("statistics_", "mean_"):
                values = getattr(part, attribute, None)
                if values is not None and np.asarray(values).dtype.kind == "f":
                    assert np.all(np.abs(np.asarray(values, dtype=float)) < 100)
    deep = fitted["deep"][0][0]
    config = deep.encoder_.get_config()
    vocabularies = [c.get("vocabulary", []) for c in config["columns"]]
    assert all(PLANTED not in v for v in vocabularies)
    assert np.all(np.abs(config["numeric_mean"]) < 100)
    assert next(c for c in config["columns"] if c["name"] == "num")["median"] < 100


def test_a_fold_that_trained_on_the_planted_rows_did_learn_them(planted_run):
    """Positive control: the same check finds the category where it is allowed."""
    _, fitted, _ = planted_run
    deep_fold1 = fitted["deep"][1][0]
    vocabularies = [
        c.get("vocabulary", []) for c in deep_fold1.encoder_.get_config()["columns"]
    ]
    assert any(PLANTED in v for v in vocabularies)


def test_raw_table_report_has_every_metric(planted_run):
    report, _, _ = planted_run
    assert report["task"] == "classification"
    assert report["feature_types"] == {"num": "numeric", "cat": "categorical"}
    for row in report["results"]:
        for metric in ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc"):
            assert 0.0 <= row[f"{metric}_mean"] <= 1.0, (row["model"], metric)
        assert row["log_loss_mean"] > 0
        assert len(row["fold_scores"]) == 3
        assert row["params"] > 0


def test_regression_on_a_raw_table_with_missing_cells(tmp_path):
    cars = data.load_dataset("cars")
    assert cars.is_raw_table and cars.task == "regression"
    report = compare(
        cars,
        classical=["dummy", "ridge", "lightgbm"],
        deep=["mlp"],
        folds=3,
        epochs=5,
        out_dir=tmp_path,
        verbose=False,
    )
    rows = {r["model"]: r for r in report["results"]}
    assert report["metric"] == "rmse"
    assert rows["ridge"]["rmse_mean"] < 0.7 * rows["dummy"]["rmse_mean"]
    assert rows["lightgbm"]["r2_mean"] > 0.7
    assert np.isfinite(rows["mlp"]["rmse_mean"])
    saved = json.loads((tmp_path / "compare.json").read_text())
    assert saved["task"] == "regression"
    assert (tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "errors").exists()  # error analysis is for classes


def test_imbalanced_classes_rank_by_balanced_accuracy():
    frame, y = _raw_table(n=80)
    y = np.where(np.arange(80) < 64, 0, 1)
    report = compare(
        _table_dataset(frame, y),
        classical=["dummy", "logreg"],
        deep=[],
        folds=3,
        verbose=False,
    )
    assert report["metric"] == "balanced_accuracy"
    dummy = next(r for r in report["results"] if r["model"] == "dummy")
    assert dummy["accuracy_mean"] == pytest.approx(0.8, abs=0.02)
    assert dummy["balanced_accuracy_mean"] == pytest.approx(0.5)


def test_learning_curve_for_regression(tmp_path):
    report = compare(
        data.load_diabetes(),
        classical=["ridge"],
        deep=[],
        folds=3,
        learning_curve=True,
        out_dir=tmp_path,
        verbose=False,
    )
    curve = report["learning_curve"]["classical"]
    assert curve["metric"] == "rmse" and curve["model"] == "ridge"
    assert len(curve["rmse_mean"]) == len(curve["train_sizes"]) >= 3
    assert (tmp_path / "learning_curve.png").exists()


def test_grouped_folds_from_the_dataset(tmp_path):
    frame, y = _raw_table(n=60)
    ds = _table_dataset(frame, y)
    ds.extra["groups"] = np.repeat(np.arange(12), 5)
    report = compare(ds, classical=["logreg"], deep=[], folds=3, verbose=False)
    assert report["grouped"] is True


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"metric": "rmse"}, "metric 'rmse' is not a classification metric"),
        ({"deep": ["cnn"]}, "deep model 'cnn' accepts image inputs"),
        ({"tuned": ["mlp"]}, "tuned='mlp' searches classifiers on numeric arrays"),
        ({"groups": [0, 1] * 30, "folds": 3}, "at least 3 distinct groups"),
    ],
)
def test_bad_arguments_fail_before_training(kwargs, message, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("a model was trained before the input was checked")

    monkeypatch.setattr(Pipeline, "fit", no_fit)
    frame, y = _raw_table()
    kwargs = {"classical": ["logreg"], "deep": [], "folds": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        compare(_table_dataset(frame, y), verbose=False, **kwargs)


def test_a_registered_numeric_classifier_refuses_a_regression():
    from kerasdl.models.registry import ModelSpec, get_model_spec, register_model

    spec = get_model_spec("mlp")
    register_model(
        ModelSpec(
            name="numeric_mlp_for_test",
            builder=spec.builder,
            inputs=("tabular",),
            description="the registry MLP under another name",
            builder_kwargs=spec.builder_kwargs,
        ),
        overwrite=True,
    )
    with pytest.raises(ValueError, match="is a classifier for numeric arrays.*a regr"):
        compare(
            data.load_diabetes(), classical=[], deep=["numeric_mlp_for_test"], folds=2
        )
