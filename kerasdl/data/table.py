"""Load a real table as it comes: mixed column types, missing cells, dates and IDs.

`load_table` reads a CSV file (any of the usual delimiters) or takes a pandas
`DataFrame`, decides the role of every column (`infer_feature_types`), drops the
columns that cannot help (empty, constant, identifiers) and the rows whose target is
missing, and returns a `Dataset` whose `x` keeps the raw columns with normalised
dtypes. Encoding them (scaling, one-hot, imputation) is left to the models, inside
each training fold, so that nothing learnt from the test rows leaks into training.

A table whose kept features are all numeric and complete comes back as a float32
NumPy array instead, exactly as the built-in tabular sets do.

The rules for column roles and dtypes live in `kerasdl.data.table_roles`, and
`describe_table` in `kerasdl.data.table_description`; this module reads the file,
prepares the target and assembles the `Dataset`.
"""

from __future__ import annotations

import csv
import os
import re
import warnings

import numpy as np
import pandas as pd

from kerasdl.data.dataset import FEATURE_ROLES, Dataset
from kerasdl.data.table_description import describe_table
from kerasdl.data.table_roles import (
    DATE_STRING_SHARE,
    MAX_CATEGORICAL_LEVELS,
    MIN_ROWS_FOR_ID,
    NUMERIC_STRING_SHARE,
    REASON_CONSTANT,
    REASON_EMPTY,
    REASON_ID,
    REASON_IGNORED,
    _check_overrides,
    _column_list,
    _format_columns,
    _infer,
    _is_bool_like,
    _is_number_like,
    _label_str,
    _normalise,
    _numbers_share,
    _strings,
    infer_feature_types,
)

__all__ = [
    "MAX_CLASSES_FOR_INTEGERS",
    "describe_table",
    "infer_feature_types",
    "load_table",
    # the rules of `infer_feature_types` (defined in table_roles), re-exported
    "DATE_STRING_SHARE",
    "MAX_CATEGORICAL_LEVELS",
    "MIN_ROWS_FOR_ID",
    "NUMERIC_STRING_SHARE",
    "REASON_CONSTANT",
    "REASON_EMPTY",
    "REASON_ID",
    "REASON_IGNORED",
]

#: An integer-valued numeric target with at most this many distinct values is taken as
#: class labels by `load_table` (unless `task=` says otherwise); more is a regression.
MAX_CLASSES_FOR_INTEGERS = 20

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t|"
_OVERRIDES = ("categorical", "text", "ignore")


# --------------------------------------------------------------------------------------
# Small helpers (also used by kerasdl.data.user)


def _stem(path) -> str:
    return os.path.splitext(os.path.basename(os.path.normpath(str(path))))[0]


# --------------------------------------------------------------------------------------
# Reading


def _read_sample(path) -> str:
    with open(path, "rb") as f:
        raw = f.read(_SNIFF_BYTES)
    sample = raw.decode("utf-8", errors="replace")
    if len(raw) == _SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    return sample


def _sniff_delimiter(sample: str) -> str:
    """Guess the delimiter among `, ; TAB |` from a file's start; default comma."""
    lines = sample.splitlines()
    if not lines:
        return ","
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sep = ","
    header = lines[0]
    if sep not in header:
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        sep = best if counts[best] else ","
    return sep


def _decimal_mark(sample: str, sep: str) -> str:
    """`","` when a non-comma-separated file writes numbers as `3,14` (the European
    spreadsheet habit), else `"."`. Numbers written `3.14` are still read, as text
    cells that parse as numbers."""
    if sep == ",":
        return "."
    field = re.escape(sep)
    pattern = rf"(?:^|{field})\s*[+-]?\d+,\d+\s*(?={field}|$)"
    return "," if re.search(pattern, sample, re.MULTILINE) else "."


