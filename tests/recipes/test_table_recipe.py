"""`train_tabular` on real tables: penguins (classification, raw columns) and cars
(regression, raw columns) for a few epochs; the saved model predicts raw rows; bad
input fails before training."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from kerasdl.data import Dataset, load_dataset
from kerasdl.recipes.table import is_table, train_tabular

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILES = (
    "model.keras",
    "run.json",
    "metrics.json",
    "history.png",
    "history.json",
    "model_card.md",
)


@pytest.fixture(scope="module")
def penguins_run(tmp_path_factory):
    dataset = load_dataset("penguins")
    out = tmp_path_factory.mktemp("penguins")
    run = train_tabular(dataset, "mlp", out_dir=out, epochs=3, seed=0)
    return dataset, out, run


@pytest.fixture(scope="module")
def cars_run(tmp_path_factory):
    dataset = load_dataset("cars")
    out = tmp_path_factory.mktemp("cars")
    run = train_tabular(dataset, "mlp", out_dir=out, epochs=3, seed=0)
    return dataset, out, run


def test_classification_run_files_and_metrics(penguins_run):
    dataset, out, run = penguins_run
    for name in FILES:
        assert (out / name).is_file(), name
    assert json.loads((out / "run.json").read_text()) == run
    assert run["task"] == "classification" and run["architecture"] == "mlp"
    assert run["status"] == "trained" and run["backend"] == keras.backend.backend()
    assert run["class_names"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert run["feature_types"] == dataset.feature_types
    sizes = run["sizes"]
    assert sizes["train"] + sizes["val"] + sizes["test"] == sizes["all"] == 344
    assert sizes["test"] == len(run["test_rows"]) == 69  # 20%, stratified
    assert run["epochs_run"] == run["metrics"]["epochs_run"] <= 3
    metrics = run["metrics"]
    for key in ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc"):
        assert 0.0 <= metrics[f"test_{key}"] <= 1.0, key
    assert metrics["test_log_loss"] >= 0.0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["test_accuracy"] == metrics["test_accuracy"]
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == run["epochs_run"] and "val_loss" in history
    # The error analysis keeps the class names as strings.
    per_class = json.loads((out / "errors" / "per_class.json").read_text())
    assert [row["class"] for row in per_class["classes"]] == run["class_names"]
    assert per_class["n_samples"] == sizes["test"]
    card = (out / "model_card.md").read_text()
    assert "test_balanced_accuracy" in card and "errors/confusion_matrix.png" in card
    assert "| island | categorical |" in card


def test_saved_classifier_predicts_raw_rows(penguins_run):
    dataset, out, run = penguins_run
    loaded = keras.saving.load_model(out / "model.keras")
    # Its test accuracy is the one reported.
    test = dataset.x.iloc[run["test_rows"]]
    labels = loaded.predict_labels(test)
    truth = np.asarray(run["class_names"])[dataset.y[run["test_rows"]]]
    assert np.mean(labels == truth) == pytest.approx(run["metrics"]["test_accuracy"])
    # Rows read straight from the CSV, plus missing cells and an unseen island.
    rows = pd.read_csv(dataset.extra["path"]).drop(columns="species").head(3)
    odd = {column: np.nan for column in rows.columns}
    odd.update(island="Atlantis", year=2008)
    rows = pd.concat([rows, pd.DataFrame([odd])], ignore_index=True)
    proba = loaded.predict(rows)
    assert proba.shape == (4, 3) and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    predicted = loaded.predict_labels(rows)
    assert predicted.dtype.kind == "U"
    assert set(predicted) <= set(run["class_names"])


def test_regression_run(cars_run):
    dataset, out, run = cars_run
    for name in FILES:
        assert (out / name).is_file(), name
    assert run["task"] == "regression" and run["class_names"] is None
    metrics = run["metrics"]
    assert np.isfinite(metrics["test_rmse"]) and metrics["test_rmse"] > 0
    assert 0 < metrics["test_mae"] <= metrics["test_rmse"]
    assert metrics["test_r2"] <= 1.0
    errors = out / "errors"
    for name in ("residuals.png", "predicted_vs_true.png"):
        assert (errors / name).read_bytes()[:8] == PNG_SIGNATURE, name
    per_range = json.loads((errors / "per_range.json").read_text())
    assert sum(row["count"] for row in per_range["bins"]) == run["sizes"]["test"]
    assert per_range["overall"]["rmse"] == pytest.approx(metrics["test_rmse"])
    assert (errors / "per_range.csv").is_file()
    largest = json.loads((errors / "largest_errors.json").read_text())
    assert len(largest) == 10 and set(e["index"] for e in largest) <= set(
        run["test_rows"]
    )
    assert largest[0]["abs_error"] >= largest[-1]["abs_error"]
    assert "Name" in largest[0]["row"]  # the car's raw row
    # The saved model predicts raw rows, on the target's scale.
    loaded = keras.saving.load_model(out / "model.keras")
    test = dataset.x.iloc[run["test_rows"]]
    pred = loaded.predict(test)
    rmse = np.sqrt(np.mean((dataset.y[run["test_rows"]] - pred) ** 2))
    assert rmse == pytest.approx(metrics["test_rmse"], rel=1e-4)
    card = (out / "model_card.md").read_text()
    assert "| test_rmse |" in card and "RMSE (root mean squared error)" in card
    assert "Errors per range of the true target" in card
    assert "errors/residuals.png" in card


def test_is_table():
    assert is_table(load_dataset("penguins")) and is_table(load_dataset("diabetes"))
    assert not is_table(load_dataset("iris")) and not is_table(load_dataset("digits"))


def _toy(y, task="classification", class_names=("a", "b")):
    x = pd.DataFrame({"c": ["u", "v"] * (len(y) // 2), "n": np.arange(len(y)) * 1.0})
    return Dataset(
        x=x,
        y=np.asarray(y),
        name="toy",
        task=task,
        description="toy",
        class_names=list(class_names) if task == "classification" else None,
        feature_types={"c": "categorical", "n": "numeric"},
    )


@pytest.mark.parametrize(
    "dataset, kwargs, message",
    [
        (_toy([0] * 10), {}, "at least 2 classes; received 1 class ('a')"),
        (_toy([0] * 9 + [1]), {}, "class 'b' of dataset.y has 1 row"),
        (_toy([]), {}, "dataset.x is empty"),
        (_toy([0, 1] * 5), {"architecture": "resnet"}, "architecture='resnet'"),
        (_toy([0, 1] * 5), {"test_size": 1.5}, "test_size=1.5"),
        (_toy([0, 1] * 5), {"epochs": 0}, "epochs=0"),
        (_toy([0, 1] * 5), {"random_state": 3}, "'random_state' itself (from seed=)"),
        (_toy([0, 1] * 5), {"depth": 3}, "Unknown estimator argument(s) ['depth']"),
        (_toy([0, 1] * 5), {"patience": 0}, "`patience` must be an integer >= 1"),
        (
            _toy([0.5, np.nan] * 5, task="regression"),
            {},
            "regression target) has NaN",
        ),
    ],
)
def test_bad_input_fails_before_training(dataset, kwargs, message, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ValueError) as info:
        train_tabular(dataset, out_dir=out, **{"epochs": 1, **kwargs})
    assert message in str(info.value)
    assert not out.exists()
