"""The input forms `TableEncoder` accepts, and the role of each column.

`as_frame` turns a DataFrame, a dict of columns, a list of row dicts or a 2-D
numeric array into one form; `resolve_roles` gives each feature column its role
(numeric, categorical, text, date), checking the `feature_types` a user passes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kerasdl.data.dataset import FEATURE_ROLES

__all__ = ["as_frame", "resolve_roles"]


def as_frame(x, fitting, input_kind=None, n_columns=None):
    """`(frame, kind)` from any accepted form of `x`: a DataFrame, a dict of
    columns, a list of row dicts, or a 2-D numeric array (`kind` "frame" or
    "array"). When not `fitting`, `input_kind` and `n_columns` describe what
    the encoder was fitted on, and array input comes back as a dict of columns.
    """
    if isinstance(x, pd.DataFrame):
        frame = x
        kind = "frame"
    elif isinstance(x, dict):
        try:
            frame = pd.DataFrame(x)
        except ValueError as error:
            raise ValueError(
                f"x as a dict must map each column to a list of cells of one "
                f"length: {error}"
            ) from error
        kind = "frame"
    elif isinstance(x, (list, tuple)) and x and all(isinstance(r, dict) for r in x):
        frame = pd.DataFrame.from_records(list(x))
        kind = "frame"
    else:
        try:
            array = np.asarray(x)
        except (TypeError, ValueError) as error:
            raise ValueError(
                "x must be a pandas DataFrame, a dict of columns, a list of "
                f"row dicts or a 2-D numeric array; received {type(x).__name__}."
            ) from error
        if array.ndim != 2:
            raise ValueError(
                "x must be a DataFrame, a dict of columns, a list of row dicts "
                f"or a 2-D array (rows, features); received shape {array.shape}."
            )
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise ValueError(
                f"x as an array must be numeric; received dtype {array.dtype}. "
                "Pass a DataFrame and feature_types for raw columns."
            )
        if not fitting and input_kind == "array":
            width = n_columns
            if array.shape[1] != width:
                raise ValueError(
                    f"x must have {width} columns, like the array the encoder "
                    f"was fitted on; received shape {array.shape}."
                )
        array = array.astype("float64")
        names = [str(i) for i in range(array.shape[1])]
        kind = "array"
        if not fitting:  # plain NumPy columns: no DataFrame to build
            return {name: array[:, i] for i, name in enumerate(names)}, kind
        frame = pd.DataFrame(array, columns=names)
    if not fitting and kind == "frame" and input_kind == "array":
        frame = frame.rename(columns=str)
    return frame, kind


def resolve_roles(frame, feature_types, input_kind) -> dict:
    """The role of each feature column: all numeric for an array; from the
    dtypes when `feature_types` is None; else `feature_types`, checked."""
    if input_kind == "array":
        if feature_types is not None:
            bad = {k: r for k, r in feature_types.items() if r != "numeric"}
            if bad:
                raise ValueError(
                    "x is a numeric array, so every column is numeric; received "
                    f"feature_types with other roles: {bad}. Pass a DataFrame "
                    "for raw columns."
                )
        return dict.fromkeys(frame.columns, "numeric")
    if feature_types is None:
        roles = {}
        for name in frame.columns:
            series = frame[name]
            if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(
                series
            ):
                roles[name] = "numeric"
            elif pd.api.types.is_datetime64_any_dtype(series):
                roles[name] = "date"
            else:
                roles[name] = "categorical"
        return roles
    if not isinstance(feature_types, dict) or not feature_types:
        raise ValueError(
            "feature_types must be a non-empty dict {column: role}; received "
            f"{feature_types!r}."
        )
    bad = {c: r for c, r in feature_types.items() if r not in FEATURE_ROLES}
    if bad:
        raise ValueError(
            f"feature_types roles must be in {FEATURE_ROLES}; received {bad}."
        )
    missing = [c for c in feature_types if c not in frame.columns]
    if missing:
        raise ValueError(
            f"feature_types names column(s) {missing} that x lacks; received "
            f"columns {list(frame.columns)}."
        )
    for name in feature_types:
        if not isinstance(name, (str, int)) or isinstance(name, bool):
            raise ValueError(
                "Feature column names must be strings or integers (they are "
                f"saved with the model); received {name!r}."
            )
    return dict(feature_types)
