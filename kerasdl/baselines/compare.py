"""Classical ML or deep learning? Every model scored on the same stratified k folds."""

from __future__ import annotations

import json
import numbers
import sys
import time
from pathlib import Path

import keras
import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from kerasdl._checks import check_int
from kerasdl.baselines.classical import (
    CLASSICAL_MODELS,
    count_parameters,
    make_classical,
)
from kerasdl.baselines.keras_classifier import make_deep_estimator
from kerasdl.data.dataset import Dataset, check_xy
from kerasdl.data.splits import stratified_kfold
from kerasdl.models.registry import get_model_spec

DEFAULT_DEEP = {"image": ("mlp", "cnn"), "tabular": ("mlp",)}
LEARNING_CURVE_FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def _log(message: str, verbose: bool) -> None:
    if verbose:
        print(message, file=sys.stderr, flush=True)


def _input_kind(dataset: Dataset) -> str:
    return "image" if dataset.is_image else "tabular"


def _as_names(names) -> tuple[str, ...]:
    """One name or a sequence of names, as a tuple."""
    return (names,) if isinstance(names, str) else tuple(names)


def _make_estimators(dataset, classical, deep, seed, epochs, tuned=(), tuning=None):
    kind = _input_kind(dataset)
    classical = CLASSICAL_MODELS if classical is None else _as_names(classical)
    deep = DEFAULT_DEEP[kind] if deep is None else _as_names(deep)
    estimators = []
    for name in classical:
        estimators.append((name, "classical", make_classical(name, random_state=seed)))
    for name in deep:
        spec = get_model_spec(name)
        if kind not in spec.inputs:
            raise ValueError(
                f"deep model {name!r} accepts {'/'.join(spec.inputs)} inputs; dataset "
                f"{dataset.name!r} is {kind}."
            )
        estimator = make_deep_estimator(
            name, dataset.x.shape[1:], epochs=epochs, seed=seed
        )
        estimators.append((name, "deep", estimator))
    for family in _as_names(tuned or ()):
        from kerasdl.baselines.tuned import TunedClassifier
        from kerasdl.hypermodels import TUNERS
        from kerasdl.hypermodels.registry import check_family

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
    if dataset.task != "classification":
        raise ValueError(
            f"compare needs a classification dataset; {dataset.name!r} is a "
            f"{dataset.task} dataset."
        )
    x, y = check_xy(dataset.x, dataset.y, name_x="dataset.x", name_y="dataset.y")
    if len(np.unique(y)) < 2:
        raise ValueError(
            f"dataset.y must hold at least 2 classes; received {len(np.unique(y))}."
        )
    if isinstance(folds, bool) or not isinstance(folds, numbers.Integral) or folds < 2:
        raise ValueError(f"folds must be an integer >= 2; received {folds!r}.")
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
    return x.reshape(len(x), -1).astype("float32"), y


