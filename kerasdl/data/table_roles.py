"""Column roles of a real table: what each column is, and its normalised dtype.

`infer_feature_types` reads every column of a table by its content and decides its
role ("numeric", "categorical", "text", "date") or why it is dropped (empty,
constant, ID-like, ignored); `_normalise` then gives each kept column the one dtype
of its role. `kerasdl.data.table.load_table` builds on both; the thresholds below
are the rules it follows.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

__all__ = [
    "DATE_STRING_SHARE",
    "MAX_CATEGORICAL_LEVELS",
    "MIN_ROWS_FOR_ID",
    "NUMERIC_STRING_SHARE",
    "REASON_CONSTANT",
    "REASON_EMPTY",
    "REASON_ID",
    "REASON_IGNORED",
    "infer_feature_types",
]


#: A column is ID-like only in a table of at least this many rows.
MIN_ROWS_FOR_ID = 20
#: Share of the non-missing cells of a string column that must read as numbers for
#: the column to be taken as numeric (the rest become missing).
NUMERIC_STRING_SHARE = 0.95
#: Share of the non-missing cells of a string column that must read as dates.
DATE_STRING_SHARE = 0.90
#: A categorical column with more levels than this triggers a warning.
MAX_CATEGORICAL_LEVELS = 1000

# The reasons `infer_feature_types` gives for a dropped column.
REASON_EMPTY = "all empty"
REASON_CONSTANT = "constant"
REASON_ID = "ID-like: a distinct value in every row"
REASON_IGNORED = "--ignore"

# A date written as text has a digit and a separator (2014-03-01, 3/1/14, 1 Mar 2014).
_DATE_SHAPE = re.compile(r"\d.*[-/:.\s]|[-/:.\s].*\d")
# Codes such as zip codes or "007" keep their leading zeros: they are not numbers.
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_ID_TOKENS = {"id", "ids", "uuid", "guid", "index", "idx", "key"}
_UNNAMED = re.compile(r"^unnamed: ?\d+$", re.IGNORECASE)


# --------------------------------------------------------------------------------------
# Small helpers (also used by kerasdl.data.table)


def _format_columns(columns, limit: int = 20) -> str:
    shown = [repr(c) for c in list(columns)[:limit]]
    more = len(columns) - limit
    return ", ".join(shown) + (f", ... ({more} more)" if more > 0 else "")


def _label_str(value) -> str:
    """`1.0` -> `"1"`, so integer labels read from a float column look like integers."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _cell_str(value) -> str:
    """A cell as the text a user would read: `True`, `"1"` (not `"1.0"`), `"red"`."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    return _label_str(value).strip()


def _strings(series: pd.Series) -> pd.Series:
    """An object Series of stripped `str` cells; missing or blank cells are NaN."""
    is_text = isinstance(series.dtype, pd.StringDtype) or (
        series.dtype == object and pd.api.types.infer_dtype(series) == "string"
    )
    if is_text:  # the common case, vectorised
        stripped = series.astype(object).str.strip()
        return stripped.where(stripped.notna() & (stripped != ""), np.nan)
    out = pd.Series(np.nan, index=series.index, dtype=object)
    mask = series.notna().to_numpy()
    if mask.any():
        cells = [_cell_str(v) for v in series.to_numpy(dtype=object)[mask]]
        out.iloc[np.flatnonzero(mask)] = [c if c else np.nan for c in cells]
    return out


def _is_bool_like(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return True
    if series.dtype != object:
        return False
    values = series.dropna()
    return len(values) > 0 and all(isinstance(v, (bool, np.bool_)) for v in values)


def _is_number_like(series: pd.Series) -> bool:
    """Numeric dtype (not bool), or an object column holding only numbers."""
    if _is_bool_like(series):
        return False
    if pd.api.types.is_numeric_dtype(series):
        return True
    if series.dtype != object:
        return False
    values = series.dropna()
    return len(values) > 0 and all(
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, (bool, np.bool_))
        for v in values
    )


def _numbers_share(counts: pd.Series) -> float:
    """Share of the non-missing string cells that read as numbers.

    Args:
        counts: `value_counts()` of the stripped cells (index: the distinct cells).
    """
    uniques = pd.Series(counts.index.to_numpy(dtype=object), dtype=object)
    if len(uniques) == 0 or uniques.str.match(_LEADING_ZERO).any():
        return 0.0
    numbers = pd.to_numeric(uniques, errors="coerce")
    weights = counts.to_numpy()
    return float(weights[numbers.notna().to_numpy()].sum() / weights.sum())


def _parse_dates(values: pd.Series) -> pd.Series:
    """Parse string cells as dates (ISO 8601 first, then mixed formats); NaT where
    a cell is not a date. Returns a naive `datetime64[ns]` Series (UTC wall time)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
        if parsed.notna().mean() < DATE_STRING_SHARE:
            mixed = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
            if mixed.notna().sum() > parsed.notna().sum():
                parsed = mixed
    return _naive_ns(parsed)


