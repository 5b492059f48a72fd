"""Cells of a raw table as `TableEncoder` reads them: numbers, dates, category
tokens and texts, each with a `ValueError` naming the column and the bad value."""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

#: The token a missing categorical cell becomes before the vocabulary lookup.
MISSING_TOKEN = "[MISSING]"
#: The out-of-vocabulary token of the categorical lookups (index 0).
UNSEEN_TOKEN = "[UNSEEN]"
#: The numeric parts each date column expands to.
DATE_PARTS = ("year", "month", "day_of_week", "day_of_year", "days_since_epoch")

_CONFIG_VERSION = 1
_EPOCH = pd.Timestamp("1970-01-01")


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _num_rows(frame) -> int:
    """Rows of a DataFrame or of a dict of NumPy columns."""
    if isinstance(frame, pd.DataFrame):
        return len(frame)
    return len(next(iter(frame.values()))) if frame else 0


def _first_bad(series: pd.Series, bad: np.ndarray):
    return series[bad].iloc[0]


def numeric_values(series: pd.Series, name) -> np.ndarray:
    if isinstance(series, np.ndarray):  # a column of a numeric array
        values = series.astype("float64")
    elif pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    elif pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    elif pd.api.types.is_datetime64_any_dtype(series):
        raise ValueError(
            f"Column {name!r} is numeric but holds dates; received "
            f"{series.dropna().iloc[0]!r}. Declare it as 'date'."
        )
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        present = ~series.map(_is_missing).to_numpy(dtype=bool)
        bad = present & np.isnan(values)
        if bad.any():
            raise ValueError(
                f"Column {name!r} is numeric but holds a value that is not a "
                f"number: received {_first_bad(series, bad)!r}."
            )
    infinite = np.isinf(values)
    if infinite.any():
        raise ValueError(
            f"Column {name!r} holds an infinite value; received "
            f"{values[infinite][0]!r}. Use NaN for a missing cell."
        )
    return values


def date_values(series: pd.Series, name) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        dates = series
    elif pd.api.types.is_numeric_dtype(series) and series.notna().any():
        raise ValueError(
            f"Column {name!r} is a date column but holds numbers; received "
            f"{series.dropna().iloc[0]!r}. Pass datetimes or date strings."
        )
    else:
        present = ~series.map(_is_missing).to_numpy(dtype=bool)
        dates = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
        if present.any():
            try:
                parsed = pd.to_datetime(
                    series[present], errors="coerce", format="mixed"
                )
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"Column {name!r} is a date column but holds a value that "
                    f"is not a date: {error}"
                ) from error
            bad = parsed.isna().to_numpy()
            if bad.any():
                raise ValueError(
                    f"Column {name!r} is a date column but holds a value that "
                    f"is not a date: received {series[present][bad].iloc[0]!r}."
                )
            dates[present] = parsed
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    return dates


def date_parts(dates: pd.Series) -> np.ndarray:
    dates = dates.astype("datetime64[ns]")
    parts = [
        dates.dt.year,
        dates.dt.month,
        dates.dt.day_of_week,
        dates.dt.day_of_year,
        (dates - _EPOCH) / pd.Timedelta(days=1),
    ]
    return np.stack(
        [p.astype("float64").to_numpy(na_value=np.nan) for p in parts], axis=1
    )


def cell_token(value, name):
    if _is_missing(value):
        return MISSING_TOKEN
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        return str(int(value)) if value.is_integer() else repr(value)
    raise ValueError(
        f"Column {name!r} is categorical but holds a {type(value).__name__}; "
        f"received {value!r}. Categories must be strings or numbers."
    )


def tokens(series: pd.Series, name) -> np.ndarray:
    return np.asarray([cell_token(v, name) for v in series.tolist()], dtype=object)


def text_values(series: pd.Series, name) -> np.ndarray:
    texts = []
    for value in series.tolist():
        if _is_missing(value):
            texts.append("")
        elif isinstance(value, (str, numbers.Number)):
            texts.append(str(value))
        else:
            raise ValueError(
                f"Column {name!r} is a text column but holds a "
                f"{type(value).__name__}; received {value!r}."
            )
    return np.asarray(texts, dtype=object)