def _score_folds(estimator, x, y, splits, name, kind, verbose):
    """Fit and score one estimator on every fold.

    Returns the result row and the out-of-fold predictions (labels, and class
    probabilities when the estimator has `predict_proba`) for error analysis.
    """
    accuracies, f1s, fit_times, predict_ms = [], [], [], []
    fitted = None
    fold_hyperparameters = []
    oof_pred = np.empty_like(y)
    oof_proba = None
    for i, (train, test) in enumerate(splits, start=1):
        model = clone(estimator)
        start = time.perf_counter()
        model.fit(x[train], y[train])
        fit_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(x[test])
            pred = model.classes_[np.argmax(proba, axis=1)]
        else:
            proba, pred = None, model.predict(x[test])
        predict_ms.append((time.perf_counter() - start) * 1000 / len(test))
        oof_pred[test] = pred
        if proba is not None and proba.shape[1] == len(np.unique(y)):
            if oof_proba is None:
                oof_proba = np.zeros((len(y), proba.shape[1]), dtype="float32")
            oof_proba[test] = proba
        accuracies.append(accuracy_score(y[test], pred))
        f1s.append(f1_score(y[test], pred, average="macro"))
        if kind == "deep":
            _log(
                f"    {name} fold {i}/{len(splits)}: accuracy {accuracies[-1]:.4f} "
                f"({fit_times[-1]:.1f} s)",
                verbose,
            )
        fitted = model
        if hasattr(model, "best_hyperparameters_"):
            fold_hyperparameters.append(model.best_hyperparameters_)
    row = {
        "model": name,
        "kind": kind,
        "accuracy_mean": float(np.mean(accuracies)),
        "accuracy_std": float(np.std(accuracies)),
        "f1_macro_mean": float(np.mean(f1s)),
        "f1_macro_std": float(np.std(f1s)),
        "fit_seconds": float(np.mean(fit_times)),
        "predict_ms_per_sample": float(np.mean(predict_ms)),
        "params": count_parameters(fitted),
        "fold_accuracies": [float(a) for a in accuracies],
    }
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
    out_dir: str | Path | None = None,
    learning_curve: bool = False,
    tuned=None,
    tuned_trials: int = 5,
    tuned_epochs: int = 20,
    tuner: str = "random",
    verbose: bool = True,
) -> dict:
    """Score classical and deep classifiers on the same stratified k folds.

    Every model sees exactly the same folds; scaling (where a model uses it) is fitted
    inside each training fold, never on the test fold.

    Args:
        dataset: A classification `kerasdl.data.Dataset` (images or tabular).
        classical: Names from `CLASSICAL_MODELS` (default: all five).
        deep: Registered deep models (default: `mlp` and `cnn` for images, `mlp` for
            tabular data).
        folds: Number of stratified folds (≤ the smallest class's size).
        seed: Seed for the folds, the classical models and the deep models.
        epochs: Override the deep models' default number of epochs.
        out_dir: Where `compare.json` and `compare.png` go (not written when `None`).
        learning_curve: Also measure accuracy against training-set size for the best
            classical and the best deep model (`learning_curve.{json,png}`).
        tuned: HyperModel families (e.g. `"cnn"`) to add as `<family>-tuned`: in
            every fold a Keras Tuner search (`tuner`, `tuned_trials` trials of
            `tuned_epochs` epochs) runs on that fold's training part only, its
            validation split taken from it, and the best configuration is then
            trained on the whole training part (nested cross-validation: the
            test fold is never seen by the search). Each fold's choice is in
            the row's `fold_best_hyperparameters`.
        tuned_trials, tuned_epochs, tuner: The tuning budget per fold.
        verbose: Print progress to stderr.

    Returns:
        The `compare.json` content: `{"dataset", "folds", "backend", "seed",
        "results": [...]}` with one entry per model.
    """
    x, y = _check_dataset(dataset, folds)
    folds = int(folds)
    if out_dir is not None:
        out_dir = _prepare_out_dir(out_dir)
    splits = stratified_kfold(y, n_splits=folds, seed=seed)
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
    for i, (name, kind, estimator) in enumerate(estimators, start=1):
        _log(f"[{i}/{len(estimators)}] {name} ({kind}), {folds} folds ...", verbose)
        row, oof[name] = _score_folds(estimator, x, y, splits, name, kind, verbose)
        _log(
            f"    {name}: accuracy {row['accuracy_mean']:.4f} "
            f"± {row['accuracy_std']:.4f}"
            f", fit {row['fit_seconds']:.2f} s/fold",
            verbose,
        )
        results.append(row)
    report = {
        "dataset": dataset.name,
        "folds": folds,
        "backend": keras.backend.backend(),
        "seed": seed,
        "n_samples": int(len(y)),
        "results": results,
    }
    if tuned:
        report["tuning_budget"] = {
            "tuner": tuner,
            "trials_per_fold": tuned_trials,
            "epochs_per_trial": tuned_epochs,
            "searched_on": "each fold's training part only",
        }
    if learning_curve:
        report["learning_curve"] = measure_learning_curve(
            x, y, splits, results, dict((n, e) for n, _, e in estimators), verbose
        )
    if out_dir is not None:
        report["error_analysis"] = _write_error_analysis(
            dataset, y, results, oof, out_dir
        )
        write_report(report, out_dir)
    return report


