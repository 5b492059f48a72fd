"""`train_tabular`: the supervised job behind `kerasdl train` on a table.

A table is a raw `DataFrame` (strings, categories, dates, missing cells) or a
numeric array, and the task is classification or regression. Split (seeded;
stratified for classification) → fit a deep tabular estimator
(`KerasTabularClassifier` / `KerasTabularRegressor`, MLP or FT-Transformer; it
fits its encoder on the training part only and stops early on a validation part
of it) → measure once on the untouched test part → write `model.keras` (it
predicts on raw rows), `run.json`, the learning curves (`history.png` +
`history.json`), the final numbers (`metrics.json`), the error analysis
(`errors/`: confusion matrix and per-class table for a classifier, residual
plots and errors per target range for a regressor) and the model card.
"""

from __future__ import annotations

import json
import numbers
import time
from pathlib import Path

import keras
import numpy as np
from sklearn.model_selection import train_test_split

from kerasdl.baselines.keras_tabular import (
    TABULAR_ARCHITECTURES,
    TABULAR_DESCRIPTIONS,
    make_tabular_estimator,
)
from kerasdl.baselines.metrics import score_predictions
from kerasdl.data import Dataset
from kerasdl.data.dataset import TABULAR_TASKS, table_arrays
from kerasdl.evaluation import error_analysis, model_card_from_run, regression_analysis
from kerasdl.recipes.classifier import METRICS_FILE, MODEL_FILE, RUN_FILE, save_history

__all__ = ["ERRORS_DIR", "TABULAR_TASKS", "is_table", "train_tabular"]

ERRORS_DIR = "errors"
#: Estimator parameters `train_tabular` sets itself.
_RESERVED = {
    "task": "the dataset's task",
    "feature_types": "the dataset's feature_types",
    "random_state": "seed=",
    "architecture": "architecture=",
    "name": "architecture=",
}
#: `run.json` config keys taken from the estimator's parameters.
_CONFIG_KEYS = (
    "batch_size",
    "learning_rate",
    "weight_decay",
    "patience",
    "validation_fraction",
    "min_frequency",
    "max_tokens",
    "network_kwargs",
)


def is_table(dataset: Dataset) -> bool:
    """Whether `train_tabular` (not the image/array classifier job) trains on
    `dataset`: a table with column roles, or any regression dataset."""
    if getattr(dataset, "is_raw_table", False):
        return True
    if getattr(dataset.x, "ndim", 0) > 2:
        return False
    return dataset.feature_types is not None or dataset.task == "regression"


# ---------------------------------------------------------------------------
# Checks (all before training)
# ---------------------------------------------------------------------------


def _check_args(architecture, test_size, seed, epochs, estimator_kwargs):
    if not isinstance(architecture, str) or architecture not in TABULAR_ARCHITECTURES:
        raise ValueError(
            f"architecture must be one of {', '.join(TABULAR_ARCHITECTURES)}; "
            f"received architecture={architecture!r}."
        )
    if (
        isinstance(test_size, bool)
        or not isinstance(test_size, numbers.Real)
        or not 0 < test_size < 1
    ):
        raise ValueError(
            "test_size must be a fraction strictly between 0 and 1; received "
            f"test_size={test_size!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; received seed={seed!r}.")
    if epochs is not None and (
        isinstance(epochs, bool)
        or not isinstance(epochs, numbers.Integral)
        or epochs < 1
    ):
        raise ValueError(
            f"epochs must be None or an integer >= 1; received epochs={epochs!r}."
        )
    for key, instead in _RESERVED.items():
        if key in estimator_kwargs:
            raise ValueError(
                f"train_tabular sets {key!r} itself (from {instead}); received "
                f"{key}={estimator_kwargs[key]!r}."
            )


def _rows(x, index):
    return x.iloc[index] if hasattr(x, "iloc") else x[index]


