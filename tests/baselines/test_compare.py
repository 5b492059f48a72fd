"""compare(): classical and deep models scored on the same stratified folds."""

import json

import keras
import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline

from kerasdl import data
from kerasdl.baselines import (
    KerasTabularClassifier,
    best_by_kind,
    compare,
    format_table,
    make_classical,
    write_report,
)
from kerasdl.data import Dataset

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROW_KEYS = {
    "model",
    "kind",
    "accuracy_mean",
    "accuracy_std",
    "f1_macro_mean",
    "fit_seconds",
    "predict_ms_per_sample",
    "params",
}


@pytest.fixture(scope="module")
def iris():
    return data.load_iris()


def _fingerprint(x) -> tuple:
    """Order-free identity of a set of rows (iris has duplicates: keep counts)."""
    rows = np.ascontiguousarray(np.asarray(x, dtype="float32"))
    return (len(rows), tuple(sorted(r.tobytes() for r in rows)))


@pytest.fixture(scope="module")
def iris_run(iris, tmp_path_factory):
    """One real compare on iris (3 folds, 2 classical + the mlp, 2 epochs), with
    every Pipeline.fit / Pipeline.predict(_proba) call recorded (which rows each
    model was trained and tested on). All three models have predict_proba, which
    compare prefers (it keeps the probabilities for the error analysis)."""
    out = tmp_path_factory.mktemp("compare") / "iris"
    calls = {"fit": [], "predict": []}
    fit, predict, proba = Pipeline.fit, Pipeline.predict, Pipeline.predict_proba

    def spy_fit(self, X, y=None, **kwargs):
        if is_classifier(self):  # not the wrapper's own target-encoding pipeline
            calls["fit"].append(_fingerprint(X))
        return fit(self, X, y, **kwargs)

    def spy_predict(self, X, **kwargs):
        if is_classifier(self):
            calls["predict"].append(_fingerprint(X))
        return predict(self, X, **kwargs)

    def spy_proba(self, X, **kwargs):
        if is_classifier(self):
            calls["predict"].append(_fingerprint(X))
        return proba.__get__(self)(X, **kwargs)

    tabular = KerasTabularClassifier
    tab_fit, tab_proba = tabular.fit, tabular.predict_proba

    def spy_tab_fit(self, X, y=None, **kwargs):
        calls["fit"].append(_fingerprint(X))
        return tab_fit(self, X, y, **kwargs)

    def spy_tab_proba(self, X, **kwargs):
        calls["predict"].append(_fingerprint(X))
        return tab_proba(self, X, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Pipeline, "fit", spy_fit)
        mp.setattr(Pipeline, "predict", spy_predict)
        mp.setattr(Pipeline, "predict_proba", spy_proba)
        mp.setattr(tabular, "fit", spy_tab_fit)
        mp.setattr(tabular, "predict_proba", spy_tab_proba)
        report = compare(
            iris,
            classical=["logreg", "knn"],
            deep=["mlp"],
            folds=3,
            epochs=2,
            out_dir=out,
            verbose=False,
        )
    return report, out, calls


def test_report_schema(iris_run):
    report, _, _ = iris_run
    assert report["dataset"] == "iris"
    assert report["folds"] == 3
    assert report["backend"] == keras.backend.backend()
    assert report["seed"] == 0
    assert report["n_samples"] == 150
    assert [r["model"] for r in report["results"]] == ["logreg", "knn", "mlp"]
    assert [r["kind"] for r in report["results"]] == ["classical"] * 2 + ["deep"]
    for row in report["results"]:
        assert ROW_KEYS <= set(row), ROW_KEYS - set(row)


