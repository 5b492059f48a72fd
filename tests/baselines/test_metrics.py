"""The per-task metrics and folds that `compare` reports."""

import numpy as np
import pytest
from sklearn import metrics as skm

from kerasdl.baselines.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    check_metric,
    default_metric,
    is_better,
    make_folds,
    score_predictions,
    sort_key,
    summarize_folds,
    task_metrics,
)


def test_task_metrics_names():
    assert task_metrics("classification") == CLASSIFICATION_METRICS
    assert task_metrics("regression") == REGRESSION_METRICS
    with pytest.raises(ValueError, match="task must be.*received 'forecasting'"):
        task_metrics("forecasting")


def test_default_metric_follows_balance_and_task():
    assert default_metric("classification", [0, 0, 1, 1, 2, 2]) == "accuracy"
    assert default_metric("classification", [0] * 8 + [1] * 2) == "balanced_accuracy"
    assert default_metric("regression", [0.1, 2.0]) == "rmse"


def test_check_metric_names_the_choices():
    assert check_metric("r2", "regression") == "r2"
    with pytest.raises(ValueError, match="metric 'rmse' is not a classification"):
        check_metric("rmse", "classification")


def test_binary_scores_equal_sklearn():
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 20)
    p1 = np.clip(y * 0.6 + rng.uniform(0, 0.4, len(y)), 0, 1)
    proba = np.stack([1 - p1, p1], axis=1)
    pred = (p1 > 0.5).astype(int)
    s = score_predictions(
        "classification", y, pred, proba=proba, model_classes=[0, 1], labels=[0, 1]
    )
    assert s["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert s["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert s["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p1))
    assert s["log_loss"] == pytest.approx(skm.log_loss(y, proba))


def test_multiclass_auc_is_one_vs_rest_and_proba_columns_are_aligned():
    y = np.array([0, 1, 2, 0, 1, 2])
    # The model only saw classes 0 and 2: its columns are [0, 2].
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]] * 2)
    pred = np.array([0, 0, 2] * 2)
    s = score_predictions(
        "classification", y, pred, proba=proba, model_classes=[0, 2], labels=[0, 1, 2]
    )
    full = np.array([[0.9, 0, 0.1], [0.5, 0, 0.5], [0.2, 0, 0.8]] * 2)
    assert s["log_loss"] == pytest.approx(skm.log_loss(y, full, labels=[0, 1, 2]))
    assert s["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, full, multi_class="ovr", labels=[0, 1, 2])
    )


def test_no_probabilities_gives_none_not_a_number():
    s = score_predictions("classification", [0, 1, 1], [0, 1, 0])
    assert s["roc_auc"] is None and s["log_loss"] is None
    summary = summarize_folds("classification", [s, s])
    assert summary["roc_auc_mean"] is None and summary["accuracy_std"] == 0.0


def test_regression_scores():
    y, pred = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    s = score_predictions("regression", y, pred)
    assert s["rmse"] == pytest.approx(np.sqrt(np.mean((y - pred) ** 2)))
    assert s["mae"] == pytest.approx(0.5)
    assert s["r2"] == pytest.approx(skm.r2_score(y, pred))


def test_direction_of_each_metric():
    assert is_better("rmse", 1.0, 2.0) and not is_better("accuracy", 0.5, 0.6)
    rows = [
        {"rmse_mean": 3.0},
        {"rmse_mean": None},
        {"rmse_mean": 1.0},
    ]
    assert [r["rmse_mean"] for r in sorted(rows, key=sort_key("rmse"))] == [
        1.0,
        3.0,
        None,
    ]


def test_regression_folds_cover_every_row_once_and_are_seeded():
    folds = make_folds("regression", np.arange(23.0), 5, seed=1)
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests) == list(range(23))
    again = make_folds("regression", np.arange(23.0), 5, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    other = make_folds("regression", np.arange(23.0), 5, seed=2)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other))


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_grouped_folds_never_split_a_group(task):
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(12), 5)
    y = (
        rng.integers(0, 2, len(groups))
        if task == "classification"
        else rng.normal(size=len(groups))
    )
    for train, test in make_folds(task, y, 3, seed=0, groups=groups):
        assert not set(groups[train]) & set(groups[test])


def test_fold_errors_name_the_argument():
    y = np.arange(10.0)
    with pytest.raises(ValueError, match="folds must be an integer >= 2; received 1"):
        make_folds("regression", y, 1)
    with pytest.raises(ValueError, match="folds=11 is more than the 10 rows"):
        make_folds("regression", y, 11)
    with pytest.raises(ValueError, match="groups must have one value per row"):
        make_folds("regression", y, 2, groups=[1, 2])
    with pytest.raises(ValueError, match="at least 5 distinct groups.*has 2"):
        make_folds("regression", y, 5, groups=[0, 1] * 5)
