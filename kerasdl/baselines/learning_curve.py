"""The learning curve of the main job: the best classical and the best deep model
scored on growing subsamples of each training fold.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from kerasdl.baselines.cv import _log, _predict, _rows
from kerasdl.baselines.keras_classifier import (
    reuse_compiled_models,
)
from kerasdl.baselines.metrics import (
    score_predictions,
    sort_key,
)

LEARNING_CURVE_FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def best_by_kind(results: list[dict], kind: str, metric: str = "accuracy"):
    """The row of `kind` with the best mean `metric` (None when there is none)."""
    rows = [r for r in results if r["kind"] == kind]
    if not rows:
        return None
    return sorted(rows, key=sort_key(metric))[0]


def measure_learning_curve(
    x,
    y,
    splits,
    results,
    estimators,
    verbose=True,
    *,
    metric="accuracy",
    task="classification",
) -> dict:
    """The ranking metric against training-set size for the best classical and
    deep models.

    Each training fold is subsampled (stratified for classification, seeded) to a
    fraction of its size; the model is scored on the full test fold; scores are
    averaged over folds. Each curve holds `train_sizes`, `<metric>_mean` and
    `<metric>_std`.
    """
    with reuse_compiled_models():  # each fold's model is done with before the next
        return _learning_curves(
            x, y, splits, results, estimators, verbose, metric, task
        )


def _learning_curves(x, y, splits, results, estimators, verbose, metric, task):
    curves = {}
    labels = np.unique(y) if task == "classification" else None
    min_rows = 2 * len(labels) if task == "classification" else 5
    for kind in ("classical", "deep"):
        best = best_by_kind(results, kind, metric)
        if best is None:
            continue
        sizes, means, stds = [], [], []
        for fraction in LEARNING_CURVE_FRACTIONS:
            scores, n_train = [], []
            for fold, (train, test) in enumerate(splits):
                if fraction < 1.0:
                    if int(fraction * len(train)) < min_rows:
                        continue
                    stratify = y[train] if task == "classification" else None
                    train, _ = train_test_split(
                        train,
                        train_size=fraction,
                        stratify=stratify,
                        random_state=fold,
                    )
                model = clone(estimators[best["model"]])
                model.fit(_rows(x, train), y[train])
                pred, proba, classes = _predict(model, _rows(x, test), task)
                fold_score = score_predictions(
                    task,
                    y[test],
                    pred,
                    proba=proba,
                    model_classes=classes,
                    labels=labels,
                )[metric]
                if fold_score is not None:
                    scores.append(fold_score)
                    n_train.append(len(train))
            if scores:
                sizes.append(int(np.mean(n_train)))
                means.append(float(np.mean(scores)))
                stds.append(float(np.std(scores)))
                _log(
                    f"    learning curve {best['model']}: {sizes[-1]} samples -> "
                    f"{means[-1]:.4f}",
                    verbose,
                )
        curves[kind] = {
            "model": best["model"],
            "metric": metric,
            "train_sizes": sizes,
            f"{metric}_mean": means,
            f"{metric}_std": stds,
        }
    return curves
