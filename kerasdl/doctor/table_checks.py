"""Data checks for raw tables: the problems of a real CSV, found before training.

A *raw table* is a `kerasdl.data.Dataset` whose `x` is a pandas `DataFrame` of the
raw feature columns, each with a role in `dataset.feature_types` ("numeric",
"categorical", "text", "date"): what `load_csv` returns for a table with text
columns or missing cells. `check_table` looks at such a frame and its target and
returns `Finding`s, each with the numbers, the columns and the fix: missing cells,
empty, constant and ID-like columns (and the columns the loader already dropped),
high-cardinality categoricals, numbers stored as text, a single column that
predicts the target almost perfectly (leakage), class balance and rows per class,
duplicated rows, identical feature rows with different labels and, for regression,
a skewed target. `diagnose_dataset` is the dataset-level entry point of the
doctor: raw tables go to `check_table` plus a train/test leak check on the same
seeded split the array path uses; every other dataset goes to
`kerasdl.doctor.data_checks.diagnose_dataset` unchanged.

Rows are compared as whole rows hashed column by column (exact match on strings;
missing, blank and NaN cells all count as the same "missing" value).

This module holds the row checks and the entry points; the per-column checks live in
`kerasdl.doctor.table_columns` and the target checks in `kerasdl.doctor.table_target`.

Example:

```python
import pandas as pd
from kerasdl.doctor import check_table, format_findings

frame = pd.DataFrame({"island": ["Dream", None, "Biscoe"] * 20,
                      "mass": [3500.0, 4200.0, None] * 20})
findings = check_table(frame, feature_types={"island": "categorical",
                                             "mass": "numeric"})
print(format_findings(findings, title="penguins"))
```
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kerasdl.data.dataset import FEATURE_ROLES, Dataset
from kerasdl.doctor import data_checks
from kerasdl.doctor.array_checks import (
    _CONFLICT_ERROR,
    _DUPLICATE_WARNING,
    _LEAK_ERROR,
    _check_class_balance,
)
from kerasdl.doctor.array_inputs import _TASKS, _as_labels, _class_label, _count, _pct
from kerasdl.doctor.data_checks import _check_test_size, _split_indices
from kerasdl.doctor.findings import Finding
from kerasdl.doctor.table_columns import (
    _check_cardinality,
    _check_constant,
    _check_dropped_columns,
    _check_empty,
    _check_id_like,
    _check_missing,
    _check_non_finite,
    _check_numeric_as_text,
    _Column,
    _is_id_like,
    _numeric_as_text,
    _profile,
)
from kerasdl.doctor.table_target import (
    _check_missing_target,
    _check_rows_per_class,
    _check_target_distribution,
    _check_target_leak,
)

__all__ = ["TABLE_CHECKS", "check_table", "diagnose_dataset"]

#: The checks `check_table` (and `diagnose_dataset` on a raw table) run, by the
#: `check` name their findings carry.
TABLE_CHECKS = {
    "dropped_columns": "columns the loader dropped before the checks, with why",
    "missing_target": "rows dropped for a missing target; NaN/inf in y",
    "non_finite": "infinite values in numeric columns",
    "missing_cells": "missing cells per column and rows with any missing cell",
    "empty_columns": "columns with every cell missing",
    "constant_columns": "columns with a single value",
    "id_columns": "columns distinct in every row (IDs, row numbers, keys)",
    "high_cardinality": "categorical columns with many levels or mostly rare ones",
    "numeric_as_text": "numbers stored as text (converted or still categorical)",
    "target_leak": "a single column that predicts the target almost perfectly",
    "class_balance": "ratio of the largest to the smallest class in y",
    "samples_per_class": "classes with too few rows (for the columns or for CV)",
    "duplicates": "whole rows (target included) that occur more than once",
    "label_conflicts": "identical feature rows with different labels",
    "train_test_leak": "test rows whose features also occur in the training rows",
    "target_distribution": "regression target: constant, skewed or with outliers",
}

# Discrete feature space: when the distinct feature rows are at most this share of
# the rows, repeats and label conflicts are expected (info, with the accuracy
# ceiling) rather than a data error.
_DISCRETE_SHARE = 0.5


# ---------------------------------------------------------------------------
# Row checks
# ---------------------------------------------------------------------------


def _row_hashes(columns: list[_Column], target=None) -> np.ndarray:
    """A uint64 hash of every row's values (and `target`, when given)."""
    keys = {j: c.values for j, c in enumerate(columns)}
    if target is not None:
        keys[len(columns)] = target
    frame = pd.DataFrame(keys)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _repeated_groups(hashes: np.ndarray) -> list[list[int]]:
    """Row indices of each hash that occurs more than once, in order of first row."""
    repeated = pd.Series(hashes).duplicated(keep=False).to_numpy()
    keys = hashes.tolist()
    groups: dict[int, list[int]] = {}
    for i in np.flatnonzero(repeated).tolist():
        groups.setdefault(keys[i], []).append(i)
    return list(groups.values())


