"""Small input helpers of the tabular estimators: is it a raw table, row counts,
padding to a fixed number of rows, one target column, the automatic batch size.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from sklearn.exceptions import DataConversionWarning


def _is_raw_table(X) -> bool:
    """A DataFrame, a dict of columns or a list of row dicts (`TableEncoder`'s)."""
    if sparse.issparse(X):  # (a DOK matrix is a dict)
        return False
    if hasattr(X, "columns") or isinstance(X, dict):
        return True
    return (
        isinstance(X, (list, tuple))
        and len(X) > 0
        and all(isinstance(row, dict) for row in X)
    )


def _pad_rows(X, n: int, size: int):
    """`X` (an array or a DataFrame) with its first row repeated up to `size`
    rows; as it is when empty or already `size` rows long."""
    if n == 0 or n == size or not hasattr(X, "shape"):
        return X
    rows = np.concatenate([np.arange(n), np.zeros(size - n, dtype=int)])
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _num_rows(X) -> int:
    if hasattr(X, "shape") and len(getattr(X, "shape", ())) >= 1:
        return int(X.shape[0])
    try:
        return len(X)
    except TypeError as error:
        raise ValueError(
            f"X must be a DataFrame or a 2-D array; received {type(X).__name__}."
        ) from error


def _plain(value):
    """A NumPy scalar as the Python value (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _one_column(y, n: int, what: str) -> np.ndarray:
    """`y` as a 1-D array of `n` values (a `(n, 1)` column is flattened)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            f"A column-vector y was passed when a 1d array was expected; received "
            f"shape {y.shape}, used as ({y.shape[0]},).",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of {what}; received shape {y.shape}.")
    if len(y) != n:
        raise ValueError(
            "X and y must have the same number of rows; received "
            f"{n} rows in X and len(y)={len(y)}."
        )
    return y


def _auto_batch_size(n: int) -> int:
    """About 8 batches per epoch, a power of two in [16, 256]."""
    size = 16
    while size * 2 <= n / 8 and size < 256:
        size *= 2
    return size
