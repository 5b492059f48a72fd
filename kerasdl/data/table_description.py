"""Describe a tabular `Dataset` in a few lines, for the command line.

`describe_table` lists the column roles, the missing cells, what the loader dropped
or converted (`kerasdl.data.table.load_table`) and the target; it works on a raw
table as well as on a built-in numeric one.
"""

from __future__ import annotations

import numpy as np

from kerasdl.data.dataset import FEATURE_ROLES, Dataset

__all__ = ["describe_table"]


def _short_list(items, limit: int = 8) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def _number(value: float) -> str:
    return f"{value:.4g}"


def describe_table(dataset: Dataset) -> str:
    """A few lines describing a tabular `Dataset`, for the command line.

    Lists each role with its columns (long lists are cut), the columns with missing
    cells, the dropped columns with their reasons, the columns read as numbers, the
    rows dropped for a missing target, and the target: its classes with their counts,
    or its range for a regression.

    Args:
        dataset: A tabular `Dataset` (from `load_table`, `load_csv` or a built-in
            table).

    Returns:
        The description, lines joined by newlines (no trailing newline).

    Raises:
        ValueError: `dataset` is not a table (images, a series, a corpus).
    """
    x = dataset.x
    if not dataset.is_raw_table and getattr(x, "ndim", 0) != 2:
        raise ValueError(
            f"describe_table needs a table; received dataset {dataset.name!r} with x "
            f"of shape {tuple(getattr(x, 'shape', ()))}."
        )
    names = dataset.feature_names or [f"x{i}" for i in range(x.shape[1])]
    roles = dataset.feature_types or dict.fromkeys(names, "numeric")
    extra = dataset.extra or {}
    lines = [f"{dataset.name}: {len(x)} rows, {len(roles)} feature columns"]
    for role in FEATURE_ROLES:
        columns = [c for c, r in roles.items() if r == role]
        if columns:
            lines.append(f"  {role} ({len(columns)}): {_short_list(columns)}")
    if dataset.is_raw_table:
        missing = x.isna().sum()
        if "text" in roles.values():
            for column in (c for c, r in roles.items() if r == "text"):
                missing[column] = int((x[column] == "").sum())
        missing = missing[missing > 0]
        if len(missing):
            lines.append(
                f"missing cells ({int(missing.sum())}): "
                + _short_list(f"{c} {n}" for c, n in missing.items())
            )
    dropped = extra.get("dropped_columns") or {}
    if dropped:
        lines.append(
            f"dropped columns ({len(dropped)}): "
            + _short_list(f"{c} ({r})" for c, r in dropped.items())
        )
    if extra.get("converted_columns"):
        lines.append(
            "read as numbers (text cells that were not numbers became missing): "
            + _short_list(extra["converted_columns"])
        )
    if extra.get("dropped_target_rows"):
        lines.append(
            f"dropped rows: {extra['dropped_target_rows']} with a missing target"
        )
    target = extra.get("target")
    head = f"target {target!r}" if target else "target"
    if dataset.task == "classification" and dataset.y is not None:
        counts = np.bincount(dataset.y, minlength=dataset.num_classes)
        names = dataset.class_names or [str(i) for i in range(len(counts))]
        lines.append(
            f"{head}: classification, {len(counts)} classes: "
            + _short_list((f"{c} {n}" for c, n in zip(names, counts)), limit=12)
        )
    elif dataset.task == "regression" and dataset.y is not None:
        y = np.asarray(dataset.y, dtype=np.float64)
        lines.append(
            f"{head}: regression, {_number(y.min())} .. {_number(y.max())} "
            f"(mean {_number(y.mean())}, median {_number(np.median(y))})"
        )
    return "\n".join(lines)