def _check_duplicates(whole, n: int, n_columns: int, discrete: int) -> Finding | None:
    if n_columns < 2:
        return None  # a single column repeats values by nature
    groups = _repeated_groups(whole)
    extra = sum(len(g) - 1 for g in groups)
    if not extra:
        return None
    examples = ", ".join(str(tuple(g[:3])) for g in groups[:3])
    severity = "warning" if extra / n >= _DUPLICATE_WARNING else "info"
    expected = ""
    if discrete:
        severity = "info"
        expected = (
            f"; the features take only {discrete} distinct combinations, so repeats "
            "are expected"
        )
    return Finding(
        check="duplicates",
        severity=severity,
        message=(
            f"{_count(extra, 'duplicate row')} (whole rows, target included; "
            f"{_pct(extra, n)} of {n}) in {_count(len(groups), 'group')}, e.g. rows "
            f"{examples}{expected}."
        ),
        fix=(
            "Drop exact duplicates before splitting (pandas drop_duplicates), unless "
            "they are true repeated observations; then split by group (sklearn "
            "GroupKFold) so copies never sit on both sides of a split."
        ),
    )


def _check_label_conflicts(features, y, class_names, discrete: int) -> Finding | None:
    conflicts = []
    for rows in _repeated_groups(features):
        labels = y[rows]
        if np.any(labels != labels[0]):
            conflicts.append(rows)
    if not conflicts:
        return None
    n = len(y)
    involved = sum(len(rows) for rows in conflicts)
    examples = []
    for rows in conflicts[:3]:
        first = rows[0]
        other = next(i for i in rows if y[i] != y[first])
        examples.append(
            f"{first} & {other} ({_class_label(y[first], class_names)} vs "
            f"{_class_label(y[other], class_names)})"
        )
    severity = "error" if involved / n >= _CONFLICT_ERROR else "warning"
    ceiling = ""
    if discrete:
        severity = "info"
        _, inverse = np.unique(features, return_inverse=True)
        _, labels = np.unique(y, return_inverse=True)
        table = pd.crosstab(inverse, labels).to_numpy()
        best = table.max(axis=1).sum() / n
        ceiling = (
            f"; the features take only {discrete} distinct combinations, so no "
            f"model can exceed {best:.1%} accuracy on these rows"
        )
    return Finding(
        check="label_conflicts",
        severity=severity,
        message=(
            f"identical feature rows with different labels: "
            f"{_count(len(conflicts), 'group')} involving {_count(involved, 'row')} "
            f"({_pct(involved, n)}), e.g. rows {', '.join(examples)}{ceiling}."
        ),
        fix=(
            "Inspect those rows: fix mislabelled ones, merge true duplicates to one "
            "label, or add the column that tells them apart; conflicting labels cap "
            "the reachable accuracy."
        ),
    )


def _check_split_leak(features, train, test) -> Finding | None:
    keys = features.tolist()
    seen: dict[int, int] = {}
    for i in train.tolist():
        seen.setdefault(keys[i], i)
    leaked = [(i, seen[keys[i]]) for i in test.tolist() if keys[i] in seen]
    if not leaked:
        return None
    n_test = len(test)
    examples = ", ".join(f"row {i} (test) = row {j} (train)" for i, j in leaked[:3])
    severity = "error" if len(leaked) / n_test >= _LEAK_ERROR else "warning"
    return Finding(
        check="train_test_leak",
        severity=severity,
        message=(
            f"{len(leaked)} of {n_test} test rows ({_pct(len(leaked), n_test)}) have "
            f"the same features as a training row in a seeded split, e.g. "
            f"{examples}; the test score is flattered by memorised answers."
        ),
        fix=(
            "Remove duplicates before splitting, or split by group (e.g. by customer, "
            "patient or source: sklearn GroupShuffleSplit) so identical rows stay on "
            "one side; then re-measure the test score."
        ),
    )


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _infer_roles(frame: pd.DataFrame) -> dict:
    """Roles for a frame without `feature_types`: numbers, dates, else categorical."""
    roles = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            roles[name] = "numeric"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            roles[name] = "date"
        else:
            roles[name] = "categorical"
    return roles