def _write_error_analysis(dataset, y, results, oof, out_dir) -> dict:
    """Confusion matrix, per-class table and confident mistakes (images) of the
    best classical and the best deep model, from their out-of-fold predictions."""
    from kerasdl.evaluation import error_analysis

    written = {}
    for kind in ("classical", "deep"):
        best = best_by_kind(results, kind)
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


def best_by_kind(results: list[dict], kind: str) -> dict | None:
    """The row with the highest mean accuracy among models of `kind`."""
    rows = [r for r in results if r["kind"] == kind]
    return max(rows, key=lambda r: r["accuracy_mean"]) if rows else None


def measure_learning_curve(x, y, splits, results, estimators, verbose=True) -> dict:
    """Accuracy against training-set size for the best classical and deep models.

    Each training fold is subsampled (stratified, seeded) to a fraction of its size;
    the model is scored on the full test fold; scores are averaged over folds.
    """
    curves = {}
    n_classes = len(np.unique(y))
    for kind in ("classical", "deep"):
        best = best_by_kind(results, kind)
        if best is None:
            continue
        sizes, means, stds = [], [], []
        for fraction in LEARNING_CURVE_FRACTIONS:
            scores, n_train = [], []
            for fold, (train, test) in enumerate(splits):
                if fraction < 1.0:
                    if int(fraction * len(train)) < 2 * n_classes:
                        continue
                    train, _ = train_test_split(
                        train, train_size=fraction, stratify=y[train], random_state=fold
                    )
                model = clone(estimators[best["model"]])
                model.fit(x[train], y[train])
                scores.append(accuracy_score(y[test], model.predict(x[test])))
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
            "train_sizes": sizes,
            "accuracy_mean": means,
            "accuracy_std": stds,
        }
    return curves


def format_table(report: dict) -> str:
    """The results as an aligned text table, best accuracy first."""
    header = (
        "model",
        "kind",
        "accuracy",
        "macro-F1",
        "fit s/fold",
        "ms/sample",
        "params",
    )
    rows = []
    for r in sorted(report["results"], key=lambda r: -r["accuracy_mean"]):
        rows.append(
            (
                r["model"],
                r["kind"],
                f"{r['accuracy_mean']:.4f} ± {r['accuracy_std']:.4f}",
                f"{r['f1_macro_mean']:.4f}",
                f"{r['fit_seconds']:.2f}",
                f"{r['predict_ms_per_sample']:.4f}",
                "-" if r["params"] is None else f"{r['params']:,}",
            )
        )
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = [
        f"{report['dataset']}: {report['folds']}-fold stratified CV, "
        f"{report['n_samples']} samples, backend {report['backend']}",
        "  ".join(h.ljust(w) for h, w in zip(header, widths)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def write_report(report: dict, out_dir: str | Path) -> dict:
    """Write `compare.json`, `compare.png` (and the learning curve) into `out_dir`."""
    from kerasdl.baselines.plots import plot_compare_bars, plot_learning_curve

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "compare.json"}
    paths["json"].write_text(json.dumps(report, indent=2))
    paths["png"] = plot_compare_bars(report, out / "compare.png")
    if "learning_curve" in report:
        (out / "learning_curve.json").write_text(
            json.dumps(report["learning_curve"], indent=2)
        )
        paths["learning_curve"] = plot_learning_curve(
            report["learning_curve"],
            out / "learning_curve.png",
            title=report["dataset"],
        )
    return paths
