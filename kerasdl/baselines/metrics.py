"""The scores `compare` reports, per task, and the folds they are averaged over.

Classification: accuracy, balanced accuracy, macro-F1, ROC-AUC (binary, or
one-vs-rest averaged over the classes) and log loss. Regression: RMSE, MAE and R².
Every model is scored on the *same* folds; a metric that needs probabilities is
`None` for a model without `predict_proba` (the SVM), never a made-up number.
"""

from __future__ import annotations

import numbers

import numpy as np

from kerasdl.data.splits import stratified_kfold

CLASSIFICATION_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "roc_auc",
    "log_loss",
)
REGRESSION_METRICS = ("rmse", "mae", "r2")
#: Metrics where a smaller value is better (the others: larger is better).
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
#: Largest-to-smallest class size ratio above which the default ranking metric is
#: balanced accuracy instead of accuracy.
IMBALANCE_RATIO = 1.5

METRIC_LABELS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "f1_macro": "macro-F1",
    "roc_auc": "ROC-AUC",
    "log_loss": "log loss",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}


def task_metrics(task: str) -> tuple[str, ...]:
    """The metric names reported for `task` ("classification" or "regression")."""
    if task == "classification":
        return CLASSIFICATION_METRICS
    if task == "regression":
        return REGRESSION_METRICS
    raise ValueError(
        f"task must be 'classification' or 'regression'; received {task!r}."
    )


def default_metric(task: str, y) -> str:
    """The ranking metric `compare` uses when none is asked for.

    Balanced accuracy when the classes are imbalanced (largest class more than
    `IMBALANCE_RATIO` times the smallest), accuracy otherwise; RMSE for regression.
    """
    if task == "regression":
        return "rmse"
    _, counts = np.unique(np.asarray(y), return_counts=True)
    imbalanced = counts.max() > IMBALANCE_RATIO * counts.min()
    return "balanced_accuracy" if imbalanced else "accuracy"


def check_metric(metric, task: str) -> str:
    """`metric` if it is reported for `task`; a ValueError naming the choices."""
    names = task_metrics(task)
    if metric not in names:
        raise ValueError(
            f"metric {metric!r} is not a {task} metric; choose one of "
            f"{', '.join(names)}."
        )
    return metric


def is_better(metric: str, a: float, b: float) -> bool:
    """Whether score `a` beats score `b` on `metric`."""
    return a < b if metric in LOWER_IS_BETTER else a > b


def sort_key(metric: str):
    """A key for `sorted(rows, key=...)` putting the best `<metric>_mean` first;
    rows without the metric (None) go last."""

    def key(row):
        value = row.get(f"{metric}_mean")
        if value is None or not np.isfinite(value):
            return (1, 0.0)
        return (0, value if metric in LOWER_IS_BETTER else -value)

    return key


def _aligned_proba(proba, model_classes, labels) -> np.ndarray:
    """Probabilities with one column per label in `labels` (a class the training
    fold lacked gets 0), rows renormalised to sum to 1."""
    proba = np.asarray(proba, dtype="float64")
    out = np.zeros((len(proba), len(labels)))
    index = {label: i for i, label in enumerate(labels)}
    for j, label in enumerate(model_classes):
        out[:, index[label]] = proba[:, j]
    out = np.clip(out, 0.0, None)
    total = out.sum(axis=1, keepdims=True)
    return np.where(total > 0, out / np.where(total > 0, total, 1), 1 / len(labels))