def _validate(frame, y, feature_types, task, class_names):
    if not (hasattr(frame, "columns") and hasattr(frame, "iloc")):
        raise TypeError(
            f"frame must be a pandas DataFrame of feature columns; received "
            f"{type(frame).__name__}."
        )
    if task not in _TASKS:
        raise ValueError(f"task must be one of {_TASKS}; received {task!r}.")
    if len(frame) == 0 or len(frame.columns) == 0:
        raise ValueError(
            f"frame is empty; received shape {frame.shape}. Pass at least one row "
            "and one feature column."
        )
    if not frame.columns.is_unique:
        dup = frame.columns[frame.columns.duplicated()].tolist()
        raise ValueError(f"frame has duplicated column names: {dup!r}.")
    if not isinstance(feature_types, dict):
        raise TypeError(
            "feature_types must be a dict {column: role}; received "
            f"{type(feature_types).__name__}."
        )
    columns = list(frame.columns)
    untyped = [c for c in columns if c not in feature_types]
    unknown = [c for c in feature_types if c not in set(columns)]
    bad = {c: r for c, r in feature_types.items() if r not in FEATURE_ROLES}
    if untyped or unknown or bad:
        raise ValueError(
            "feature_types must give every column of frame a role from "
            f"{FEATURE_ROLES}; received missing roles for {untyped!r}, roles for "
            f"unknown columns {unknown!r}, bad roles {bad!r}."
        )
    if y is None:
        return None
    y = _as_labels(y, len(frame), "y", "frame", task)
    if task == "regression":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"y must be numeric for task='regression'; received dtype {y.dtype}."
            ) from exc
    elif class_names is not None and y.dtype.kind in "iu" and y.size:
        if int(y.max()) >= len(class_names):
            raise ValueError(
                f"class_names has {len(class_names)} names but y holds class index "
                f"{int(y.max())}; received class_names={list(class_names)!r}."
            )
    return y


def _table_findings(
    frame, y, feature_types, task, class_names, extra, split=None
) -> list[Finding]:
    extra = dict(extra or {})
    y = _validate(frame, y, feature_types, task, class_names)
    n = len(frame)
    columns = [
        _profile(name, feature_types[name], frame[name]) for name in frame.columns
    ]
    numeric_text = _numeric_as_text(columns)
    ids = [c for c in columns if c.name not in numeric_text and _is_id_like(c, n)]
    features = _row_hashes(columns)
    n_distinct = len(np.unique(features))
    discrete = n_distinct if n_distinct <= _DISCRETE_SHARE * n else 0
    classify = y is not None and task == "classification"
    regress = y is not None and task == "regression"
    target = None
    if y is not None:
        target = y.astype(str) if classify else y + 0.0
    whole = features if y is None else _row_hashes(columns, target)
    findings = [
        _check_dropped_columns(extra),
        _check_missing_target(y, extra, task),
        _check_non_finite(columns),
        _check_missing(columns, n),
        _check_empty(columns, n),
        _check_constant(columns),
        _check_id_like(ids),
        _check_cardinality(columns, set(numeric_text) | {c.name for c in ids}),
        _check_numeric_as_text(numeric_text, extra),
        _check_target_leak(columns, y, task) if y is not None else None,
        _check_class_balance(y, class_names) if classify else None,
        _check_rows_per_class(y, len(columns), class_names) if classify else None,
        _check_duplicates(whole, n, len(columns), discrete),
        (
            _check_label_conflicts(features, y, class_names, discrete)
            if classify
            else None
        ),
        # in a discrete feature space every test row has training twins: not a leak
        _check_split_leak(features, *split) if split and not discrete else None,
        _check_target_distribution(y) if regress else None,
    ]
    return [f for f in findings if f is not None]