def _split(y, task, test_size, seed):
    """Sorted `(train_rows, test_rows)`: seeded, stratified for classification."""
    rows = np.arange(len(y))
    try:
        train, test = train_test_split(
            rows,
            test_size=test_size,
            random_state=seed,
            stratify=y if task == "classification" else None,
        )
    except ValueError as error:
        raise ValueError(
            f"Cannot split {len(y)} rows with test_size={test_size}"
            + (" stratified by class" if task == "classification" else "")
            + f": {error} Use another test_size or more rows."
        ) from error
    return np.sort(train), np.sort(test)


def _inner_validation_rows(n: int, fraction: float) -> int:
    """Rows the estimator holds out of `n` training rows for early stopping (as
    `KerasTabularClassifier`/`Regressor` split them)."""
    n_val = int(round(n * fraction))
    return 0 if fraction == 0 or n_val < 2 or n - n_val < 2 else n_val


def _make_estimator(architecture, task, feature_types, epochs, seed, kwargs):
    try:
        return make_tabular_estimator(
            architecture,
            task=task,
            feature_types=feature_types,
            epochs=epochs,
            random_state=seed,
            **kwargs,
        )
    except TypeError as error:
        raise ValueError(
            f"Unknown estimator argument(s) {sorted(kwargs)} for train_tabular: "
            f"{error}. See KerasTabularClassifier for the parameters."
        ) from error


def _prepare_out_dir(out_dir) -> tuple[Path, bool]:
    out = Path(out_dir)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(
            "out_dir must be a directory kerasdl can create or write to; received "
            f"{str(out_dir)!r} ({error.strerror or error})."
        ) from error
    return out, created


# ---------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------


def _input_columns(dataset, estimator) -> dict:
    """`{column: role}` of what the model takes: a raw table's encoded columns;
    for a numeric array, its columns in order (named when the dataset names
    them)."""
    roles = dict(estimator.encoder_.feature_types)
    if dataset.is_raw_table:
        return roles
    names = list(dataset.feature_names or ())
    if dataset.feature_types is not None and len(dataset.feature_types) == len(roles):
        return dict(dataset.feature_types)
    if len(names) == len(roles):
        return {str(name): "numeric" for name in names}
    return roles


def _preprocessing(raw: bool, task: str) -> list[str]:
    steps = [
        "raw columns encoded inside the saved model by a TableEncoder fitted on "
        "the training rows only: numbers median-imputed with missing indicators "
        "and standardised, dates split into parts, categories embedded (rare and "
        "unseen ones share one index), text as TF-IDF"
        if raw
        else "a numeric array, standardised inside the saved model with the "
        "training rows' mean and variance"
    ]
    if task == "regression":
        steps.append(
            "target standardised with the training rows' mean and std for "
            "training; predictions are on the target's own scale"
        )
    return steps