def _read_csv(path, sep) -> tuple[pd.DataFrame, str, str]:
    """Read a CSV file; return the frame, the delimiter and the decimal mark."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        raise ValueError(f"path must be an existing CSV file; received {str(path)!r}.")
    sample = _read_sample(path)
    if sep is None:
        sep = _sniff_delimiter(sample)
    decimal = _decimal_mark(sample, sep)
    try:
        frame = pd.read_csv(
            path, sep=sep, decimal=decimal, skipinitialspace=True, low_memory=False
        )
    except pd.errors.EmptyDataError as exc:
        raise ValueError(
            f"path {str(path)!r} is an empty file; expected a CSV table."
        ) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"path {str(path)!r} could not be parsed as CSV (delimiter {sep!r}): {exc}"
        ) from exc
    if len(frame) == 0:
        raise ValueError(
            f"path {str(path)!r} has a header but no data rows; received columns "
            f"{_format_columns(frame.columns)}."
        )
    return frame, sep, decimal


# --------------------------------------------------------------------------------------
# Target


def _prepare_target(frame, target, task, where, converted):
    """Return `(kept_rows_mask, y, task, class_names)`."""
    column = frame[target]
    if not (_is_bool_like(column) or _is_number_like(column)):
        if pd.api.types.is_datetime64_any_dtype(column):
            column = _strings(column)
        elif task != "classification":
            if _numbers_share(_strings(column).value_counts()) >= NUMERIC_STRING_SHARE:
                column = pd.to_numeric(_strings(column), errors="coerce")
                converted.append(target)
    is_numeric = _is_number_like(column)
    if is_numeric:
        values = pd.to_numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
        column = pd.Series(values, index=column.index)
    else:
        column = _strings(column)
    keep = column.notna().to_numpy()
    if not keep.any():
        raise ValueError(f"target {target!r} of {where} has no non-missing value.")
    column = column[keep]
    if task is None:
        if not is_numeric:
            task = "classification"
        else:
            values = column.to_numpy(dtype=np.float64)
            finite = np.all(np.isfinite(values))
            integer_valued = bool(finite and np.all(values % 1 == 0))
            few = len(np.unique(values)) <= MAX_CLASSES_FOR_INTEGERS
            task = "classification" if integer_valued and few else "regression"
    class_names = None
    if task == "classification":
        if is_numeric:
            labels, y = np.unique(column.to_numpy(), return_inverse=True)
            class_names = [_label_str(v) for v in labels]
        else:
            labels, y = np.unique(column.to_numpy(dtype=str), return_inverse=True)
            class_names = [str(v) for v in labels]
        if len(class_names) < 2:
            raise ValueError(
                f"target {target!r} of {where} has a single class "
                f"{class_names[0]!r}; classification needs at least two classes."
            )
        y = y.astype(np.int64)
    else:
        if not is_numeric:
            raise ValueError(
                f"task='regression' needs a numeric target; column {target!r} has "
                f"dtype {frame[target].dtype} (first value {column.iloc[0]!r})."
            )
        y = column.to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(y)) or np.any(np.abs(y) > np.finfo(np.float32).max):
            raise ValueError(
                f"target {target!r} contains infinite values (or values too large "
                "for float32)."
            )
        y = y.astype(np.float32)
    return keep, y, task, class_names


# --------------------------------------------------------------------------------------
# load_table


def _role_counts(roles: dict[str, str]) -> str:
    parts = []
    for role in FEATURE_ROLES:
        n = sum(r == role for r in roles.values())
        if n:
            parts.append(f"{n} {role}")
    return ", ".join(parts)


def load_table(
    source,
    target: str,
    *,
    task: str | None = None,
    categorical=(),
    text=(),
    ignore=(),
    groups: str | None = None,
    name: str | None = None,
    sep: str | None = None,
) -> Dataset:
    """Load a real table (a CSV file or a `DataFrame`) as a tabular `Dataset`.

    Column roles come from `infer_feature_types` (see there for the rules and the
    columns it drops). Rows whose target is missing are dropped, counted in
    `extra["dropped_target_rows"]` and reported with a warning. The task is
    inferred from the target unless `task` is given: text or boolean labels, or
    integer values with at most `MAX_CLASSES_FOR_INTEGERS` distinct values, make a
    classification; other numbers a regression (a target of numbers stored as text,
    such as `"?"` for missing, is read as numbers). Class labels are encoded as
    indices into `class_names`, the sorted distinct labels as `str` (labels
    `[3, 1, 2]` become indices `[2, 0, 1]` with names `["1", "2", "3"]`).

    When every kept feature is numeric and no cell is missing, `x` is a float32
    NumPy array `(n, n_features)`, as for the built-in tables. Otherwise `x` is a
    pandas `DataFrame` of the kept feature columns (a *raw table*, see
    `Dataset.is_raw_table`), index `0..n-1`, with normalised dtypes: numeric ->
    float64 (NaN when missing), categorical -> object holding `str` (`"True"`,
    `"1"`, `"red"`; NaN when missing), text -> object `str` (`""` when missing),
    date -> `datetime64[ns]` (NaT when missing; time zones converted to UTC).

    Args:
        source: Path to a CSV file (header row first), or a pandas `DataFrame`.
        target: Name of the column to predict; the other columns are features.
        task: Force `"classification"` or `"regression"` instead of inferring it.
        categorical: Column name(s) to treat as categories (e.g. integer codes).
        text: Column name(s) to treat as free text.
        ignore: Column name(s) to drop.
        groups: A column whose values group the rows (a patient, a site, a
            household): removed from the features and returned in
            `extra["groups"]`, for group-aware splitting.
        name: Dataset name; defaults to the file name without extension, or
            `"table"` for a `DataFrame`.
        sep: The CSV delimiter; by default it is detected among `,` `;` TAB `|`
            from the first 64 KiB of the file (comma when unsure). In a file not
            separated by commas, numbers written with a decimal comma (`3,14`)
            are read as numbers.

    Returns:
        A `Dataset` with `x` (see above), `y` int64 (classification) or float32
        (regression), `feature_names` and `feature_types` (the kept columns and
        their roles, in order), `class_names` for a classification, and `extra`:
        `source` (the file's absolute path, or `"DataFrame"`), `path` (files only),
        `target`, `dropped_columns` (`{column: reason}`), `dropped_target_rows`,
        `converted_columns` (text columns read as numbers), `groups` (an array
        aligned with the rows, or `None`) and, for a file, `sep` and `decimal`
        (the delimiter and decimal mark used).

    Raises:
        ValueError: the file is missing, empty or not parseable, or has no rows;
            `target` or `groups` is not a column; an override list is invalid (see
            `infer_feature_types`); no feature column is left; the target has no
            value, a single class, or is not numeric for `task="regression"`;
            `task` is invalid.
        TypeError: `source` is neither a path nor a `DataFrame`.

    Example:

    ```python
    ds = load_table("penguins.csv", target="species")
    ds.feature_types  # {"island": "categorical", "bill_length_mm": "numeric", ...}
    print(describe_table(ds))
    ```
    """
    if task is not None and task not in ("classification", "regression"):
        raise ValueError(
            f"task must be 'classification', 'regression' or None; received {task!r}."
        )
    if sep is not None and (not isinstance(sep, str) or not sep):
        raise ValueError(f"sep must be a non-empty string or None; received {sep!r}.")
    if not isinstance(target, str):
        raise TypeError(f"target must be a column name (str); received {target!r}.")
    if isinstance(source, pd.DataFrame):
        if len(source) == 0:
            raise ValueError(
                "source DataFrame has no rows; received columns "
                f"{_format_columns([str(c) for c in source.columns])}."
            )
        frame = source.rename(columns=str)
        where, origin, path = "the DataFrame", "DataFrame", None
        default_name = "table"
    elif isinstance(source, (str, os.PathLike)):
        frame, sep, decimal = _read_csv(source, sep)
        frame = frame.rename(columns=str)
        path = os.path.abspath(source)
        where, origin = repr(str(source)), path
        default_name = _stem(source)
    else:
        raise TypeError(
            "source must be a path to a CSV file or a pandas DataFrame; received "
            f"{type(source).__name__}."
        )
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise ValueError(
            f"column names of {where} must be unique; received duplicates "
            f"{_format_columns(duplicated)}."
        )
    if target not in frame.columns:
        raise ValueError(
            f"target {target!r} is not a column of {where}; available columns: "
            f"{_format_columns(frame.columns)}."
        )
    if groups is not None:
        if groups not in frame.columns:
            raise ValueError(
                f"groups {groups!r} is not a column of {where}; available columns: "
                f"{_format_columns(frame.columns)}."
            )
        if groups == target:
            raise ValueError(
                f"groups {groups!r} is the target column; pass another column."
            )
    if frame.shape[1] == 1:
        raise ValueError(
            f"target {target!r} is the only column of {where}; no features left."
        )
    # Validate the override lists before any work on the rows.
    lists = zip(_OVERRIDES, (categorical, text, ignore))
    _check_overrides(
        frame.columns, {a: _column_list(v, a) for a, v in lists}, target, groups
    )

    converted: list[str] = []
    keep, y, task, class_names = _prepare_target(frame, target, task, where, converted)
    n_dropped_rows = int((~keep).sum())
    if n_dropped_rows:
        warnings.warn(
            f"target {target!r} is missing in {n_dropped_rows} row(s) of {where}; "
            "those rows were dropped.",
            stacklevel=2,
        )
        frame = frame[keep]
    frame = frame.reset_index(drop=True)

    roles, dropped, converted_features, cache = _infer(
        frame, categorical, text, ignore, target, groups
    )
    converted = converted_features + converted
    if not roles:
        reasons = ", ".join(f"{c!r} ({r})" for c, r in dropped.items())
        reasons = reasons or f"none; only the target and groups {groups!r} are left"
        raise ValueError(
            f"no feature column of {where} is left to learn from; dropped: {reasons}."
        )
    table = _normalise(frame, roles, cache)
    if all(r == "numeric" for r in roles.values()) and not table.isna().any().any():
        x = table.to_numpy(dtype=np.float64)
        if np.any(np.abs(x) > np.finfo(np.float32).max):
            raise ValueError(
                f"feature columns of {where} contain values too large for float32."
            )
        x = x.astype(np.float32)
    else:
        x = table
    groups_values = frame[groups].to_numpy() if groups is not None else None

    kind = f"{len(class_names)}-class classification" if class_names else "regression"
    description = (
        f"User data from {'a DataFrame' if path is None else path}: {len(frame)} rows, "
        f"{len(roles)} feature columns ({_role_counts(roles)}), target column "
        f"{target!r} ({kind})."
    )
    if dropped:
        description += f" Dropped columns: {', '.join(dropped)}."
    if n_dropped_rows:
        description += f" Dropped {n_dropped_rows} row(s) with a missing target."
    extra = {
        "source": origin,
        "target": target,
        "dropped_columns": dropped,
        "dropped_target_rows": n_dropped_rows,
        "converted_columns": converted,
        "groups": groups_values,
    }
    if path is not None:
        extra.update(path=path, sep=sep, decimal=decimal)
    return Dataset(
        x=x,
        y=y,
        name=name or default_name,
        task=task,
        description=description,
        class_names=class_names,
        feature_names=list(roles),
        extra=extra,
        feature_types=roles,
    )