def check_table(
    frame,
    y=None,
    *,
    feature_types,
    task: str = "classification",
    class_names=None,
    extra=None,
) -> list[Finding]:
    """Look for the problems of a real table and say what to do about each.

    Checks (see `TABLE_CHECKS`), each at most one finding naming the columns:
    what the loader dropped (`extra`); infinite numbers; missing cells per column
    and rows with any missing cell; empty, constant and ID-like columns;
    categorical columns with many or mostly rare levels; numbers stored as text;
    one column that predicts the target almost perfectly on its own (per-value
    majority/mean or a one-column decision tree, 5-fold cross-validated on up to
    5,000 sampled rows, plus Spearman's rho for regression); class balance and rows
    per class; duplicated whole rows; identical feature rows with different labels
    (classification); a skewed or outlying regression target.

    Args:
        frame: pandas `DataFrame` of the raw feature columns (target excluded).
        y: Targets `(n,)`: class indices (or labels) for classification, numbers for
            regression; `None` runs only the column and row checks.
        feature_types: `{column: role}` for every column of `frame`, roles from
            `kerasdl.data.FEATURE_ROLES` ("numeric", "categorical", "text",
            "date").
        task: `"classification"` or `"regression"`.
        class_names: Names of the classes, index-aligned with integer `y`.
        extra: The loader's notes (`Dataset.extra`): "dropped_columns"
            `{column: reason}`, "dropped_target_rows" (int) and
            "converted_columns" (list) are reported.

    Returns:
        A list of `Finding`s, empty when nothing is wrong; print them with
        `format_findings`.

    Raises:
        TypeError: `frame` is not a DataFrame; `feature_types` is not a dict.
        ValueError: an empty frame; duplicated column names; `feature_types` that
            misses a column, names an unknown one or holds an unknown role; an
            unknown `task`; `y` of another length than `frame`; non-integer `y` for
            classification or non-numeric `y` for regression; `class_names` shorter
            than the largest class index.

    Example:

    ```python
    import pandas as pd

    frame = pd.DataFrame({"colour": ["red", "blue", None] * 10,
                          "size": [1.0, 2.5, 3.0] * 10})
    findings = check_table(frame, [0, 1, 1] * 10,
                           feature_types={"colour": "categorical", "size": "numeric"})
    [f.check for f in findings]  # ['missing_cells', 'duplicates', ...]
    ```
    """
    return _table_findings(frame, y, feature_types, task, class_names, extra)


def diagnose_dataset(dataset, *, test_size: float = 0.2, seed: int = 0) -> list:
    """Run the data checks that fit a `Dataset` and say what to do about each.

    A raw table (`dataset.is_raw_table`: `x` is a DataFrame of raw columns) gets
    `check_table` on all its rows, plus the train/test leak check on a seeded split
    (stratified for classification, as for arrays): test rows whose feature
    values also occur in a training row. Any other dataset goes to
    `kerasdl.doctor.data_checks.diagnose_dataset` (array checks on train vs test).

    Args:
        dataset: A `kerasdl.data.Dataset`.
        test_size: Fraction held out as the test part, in (0, 1).
        seed: Seed of the split.

    Returns:
        The list of `Finding`s.

    Raises:
        TypeError: `dataset` is not a `Dataset`.
        ValueError: `test_size` outside (0, 1); any input error of `check_table`
            or `check_data`.

    Example:

    ```python
    from kerasdl.data import load_csv

    findings = diagnose_dataset(load_csv("penguins.csv", target="species"))
    ```
    """
    if not (isinstance(dataset, Dataset) and dataset.is_raw_table):
        return data_checks.diagnose_dataset(dataset, test_size=test_size, seed=seed)
    _check_test_size(test_size)
    frame = dataset.x
    types = dataset.feature_types or _infer_roles(frame)
    task = "classification" if dataset.task == "classification" else "regression"
    split = None
    if dataset.y is not None:
        split = _split_indices(np.asarray(dataset.y), task, test_size, seed)
    return _table_findings(
        frame, dataset.y, types, task, dataset.class_names, dataset.extra, split
    )
