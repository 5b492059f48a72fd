"""Error analysis for any regressor: residual plots, errors per target range, and
the largest errors.

One RMSE hides where a regressor fails: a model can be good on common targets and
biased on the rare large ones. This module splits the true targets into quantile
bins and reports each bin's count, RMSE, MAE and mean residual, draws the
residuals against the predictions and the predictions against the truth, and
lists the rows with the largest absolute errors. Everything is computed from the
numbers with NumPy (works for a Keras model, a scikit-learn estimator or
predictions read from a file); each PNG is written next to the numbers behind it.

Residuals are `y_true - y_pred`: a positive mean residual means the model
predicts too low in that range, a negative one too high.
"""

from __future__ import annotations

import csv
import datetime
import json
import numbers
from pathlib import Path

import numpy as np

__all__ = [
    "format_per_range",
    "per_range_report",
    "plot_predicted_vs_true",
    "plot_residuals",
    "regression_analysis",
]

PER_RANGE_COLUMNS = (
    "bin",
    "low",
    "high",
    "count",
    "rmse",
    "mae",
    "mean_residual",
)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _as_values(values, name: str) -> np.ndarray:
    """Finite numbers as a 1-D float64 array, or a ValueError naming `name`."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(
            f"`{name}` must be a non-empty 1-D array of numbers; received shape "
            f"{array.shape}."
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(
            f"`{name}` must hold numbers; received dtype {array.dtype} (first value "
            f"{array.tolist()[0]!r})."
        )
    array = array.astype("float64")
    bad = ~np.isfinite(array)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(
            f"`{name}` holds {int(bad.sum())} NaN or infinite value(s), the first at "
            f"position {first} ({array[first]!r})."
        )
    return array


def _check_int(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"`{name}` must be an integer >= {low}; received {value!r}.")
    if value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}; received {value!r}.")
    return int(value)


def _check_inputs(y_true, y_pred, index):
    y_true = _as_values(y_true, "y_true")
    y_pred = _as_values(y_pred, "y_pred")
    if len(y_pred) != len(y_true):
        raise ValueError(
            "`y_true` and `y_pred` must have the same length; received "
            f"len(y_true)={len(y_true)} and len(y_pred)={len(y_pred)}."
        )
    if index is None:
        index = np.arange(len(y_true))
    else:
        index = np.asarray(index)
        if index.ndim != 1 or len(index) != len(y_true):
            raise ValueError(
                "`index` must give one label per sample; received shape "
                f"{index.shape} for len(y_true)={len(y_true)}."
            )
    return y_true, y_pred, index


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------


def _errors(residual: np.ndarray) -> dict:
    return {
        "count": int(len(residual)),
        "rmse": float(np.sqrt(np.mean(residual**2))),
        "mae": float(np.mean(np.abs(residual))),
        "mean_residual": float(np.mean(residual)),
    }


def _bin_edges(y_true: np.ndarray, bins: int) -> np.ndarray:
    """Quantile edges of `y_true`; repeated edges (a discrete target) merged."""
    edges = np.quantile(y_true, np.linspace(0.0, 1.0, bins + 1))
    return np.unique(edges)


def per_range_report(y_true, y_pred, *, bins: int = 5) -> dict:
    """Errors of a regressor in quantile bins of the true target.

    The true targets are cut at their quantiles (`bins` bins of about equal
    counts; fewer when many targets repeat). Bin `i` holds the targets in
    `[low, high)`; the last bin also holds its `high` (the largest target).

    Args:
        y_true: True values, shape `(n,)`.
        y_pred: Predicted values, shape `(n,)`.
        bins: Number of quantile bins (>= 1).

    Returns:
        A JSON-serialisable dict: `bins` (a list of `{"bin", "low", "high",
        "count", "rmse", "mae", "mean_residual"}`, in increasing target order),
        `overall` (`count`, `rmse`, `mae`, `mean_residual`, `r2`), `residual`
        (`"y_true - y_pred"`) and `notes`.

    Raises:
        ValueError: For empty, non-numeric or non-finite values, mismatched
            lengths, or `bins` not an integer >= 1.
    """
    y_true, y_pred, _ = _check_inputs(y_true, y_pred, None)
    bins = _check_int("bins", bins)
    residual = y_true - y_pred
    edges = _bin_edges(y_true, bins)
    notes = []
    if len(edges) < 2:  # a constant target: one bin
        edges = np.array([y_true[0], y_true[0]])
    if len(edges) - 1 < bins:
        notes.append(
            f"{bins} bins were asked for; the target's quantiles repeat, so "
            f"{len(edges) - 1} bin(s) are reported."
        )
    which = np.searchsorted(edges[1:-1], y_true, side="right")
    rows = []
    for i in range(len(edges) - 1):
        members = which == i
        row = {"bin": i, "low": float(edges[i]), "high": float(edges[i + 1])}
        if members.any():
            row.update(_errors(residual[members]))
        else:
            row.update(count=0, rmse=None, mae=None, mean_residual=None)
        rows.append(row)
    overall = _errors(residual)
    variance = float(np.sum((y_true - y_true.mean()) ** 2))
    overall["r2"] = (
        float(1.0 - np.sum(residual**2) / variance) if variance > 0 else None
    )
    return {
        "residual": "y_true - y_pred",
        "bins": rows,
        "overall": overall,
        "notes": notes,
    }


def _fmt(value, spec: str = ".4g") -> str:
    return "n/a" if value is None else format(value, spec)


def format_per_range(report: dict) -> str:
    """The per-range report as an aligned text table for the terminal.

    Args:
        report: The dict of `per_range_report` (or `regression_analysis(...)
            ["per_range"]`, or the content of `per_range.json`).

    Returns:
        A multi-line string: one row per bin, then the whole test set, then notes.
    """
    header = (
        f"{'target range':<24} {'count':>6} {'RMSE':>10} {'MAE':>10} "
        f"{'mean resid.':>11}"
    )
    lines = [header]
    last = len(report["bins"]) - 1
    for row in report["bins"]:
        close = "]" if row["bin"] == last else ")"
        span = f"[{_fmt(row['low'])}, {_fmt(row['high'])}{close}"
        lines.append(
            f"{span:<24} {row['count']:>6d} {_fmt(row['rmse']):>10} "
            f"{_fmt(row['mae']):>10} {_fmt(row['mean_residual']):>11}"
        )
    overall = report["overall"]
    lines.append(
        f"{'all':<24} {overall['count']:>6d} {_fmt(overall['rmse']):>10} "
        f"{_fmt(overall['mae']):>10} {_fmt(overall['mean_residual']):>11}"
    )
    lines.append("residual = true - predicted (> 0: the model predicts too low)")
    lines += [f"note: {note}" for note in report.get("notes", [])]
    return "\n".join(lines)


def _plain(value):
    """A cell of a row as a JSON value (NaN, NaT, NA → None; dates → ISO strings)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return None
    import pandas as pd

    if pd.api.types.is_scalar(value) and pd.isna(value):  # NaN, NaT, pd.NA
        return None
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime.date):  # also datetime and pandas Timestamp
        return value.isoformat()
    return str(value)


