"""Classical ML or deep learning? Every model scored on the same k folds.

Works on images, clean numeric tables and raw tables (strings, missing cells, dates,
free text), for classification and regression. Everything a model learns from the
data, preprocessing included, is fitted inside each training fold only.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
from sklearn.base import clone

from kerasdl._checks import check_int
from kerasdl.baselines.classical import (
    classical_models,
    count_parameters,
    make_classical,
)
from kerasdl.baselines.cv import (
    _log,
    _predict,
    _rows,
)
from kerasdl.baselines.keras_classifier import (
    make_deep_estimator,
    reuse_compiled_models,
)
from kerasdl.baselines.keras_tabular import (
    TABULAR_ARCHITECTURES,
    make_tabular_estimator,
)
from kerasdl.baselines.learning_curve import (
    best_by_kind,
    measure_learning_curve,
)
from kerasdl.baselines.metrics import (
    METRIC_LABELS,
    check_metric,
    default_metric,
    make_folds,
    score_predictions,
    summarize_folds,
    task_metrics,
)
from kerasdl.baselines.report import write_report
from kerasdl.data.dataset import Dataset, check_xy
from kerasdl.models.registry import get_model_spec

DEFAULT_DEEP = {"image": ("mlp", "cnn"), "tabular": ("mlp", "ft_transformer")}
TASKS = ("classification", "regression")


def _input_kind(dataset: Dataset) -> str:
    return "image" if dataset.is_image else "tabular"


def _as_names(names) -> tuple[str, ...]:
    """One name or a sequence of names, as a tuple."""
    return (names,) if isinstance(names, str) else tuple(names)


def _raw_feature_types(dataset: Dataset):
    """The column roles a model must encode itself, or None for numeric arrays."""
    return dataset.feature_types if dataset.is_raw_table else None


def _make_estimators(dataset, classical, deep, seed, epochs, tuned=(), tuning=None):
    kind = _input_kind(dataset)
    task = dataset.task
    feature_types = _raw_feature_types(dataset)
    if epochs is not None and (
        isinstance(epochs, bool)
        or not isinstance(epochs, int | np.integer)
        or epochs < 1
    ):
        raise ValueError(f"epochs must be >= 1; received {epochs!r}.")
    classical = classical_models(task) if classical is None else _as_names(classical)
    deep = DEFAULT_DEEP[kind] if deep is None else _as_names(deep)
    estimators = []
    for name in classical:
        model = make_classical(
            name, task=task, feature_types=feature_types, random_state=seed
        )
        estimators.append((name, "classical", model))
    for name in deep:
        if kind == "tabular" and name in TABULAR_ARCHITECTURES:
            estimator = make_tabular_estimator(
                name,
                task=task,
                feature_types=feature_types,
                epochs=epochs,
                random_state=seed,
            )
            estimators.append((name, "deep", estimator))
            continue
        spec = get_model_spec(name)
        if kind not in spec.inputs:
            raise ValueError(
                f"deep model {name!r} accepts {'/'.join(spec.inputs)} inputs; dataset "
                f"{dataset.name!r} is {kind}."
            )
        if task != "classification" or feature_types is not None:
            what = "a regression" if task != "classification" else "a raw table"
            raise ValueError(
                f"deep model {name!r} is a classifier for numeric arrays; dataset "
                f"{dataset.name!r} is {what}. Use one of "
                f"{', '.join(TABULAR_ARCHITECTURES)}."
            )
        estimator = make_deep_estimator(
            name, dataset.x.shape[1:], epochs=epochs, seed=seed
        )
        estimators.append((name, "deep", estimator))
    for family in _as_names(tuned or ()):
        from kerasdl.baselines.tuned import TunedClassifier
        from kerasdl.hypermodels import TUNERS
        from kerasdl.hypermodels.registry import check_family

        if task != "classification" or feature_types is not None:
            raise ValueError(
                f"tuned={family!r} searches classifiers on numeric arrays; dataset "
                f"{dataset.name!r} is a {task} "
                f"{'raw table' if feature_types is not None else 'dataset'}."
            )
        if tuning["tuner"] not in TUNERS:
            raise ValueError(
                f"Unknown tuner {tuning['tuner']!r}; choose one of {', '.join(TUNERS)}."
            )
        check_int("tuned_trials", tuning["max_trials"])
        check_int("tuned_epochs", tuning["epochs"])

        estimator = TunedClassifier(
            check_family(family),
            input_shape=dataset.x.shape[1:],
            seed=seed,
            **(tuning or {}),
        )
        estimators.append((f"{family}-tuned", "deep", estimator))
    if not estimators:
        raise ValueError("Nothing to compare: classical and deep are both empty.")
    return estimators


def _check_dataset(dataset: Dataset, folds: int):
    if not isinstance(dataset, Dataset):
        raise ValueError(
            "dataset must be a kerasdl.data.Dataset; "
            f"received {type(dataset).__name__}."
        )
    if dataset.task not in TASKS:
        raise ValueError(
            f"compare needs a classification or regression dataset; "
            f"{dataset.name!r} is a {dataset.task} dataset."
        )
    if dataset.is_raw_table:
        x = dataset.x.reset_index(drop=True)
        if len(x) == 0:
            raise ValueError(f"dataset.x is empty; received shape {x.shape}.")
        y = np.asarray(dataset.y)
        if len(y) != len(x):
            raise ValueError(
                f"dataset.x and dataset.y must have the same number of rows; "
                f"received {len(x)} and {len(y)}."
            )
    else:
        x, y = check_xy(dataset.x, dataset.y, name_x="dataset.x", name_y="dataset.y")
        x = x.reshape(len(x), -1).astype("float32")
    if dataset.task == "regression":
        y = y.astype("float64")
        if not np.all(np.isfinite(y)):
            raise ValueError("dataset.y (a regression target) has NaN or inf values.")
        if dataset.is_image:
            raise ValueError(
                "compare scores image datasets as classification only; received a "
                f"regression dataset {dataset.name!r} of images."
            )
        return x, y
    if len(np.unique(y)) < 2:
        raise ValueError(
            f"dataset.y must hold at least 2 classes; received {len(np.unique(y))}."
        )
    if isinstance(folds, int | np.integer) and not isinstance(folds, bool):
        labels, counts = np.unique(y, return_counts=True)
        if folds > counts.min():
            smallest = labels[np.argmin(counts)]
            if dataset.class_names and np.issubdtype(labels.dtype, np.integer):
                smallest = dataset.class_names[int(smallest)]
            raise ValueError(
                f"folds={folds} is more than the smallest class has members: class "
                f"{smallest!r} has only {counts.min()} member(s); use folds <= "
                f"{counts.min()}."
            )
    return x, y


def _score_folds(estimator, x, y, splits, name, kind, task, verbose):
    """Fit and score one estimator on every fold.

    Prediction time is measured on a second `predict` of the test fold, after a
    warm-up call, so it never includes compilation (deep models) or lazy set-up.
    Each fold's estimator is done with before the next fit, so the registry's deep
    models are compiled once and reset between folds (`reuse_compiled_models`).

    Returns the result row and the out-of-fold predictions (labels or values, and
    class probabilities when the estimator has `predict_proba`).
    """
    labels = np.unique(y) if task == "classification" else None
    fold_scores, fit_times, predict_ms = [], [], []
    fitted = None
    fold_hyperparameters = []
    oof_pred = np.empty_like(y)
    oof_proba = None
    with reuse_compiled_models():
        for i, (train, test) in enumerate(splits, start=1):
            model = clone(estimator)
            start = time.perf_counter()
            model.fit(_rows(x, train), y[train])
            fit_times.append(time.perf_counter() - start)
            x_test = _rows(x, test)
            _predict(model, x_test, task)  # warm-up: compilation is not prediction
            start = time.perf_counter()
            pred, proba, classes = _predict(model, x_test, task)
            predict_ms.append((time.perf_counter() - start) * 1000 / len(test))
            oof_pred[test] = pred
            if proba is not None and proba.shape[1] == len(labels):
                if oof_proba is None:
                    oof_proba = np.zeros((len(y), proba.shape[1]), dtype="float32")
                oof_proba[test] = proba
            fold_scores.append(
                score_predictions(
                    task,
                    y[test],
                    pred,
                    proba=proba,
                    model_classes=classes,
                    labels=labels,
                )
            )
            if kind == "deep":
                first = task_metrics(task)[0]
                _log(
                    f"    {name} fold {i}/{len(splits)}: {METRIC_LABELS[first]} "
                    f"{fold_scores[-1][first]:.4f} ({fit_times[-1]:.1f} s)",
                    verbose,
                )
            fitted = model
            if hasattr(model, "best_hyperparameters_"):
                fold_hyperparameters.append(model.best_hyperparameters_)
    row = {"model": name, "kind": kind, **summarize_folds(task, fold_scores)}
    row.update(
        fit_seconds=float(np.mean(fit_times)),
        predict_ms_per_sample=float(np.mean(predict_ms)),
        params=count_parameters(fitted),
        fold_scores=fold_scores,
    )
    if task == "classification":
        row["fold_accuracies"] = [float(s["accuracy"]) for s in fold_scores]
    if fold_hyperparameters:
        row["fold_best_hyperparameters"] = fold_hyperparameters
    return row, (oof_pred, oof_proba)


def compare(
    dataset: Dataset,
    *,
    classical=None,
    deep=None,
    folds: int = 5,
    seed: int = 0,
    epochs: int | None = None,
    metric: str | None = None,
    groups=None,
    out_dir: str | Path | None = None,
    learning_curve: bool = False,
    tuned=None,
    tuned_trials: int = 5,
    tuned_epochs: int = 20,
    tuner: str = "random",
    verbose: bool = True,
) -> dict:
    """Score classical and deep models on the same k folds.

    Every model sees exactly the same folds. Everything fitted to data — scaling,
    imputation, category vocabularies, TF-IDF — is fitted inside each training fold,
    never on the test fold.

    Args:
        dataset: A classification or regression `kerasdl.data.Dataset`: images, a
            numeric table, or a raw table (`dataset.is_raw_table`: strings, missing
            cells, dates, text; see `kerasdl.data.load_table`).
        classical: Names from `classical_models(dataset.task)` (default: all).
        deep: Deep models (default: `mlp` and `cnn` for images, `mlp` and
            `ft_transformer` for tables).
        folds: Number of folds: stratified for classification (≤ the smallest
            class's size), shuffled for regression.
        seed: Seed for the folds, the classical models and the deep models.
        epochs: Override the deep models' (maximum) number of epochs.
        metric: The ranking metric (table order, bar chart, best model). Default:
            balanced accuracy when the classes are imbalanced, accuracy otherwise;
            RMSE for regression. Every metric of the task is reported either way.
        groups: One group label per row (or None; a raw table's
            `dataset.extra["groups"]` is used when present): no group is split
            across a training and a test fold.
        out_dir: Where `compare.json` and `compare.png` go (not written when `None`).
        learning_curve: Also measure the ranking metric against training-set size
            for the best classical and the best deep model (`learning_curve.*`).
        tuned: HyperModel families (e.g. `"cnn"`) to add as `<family>-tuned`: in
            every fold a Keras Tuner search (`tuner`, `tuned_trials` trials of
            `tuned_epochs` epochs) runs on that fold's training part only, its
            validation split taken from it, and the best configuration is then
            trained on the whole training part (nested cross-validation: the
            test fold is never seen by the search). Each fold's choice is in
            the row's `fold_best_hyperparameters`. Numeric classification data only.
        tuned_trials, tuned_epochs, tuner: The tuning budget per fold.
        verbose: Print progress to stderr.

    Returns:
        The `compare.json` content: `{"dataset", "task", "metric", "folds",
        "backend", "seed", "n_samples", "results": [...]}` with one row per model:
        `<metric>_mean` / `<metric>_std` for every metric of the task (None where a
        model cannot give it, e.g. ROC-AUC without probabilities), `fit_seconds`,
        `predict_ms_per_sample` (after a warm-up call), `params`, `fold_scores`.
    """
    x, y = _check_dataset(dataset, folds)
    task = dataset.task
    metric = default_metric(task, y) if metric is None else check_metric(metric, task)
    if groups is None and dataset.is_raw_table:
        groups = dataset.extra.get("groups")
    splits = make_folds(task, y, folds, seed=seed, groups=groups)
    folds = int(folds)
    if out_dir is not None:
        out_dir = _prepare_out_dir(out_dir)
    estimators = _make_estimators(
        dataset,
        classical,
        deep,
        seed,
        epochs,
        tuned=tuned,
        tuning={"tuner": tuner, "max_trials": tuned_trials, "epochs": tuned_epochs},
    )
    results, oof = [], {}
    label = METRIC_LABELS[metric]
    for i, (name, kind, estimator) in enumerate(estimators, start=1):
        _log(f"[{i}/{len(estimators)}] {name} ({kind}), {folds} folds ...", verbose)
        row, oof[name] = _score_folds(
            estimator, x, y, splits, name, kind, task, verbose
        )
        score = row[f"{metric}_mean"]
        shown = "n/a" if score is None else f"{score:.4f} ± {row[f'{metric}_std']:.4f}"
        _log(
            f"    {name}: {label} {shown}, fit {row['fit_seconds']:.2f} s/fold",
            verbose,
        )
        results.append(row)
    report = {
        "dataset": dataset.name,
        "task": task,
        "metric": metric,
        "folds": folds,
        "grouped": groups is not None,
        "backend": keras.backend.backend(),
        "seed": seed,
        "n_samples": int(len(y)),
        "results": results,
    }
    if dataset.feature_types is not None:
        report["feature_types"] = dict(dataset.feature_types)
    if tuned:
        report["tuning_budget"] = {
            "tuner": tuner,
            "trials_per_fold": tuned_trials,
            "epochs_per_trial": tuned_epochs,
            "searched_on": "each fold's training part only",
        }
    if learning_curve:
        report["learning_curve"] = measure_learning_curve(
            x,
            y,
            splits,
            results,
            dict((n, e) for n, _, e in estimators),
            verbose,
            metric=metric,
            task=task,
        )
    if out_dir is not None:
        if task == "classification":
            report["error_analysis"] = _write_error_analysis(
                dataset, y, results, oof, out_dir, metric
            )
        write_report(report, out_dir)
    return report


def _write_error_analysis(dataset, y, results, oof, out_dir, metric) -> dict:
    """Confusion matrix, per-class table and confident mistakes (images) of the
    best classical and the best deep model, from their out-of-fold predictions."""
    from kerasdl.evaluation import error_analysis

    written = {}
    for kind in ("classical", "deep"):
        best = best_by_kind(results, kind, metric)
        if best is None:
            continue
        name = best["model"]
        pred, proba = oof[name]
        error_analysis(
            y,
            pred,
            proba=proba,
            x=dataset.x if dataset.is_image else None,
            class_names=dataset.class_names,
            out_dir=Path(out_dir) / "errors" / name,
            title=f"{name} on {dataset.name} (out-of-fold predictions)",
        )
        written[name] = f"errors/{name}"
    return written


def _prepare_out_dir(out_dir) -> Path:
    """Create `out_dir` before any training, so a bad path fails in seconds."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(
            f"out_dir must be a directory kerasdl can create or write to; received "
            f"{str(out_dir)!r} ({error.strerror or error})."
        ) from error
    return out