def score_predictions(
    task, y_true, pred, *, proba=None, model_classes=None, labels=None
):
    """Every metric of `task` for one fold.

    Args:
        task: "classification" or "regression".
        y_true, pred: True and predicted labels (or values) of the fold's rows.
        proba: Class probabilities `(n, len(model_classes))`, or None.
        model_classes: The classes the columns of `proba` stand for.
        labels: Every class of the whole dataset (for ROC-AUC and log loss).

    Returns:
        `{metric: float or None}`; probability metrics are None without `proba`,
        and ROC-AUC is None on a fold that holds a single class.
    """
    from sklearn import metrics as skm

    if task == "regression":
        y_true = np.asarray(y_true, dtype="float64")
        pred = np.asarray(pred, dtype="float64").reshape(-1)
        return {
            "rmse": float(np.sqrt(skm.mean_squared_error(y_true, pred))),
            "mae": float(skm.mean_absolute_error(y_true, pred)),
            "r2": float(skm.r2_score(y_true, pred)),
        }
    scores = {
        "accuracy": float(skm.accuracy_score(y_true, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, pred)),
        "f1_macro": float(skm.f1_score(y_true, pred, average="macro")),
        "roc_auc": None,
        "log_loss": None,
    }
    if proba is not None:
        labels = np.unique(y_true) if labels is None else np.asarray(labels)
        aligned = _aligned_proba(proba, model_classes, labels)
        scores["log_loss"] = float(skm.log_loss(y_true, aligned, labels=labels))
        if len(np.unique(y_true)) == len(labels):
            if len(labels) == 2:
                scores["roc_auc"] = float(skm.roc_auc_score(y_true, aligned[:, 1]))
            else:
                scores["roc_auc"] = float(
                    skm.roc_auc_score(y_true, aligned, multi_class="ovr", labels=labels)
                )
    return scores


def summarize_folds(task: str, fold_scores: list[dict]) -> dict:
    """`<metric>_mean` / `<metric>_std` over folds (None when any fold lacks it)."""
    out = {}
    for metric in task_metrics(task):
        values = [s[metric] for s in fold_scores]
        if any(v is None for v in values):
            out[f"{metric}_mean"] = out[f"{metric}_std"] = None
        else:
            out[f"{metric}_mean"] = float(np.mean(values))
            out[f"{metric}_std"] = float(np.std(values))
    return out


def make_folds(task: str, y, n_splits, *, seed: int = 0, groups=None) -> list:
    """Cross-validation folds that fit the task.

    Stratified k-fold for classification, shuffled k-fold for regression; with
    `groups`, no group is split across training and test (`StratifiedGroupKFold`
    for classification, `GroupKFold` for regression).

    Returns:
        A list of `(train_idx, test_idx)` int arrays.

    Raises:
        ValueError: `n_splits` is not an integer >= 2; a class has fewer members
            than folds; `groups` has the wrong length, missing values, or fewer
            distinct groups than folds.
    """
    from sklearn.model_selection import (
        GroupKFold,
        KFold,
        StratifiedGroupKFold,
    )

    if (
        isinstance(n_splits, bool)
        or not isinstance(n_splits, numbers.Integral)
        or n_splits < 2
    ):
        raise ValueError(f"folds must be an integer >= 2; received {n_splits!r}.")
    y = np.asarray(y)
    n_splits = int(n_splits)
    if groups is None:
        if task == "classification":
            return stratified_kfold(y, n_splits=n_splits, seed=seed)
        if n_splits > len(y):
            raise ValueError(
                f"folds={n_splits} is more than the {len(y)} rows of the data."
            )
        kfold = KFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in kfold.split(np.zeros(len(y)))]
    groups = np.asarray(groups)
    if len(groups) != len(y):
        raise ValueError(
            f"groups must have one value per row; received {len(groups)} values "
            f"for {len(y)} rows."
        )
    if groups.dtype.kind in "fc" and np.isnan(groups.astype("float64")).any():
        raise ValueError("groups has missing values; every row needs a group.")
    n_groups = len(np.unique(groups.astype(str)))
    if n_groups < n_splits:
        raise ValueError(
            f"folds={n_splits} needs at least {n_splits} distinct groups; the groups "
            f"column has {n_groups}."
        )
    if task == "classification":
        splitter = StratifiedGroupKFold(
            n_splits=n_splits, shuffle=True, random_state=seed
        )
    else:
        splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y, groups)]