def _largest_errors(y_true, y_pred, index, rows, top_k) -> list[dict]:
    residual = y_true - y_pred
    order = np.argsort(-np.abs(residual), kind="stable")[:top_k]
    out = []
    for i in order:
        entry = {
            "index": _plain(index[i]),
            "true": float(y_true[i]),
            "pred": float(y_pred[i]),
            "residual": float(residual[i]),
            "abs_error": float(abs(residual[i])),
        }
        if rows is not None:
            row = rows.iloc[int(i)] if hasattr(rows, "iloc") else rows[int(i)]
            if hasattr(row, "items"):
                entry["row"] = {str(k): _plain(v) for k, v in row.items()}
            else:
                entry["row"] = [_plain(v) for v in np.asarray(row).reshape(-1)]
        out.append(entry)
    return out


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


def _pyplot():
    # kerasdl.plotting selects the Agg backend (unless a session chose one) before
    # pyplot is imported; import it first, and only when a figure is drawn.
    from kerasdl.plotting import plt, save_figure

    return plt, save_figure


def _marker_size(n: int) -> float:
    return 24.0 if n <= 200 else 10.0 if n <= 2000 else 3.0


def plot_residuals(y_true, y_pred, path, *, report=None, title: str = "") -> Path:
    """Residuals (`true - predicted`) against the predictions, with a zero line
    and, when `report` (a `per_range_report`) is given, the mean residual of each
    target bin drawn at the bin's mean prediction.

    Returns:
        The `pathlib.Path` written.
    """
    plt, save_figure = _pyplot()
    y_true, y_pred, _ = _check_inputs(y_true, y_pred, None)
    residual = y_true - y_pred
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    ax.scatter(y_pred, residual, s=_marker_size(len(y_true)), alpha=0.6)
    ax.axhline(0.0, color="black", linewidth=1)
    if report is not None and len(report["bins"]) > 1:
        edges = [row["low"] for row in report["bins"]] + [report["bins"][-1]["high"]]
        which = np.searchsorted(np.asarray(edges[1:-1]), y_true, side="right")
        points = [
            (float(np.mean(y_pred[which == i])), row["mean_residual"])
            for i, row in enumerate(report["bins"])
            if row["count"]
        ]
        xs, ys = zip(*sorted(points))
        ax.plot(xs, ys, "s-", color="tab:red", label="mean residual per target bin")
        ax.legend(fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("residual (true - predicted)")
    ax.set_title(title or "Residuals vs predicted")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_predicted_vs_true(
    y_true, y_pred, path, *, metrics=None, title: str = ""
) -> Path:
    """Predictions against the true values, with the line `predicted = true`.

    Returns:
        The `pathlib.Path` written.
    """
    plt, save_figure = _pyplot()
    y_true, y_pred, _ = _check_inputs(y_true, y_pred, None)
    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    ax.scatter(y_true, y_pred, s=_marker_size(len(y_true)), alpha=0.6)
    low = float(min(y_true.min(), y_pred.min()))
    high = float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="perfect")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    subtitle = ""
    if metrics:
        parts = [f"RMSE {metrics['rmse']:.4g}", f"MAE {metrics['mae']:.4g}"]
        if metrics.get("r2") is not None:
            parts.append(f"R² {metrics['r2']:.3f}")
        subtitle = "\n" + ", ".join(parts)
    ax.set_title((title or "Predicted vs true") + subtitle, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


# ---------------------------------------------------------------------------
# The whole analysis
# ---------------------------------------------------------------------------


def regression_analysis(
    y_true,
    y_pred,
    out_dir,
    *,
    bins: int = 5,
    top_k: int = 10,
    index=None,
    rows=None,
    title: str = "",
) -> dict:
    """Residual plots, errors per target range and the largest errors of a regressor.

    Writes into `out_dir`:

    - `residuals.png`: residuals (`true - predicted`) against the predictions,
      with the mean residual of each target bin;
    - `predicted_vs_true.png`: predictions against the truth, with the line
      `predicted = true`;
    - `predictions.csv`: the numbers behind both plots (`index`, `true`,
      `pred`, `residual`), one row per sample;
    - `per_range.json` and `per_range.csv`: the target cut into `bins` quantile
      bins, with each bin's count, RMSE, MAE and mean residual
      (`per_range_report`), and `per_range.txt` (its table);
    - `largest_errors.json`: the `top_k` samples with the largest absolute
      errors, with their `index` (and their feature values when `rows` is given).

    Args:
        y_true: True values, shape `(n,)`.
        y_pred: Predicted values, shape `(n,)`.
        out_dir: Folder to write into (created).
        bins: Quantile bins of the true target (>= 1).
        top_k: How many of the largest errors to list (>= 1).
        index: A label per sample to report with the largest errors (e.g. the
            row numbers in the whole dataset); default `0..n-1`.
        rows: Optional inputs, one row per sample (a `DataFrame` or an array):
            the largest errors then show their feature values.
        title: Title of the figures (e.g. "mlp on cars (test split)").

    Returns:
        A dict: `metrics` (`rmse`, `mae`, `r2`, `mean_residual`, `n_samples`),
        `per_range` (the `per_range_report` dict), `table` (its text, as
        `format_per_range` gives it), `largest_errors` (a list of `{"index",
        "true", "pred", "residual", "abs_error"[, "row"]}`, largest first),
        `files` (name → `pathlib.Path` of every file written) and `notes`.

    Raises:
        ValueError: For empty, non-numeric or non-finite values, mismatched
            lengths, an `index` or `rows` with another number of samples, or
            `bins`/`top_k` not integers >= 1.

    Example:

    ```python
    pred = model.predict(x_test)
    result = regression_analysis(y_test, pred, "runs/errors", bins=5)
    print(result["table"])
    ```
    """
    y_true, y_pred, index = _check_inputs(y_true, y_pred, index)
    bins = _check_int("bins", bins)
    top_k = _check_int("top_k", top_k)
    if rows is not None and len(rows) != len(y_true):
        raise ValueError(
            f"`rows` must have one row per sample; received {len(rows)} rows for "
            f"len(y_true)={len(y_true)}."
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    report = per_range_report(y_true, y_pred, bins=bins)
    overall = report["overall"]
    metrics = {
        "rmse": overall["rmse"],
        "mae": overall["mae"],
        "r2": overall["r2"],
        "mean_residual": overall["mean_residual"],
        "n_samples": overall["count"],
    }
    notes = list(report["notes"])
    if overall["r2"] is None:
        notes.append("the true values are constant, so R² is undefined.")
    largest = _largest_errors(y_true, y_pred, index, rows, top_k)
    table = format_per_range(report)

    files = {
        "residuals_png": plot_residuals(
            y_true, y_pred, out / "residuals.png", report=report, title=title
        ),
        "predicted_vs_true_png": plot_predicted_vs_true(
            y_true, y_pred, out / "predicted_vs_true.png", metrics=metrics, title=title
        ),
    }
    files["predictions_csv"] = out / "predictions.csv"
    with open(files["predictions_csv"], "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(("index", "true", "pred", "residual"))
        for i, t, p in zip(index.tolist(), y_true.tolist(), y_pred.tolist()):
            writer.writerow((_plain(i), repr(t), repr(p), repr(t - p)))
    files["per_range_json"] = out / "per_range.json"
    files["per_range_json"].write_text(json.dumps(report, indent=2))
    files["per_range_csv"] = out / "per_range.csv"
    with open(files["per_range_csv"], "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=PER_RANGE_COLUMNS)
        writer.writeheader()
        for row in report["bins"]:
            writer.writerow({k: "" if row[k] is None else row[k] for k in row})
    files["per_range_txt"] = out / "per_range.txt"
    files["per_range_txt"].write_text(table + "\n")
    files["largest_errors_json"] = out / "largest_errors.json"
    files["largest_errors_json"].write_text(
        json.dumps(largest, indent=2, ensure_ascii=False)
    )
    return {
        "metrics": metrics,
        "per_range": report,
        "table": table,
        "largest_errors": largest,
        "files": files,
        "notes": notes,
    }