def _naive_ns(parsed: pd.Series) -> pd.Series:
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    # datetime64[ns] spans the years 1677-2262; dates outside it become missing.
    low, high = pd.Timestamp.min, pd.Timestamp.max
    parsed = parsed.where((parsed > low) & (parsed < high))
    return parsed.astype("datetime64[ns]")


def _dates_share(values: pd.Series) -> float:
    """Share of non-missing string cells that look like and parse as dates."""
    uniques = pd.Series(values.unique()[:2000], dtype=object)
    if len(uniques) == 0:
        return 0.0
    if uniques.str.contains(_DATE_SHAPE).mean() < DATE_STRING_SHARE:
        return 0.0
    return float(_parse_dates(uniques).notna().mean())


def _name_tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t.lower() for t in re.split(r"[^A-Za-z0-9]+", spaced) if t]


def _looks_like_id_name(name: str) -> bool:
    """`id`, `PassengerId`, `customerID`, `user_id`, `Unnamed: 0`, `index`, ..."""
    if _UNNAMED.match(name):
        return True
    return any(t in _ID_TOKENS for t in _name_tokens(name))


def _all_distinct(series: pd.Series) -> bool:
    n = len(series)
    return n >= MIN_ROWS_FOR_ID and series.notna().all() and series.nunique() == n


# --------------------------------------------------------------------------------------
# Role inference


