"""Model cards: one Markdown file saying what a model is, what data it saw, how well
it does and how that was measured, how it was trained, and where it falls short.

After Mitchell et al. (2019), "Model Cards for Model Reporting". `write_model_card`
takes the facts as dicts; `model_card_from_run` reads them from the `run.json`
that `kerasdl train` writes (classifiers, and regressors whose card explains
RMSE, MAE and R² and shows the errors per target range).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from kerasdl.evaluation.model_card_sections import (
    _as_lines,
    _bullets,
    _data_section,
    _error_analysis_section,
    _fairness_section,
    _generic_limitations,
    _metrics_section,
    _model_section,
    _table,
    _training_section,
)

RUN_FILE = "run.json"
CARD_FILE = "model_card.md"

_DEFAULT_INTENDED_USE = (
    "Learning and experimentation with kerasdl: a reference point for comparing "
    "models and training settings on this dataset. Not validated for decisions "
    "about people or for any deployment."
)

TASKS = ("classification", "regression")


# ---------------------------------------------------------------------------
# Markdown helpers
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def write_model_card(
    path,
    *,
    model_name: str,
    description: str = "",
    data: dict,
    metrics: dict,
    training: dict,
    limitations: list[str],
    fairness: dict | None = None,
    extra_sections: dict | None = None,
    architecture: str | None = None,
    params: int | None = None,
    backend: str | None = None,
    intended_use: str | None = None,
    task: str | None = None,
) -> Path:
    """Writes a Markdown model card.

    Sections: title, model details, intended use, data, metrics (each with where it
    was measured), training settings, known limitations, fairness, any extra
    sections, and a footer with the kerasdl version and date.

    Args:
        path: Destination `.md` file (parent folders are created).
        model_name: Name of the model (the title).
        description: One paragraph on what the model is.
        data: `name`, `description`, `n_train`, `n_val`, `n_test`,
            `preprocessing` (str or list), `class_names`; other keys are listed.
        metrics: Metric name → number, or → `{"value", "std", "split", "folds",
            "how"}`. A name's prefix says where it was measured (`test_` → the
            test split, `val_`, `train_`, `final_val_`, `cv_`...); string values
            (e.g. `measured_on`) are printed as notes on how they were measured.
        training: Training settings, e.g. `TrainingConfig.to_dict()`.
        limitations: Known limitations. When empty, generic honest ones are
            written (evaluated on one dataset, no distribution-shift test...).
        fairness: A `fairness_report` dict, or None (the card then says fairness
            was not measured).
        extra_sections: Title → body (a string, a list of bullets, or a dict
            shown as a table), added before the footer.
        architecture: Optional architecture summary (e.g. `model.summary()` text).
        params: Optional parameter count.
        backend: Optional Keras backend the metrics were computed with.
        intended_use: What the model is for; default: learning and experiments,
            not decisions about people.
        task: `"classification"`, `"regression"` or None (not said). A
            regression card explains RMSE, MAE and R² (with `data["target"]`,
            the target column, when given) and its generic limitations speak of
            values, not probabilities.

    Returns:
        The `pathlib.Path` written.

    Raises:
        ValueError: If `model_name` is empty or `data`, `metrics`, `training`
            are not dicts, `limitations` is not a list of strings, or `task` is
            not one of the tasks.

    Example:

    ```python
    write_model_card("runs/mlp/model_card.md", model_name="MLP",
                     data={"name": "digits", "n_train": 1257, "n_test": 270},
                     metrics={"test_accuracy": 0.97}, training=config.to_dict(),
                     limitations=[])
    ```
    """
    import kerasdl

    if not isinstance(model_name, str) or not model_name.strip():
        raise ValueError(
            f"`model_name` must be a non-empty string; received {model_name!r}."
        )
    for name, value in (("data", data), ("metrics", metrics), ("training", training)):
        if not isinstance(value, dict):
            raise ValueError(
                f"`{name}` must be a dict; received {type(value).__name__}."
            )
    if isinstance(limitations, str) or not all(
        isinstance(item, str) for item in (limitations or [])
    ):
        raise ValueError(
            f"`limitations` must be a list of strings; received {limitations!r}."
        )
    if task is not None and task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS} or None; received {task!r}.")
    needed = ("groups", "positive_label", "demographic_parity_difference")
    if fairness is not None and (
        not isinstance(fairness, dict) or any(key not in fairness for key in needed)
    ):
        raise ValueError(
            "`fairness` must be a fairness_report dict (with groups, positive_label, "
            "demographic_parity_difference...) or None; received "
            f"{fairness if not isinstance(fairness, dict) else sorted(fairness)!r}."
        )
    limitations = list(limitations or []) or _generic_limitations(
        data, metrics, fairness, task
    )
    lines = [f"# Model card: {model_name}", ""]
    lines += _model_section(
        model_name, description, architecture, params, backend, task
    )
    lines += ["", "## Intended use", "", intended_use or _DEFAULT_INTENDED_USE, ""]
    lines += _data_section(data) + [""]
    lines += _metrics_section(metrics, data, backend, task) + [""]
    lines += _training_section(training) + [""]
    lines += ["## Known limitations", ""] + _bullets(limitations) + [""]
    lines += _fairness_section(fairness) + [""]
    for title, body in (extra_sections or {}).items():
        lines += [f"## {title}", ""] + _as_lines(body) + [""]
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    lines += ["---", "", f"Generated by kerasdl {kerasdl.__version__} on {today}."]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def model_card_from_run(run_dir) -> Path:
    """Writes `run_dir/model_card.md` from the `run.json` that `kerasdl train` wrote.

    `run.json` holds `model`, `dataset` (`name`, `description`, `n_train`,
    `n_val`, `n_test`, ...), `config` (`TrainingConfig.to_dict()`), `metrics`,
    `backend`, `params`, and optionally `task` (`"regression"` for a regressor),
    `feature_types` (a table's `{column: role}`, listed as the input columns),
    `fairness` (a `fairness_report`), `error_analysis` (`{"dir": ...}`, relative
    to `run_dir`), `model_description`, `architecture` (a summary; left out when
    it only repeats `model`) and `limitations`.

    Args:
        run_dir: The folder of a training run.

    Returns:
        The `pathlib.Path` of the card.

    Raises:
        ValueError: If `run_dir/run.json` is missing, not JSON, not an object,
            lacks a required key or holds a value of the wrong kind (naming the
            file).
    """
    run_dir = Path(run_dir)
    run_file = run_dir / RUN_FILE
    if not run_file.is_file():
        raise ValueError(
            f"No {RUN_FILE} in {str(run_dir)!r} (looked for {str(run_file)!r}). "
            "`kerasdl train` writes it next to model.keras; point at the folder of "
            "a training run, or train a model first."
        )
    try:
        run = json.loads(run_file.read_text(encoding="utf-8"))
    except ValueError as error:  # invalid JSON or not UTF-8
        raise ValueError(f"{str(run_file)!r} is not valid JSON: {error}.") from error
    written_by = (
        "a run.json written by `kerasdl train` is an object with model, dataset, "
        "config, metrics, backend, params"
    )
    if not isinstance(run, dict):
        raise ValueError(
            f"{str(run_file)!r} holds a JSON {type(run).__name__} ({run!r:.60}), not "
            f"an object; {written_by}."
        )
    missing = [key for key in ("model", "dataset", "metrics") if key not in run]
    if missing:
        raise ValueError(f"{str(run_file)!r} lacks the key(s) {missing}; {written_by}.")
    objects = {key: run[key] for key in ("dataset", "metrics")}
    objects["config"] = run.get("config") or {}
    for key, value in objects.items():
        if not isinstance(value, dict):
            raise ValueError(
                f"{str(run_file)!r}: {key!r} must be a JSON object; received "
                f"{value!r:.60}."
            )
    extra = {}
    feature_types = run.get("feature_types")
    if isinstance(feature_types, dict) and feature_types:
        extra["Input columns"] = "\n".join(
            [
                "The model takes these columns (raw values: missing cells and "
                "unseen categories are allowed):",
                "",
                *_table(("column", "role"), feature_types.items(), fixed=False),
            ]
        )
    if run.get("error_analysis"):
        title, lines = _error_analysis_section(run_dir, run["error_analysis"])
        extra[title] = "\n".join(lines)
    if run.get("train_seconds") is not None:
        extra["Run"] = {"training time (s)": run["train_seconds"]}
    architecture = run.get("architecture")
    if architecture == run["model"]:
        architecture = None  # only the name again
    task = run.get("task")
    try:
        return write_model_card(
            run_dir / CARD_FILE,
            model_name=str(run["model"]),
            description=run.get("model_description", ""),
            data=dict(objects["dataset"]),
            metrics=dict(objects["metrics"]),
            training=dict(objects["config"]),
            limitations=list(run.get("limitations") or []),
            fairness=run.get("fairness"),
            extra_sections=extra,
            architecture=architecture,
            params=run.get("params"),
            backend=run.get("backend"),
            task=task if task in TASKS else None,
        )
    except ValueError as error:  # a value of the file's that the card cannot take
        raise ValueError(f"{str(run_file)!r}: {error}") from error
