"""`run_search`: a Keras Tuner search over a kerasdl HyperModel, written to a folder.

The validation part is split from the training data only; when a whole dataset is
given, a test part is held out first and used once, on the best model, after the
search. Keras Tuner keeps its state in `out_dir/<project_name>/` (one folder per
trial plus `oracle.json`), so a search that was interrupted (Ctrl-C, a killed
process) resumes when run again with `overwrite=False`: finished trials are reloaded,
not rerun, and the interrupted trial is run again.

Files written to `out_dir`: `tune.json` (settings, best hyperparameters and score,
every trial), `trials.csv`, `trials.png` (score by trial) and `best_model.keras`.

The tabular families (`tabular_mlp`, `ft_transformer`) search tables: raw ones (a
`DataFrame` with strings, categories, dates and missing cells) or numeric arrays,
for classification (objective `val_accuracy`) or regression (objective `val_loss`,
the mean squared error of the target standardised with the training part's mean
and std). A `TableEncoder` is fitted on the search's training part only (not on
its validation or test rows), and `best_model.keras` is a `TabularModel`: encoder
and network in one file, predicting on raw rows.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import tempfile
import time
import warnings
from pathlib import Path

import keras
import keras_tuner
import numpy as np

from kerasdl import backend as kbackend
from kerasdl._checks import check_float, check_int
from kerasdl.hypermodels.registry import (
    check_family,
    get_hypermodel,
    is_tabular_family,
)
from kerasdl.hypermodels.table_search import (
    _as_dataset,
    _check_classifier_data,
    _finish_table,
    _prepare_table,
    _split,
)
from kerasdl.hypermodels.tuners import (
    HYPERBAND_FACTOR,
    OBJECTIVE,
    _finite,
    _log,
    _model_values,
    check_tuner,
    hyperband_trials,
    make_tuner,
)

TUNE_FILE = "tune.json"
TRIALS_CSV = "trials.csv"
TRIALS_PNG = "trials.png"
BEST_MODEL_FILE = "best_model.keras"
SETTINGS_FILE = "kerasdl_search.json"  # inside the Keras Tuner project folder
DEFAULT_TRIALS = 10  # random and Bayesian search; Hyperband: one full iteration

__all__ = ["run_search", "tune_on_training_data"]


# ---------------------------------------------------------------------------- data


def _load_data(dataset, x, y):
    """(name, x float32, y int64 labels 0..k-1, num_classes, class_names)."""
    from kerasdl.data import Dataset, check_xy, load_dataset

    if x is not None or y is not None:
        if x is None or y is None:
            raise ValueError("Give both `x` and `y` (user data), or neither.")
        if isinstance(dataset, Dataset):
            raise ValueError("Give either a Dataset or `x`/`y`, not both.")
        name = "user" if dataset is None else str(dataset)
        x, y = check_xy(x, y)
        class_names = None
    else:
        data = (
            dataset
            if isinstance(dataset, Dataset)
            else load_dataset("digits" if dataset is None else dataset)
        )
        if data.task != "classification":
            raise ValueError(
                f"Tuning needs a classification dataset; {data.name!r} is a "
                f"{data.task} dataset."
            )
        name, x, y, class_names = data.name, data.x, data.y, data.class_names
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"Expected labels `y` of shape (n,); received {y.shape}.")
    if np.issubdtype(y.dtype, np.integer) and y.min() >= 0:
        num_classes = int(y.max()) + 1
    else:
        labels, y = np.unique(y, return_inverse=True)
        class_names = class_names or [str(v) for v in labels]
        num_classes = len(labels)
    if len(np.unique(y)) < 2:
        raise ValueError("Expected at least 2 classes in `y`; received 1.")
    return name, np.asarray(x, "float32"), y.astype("int64"), num_classes, class_names


def _standardization(x):
    """Per-feature (per-pixel) mean and variance of the training part; constant
    features get variance 1 (they are only centred), as in StandardScaler."""
    mean = x.mean(axis=0)
    variance = x.var(axis=0)
    variance = np.where(variance > 1e-12, variance, 1.0)
    return mean.astype("float32"), variance.astype("float32")


def _make_hypermodel(
    family, x_fit, num_classes, *, standardize, flat_shape, seed, epochs, search_space
):
    """(hypermodel, standardize) with the statistics of `x_fit` if standardizing."""
    reserved = {"flat_input", "num_train_samples", "epochs", "seed", "normalization"}
    clash = sorted(reserved & set(search_space or {}))
    if clash:
        raise ValueError(
            f"search_space takes hyperparameters only; received {clash[0]!r}."
        )
    sample_shape = tuple(flat_shape or x_fit.shape[1:])
    flat_input = flat_shape is not None and tuple(x_fit.shape[1:]) != sample_shape
    common = {
        "flat_input": flat_input,
        "num_train_samples": len(x_fit),
        "epochs": epochs,
        "seed": seed,
        **(search_space or {}),
    }
    probe = get_hypermodel(family, sample_shape, num_classes, **common)
    if standardize is None:
        standardize = bool(probe.default_standardize)
    if not standardize:
        return probe, False
    return (
        get_hypermodel(
            family,
            sample_shape,
            num_classes,
            normalization=_standardization(x_fit),
            **common,
        ),
        True,
    )


def _settings_check(project_dir: Path, settings: dict, overwrite: bool) -> bool:
    """Refuse to resume a project made with other settings; True if resuming."""
    path = project_dir / SETTINGS_FILE
    tuner_state = project_dir / "tuner0.json"
    if overwrite or not tuner_state.exists():
        return False
    if path.exists():
        saved = json.loads(path.read_text())
        current = json.loads(json.dumps(settings))
        changed = [k for k in current if saved.get(k) != current[k]]
        if changed:
            key = changed[0]
            raise ValueError(
                f"{project_dir} holds a search with {key}={saved.get(key)!r}, not "
                f"{current[key]!r}; pass overwrite=True (--overwrite) or another "
                "output folder."
            )
    return True


def _search(
    hypermodel,
    fit,
    val,
    *,
    tuner,
    max_trials,
    epochs,
    seed,
    out_dir,
    project_name,
    overwrite,
    verbose,
    callbacks,
    settings,
    objective=None,
):
    """Create (or reload) the tuner and run the search. Returns (tuner, info).
    `objective`: a `keras_tuner.Objective` (None: `val_accuracy`, maximised)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    project_dir = out_dir / project_name
    resuming = _settings_check(project_dir, settings, overwrite)
    kbackend.set_random_seed(seed)
    instance = make_tuner(
        tuner,
        hypermodel,
        max_trials=max_trials,
        epochs=epochs,
        seed=seed,
        directory=out_dir,
        project_name=project_name,
        overwrite=overwrite,
        verbose=verbose,
        objective=objective,
    )
    project_dir.mkdir(parents=True, exist_ok=True)
    (project_dir / SETTINGS_FILE).write_text(json.dumps(settings, indent=2))
    trials = instance.oracle.trials.values()
    done_before = sum(t.status == "COMPLETED" for t in trials)
    if resuming:
        rerun = len(instance.oracle._retry_queue)
        _log(
            f"resuming {project_dir}: {done_before} trial(s) finished, "
            f"{rerun} interrupted trial(s) to run again, budget {max_trials}",
            verbose,
        )
    start = time.perf_counter()
    try:
        instance.search(
            fit[0],
            fit[1],
            validation_data=val,
            epochs=epochs,
            verbose=0,
            callbacks=list(callbacks or []),
        )
    except KeyboardInterrupt:
        _log(
            f"interrupted: the finished trials are kept in {project_dir}; run the "
            "same search again (without overwrite) to resume.",
            verbose,
        )
        raise
    except RuntimeError as error:  # Keras Tuner: too many failed trials in a row
        lines = [line for line in str(error).splitlines() if line.strip()]
        detail = f" Last error: {lines[-1].strip()}" if len(lines) > 1 else ""
        raise RuntimeError(f"{lines[0] if lines else error}.{detail}") from error
    completed = [t for t in instance.oracle.trials.values() if t.status == "COMPLETED"]
    if not completed:
        failed = [t for t in instance.oracle.trials.values() if t.message]
        detail = ""
        if failed:
            lines = [x for x in failed[-1].message.splitlines() if x.strip()]
            detail = f" Last error: {lines[-1].strip()}" if lines else ""
        raise RuntimeError(f"No trial of the search completed.{detail}")
    info = {
        "resumed": resuming,
        "completed_before": done_before,
        "search_seconds": round(time.perf_counter() - start, 2),
    }
    return instance, info


