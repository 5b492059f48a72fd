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
import json
import math
import tempfile
import warnings
from pathlib import Path

import keras
import keras_tuner
import numpy as np

from kerasdl._checks import check_float
from kerasdl.hypermodels.registry import (
    check_family,
    is_tabular_family,
)
from kerasdl.hypermodels.search_loop import (
    _search,
)
from kerasdl.hypermodels.search_report import (
    _plot_trials,
    _trial_rows,
    _write_csv,
)
from kerasdl.hypermodels.search_setup import (
    _check_common,
    _load_data,
    _make_hypermodel,
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
    hyperband_trials,
)

TUNE_FILE = "tune.json"
TRIALS_CSV = "trials.csv"
TRIALS_PNG = "trials.png"
BEST_MODEL_FILE = "best_model.keras"

__all__ = ["run_search", "tune_on_training_data"]


# ---------------------------------------------------------------------------- data


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