def test_report_values_are_sensible(iris_run):
    report, _, _ = iris_run
    rows = {r["model"]: r for r in report["results"]}
    for row in rows.values():
        assert 0.0 <= row["accuracy_mean"] <= 1.0
        assert 0.0 <= row["accuracy_std"] <= 0.5
        assert 0.0 <= row["f1_macro_mean"] <= 1.0
        assert row["fit_seconds"] > 0
        assert row["predict_ms_per_sample"] > 0
        assert isinstance(row["params"], int) and row["params"] > 0
        assert row["accuracy_mean"] == pytest.approx(np.mean(row["fold_accuracies"]))
        assert row["accuracy_std"] == pytest.approx(np.std(row["fold_accuracies"]))
    assert rows["logreg"]["accuracy_mean"] > 0.9
    assert rows["knn"]["accuracy_mean"] > 0.9
    assert rows["mlp"]["accuracy_mean"] > 0.6  # 2 epochs; chance is 1/3
    assert rows["logreg"]["params"] == 3 * 4 + 3
    assert rows["knn"]["params"] == 100 * 4  # 2 of 3 folds of 150 samples, stored
    assert rows["mlp"]["params"] > 60_000  # TabularMLP: two 256-wide layers


def test_every_model_sees_the_same_folds(iris_run, iris):
    _, _, calls = iris_run
    # Each test fold is predicted twice: a warm-up call, then the timed call.
    fits, predicts = calls["fit"], calls["predict"]
    assert len(fits) == 3 * 3 and len(predicts) == 2 * 3 * 3  # 3 models x 3 folds
    assert predicts[::2] == predicts[1::2]
    predicts = predicts[::2]
    per_model_fit = [fits[i : i + 3] for i in (0, 3, 6)]
    per_model_test = [predicts[i : i + 3] for i in (0, 3, 6)]
    assert per_model_fit[0] == per_model_fit[1] == per_model_fit[2]
    assert per_model_test[0] == per_model_test[1] == per_model_test[2]
    # The test folds partition the data and each training set is its complement.
    assert sorted(n for n, _ in per_model_test[0]) == [50, 50, 50]
    everything = sorted(np.ascontiguousarray(iris.x).view("V16").ravel().tolist())
    tested = sorted(r for _, rows in per_model_test[0] for r in rows)
    assert tested == everything
    for (n_train, _), (n_test, _) in zip(per_model_fit[0], per_model_test[0]):
        assert n_train + n_test == 150


def test_folds_are_the_seeded_stratified_folds(iris_run, iris):
    """The classical rows can be recomputed from `stratified_kfold(y, 3, seed=0)`."""
    report, _, _ = iris_run
    splits = data.stratified_kfold(iris.y, n_splits=3, seed=0)
    for row in report["results"][:2]:
        expected = []
        for train, test in splits:
            model = make_classical(row["model"]).fit(iris.x[train], iris.y[train])
            expected.append(accuracy_score(iris.y[test], model.predict(iris.x[test])))
        assert row["fold_accuracies"] == pytest.approx(expected, abs=1e-12)


def test_deterministic_model_twice_gives_identical_folds(iris):
    kwargs = dict(classical=["logreg", "svm"], deep=[], folds=3, verbose=False)
    first, second = compare(iris, **kwargs), compare(iris, **kwargs)
    for a, b in zip(first["results"], second["results"]):
        assert a["fold_accuracies"] == b["fold_accuracies"]
        assert len(a["fold_accuracies"]) == 3
    other_seed = compare(iris, seed=1, **kwargs)
    assert other_seed["seed"] == 1
    assert [r["fold_accuracies"] for r in other_seed["results"]] != [
        r["fold_accuracies"] for r in first["results"]
    ]


def test_out_dir_holds_json_equal_to_the_report_and_a_png(iris_run):
    report, out, _ = iris_run
    with open(out / "compare.json") as f:
        assert json.load(f) == report
    assert (out / "compare.png").read_bytes()[:8] == PNG_SIGNATURE
    assert not (out / "learning_curve.json").exists()


def test_format_table_names_every_model_best_first(iris_run):
    report, _, _ = iris_run
    table = format_table(report)
    lines = table.splitlines()
    assert "iris" in lines[0] and "3-fold" in lines[0]
    assert keras.backend.backend() in lines[0]
    assert lines[1].split()[:2] == ["model", "kind"]
    body = [line.split()[0] for line in lines[3:]]
    assert sorted(body) == ["knn", "logreg", "mlp"]
    accuracies = {r["model"]: r["accuracy_mean"] for r in report["results"]}
    assert [accuracies[m] for m in body] == sorted(accuracies.values(), reverse=True)