def _column_list(value, argument: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        columns = list(value)
    except TypeError as exc:
        raise TypeError(
            f"{argument} must be a column name or a list of column names; received "
            f"{value!r}."
        ) from exc
    bad = [c for c in columns if not isinstance(c, str)]
    if bad:
        raise TypeError(
            f"{argument} must hold column names (str); received {bad[0]!r} in "
            f"{value!r}."
        )
    return columns


def _check_overrides(columns, overrides: dict, target, groups=None) -> dict[str, str]:
    """Validate the override lists; return `{column: "categorical"|"text"|"ignore"}`."""
    available = list(columns)
    chosen: dict[str, str] = {}
    for argument, names in overrides.items():
        unknown = [c for c in names if c not in available]
        if unknown:
            raise ValueError(
                f"{argument}= names unknown column(s) {_format_columns(unknown)}; "
                f"available columns: {_format_columns(available)}."
            )
        for column in names:
            if target is not None and column == target:
                raise ValueError(
                    f"target {target!r} is also listed in {argument}={names!r}; the "
                    "target cannot be a feature."
                )
            if groups is not None and column == groups:
                raise ValueError(
                    f"groups {groups!r} is also listed in {argument}={names!r}; the "
                    "groups column is never a feature."
                )
            if column in chosen and chosen[column] != argument:
                raise ValueError(
                    f"column {column!r} is listed in both {chosen[column]}= and "
                    f"{argument}=; give each column one role."
                )
            chosen[column] = argument
    return chosen


def _infer_column(name: str, series: pd.Series, cache: dict):
    """Return `(role, drop_reason, converted)` for one column, by its content."""
    n_present = int(series.notna().sum())
    if n_present == 0:
        return "", REASON_EMPTY, False
    if _is_bool_like(series) or isinstance(series.dtype, pd.CategoricalDtype):
        if series.nunique() == 1:
            return "", REASON_CONSTANT, False
        return "categorical", None, False
    if pd.api.types.is_datetime64_any_dtype(series):
        if series.nunique() == 1:
            return "", REASON_CONSTANT, False
        return "date", None, False
    if pd.api.types.is_timedelta64_dtype(series) or _is_number_like(series):
        if series.nunique() == 1:
            return "", REASON_CONSTANT, False
        numbers = series if series.dtype != object else pd.to_numeric(series)
        if (
            pd.api.types.is_integer_dtype(numbers)
            and _looks_like_id_name(name)
            and _all_distinct(numbers)
        ):
            return "", REASON_ID, False
        return "numeric", None, False
    # Text cells (strings, or mixed objects read as their text), judged on the
    # distinct cells weighted by their counts.
    counts = _cached_strings(name, series, cache).value_counts()
    n_cells = int(counts.sum())
    if n_cells == 0:
        return "", REASON_EMPTY, False
    n_levels = len(counts)
    if n_levels == 1:
        return "", REASON_CONSTANT, False
    n_rows = len(series)
    if _numbers_share(counts) >= NUMERIC_STRING_SHARE:
        numbers = pd.to_numeric(counts.index.to_series(), errors="coerce").dropna()
        integral = bool(np.all(np.isfinite(numbers)) and np.all(numbers % 1 == 0))
        distinct = n_rows >= MIN_ROWS_FOR_ID and n_levels == n_cells == n_rows
        if integral and distinct and _looks_like_id_name(name):
            return "", REASON_ID, False
        return "numeric", None, True
    uniques = pd.Series(counts.index.to_numpy(dtype=object), dtype=object)
    if _dates_share(uniques) >= DATE_STRING_SHARE:
        return "date", None, False
    weights = counts.to_numpy()
    words = float((uniques.str.split().str.len().to_numpy() * weights).sum()) / n_cells
    if n_rows >= MIN_ROWS_FOR_ID and n_levels == n_rows and words < 2:
        return "", REASON_ID, False
    mean_length = float((uniques.str.len().to_numpy() * weights).sum()) / n_cells
    many = n_levels / n_cells > 0.5 or n_levels > MAX_CATEGORICAL_LEVELS
    if many and (words >= 4 or mean_length > 20):
        return "text", None, False
    return "categorical", None, False


def _cached_strings(name: str, series: pd.Series, cache: dict) -> pd.Series:
    if name not in cache:
        cache[name] = _strings(series)
    return cache[name]


def _warn_high_cardinality(name: str, series: pd.Series, cache: dict) -> None:
    values = _cached_strings(name, series, cache).dropna()
    n_levels = values.nunique()
    if n_levels > MAX_CATEGORICAL_LEVELS or (
        n_levels > 100 and n_levels / max(len(values), 1) > 0.5
    ):
        warnings.warn(
            f"categorical column {name!r} has {n_levels} distinct values in "
            f"{len(values)} non-missing cells; one-hot encoding it will be slow and "
            f"sparse. If it holds free text pass text=[{name!r}], or drop it with "
            f"ignore=[{name!r}].",
            stacklevel=4,
        )


def _infer(frame, categorical, text, ignore, target, groups=None):
    columns = [c for c in frame.columns]
    overrides = {
        "categorical": _column_list(categorical, "categorical"),
        "text": _column_list(text, "text"),
        "ignore": _column_list(ignore, "ignore"),
    }
    if target is not None and target not in columns:
        raise ValueError(
            f"target {target!r} is not a column; available columns: "
            f"{_format_columns(columns)}."
        )
    chosen = _check_overrides(columns, overrides, target, groups)
    cache: dict[str, pd.Series] = {}
    roles: dict[str, str] = {}
    dropped: dict[str, str] = {}
    converted: list[str] = []
    for name in columns:
        if name == target or (groups is not None and name == groups):
            continue
        series = frame[name]
        choice = chosen.get(name)
        if choice == "ignore":
            dropped[name] = REASON_IGNORED
            continue
        if choice is not None:
            # The user's word wins, except over a column with nothing in it.
            if _cached_strings(name, series, cache).notna().any():
                roles[name] = choice
            else:
                dropped[name] = REASON_EMPTY
            continue
        role, reason, was_converted = _infer_column(name, series, cache)
        if reason is not None:
            dropped[name] = reason
            continue
        roles[name] = role
        if was_converted:
            converted.append(name)
        if role == "categorical":
            _warn_high_cardinality(name, series, cache)
    return roles, dropped, converted, cache


def infer_feature_types(
    frame,
    *,
    categorical=(),
    text=(),
    ignore=(),
    target: str | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Decide the role of every column of a table, and which columns to drop.

    The lists `categorical`, `text` and `ignore` win over inference (a column named
    there is kept with that role even if it looks constant or ID-like; only an
    all-empty column is still dropped). Every other column is read by its content:

    - booleans and pandas `category` columns: `"categorical"`;
    - numbers (and durations): `"numeric"`, even with few distinct integer values;
    - datetimes, or strings of which at least 90% parse as dates: `"date"`;
    - strings of which at least 95% parse as numbers (e.g. numbers with a `"?"` for
      missing): `"numeric"`; strings with a leading zero (`"007"`, zip codes) are
      codes, not numbers;
    - strings with many distinct values (more than half the cells, or more than
      1000) that are long (on average 4 words or more, or more than 20
      characters): `"text"`;
    - other strings: `"categorical"` (with a warning above 1000 levels, or above
      100 levels when more than half the cells are distinct).

    Dropped: empty columns (`"all empty"`), columns with one distinct non-missing
    value (`"constant"`), identifiers (`"ID-like: a distinct value in every row"`:
    in a table of at least 20 rows, a string column of single words with a distinct
    value in every row, or an integer column with a distinct value in every row
    whose name says it is an identifier, such as `id`, `PassengerId`, `user_id`,
    `index` or `Unnamed: 0`; integers named otherwise may be real measurements and
    are kept), and the `ignore` list (`"--ignore"`).

    Args:
        frame: A pandas `DataFrame` (column names are used as `str`).
        categorical: Column name(s) to treat as categories (e.g. integer codes).
        text: Column name(s) to treat as free text.
        ignore: Column name(s) to drop.
        target: The target column, if `frame` holds one: it gets no role and may not
            appear in the lists.

    Returns:
        `(roles, dropped)`: `roles` maps each kept column, in column order, to a role
        in `FEATURE_ROLES`; `dropped` maps each dropped column to its reason.

    Raises:
        ValueError: a list names an unknown column, a column is in two lists, the
            target is in a list, or `target` is not a column.
        TypeError: `frame` is not a DataFrame, or a list holds a non-string.

    Example:

    ```python
    roles, dropped = infer_feature_types(frame, target="species")
    roles  # {"island": "categorical", "bill_length_mm": "numeric", ...}
    ```
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"frame must be a pandas DataFrame; received {type(frame).__name__}."
        )
    frame = frame.rename(columns=str)
    roles, dropped, _, _ = _infer(frame, categorical, text, ignore, target)
    return roles, dropped


# --------------------------------------------------------------------------------------
# Column normalisation


def _numeric_column(name: str, series: pd.Series, strings) -> np.ndarray:
    if pd.api.types.is_timedelta64_dtype(series):
        values = series.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)
    elif _is_number_like(series):
        values = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = pd.to_numeric(strings(), errors="coerce")
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        warnings.warn(
            f"numeric column {name!r} has {int(infinite.sum())} infinite value(s); "
            "they are treated as missing.",
            stacklevel=4,
        )
        values = np.where(infinite, np.nan, values)
    return values


def _date_column(series: pd.Series, strings) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return _naive_ns(series).reset_index(drop=True)
    values = strings().reset_index(drop=True)
    uniques = pd.Series(values.dropna().unique(), dtype=object)
    parsed = pd.Series(_parse_dates(uniques).to_numpy(), index=uniques.to_numpy())
    return values.map(parsed).astype("datetime64[ns]")


def _normalise(frame: pd.DataFrame, roles: dict[str, str], cache: dict):
    """The kept columns with one dtype per role (see `load_table`)."""
    columns = {}
    for name, role in roles.items():
        series = frame[name]

        def strings(name=name, series=series):
            return _cached_strings(name, series, cache)

        if role == "numeric":
            values = _numeric_column(name, series, strings)
            columns[name] = pd.Series(values, dtype=np.float64)
        elif role == "categorical":
            columns[name] = pd.Series(strings().to_numpy(), dtype=object)
        elif role == "text":
            columns[name] = pd.Series(strings().fillna("").to_numpy(), dtype=object)
        else:
            columns[name] = _date_column(series, strings)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
