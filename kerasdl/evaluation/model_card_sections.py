"""The sections of a model card as Markdown (model, data, metrics and where each was
measured, training, limitations, fairness, errors), and the small Markdown helpers
they share. `model_card.py` assembles them.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

# Metric-name prefixes and where such a metric is measured.
_SPLIT_PREFIXES = (
    ("final_train_", "training split, mean over the last epoch", "n_train"),
    ("final_val_", "validation split, last epoch", "n_val"),
    ("best_val_", "validation split, best epoch", "n_val"),
    ("train_", "training split", "n_train"),
    ("val_", "validation split", "n_val"),
    ("test_", "held-out test split", "n_test"),
    ("cv_", "cross-validation", None),
)
_HOW_KEYS = ("measured_on", "how", "protocol")


def _cell(value, fixed: bool = True) -> str:
    """A value as one Markdown table cell (pipes escaped, no newlines); floats with
    4 decimals when `fixed` (metrics), else as written (settings)."""
    if isinstance(value, float):
        if math.isnan(value):
            text = "n/a"
        else:
            text = _number(value) if fixed else repr(value)
    elif isinstance(value, dict | list | tuple):
        text = json.dumps(value)
    elif value is None:
        text = "None"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _number(value: float) -> str:
    """4 decimals for rates and losses, significant digits for tiny/huge values."""
    return f"{value:.4f}" if value == 0 or 1e-3 <= abs(value) < 1e4 else f"{value:.4g}"


def _table(header, rows, fixed: bool = True) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_cell(v, fixed) for v in row) + " |" for row in rows]
    return lines


def _bullets(items) -> list[str]:
    return [f"- {item}" for item in items]


def _as_lines(body) -> list[str]:
    """An extra section's body: a string as is, a list as bullets, a dict as a
    two-column table."""
    if isinstance(body, dict):
        return _table(("item", "value"), body.items(), fixed=False)
    if isinstance(body, list | tuple):
        return _bullets(body)
    return [str(body)]


def _model_section(model_name, description, architecture, params, backend, task):
    lines = ["## Model details", ""]
    lines.append(description or f"`{model_name}`, trained with kerasdl.")
    lines.append("")
    facts = [f"Model: `{model_name}`"]
    if task:
        facts.append(f"Task: {task}")
    if params is not None:
        facts.append(f"Parameters: {int(params):,}")
    if backend:
        facts.append(f"Keras backend: {backend}")
    lines += _bullets(facts)
    if architecture:
        lines += ["", "Architecture:", "", "```text", str(architecture).rstrip(), "```"]
    return lines


def _data_section(data: dict):
    data = dict(data)
    name = data.pop("name", None) or "unnamed dataset"
    lines = ["## Data", "", f"Dataset: **{name}**", ""]
    description = data.pop("description", None)
    if description:
        lines += [str(description), ""]
    sizes = [
        (split, data.pop(f"n_{split}"))
        for split in ("train", "val", "test")
        if data.get(f"n_{split}") is not None
    ]
    if sizes:
        labels = {"train": "training", "val": "validation", "test": "test"}
        rows = [(labels[split], int(n)) for split, n in sizes]
        rows.append(("total", sum(int(n) for _, n in sizes)))
        lines += _table(("split", "samples"), rows) + [""]
    else:
        lines += ["Split sizes: not recorded.", ""]
    preprocessing = data.pop("preprocessing", None)
    if isinstance(preprocessing, list | tuple):
        preprocessing = "; ".join(str(step) for step in preprocessing)
    text = str(preprocessing).rstrip(".") if preprocessing else "not recorded"
    lines.append(f"Preprocessing: {text}.")
    class_names = data.pop("class_names", None)
    if class_names:
        shown = ", ".join(str(c) for c in class_names[:20])
        more = f" (+{len(class_names) - 20} more)" if len(class_names) > 20 else ""
        lines += ["", f"Classes ({len(class_names)}): {shown}{more}."]
    if data:
        lines += [""] + _bullets(
            f"{key}: {_cell(value, fixed=False)}" for key, value in data.items()
        )
    return lines


def _measured_where(name: str, data: dict) -> str:
    for prefix, where, size_key in _SPLIT_PREFIXES:
        if name.startswith(prefix):
            n = data.get(size_key) if size_key else None
            return f"{where} ({int(n)} samples)" if n is not None else where
    return "-"


def _regression_note(data: dict) -> str:
    target = data.get("target")
    units = f"the units of the target `{target}`" if target else "the target's units"
    return (
        f"RMSE (root mean squared error) and MAE (mean absolute error) are in "
        f"{units}; lower is better, and RMSE weighs large errors more. R² is 1 for "
        "perfect predictions, 0 for always predicting the mean of the measured "
        "targets, and negative for worse than that."
    )


def _metrics_section(metrics: dict, data: dict, backend, task=None):
    lines = ["## Metrics and how they were measured", ""]
    how = [
        f"Measured on: {metrics[k]}" if k == "measured_on" else str(metrics[k])
        for k in _HOW_KEYS
        if isinstance(metrics.get(k), str)
    ]
    rows, notes = [], []
    for name, value in metrics.items():
        if name in _HOW_KEYS and isinstance(value, str):
            continue
        if isinstance(value, dict):
            where = value.get("split") or _measured_where(name, data)
            if value.get("folds"):
                where += f", {value['folds']} folds"
            shown = value.get("value")
            if value.get("std") is not None and isinstance(shown, int | float):
                shown = f"{_number(shown)} ± {value['std']:.2g}"
            rows.append((name, shown, where))
            if value.get("how"):
                notes.append(f"{name}: {value['how']}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            notes.append(f"{name}: {value}")
        else:
            rows.append((name, value, _measured_where(name, data)))
    if rows:
        lines += _table(("metric", "value", "measured on"), rows)
    else:
        lines.append("No metrics were recorded.")
    lines.append("")
    context = how + notes
    if task == "regression":
        context.append(_regression_note(data))
    if backend:
        context.append(f"Computed with the Keras {backend} backend.")
    if not _has_folds(metrics):
        context.append(
            "One trained model evaluated once (no repeated seeds or folds): expect "
            "the numbers to move with another seed or split."
        )
    lines += _bullets(context)
    return lines


def _training_section(training: dict):
    lines = ["## Training settings", ""]
    if not training:
        return lines + ["Not recorded."]
    return lines + _table(("setting", "value"), training.items(), fixed=False)


def _has_folds(metrics: dict) -> bool:
    return any(isinstance(m, dict) and m.get("folds") for m in metrics.values())


def _generic_limitations(data: dict, metrics: dict, fairness, task=None) -> list[str]:
    name = data.get("name") or "one dataset"
    n_test = data.get("n_test")
    size = f" ({int(n_test)} test samples)" if n_test is not None else ""
    robustness = (
        "Not checked for robustness to corrupted or adversarial inputs. It predicts "
        "one value per row, with no prediction interval: it does not say how sure "
        "it is, and it can be far off outside the range of targets it was trained on."
        if task == "regression"
        else "Not checked for robustness to corrupted or adversarial inputs, or for "
        "calibration of its probabilities."
    )
    items = [
        f"Evaluated only on {name}{size}; not tested for distribution shift "
        "(new sources, devices, populations or time periods).",
        robustness,
    ]
    if not _has_folds(metrics):
        items.insert(
            1,
            "The metrics come from a single split and training run; small test sets "
            "give wide confidence intervals.",
        )
    if fairness is None:
        items.append("Fairness across groups of people was not measured.")
    return items


def _fairness_section(fairness):
    lines = ["## Fairness", ""]
    if fairness is None:
        return lines + [
            "Fairness was not measured for this model: no sensitive attribute (such "
            "as age, sex or ethnicity) was available or given. Do not assume the "
            "model performs equally well for every group of people."
        ]
    attribute = fairness.get("attribute", "sensitive attribute")
    lines.append(
        f"Groups by **{attribute}**; positive label {fairness['positive_label']!r}."
        + (f" Model evaluated: {fairness['model']}." if fairness.get("model") else "")
    )
    if fairness.get("description"):
        lines += ["", str(fairness["description"])]
    lines.append("")
    rows = [
        (
            r["group"],
            r["support"],
            r["n_positive"],
            r["accuracy"],
            r["selection_rate"],
            r["true_positive_rate"],
        )
        for r in fairness["groups"]
    ]
    lines += _table(
        ("group", "samples", "positives", "accuracy", "selection rate", "TPR"), rows
    )
    lines.append("")
    facts = [
        "Demographic-parity difference (max - min selection rate): "
        f"{_cell(float(fairness['demographic_parity_difference']))}",
        "Equal-opportunity difference (max - min true-positive rate): "
        f"{_cell(float(fairness.get('equal_opportunity_difference', math.nan)))}",
    ]
    facts += [f"Note: {note}" for note in fairness.get("notes", [])]
    return lines + _bullets(facts)


def _regression_errors(folder: Path, link: str) -> list[str]:
    """A regressor's error analysis (`regression_analysis`): the residual plots,
    the errors per target range and a link to the largest errors."""
    lines = []
    for file, label in (
        ("residuals.png", "Residuals vs predicted"),
        ("predicted_vs_true.png", "Predicted vs true"),
    ):
        if (folder / file).is_file():
            lines += [f"![{label}]({link}/{file})", ""]
    report = json.loads((folder / "per_range.json").read_text())
    bins = report["bins"]
    rows = []
    for row in bins:
        close = "]" if row["bin"] == len(bins) - 1 else ")"
        span = f"[{_number(row['low'])}, {_number(row['high'])}{close}"
        rows.append((span, row["count"], row["rmse"], row["mae"], row["mean_residual"]))
    overall = report["overall"]
    rows.append(
        (
            "all",
            overall["count"],
            overall["rmse"],
            overall["mae"],
            overall["mean_residual"],
        )
    )
    lines += [
        "Errors per range of the true target (quantile bins of the test targets; "
        "residual = true - predicted, so a positive mean residual means the model "
        "predicts too low there):",
        "",
    ]
    lines += _table(("target range", "samples", "RMSE", "MAE", "mean residual"), rows)
    lines += ["", f"Numbers: [per_range.json]({link}/per_range.json)."]
    if (folder / "largest_errors.json").is_file():
        lines.append(
            f"Largest errors (with their rows): "
            f"[largest_errors.json]({link}/largest_errors.json)."
        )
    return lines


def _error_analysis_section(run_dir: Path, entry) -> tuple[str, list[str]]:
    """The "Error analysis" section: links to the PNGs, the per-class table (a
    classifier) or the per-range table (a regressor)."""
    folder = Path(entry.get("dir", "")) if isinstance(entry, dict) else Path()
    folder = folder if folder.is_absolute() else run_dir / folder
    try:
        link = Path(os.path.relpath(folder, run_dir)).as_posix()
    except ValueError:  # another drive (Windows)
        link = folder.as_posix()
    if (folder / "per_range.json").is_file():
        return "Error analysis", _regression_errors(folder, link)
    lines = []
    for file, label in (
        ("confusion_matrix.png", "Confusion matrix"),
        ("confident_mistakes.png", "Most confident mistakes"),
    ):
        if (folder / file).is_file():
            lines += [f"![{label}]({link}/{file})", ""]
    if not lines:
        lines += [f"No plots found in `{link}/` (expected confusion_matrix.png).", ""]
    per_class = folder / "per_class.json"
    if per_class.is_file():
        report = json.loads(per_class.read_text())
        rows = [
            (r["class"], r["precision"], r["recall"], r["f1"], r["support"])
            for r in report["classes"]
        ]
        lines += _table(("class", "precision", "recall", "F1", "support"), rows)
        lines += ["", f"Numbers: [per_class.json]({link}/per_class.json)."]
    return "Error analysis", lines
