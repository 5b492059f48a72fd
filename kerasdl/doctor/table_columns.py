"""Per-column checks of a raw table: what each feature column holds and lacks.

Each column is profiled once (`_profile`: values normalised by role, missing cells,
distinct values) and the checks read the profiles: what the loader dropped, infinite
numbers, missing cells, empty, constant and ID-like columns, high-cardinality
categoricals and numbers stored as text. `kerasdl.doctor.table_checks.check_table`
runs them, with the target checks of `kerasdl.doctor.table_target` and the row
checks.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kerasdl.doctor.array_inputs import _SHOW, _count, _names, _pct
from kerasdl.doctor.findings import Finding

# Missing cells: share of rows (in any one column) at and above which it is a warning.
_MISSING_WARNING = 0.05
# Columns missing in more than this share of rows are named for dropping in the fix.
_MOSTLY_MISSING = 0.5
# ID-like: a column is only judged with at least this many non-missing rows, and
# categorical/text columns must be filled in at least this share of the rows.
_ID_MIN_ROWS = 20
_ID_MIN_FILLED = 0.9
# High cardinality (categorical): more than _MAX_LEVELS levels, or at least
# _RARE_MIN_LEVELS levels of which at least _RARE_SHARE are seen in one row only.
_MAX_LEVELS = 100
_RARE_MIN_LEVELS = 20
_RARE_SHARE = 0.5
# Numbers stored as text: share of the filled cells of a categorical column that
# must parse as numbers; a column that parses completely is only reported with more
# than _CODE_LEVELS distinct values (fewer are usually codes such as "1".."5"), and
# never when values have leading zeros ("007", zip codes).
_NUMERIC_SHARE = 0.9
_CODE_LEVELS = 20
_LEADING_ZERO_SHARE = 0.1

_NUMBER = re.compile(r"^[+-]?[$€£]?\s*(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*%?$")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(\D|$))")


# ---------------------------------------------------------------------------
# Column profiles
# ---------------------------------------------------------------------------


@dataclass
class _Column:
    """One feature column, normalised once for every check."""

    name: str
    role: str
    #: numeric/date: float64 (dates in microseconds; NaN for missing, +-inf kept);
    #: categorical/text: object array of `str`, `None` for missing.
    values: np.ndarray
    missing: np.ndarray
    n_missing: int
    n_distinct: int
    counts: pd.Series | None = None  # categorical/text: level -> rows, descending

    @property
    def filled(self) -> int:
        return len(self.values) - self.n_missing


def _profile(name, role: str, column: pd.Series) -> _Column:
    if role == "numeric":
        values = pd.to_numeric(column, errors="coerce")
        values = values.to_numpy(dtype=np.float64, na_value=np.nan) + 0.0  # no -0.0
        missing = np.isnan(values)
        values[missing] = np.nan  # one NaN bit pattern, for hashing
        n_distinct = len(np.unique(values[~missing]))
        return _Column(str(name), role, values, missing, int(missing.sum()), n_distinct)
    if role == "date":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # format inference
            dates = pd.to_datetime(column, errors="coerce")
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_convert(None)
        stamps = dates.to_numpy().astype("datetime64[us]")  # +-290,000 years
        missing = np.isnat(stamps)
        values = stamps.astype(np.int64).astype(np.float64)
        values[missing] = np.nan
        n_distinct = len(np.unique(values[~missing]))
        return _Column(str(name), role, values, missing, int(missing.sum()), n_distinct)
    raw = column.astype(object)
    missing = raw.isna().to_numpy(copy=True)
    text = raw.where(~missing, "").astype(str)
    missing |= (text.str.strip() == "").to_numpy()
    values = np.where(missing, None, text.to_numpy(dtype=object))
    counts = pd.Series(values[~missing], dtype=object).value_counts()
    return _Column(
        str(name), role, values, missing, int(missing.sum()), len(counts), counts
    )


def _listed(items, limit: int = _SHOW) -> str:
    """Already-formatted items joined, `and N more` past `limit`."""
    items = list(items)
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


# ---------------------------------------------------------------------------
# What the loader did
# ---------------------------------------------------------------------------


def _check_dropped_columns(extra) -> Finding | None:
    dropped = dict(extra.get("dropped_columns") or {})
    if not dropped:
        return None
    listed = _listed([f"{c!r} ({reason})" for c, reason in dropped.items()], 10)
    return Finding(
        check="dropped_columns",
        severity="info",
        message=(
            f"the loader dropped {_count(len(dropped), 'column')} before these "
            f"checks: {listed}."
        ),
        fix=(
            "Nothing to do if the reasons hold. If one of them matters, repair it at "
            "the source (an ID that groups rows belongs in GroupKFold as the group "
            "key, not in the features)."
        ),
    )


# ---------------------------------------------------------------------------
# Column checks
# ---------------------------------------------------------------------------


def _check_non_finite(columns) -> Finding | None:
    bad = []
    for c in columns:
        if c.role == "numeric":
            n_inf = int(np.isinf(c.values).sum())
            if n_inf:
                bad.append((c.name, n_inf))
    if not bad:
        return None
    total = sum(n for _, n in bad)
    return Finding(
        check="non_finite",
        severity="error",
        message=(
            f"{_count(total, 'infinite value')} in numeric columns: "
            f"{_listed([f'{c!r} ({n})' for c, n in bad])}."
        ),
        fix=(
            "Find where they come from (a division by zero, an overflowing export); "
            "replace them with NaN and impute inside the training folds, or clip; a "
            "single inf turns the loss into NaN."
        ),
    )


def _check_missing(columns, n: int) -> Finding | None:
    partial = [c for c in columns if 0 < c.n_missing < n]
    if not partial:
        return None
    partial.sort(key=lambda c: -c.n_missing)
    rows = np.zeros(n, dtype=bool)
    for c in partial:
        rows |= c.missing
    n_rows = int(rows.sum())
    empty = sum(c.n_missing == n for c in columns)
    listed = _listed(
        [f"{c.name!r} {c.n_missing} ({_pct(c.n_missing, n)})" for c in partial]
    )
    mostly = [c.name for c in partial if c.n_missing / n > _MOSTLY_MISSING]
    worst = partial[0].n_missing / n
    severity = "warning" if worst >= _MISSING_WARNING else "info"
    not_empty = f" (not counting {_count(empty, 'empty column')})" if empty else ""
    drop = (
        f" {_names(mostly)} {'is' if len(mostly) == 1 else 'are'} missing in more "
        "than half the rows: drop or keep only a missing-indicator."
        if mostly
        else ""
    )
    return Finding(
        check="missing_cells",
        severity=severity,
        message=(
            f"missing cells in {len(partial)} of {len(columns)} columns: {listed}; "
            f"{_count(n_rows, 'row')} ({_pct(n_rows, n)} of {n}) have at least one "
            f"missing cell{not_empty}."
        ),
        fix=(
            "Impute inside the training folds (sklearn SimpleImputer in a Pipeline / "
            "ColumnTransformer: median for numbers, most frequent or a 'missing' "
            "level for categories; add_indicator=True when missingness may carry "
            f"signal); dropping the incomplete rows would lose {_pct(n_rows, n)} of "
            f"the data.{drop}"
        ),
    )


def _check_empty(columns, n: int) -> Finding | None:
    empty = [c.name for c in columns if c.n_missing == n]
    if not empty:
        return None
    return Finding(
        check="empty_columns",
        severity="warning",
        message=(
            f"{len(empty)} of {len(columns)} columns are empty (all {n} cells "
            f"missing): {_names(empty)}."
        ),
        fix=(
            "Drop them; they carry nothing. Check whether a join, a filter or a "
            "wrong delimiter/header emptied them by mistake."
        ),
    )


def _describe_value(c: _Column) -> str:
    if c.role in ("categorical", "text"):
        return repr(c.counts.index[0])
    value = c.values[~c.missing][0]
    if c.role == "date":
        return str(np.datetime64(int(value), "us"))
    return f"{value:g}"


def _check_constant(columns) -> Finding | None:
    constant = [c for c in columns if c.n_distinct == 1]
    if not constant:
        return None
    listed = _listed(
        [
            f"{c.name!r} (always {_describe_value(c)}"
            + (f", {c.n_missing} missing)" if c.n_missing else ")")
            for c in constant
        ]
    )
    only_missing = any(c.n_missing for c in constant)
    return Finding(
        check="constant_columns",
        severity="warning",
        message=(
            f"{len(constant)} of {len(columns)} columns hold a single value: {listed}."
        ),
        fix=(
            "Drop them: they carry no information (a standardiser divides them by a "
            "zero scale); check whether a filter or join made them constant."
            + (
                " Where only the missing cells vary, keep at most a missing-indicator."
                if only_missing
                else ""
            )
        ),
    )


def _is_id_like(c: _Column, n: int) -> bool:
    if c.filled < _ID_MIN_ROWS or c.n_distinct != c.filled:
        return False
    if c.role == "categorical":
        return c.filled >= _ID_MIN_FILLED * n
    if c.role == "text":  # free text is distinct by nature; single tokens are codes
        tokens = ~pd.Series(c.values[~c.missing], dtype=object).str.contains(r"\s")
        return c.filled >= _ID_MIN_FILLED * n and bool(tokens.all())
    if c.role == "numeric" and c.n_missing == 0:
        v = c.values
        if not np.all(np.isfinite(v)) or np.any(v != np.round(v)):
            return False
        steps = np.diff(v)
        monotonic = bool(np.all(steps > 0) or np.all(steps < 0))
        return monotonic or float(v.max() - v.min()) < 2 * n  # a dense key range
    return False


def _check_id_like(ids) -> Finding | None:
    if not ids:
        return None
    listed = _listed(
        [
            f"{c.name!r} ({c.role}, {c.n_distinct} distinct in {c.filled} rows)"
            for c in ids
        ]
    )
    return Finding(
        check="id_columns",
        severity="warning",
        message=f"{_count(len(ids), 'column')} distinct in every row: {listed}.",
        fix=(
            "Drop IDs, keys and row numbers from the features: a model memorises them "
            "and they say nothing about new rows. If the file is sorted (by time, by "
            "class), a row number also leaks that order; if an ID repeats across "
            "files, use it as the group of a GroupKFold split."
        ),
    )


def _check_cardinality(columns, skip) -> Finding | None:
    wide = []
    for c in columns:
        if c.role != "categorical" or c.name in skip or c.n_distinct < 2:
            continue
        once = int((c.counts == 1).sum())
        if c.n_distinct > _MAX_LEVELS or (
            c.n_distinct >= _RARE_MIN_LEVELS and once >= _RARE_SHARE * c.n_distinct
        ):
            wide.append(
                f"{c.name!r} ({c.n_distinct} levels in {c.filled} rows, "
                f"{_pct(once, c.n_distinct)} of them seen once)"
            )
    if not wide:
        return None
    return Finding(
        check="high_cardinality",
        severity="warning",
        message=(
            f"{_count(len(wide), 'categorical column')} with many or mostly rare "
            f"levels: {_listed(wide)}."
        ),
        fix=(
            "One-hot encoding gives a wide, sparse input that a network overfits and "
            "levels unseen in training at test time. If it is free text, load it as a "
            "text column (`--text COLUMN`); otherwise hash it (keras.layers.Hashing, "
            "sklearn FeatureHasher), group rare levels (OneHotEncoder(min_frequency="
            "..., handle_unknown='infrequent_if_exist')), use an embedding, or drop "
            "it."
        ),
    )


def _numeric_share(c: _Column) -> tuple[float, list[str], bool]:
    """Share of filled cells that parse as numbers, the levels that do not, and
    whether the levels look like codes (leading zeros)."""
    levels = pd.Series(c.counts.index, dtype=object).str.strip()
    cleaned = levels.str.replace(_THOUSANDS, "", regex=True)
    parses = cleaned.str.match(_NUMBER.pattern).to_numpy(dtype=bool)
    share = float(c.counts.to_numpy()[parses].sum()) / max(c.filled, 1)
    leading = levels[parses].str.match(r"^[+-]?0\d").to_numpy(dtype=bool)
    codes = parses.any() and leading.mean() >= _LEADING_ZERO_SHARE
    others = [str(v) for v in c.counts.index[~parses]]
    return share, others, bool(codes)


def _numeric_as_text(columns) -> dict[str, tuple[str, bool]]:
    """`{column: (description, has non-numeric markers)}` for the categorical
    columns whose values are numbers."""
    found = {}
    for c in columns:
        if c.role != "categorical" or c.n_distinct < 2:
            continue
        share, others, codes = _numeric_share(c)
        if share < _NUMERIC_SHARE or codes:
            continue
        if others:
            shown = _listed([repr(v) for v in others], 3)
            found[c.name] = (
                f"{c.name!r} ({_pct(round(share * c.filled), c.filled)} of its cells "
                f"are numbers; not: {shown})",
                True,
            )
        elif c.n_distinct > _CODE_LEVELS:
            found[c.name] = (
                f"{c.name!r} (all {c.n_distinct} levels are numbers)",
                False,
            )
    return found


def _check_numeric_as_text(detected: dict, extra) -> Finding | None:
    converted = list(extra.get("converted_columns") or [])
    if not converted and not detected:
        return None
    parts = []
    if detected:
        parts.append(
            f"{_count(len(detected), 'categorical column')} "
            f"hold{'s' if len(detected) == 1 else ''} numbers stored as text: "
            f"{_listed(text for text, _ in detected.values())}"
        )
    if converted:
        parts.append(
            f"the loader parsed {_count(len(converted), 'column')} stored as text "
            f"into numbers: {_names(converted)}"
        )
    markers = any(marked for _, marked in detected.values())
    return Finding(
        check="numeric_as_text",
        severity="warning" if markers else "info",
        message="; ".join(parts) + ".",
        fix=(
            "As categories, numbers lose their order and distance and every value is "
            "a separate level. Fix the export or read the file so they parse: declare "
            "the markers as missing (pandas read_csv(na_values=['?', 'n/a'])), strip "
            "units, currency and thousands separators, use decimal=',' where needed; "
            "check converted columns for a decimal comma read as a thousands "
            "separator."
        ),
    )