def _trial_rows(tuner, epochs):
    rows = []
    for trial_id in sorted(tuner.oracle.trials):
        trial = tuner.oracle.trials[trial_id]
        values = trial.hyperparameters.values
        rows.append(
            {
                "trial_id": trial.trial_id,
                "hyperparameters": _model_values(values),
                "score": _finite(trial.score),
                "status": trial.status,
                "epochs": int(values.get("tuner/epochs", epochs)),
            }
        )
    return rows


def _write_csv(rows, path: Path) -> None:
    names = []
    for row in rows:
        names += [n for n in row["hyperparameters"] if n not in names]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["trial_id", "status", "score", "epochs", *names])
        for row in rows:
            writer.writerow(
                [row["trial_id"], row["status"], row["score"], row["epochs"]]
                + [row["hyperparameters"].get(n, "") for n in names]
            )


def _plot_trials(
    rows, path: Path, title: str, objective: str = OBJECTIVE, direction: str = "max"
) -> None:
    from kerasdl._figures import plt, save_figure

    order = np.arange(1, len(rows) + 1)
    scores = np.array(
        [np.nan if r["score"] is None else r["score"] for r in rows], dtype=float
    )
    if direction == "max":
        best = np.fmax.accumulate(np.where(np.isnan(scores), -np.inf, scores))
    else:
        best = np.fmin.accumulate(np.where(np.isnan(scores), np.inf, scores))
    best[np.isinf(best)] = np.nan
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(order, scores, "o", label="trial")
    ax.step(order, best, where="post", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title(title, fontsize=10)
    ax.set_xticks(order)
    ax.set_xticklabels([r["trial_id"] for r in rows], rotation=90, fontsize=7)
    ax.legend(loc="lower right" if direction == "max" else "upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


def _check_common(tuner, max_trials, epochs, seed, val_size):
    tuner = check_tuner(tuner)
    epochs = check_int("epochs", epochs)
    if max_trials is None:
        max_trials = (
            hyperband_trials(epochs) if tuner == "hyperband" else DEFAULT_TRIALS
        )
    max_trials = check_int("max_trials", max_trials)
    seed = check_int("seed", seed, minimum=0)
    val_size = check_float(
        "val_size", val_size, low=0.0, high=1.0, low_open=True, high_open=True
    )
    return tuner, max_trials, epochs, seed, val_size


def run_search(
    family: str,
    dataset=None,
    *,
    x=None,
    y=None,
    tuner: str = "hyperband",
    max_trials: int | None = None,
    epochs: int = 9,
    out_dir=None,
    project_name: str | None = None,
    seed: int = 0,
    overwrite: bool = False,
    val_size: float = 0.2,
    test_size: float = 0.2,
    standardize: bool | None = None,
    search_space: dict | None = None,
    callbacks=None,
    verbose: bool = True,
) -> dict:
    """Search a family's hyperparameters with Keras Tuner and write the results.

    Args:
        family: A registered HyperModel family (`"mlp"`, `"cnn"`, `"recurrent"`,
            `"transformer"`, `"resnet"` on arrays; `"tabular_mlp"`,
            `"ft_transformer"` on tables; `kerasdl.hypermodels.list_hypermodels()`).
        dataset: A dataset name (`kerasdl.data.load_dataset`; default
            `"digits"`), a `kerasdl.data.Dataset` (classification; for the
            tabular families also regression, and raw tables from
            `load_table`/`load_csv`), or, with `x`/`y`, the name recorded for
            them (default `"user"`).
        x, y: Your own training data (samples and integer or string labels; for
            the tabular families `x` may be a raw `DataFrame`). All
            of it is training data: a validation part is split from it, no test
            part. Without them, `dataset` is split into training and test parts
            (`test_size`) and the test part scores the best model once, after
            the search.
        tuner: `"hyperband"`, `"random"` or `"bayesian"`.
        max_trials: Number of trials (hyperparameter sets) in all, counting those
            a resumed search had finished. Default: 10; Hyperband: one full
            iteration (`hyperband_trials(epochs)`, 23 for 9 epochs).
        epochs: Epochs per trial (Hyperband: the most a trial gets).
        out_dir: Output folder (default `runs/tune/<family>-<dataset>-<tuner>`).
        project_name: Keras Tuner's project folder inside `out_dir` (default
            `<family>_<tuner>`).
        seed: Seed of the splits, the oracle and the models.
        overwrite: Start afresh. False (default) resumes a search found in
            `out_dir`: finished trials are not run again.
        val_size: Fraction of the training data used for validation (the
            objective is the validation accuracy; for regression tables the
            validation loss, minimised).
        test_size: Fraction of `dataset` held out for the test (not with `x`/`y`).
        standardize: Put a standardisation (statistics of the training part) in
            front of the model; None: the family's untuned choice (the MLP
            standardizes, the others take inputs as given; the tabular families
            always do, in their `TableEncoder`).
        search_space: Search-space overrides, e.g. `{"width": (32, 256)}`.
        callbacks: Keras callbacks for every trial's `fit`.
        verbose: Print a line per trial (and resume notes) to stderr.

    Returns:
        The `tune.json` content: family, dataset, tuner, objective, budget, data
        sizes, the search space, `best_hyperparameters`, `best_score`,
        `test_accuracy` (None for user data and regression) and `trials`
        (`trial_id`, `hyperparameters`, `score`, `status`, `epochs`). The
        tabular families add `task` and, for regression, `test_rmse`,
        `test_mae` and `test_r2` (on the target's own scale).

    Raises:
        ValueError: Before any trial, for a family that cannot take the data: a
            tabular family on images, series or text, a classifier family on a
            raw table or a regression dataset.

    Example:

    ```python
    result = run_search("cnn", "digits", tuner="random", max_trials=5, epochs=5,
                        out_dir="runs/tune/cnn")
    result["best_hyperparameters"], result["test_accuracy"]
    ```
    """
    family = check_family(family)
    tuner, max_trials, epochs, seed, val_size = _check_common(
        tuner, max_trials, epochs, seed, val_size
    )
    user_data = x is not None or y is not None
    tabular = is_tabular_family(family)
    table = None
    objective = {"name": OBJECTIVE, "direction": "max"}
    if tabular:
        table = _prepare_table(
            family,
            dataset,
            x,
            y,
            test_size=test_size,
            val_size=val_size,
            seed=seed,
            standardize=standardize,
            search_space=search_space,
        )
        name, hypermodel, standardized = table["name"], table["hypermodel"], True
        (x_fit, y_fit), (x_val, y_val) = table["fit"], table["val"]
        x_test = table["test"][0]
        n_fit, n_val = len(y_fit), len(y_val)
        if table["task"] == "regression":
            objective = {"name": "val_loss", "direction": "min"}
    else:
        if not user_data:
            dataset = _as_dataset(dataset)
            _check_classifier_data(family, dataset)
        name, x_all, y_all, num_classes, _ = _load_data(dataset, x, y)
        if user_data:
            x_train, y_train, x_test, y_test = x_all, y_all, None, None
        else:
            test_size = check_float(
                "test_size", test_size, low=0.0, high=1.0, low_open=True, high_open=True
            )
            x_train, y_train, x_test, y_test = _split(
                x_all, y_all, test_size, seed, "test"
            )
        x_fit, y_fit, x_val, y_val = _split(
            x_train, y_train, val_size, seed, "validation"
        )
        n_fit, n_val = len(x_fit), len(x_val)
        hypermodel, standardized = _make_hypermodel(
            family,
            x_fit,
            num_classes,
            standardize=standardize,
            flat_shape=None,
            seed=seed,
            epochs=epochs,
            search_space=search_space,
        )
    out_dir = Path(out_dir or Path("runs") / "tune" / f"{family}-{name}-{tuner}")
    project_name = project_name or f"{family}_{tuner}"
    settings = {
        "family": family,
        "dataset": name,
        "tuner": tuner,
        "epochs": epochs,
        "seed": seed,
        "val_size": val_size,
        "test_size": None if user_data else test_size,
        "standardize": standardized,
        "samples": [n_fit, n_val],
        "search_space": {k: repr(v) for k, v in sorted((search_space or {}).items())},
        **({"task": table["task"]} if tabular else {}),
    }
    _log(
        f"{tuner} search of {family} on {name}: {max_trials} trials of up to "
        f"{epochs} epochs; {n_fit} training / {n_val} validation samples"
        + ("" if x_test is None else f" ({len(x_test)} held out for the test)"),
        verbose,
    )
    if tuner == "hyperband" and max_trials < hyperband_trials(epochs):
        _log(
            f"note: one Hyperband iteration with epochs={epochs} has "
            f"{hyperband_trials(epochs)} trials; max_trials={max_trials} stops inside "
            "its first bracket (short trials only). Raise max_trials or lower epochs.",
            verbose,
        )
    instance, info = _search(
        hypermodel,
        (x_fit, y_fit),
        (x_val, y_val),
        tuner=tuner,
        max_trials=max_trials,
        epochs=epochs,
        seed=seed,
        out_dir=out_dir,
        project_name=project_name,
        overwrite=overwrite,
        verbose=verbose,
        callbacks=callbacks,
        settings=settings,
        objective=keras_tuner.Objective(**objective),
    )
    best_trial = instance.oracle.get_best_trials(1)[0]
    rows = _trial_rows(instance, epochs)
    with warnings.catch_warnings():
        # The trial checkpoints hold optimizer variables the rebuilt model lacks.
        warnings.filterwarnings("ignore", message="Skipping variable loading")
        best_model = instance.get_best_models(1)[0]
    if tabular:
        # The network with its encoder: the saved file predicts on raw rows.
        best_model, scores = _finish_table(best_model, table)
        best_model.save(out_dir / BEST_MODEL_FILE)
        data = table["data"]
    else:
        # Build the (unused) optimizer state, so that loading the file restores
        # all of it instead of warning that the saved optimizer has fewer
        # variables.
        best_model.optimizer.build(best_model.trainable_variables)
        best_model.save(out_dir / BEST_MODEL_FILE)
        test_accuracy = None
        if x_test is not None:
            probabilities = best_model.predict(x_test, batch_size=256, verbose=0)
            test_accuracy = float(np.mean(np.argmax(probabilities, axis=-1) == y_test))
        scores = {"test_accuracy": test_accuracy}
        data = {
            "input_shape": list(hypermodel.input_shape),
            "num_classes": num_classes,
            "train_samples": n_fit,
            "val_samples": n_val,
            "test_samples": None if x_test is None else len(x_test),
            "standardized": standardized,
        }
    result = {
        "family": family,
        "dataset": name,
        **({"task": table["task"]} if tabular else {}),
        "tuner": tuner,
        "objective": objective,
        "budget": {
            "max_trials": max_trials,
            "epochs": epochs,
            "executions_per_trial": 1,
            **({"hyperband_factor": HYPERBAND_FACTOR} if tuner == "hyperband" else {}),
        },
        "backend": keras.backend.backend(),
        "seed": seed,
        "data": data,
        "search_space": hypermodel.search_space_summary(),
        "default_hyperparameters": hypermodel.default_values(),
        "best_trial_id": best_trial.trial_id,
        "best_hyperparameters": _model_values(best_trial.hyperparameters.values),
        "best_score": _finite(best_trial.score),
        "best_epochs": int(
            best_trial.hyperparameters.values.get("tuner/epochs", epochs)
        ),
        **scores,
        "completed_trials": sum(r["status"] == "COMPLETED" for r in rows),
        **info,
        "trials": rows,
        "files": [TUNE_FILE, TRIALS_CSV, TRIALS_PNG, BEST_MODEL_FILE],
    }
    _write_csv(rows, out_dir / TRIALS_CSV)
    _plot_trials(
        rows,
        out_dir / TRIALS_PNG,
        f"{family} on {name}: {tuner} search, up to {epochs} epochs per trial",
        objective["name"],
        objective["direction"],
    )
    with open(out_dir / TUNE_FILE, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return result


def tune_on_training_data(
    family: str,
    x_train,
    y_train,
    *,
    input_shape=None,
    tuner: str = "random",
    max_trials: int = 5,
    epochs: int = 10,
    val_size: float = 0.2,
    seed: int = 0,
    standardize: bool | None = None,
    search_space: dict | None = None,
    out_dir=None,
    overwrite: bool = True,
    verbose: bool = False,
):
    """Tune a family on training data only and return a builder of the best model.

    A validation part is split from `x_train` (stratified, seeded); nothing else
    is seen, so this can run inside a cross-validation fold (`compare --tuned`).

    Args:
        family: A registered HyperModel family.
        x_train, y_train: The training data; `y_train` integer labels 0..k-1.
        input_shape: The sample shape when `x_train` is flat, e.g. `(8, 8, 1)`
            for flat digits (the models then take flat inputs and reshape).
            Default: `x_train.shape[1:]`.
        tuner, max_trials, epochs, val_size, seed, standardize, search_space: As
            for `run_search`.
        out_dir: Keras Tuner's working folder (default: a temporary folder,
            removed afterwards).
        overwrite: Start afresh in `out_dir` (default True).
        verbose: Print a line per trial.

    Returns:
        `(best_hp, build_fn)`: the best hyperparameter values (a dict, with the
        `batch_size` to train with) and `build_fn()` returning a new compiled
        model with those values, its schedule sized for `len(x_train)` samples
        and `epochs` epochs (and, if standardizing, the statistics of the whole
        `x_train`). `build_fn.hypermodel` and `build_fn.hyperparameters` are
        attached.

    Example:

    ```python
    best_hp, build_fn = tune_on_training_data("mlp", x_train, y_train, max_trials=4)
    model = build_fn()
    model.fit(x_train, keras.utils.to_categorical(y_train), epochs=10,
              batch_size=best_hp["batch_size"])
    ```
    """
    family = check_family(family)
    if is_tabular_family(family):
        raise ValueError(
            f"tune_on_training_data searches the classifier families on arrays; "
            f"tune the {family} family with run_search."
        )
    tuner, max_trials, epochs, seed, val_size = _check_common(
        tuner, max_trials, epochs, seed, val_size
    )
    _, x_train, y_train, num_classes, _ = _load_data("user", x_train, y_train)
    if input_shape is not None:
        input_shape = tuple(input_shape)
        if math.prod(input_shape) != math.prod(x_train.shape[1:]):
            raise ValueError(
                f"`input_shape` {input_shape} does not match samples of shape "
                f"{tuple(x_train.shape[1:])}."
            )
    x_fit, y_fit, x_val, y_val = _split(x_train, y_train, val_size, seed, "validation")
    hypermodel, standardized = _make_hypermodel(
        family,
        x_fit,
        num_classes,
        standardize=standardize,
        flat_shape=input_shape,
        seed=seed,
        epochs=epochs,
        search_space=search_space,
    )
    settings = {"family": family, "tuner": tuner, "epochs": epochs, "seed": seed}
    with contextlib.ExitStack() as stack:
        if out_dir is None:
            out_dir = stack.enter_context(tempfile.TemporaryDirectory())
        instance, _ = _search(
            hypermodel,
            (x_fit, y_fit),
            (x_val, y_val),
            tuner=tuner,
            max_trials=max_trials,
            epochs=epochs,
            seed=seed,
            out_dir=out_dir,
            project_name=f"{family}_{tuner}",
            overwrite=overwrite,
            verbose=verbose,
            callbacks=None,
            settings=settings,
        )
        best = instance.oracle.get_best_trials(1)[0].hyperparameters
    best_hp = _model_values(best.values)
    final, _ = _make_hypermodel(
        family,
        x_train,
        num_classes,
        standardize=standardized,
        flat_shape=input_shape,
        seed=seed,
        epochs=epochs,
        search_space=search_space,
    )

    def build_fn():
        return final.build(best.copy())

    build_fn.hypermodel = final
    build_fn.hyperparameters = best
    return best_hp, build_fn