def test_format_table_and_best_by_kind_on_a_hand_made_report():
    row = dict(accuracy_std=0.0, f1_macro_mean=0.5, fit_seconds=0.1)
    row.update(predict_ms_per_sample=0.01)
    report = {
        "dataset": "toy",
        "folds": 2,
        "n_samples": 10,
        "backend": "none",
        "results": [
            dict(row, model="a", kind="classical", accuracy_mean=0.5, params=None),
            dict(row, model="b", kind="classical", accuracy_mean=0.7, params=1234),
            dict(row, model="c", kind="deep", accuracy_mean=0.6, params=10),
        ],
    }
    lines = format_table(report).splitlines()
    assert [line.split()[0] for line in lines[3:]] == ["b", "c", "a"]
    assert "1,234" in lines[3] and lines[5].rstrip().endswith("-")
    assert best_by_kind(report["results"], "classical")["model"] == "b"
    assert best_by_kind(report["results"], "deep")["model"] == "c"
    assert best_by_kind(report["results"][:2], "deep") is None


def test_learning_curve_files_and_increasing_sizes(iris, tmp_path):
    report = compare(
        iris,
        classical=["logreg", "knn"],
        deep=[],
        folds=3,
        learning_curve=True,
        out_dir=tmp_path,
        verbose=False,
    )
    curves = report["learning_curve"]
    assert set(curves) == {"classical"}  # no deep model was compared
    best = best_by_kind(report["results"], "classical")["model"]
    curve = curves["classical"]
    assert curve["model"] == best
    sizes = curve["train_sizes"]
    assert sizes == sorted(set(sizes)) and len(sizes) == 4
    assert sizes[-1] == 100  # the full training fold
    assert sizes[0] == 10  # 10 % of it
    assert len(curve["accuracy_mean"]) == len(curve["accuracy_std"]) == 4
    assert all(0 <= a <= 1 for a in curve["accuracy_mean"])
    assert curve["accuracy_mean"][-1] == pytest.approx(
        next(r for r in report["results"] if r["model"] == best)["accuracy_mean"]
    )
    with open(tmp_path / "learning_curve.json") as f:
        assert json.load(f) == curves
    assert (tmp_path / "learning_curve.png").read_bytes()[:8] == PNG_SIGNATURE
    with open(tmp_path / "compare.json") as f:
        assert json.load(f)["learning_curve"] == curves


def test_write_report_creates_the_folder(iris_run, tmp_path):
    report, _, _ = iris_run
    paths = write_report(report, tmp_path / "a" / "b")
    assert paths["json"] == tmp_path / "a" / "b" / "compare.json"
    assert paths["png"].read_bytes()[:8] == PNG_SIGNATURE


def test_image_dataset_is_flattened_for_classical_models():
    digits = data.load_digits()
    subset = Dataset(
        x=digits.x[:300],
        y=digits.y[:300],
        name="digits300",
        task="classification",
        description="first 300 digits",
    )
    report = compare(subset, classical=["logreg"], deep=[], folds=2, verbose=False)
    (row,) = report["results"]
    assert row["accuracy_mean"] > 0.85
    assert row["params"] == 10 * 64 + 10


def test_progress_goes_to_stderr_only(iris, capsys):
    compare(iris, classical=["logreg"], deep=[], folds=2, verbose=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "logreg" in captured.err
    compare(iris, classical=["logreg"], deep=[], folds=2, verbose=False)
    assert capsys.readouterr().err == ""


# --- bad input -------------------------------------------------------------------


def _tiny(x=None, y=None, **kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3)).astype("float32") if x is None else x
    y = np.arange(12) % 2 if y is None else y
    return Dataset(
        x=x, y=y, name="tiny", task="classification", description="", **kwargs
    )


def test_regression_dataset_is_scored_with_regression_metrics():
    report = compare(
        data.load_diabetes(),
        classical=["dummy", "ridge"],
        deep=[],
        folds=3,
        verbose=False,
    )
    assert report["task"] == "regression" and report["metric"] == "rmse"
    rows = {r["model"]: r for r in report["results"]}
    for row in rows.values():
        assert {"rmse_mean", "rmse_std", "mae_mean", "r2_mean"} <= set(row)
        assert "accuracy_mean" not in row and "fold_accuracies" not in row
    assert rows["ridge"]["rmse_mean"] < rows["dummy"]["rmse_mean"]
    assert abs(rows["dummy"]["r2_mean"]) < 0.1  # the mean explains nothing