def train_tabular(
    dataset: Dataset,
    architecture: str = "mlp",
    *,
    out_dir: str | Path,
    test_size: float = 0.2,
    seed: int = 0,
    epochs: int | None = None,
    **estimator_kwargs,
) -> dict:
    """Train a deep tabular model on a table (classification or regression) and
    evaluate it on a held-out test part.

    Args:
        dataset: A classification or regression `Dataset` whose `x` is a raw
            table (`dataset.is_raw_table`: a `DataFrame`, roles in
            `dataset.feature_types`) or a numeric array `(rows, columns)`.
        architecture: `"mlp"` (`TabularMLP`) or `"ft_transformer"`
            (`FTTransformer`).
        out_dir: Folder for `model.keras` (a `TabularModel`: its `predict` takes
            raw rows, missing cells and unseen categories included), `run.json`,
            `metrics.json`, `history.png` / `history.json` (per-epoch `loss` and
            `val_loss`), `model_card.md` and `errors/` (classification: confusion
            matrix and per-class table; regression: `regression_analysis`).
        test_size: Fraction of the rows held out for testing (seeded; stratified
            by class for classification), used once after training.
        seed: Seed of the split, the weights and the batch order.
        epochs: Maximum epochs (`None`: the estimator's default, 200); early
            stopping on the estimator's inner validation part (a
            `validation_fraction` of the training rows) usually ends sooner.
        **estimator_kwargs: Other parameters of `KerasTabularClassifier` /
            `KerasTabularRegressor` (`batch_size`, `learning_rate`, `patience`,
            `validation_fraction`, `network_kwargs`, ...).

    Returns:
        The `run.json` content: `model` and `architecture` (the architecture
        name), `task`, `status` (`"trained"`, or `"diverged"` when the test
        predictions are not finite: then no metrics, error analysis or card are
        written), `seed`, `dataset` (name, description, `n_train`, `n_val` (the
        inner validation rows), `n_test`, class names, preprocessing), `sizes`,
        `test_rows` (the positions of the test rows in `dataset.x`),
        `feature_types` (the columns the model takes and their roles),
        `class_names` (strings; None for regression), `config`, `train_seconds`,
        `epochs_run`, `backend`, `params`, `metrics` (`test_accuracy`,
        `test_balanced_accuracy`, `test_f1_macro`, `test_log_loss`,
        `test_roc_auc`; or `test_rmse`, `test_mae`, `test_r2`; plus
        `epochs_run`, `final_train_loss`, `best_val_loss`, `measured_on`) and
        `error_analysis`.

    Raises:
        ValueError: Before any training, for a dataset that is not a
            classification or regression table, empty data, a single class or a
            class with one row, a non-finite regression target, an unknown
            `architecture`, a bad `test_size`, `seed` or `epochs`, an estimator
            argument that does not exist or that this function sets itself, or
            an `out_dir` that cannot be created.

    Example:

    ```python
    from kerasdl.data import load_dataset
    run = train_tabular(load_dataset("cars"), "mlp", out_dir="runs/cars", epochs=50)
    run["metrics"]["test_rmse"]
    ```
    """
    _check_args(architecture, test_size, seed, epochs, estimator_kwargs)
    x, y, class_names, feature_types = table_arrays(dataset, job="train_tabular")
    task = dataset.task
    train_rows, test_rows = _split(y, task, test_size, seed)
    x_train, x_test = _rows(x, train_rows), _rows(x, test_rows)
    y_train, y_test = y[train_rows], y[test_rows]
    names = None if class_names is None else np.asarray(class_names, dtype=object)
    target = y_train if names is None else names[y_train]  # strings: saved names
    estimator = _make_estimator(
        architecture, task, feature_types, epochs, int(seed), estimator_kwargs
    )
    out, created = _prepare_out_dir(out_dir)

    start = time.perf_counter()
    try:
        estimator.fit(x_train, target)
    except ValueError:
        if created and not any(out.iterdir()):
            out.rmdir()  # a bad estimator argument: leave nothing behind
        raise
    train_seconds = time.perf_counter() - start
    model = estimator.model_
    model.save(out / MODEL_FILE)
    history = estimator.history_
    save_history(
        history, out, title=f"{architecture} on {dataset.name}: learning curves"
    )

    n_val = _inner_validation_rows(len(train_rows), estimator.validation_fraction)
    data = {
        "name": dataset.name,
        "description": dataset.description,
        "n_train": int(len(train_rows) - n_val),
        "n_val": int(n_val),
        "n_test": int(len(test_rows)),
        "preprocessing": _preprocessing(dataset.is_raw_table, task),
    }
    if dataset.extra.get("target"):
        data["target"] = str(dataset.extra["target"])
    if class_names is not None:
        data["class_names"] = list(class_names)
    params = estimator.get_params()
    config = {
        "architecture": architecture,
        "optimizer": "adamw",
        "epochs": int(params["epochs"]),
        "seed": int(seed),
        "test_size": float(test_size),
        **{key: params[key] for key in _CONFIG_KEYS},
    }
    config["batch_size"] = int(estimator.batch_size_)
    if config["learning_rate"] is None:
        config["learning_rate"] = "the architecture's default (see the model)"
    losses = history.get("loss", [])
    val_losses = [v for v in history.get("val_loss", []) if np.isfinite(v)]
    run = {
        "model": architecture,
        "architecture": architecture,
        "model_description": TABULAR_DESCRIPTIONS[architecture],
        "task": task,
        "status": "trained",
        "seed": int(seed),
        "dataset": data,
        "sizes": {
            "train": data["n_train"],
            "val": data["n_val"],
            "test": data["n_test"],
            "all": int(len(y)),
        },
        "test_rows": [int(i) for i in test_rows],
        "feature_types": _input_columns(dataset, estimator),
        "class_names": None if class_names is None else list(class_names),
        "config": config,
        "train_seconds": round(train_seconds, 2),
        "epochs_run": int(estimator.n_epochs_),
        "backend": keras.backend.backend(),
        "params": int(model.count_params()),
    }

    predictions = model.predict(x_test)
    if not np.all(np.isfinite(predictions)):
        run["status"] = "diverged"
        run["metrics"] = {
            "epochs_run": run["epochs_run"],
            "measured_on": "not measured: the model's predictions are NaN or "
            "infinite (training diverged)",
        }
        (out / RUN_FILE).write_text(json.dumps(run, indent=2))
        return run

    title = f"{architecture} on {dataset.name} (test split)"
    if task == "classification":
        # The estimator's columns are its sorted class names; put them in the
        # dataset's class order.
        proba = np.zeros((len(test_rows), len(class_names)))
        index = {name: i for i, name in enumerate(class_names)}
        for j, name in enumerate(model.class_names):
            proba[:, index[str(name)]] = predictions[:, j]
        pred = proba.argmax(axis=1)
        scores = score_predictions(
            task,
            y_test,
            pred,
            proba=proba,
            model_classes=np.arange(len(class_names)),
            labels=np.arange(len(class_names)),
        )
        error_analysis(
            y_test,
            pred,
            proba=proba,
            class_names=class_names,
            out_dir=out / ERRORS_DIR,
            title=title,
        )
    else:
        pred = np.asarray(predictions, dtype="float64").reshape(-1)
        scores = score_predictions(task, y_test, pred)
        rows = x_test
        if not hasattr(rows, "iloc") and dataset.feature_names:
            import pandas as pd

            rows = pd.DataFrame(x_test, columns=list(dataset.feature_names))
        regression_analysis(
            y_test,
            pred,
            out / ERRORS_DIR,
            index=test_rows,
            rows=rows,
            title=title,
        )
    metrics = {f"test_{name}": value for name, value in scores.items()}
    metrics.update(
        epochs_run=run["epochs_run"],
        final_train_loss=float(losses[-1]) if losses else None,
        best_val_loss=float(min(val_losses)) if val_losses else None,
        measured_on=(
            f"the held-out test split ({len(test_rows)} rows, "
            + ("stratified, " if task == "classification" else "")
            + f"seed {seed}), used once after training"
        ),
    )
    run["metrics"] = metrics
    run["error_analysis"] = {"dir": ERRORS_DIR}
    (out / RUN_FILE).write_text(json.dumps(run, indent=2))
    final_metrics = {
        "model": architecture,
        "architecture": architecture,
        "task": task,
        "dataset": dataset.name,
        **{k: v for k, v in metrics.items() if k.startswith("test_")},
        "best_val_loss": metrics["best_val_loss"],
        "final_train_loss": metrics["final_train_loss"],
        "epochs_run": run["epochs_run"],
        "train_seconds": run["train_seconds"],
        "backend": run["backend"],
        "params": run["params"],
        "n_test": data["n_test"],
        "measured_on": metrics["measured_on"],
    }
    (out / METRICS_FILE).write_text(json.dumps(final_metrics, indent=2))
    model_card_from_run(out)
    return run