@pytest.mark.parametrize("folds", [1, 0, -2, 2.0, "3", None])
def test_bad_folds_are_rejected(iris, folds):
    with pytest.raises(ValueError, match="folds must be an integer >= 2; received"):
        compare(iris, classical=["logreg"], deep=[], folds=folds)


def test_numpy_integer_folds_are_accepted(iris):
    report = compare(iris, classical=["logreg"], deep=[], folds=np.int64(2))
    assert report["folds"] == 2


def test_more_folds_than_the_smallest_class(iris):
    with pytest.raises(ValueError, match="60") as info:
        compare(iris, classical=["logreg"], deep=[], folds=60)
    assert "smallest class" in str(info.value)
    assert "50 member" in str(info.value)


def test_more_folds_than_the_smallest_class_names_folds(iris):
    with pytest.raises(ValueError, match="folds"):
        compare(iris, classical=["logreg"], deep=[], folds=60)


def test_image_only_deep_model_on_tabular_data(iris):
    with pytest.raises(ValueError, match="'cnn'.*tabular"):
        compare(iris, classical=[], deep=["cnn"], folds=2)


def test_unknown_classical_name(iris):
    with pytest.raises(ValueError, match="'catboost'.*logreg"):
        compare(iris, classical=["logreg", "catboost"], deep=[], folds=2)


def test_unknown_deep_name(iris):
    with pytest.raises(ValueError, match="'transformer9'.*mlp"):
        compare(iris, classical=[], deep=["transformer9"], folds=2)


def test_a_single_name_as_a_string(iris):
    try:
        report = compare(iris, classical="logreg", deep=[], folds=2, verbose=False)
    except ValueError as error:
        assert "'logreg'" in str(error) and "classical" in str(error)
    else:
        assert [r["model"] for r in report["results"]] == ["logreg"]


def test_both_lists_empty(iris):
    with pytest.raises(ValueError, match="Nothing to compare"):
        compare(iris, classical=[], deep=[], folds=2)


def test_invalid_epochs_fail_before_any_training(iris, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("a model was trained before the input was checked")

    monkeypatch.setattr(Pipeline, "fit", no_fit)
    with pytest.raises(ValueError, match="epochs must be >= 1; received 0"):
        compare(iris, classical=["logreg"], deep=["mlp"], folds=2, epochs=0)
    with pytest.raises(ValueError, match="'nope'"):
        compare(iris, classical=["logreg"], deep=["mlp", "nope"], folds=2)


def test_nan_in_x():
    x = np.random.default_rng(0).normal(size=(12, 3)).astype("float32")
    x[4, 1] = np.nan
    with pytest.raises(ValueError, match="dataset.x contains 1 NaN"):
        compare(_tiny(x=x), classical=["logreg"], deep=[], folds=2)


def test_single_class():
    with pytest.raises(ValueError, match="at least 2 classes; received 1"):
        compare(_tiny(y=np.zeros(12, dtype="int64")), classical=["logreg"], folds=2)


def test_non_numeric_x():
    x = np.array([["a", "b", "c"]] * 12)
    with pytest.raises(ValueError, match="dataset.x must be numeric"):
        compare(_tiny(x=x), classical=["logreg"], deep=[], folds=2)


def test_not_a_dataset(iris):
    with pytest.raises(ValueError, match="kerasdl.data.Dataset; received tuple"):
        compare((iris.x, iris.y), classical=["logreg"], folds=2)


def test_out_dir_holds_the_error_analysis_of_the_best_models(iris_run):
    report, out, _ = iris_run
    best = {r["kind"]: r for r in report["results"]}
    assert set(report["error_analysis"]) == {
        max(
            (r for r in report["results"] if r["kind"] == kind),
            key=lambda r: r["accuracy_mean"],
        )["model"]
        for kind in best
    }
    for folder in report["error_analysis"].values():
        matrix = json.loads((out / folder / "confusion_matrix.json").read_text())
        assert np.sum(matrix["counts"]) == 150  # every sample once, out of fold
        assert (out / folder / "confusion_matrix.png").read_bytes()[:8] == PNG_SIGNATURE
