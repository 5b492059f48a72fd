"""Reading the arrays the data checks look at, hashing their rows, and wording
the numbers in the checks' messages (shared with the table checks).
"""

from __future__ import annotations

import hashlib

import numpy as np

#: The tasks `check_data` knows.
_TASKS = ("classification", "regression")
_SHOW = 5  # names / examples listed in a message
_ROWS_PER_CHUNK = 4096  # rows hashed per step


# ---------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------


def _as_numeric(a, name: str) -> np.ndarray:
    """`a` as a non-empty numeric NumPy array of rank >= 1, or a ValueError."""
    try:
        a = np.asarray(a)
    except ValueError as exc:  # ragged nested sequences
        raise ValueError(
            f"{name} must be a rectangular numeric array; received a ragged "
            f"{type(a).__name__} ({exc})."
        ) from exc
    if a.ndim == 0 or len(a) == 0:
        raise ValueError(
            f"{name} is empty; received shape {a.shape}. Pass at least one sample."
        )
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(
            f"{name} must be numeric (tabular or image arrays); received dtype "
            f"{a.dtype} (first value: {a.flat[0]!r}). Encode categorical columns or "
            "vectorise text first."
        )
    if np.iscomplexobj(a):
        raise ValueError(f"{name} must be real-valued; received dtype {a.dtype}.")
    return a


def _as_labels(y, n: int, name: str, name_x: str, task: str) -> np.ndarray:
    """`y` as a 1-D array of length `n` (one-hot rows become class indices)."""
    y = np.asarray(y)
    if y.ndim == 0:
        raise ValueError(f"{name} must be an array of targets; received {y!r}.")
    if len(y) != n:
        raise ValueError(
            f"{name_x} and {name} must have the same number of samples; received "
            f"len({name_x})={n} and len({name})={len(y)}."
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and task == "classification":
        one_hot = np.issubdtype(y.dtype, np.number) and np.allclose(y.sum(axis=1), 1)
        if not one_hot:
            raise ValueError(
                f"{name} must be 1-D class labels or one-hot rows; received shape "
                f"{y.shape} whose rows do not sum to 1."
            )
        y = y.argmax(axis=1)
    elif y.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one target per sample); received shape {y.shape}."
        )
    if task == "classification" and y.dtype.kind == "f":
        finite = np.isfinite(y)
        if not finite.all() or np.any(y != np.round(y)):
            example = y[~finite][0] if not finite.all() else y[y != np.round(y)][0]
            raise ValueError(
                f"{name} holds non-integer values (e.g. {example!r}) but "
                "task='classification'; pass task='regression' for continuous "
                "targets."
            )
        y = y.astype(np.int64)
    return y


def _flat(x: np.ndarray) -> np.ndarray:
    """One row per sample: `(n, features)` (a view when `x` is contiguous)."""
    return x.reshape(len(x), -1)


def _feature_labels(x: np.ndarray, feature_names) -> list[str]:
    """Readable names of the flattened features of `x`."""
    n_features = int(np.prod(x.shape[1:], dtype=np.int64))
    if feature_names is not None:
        return [str(f) for f in feature_names]
    if x.ndim <= 2:
        return [f"feature {j}" for j in range(n_features)]
    return [
        "pixel " + str(tuple(int(i) for i in np.unravel_index(j, x.shape[1:])))
        for j in range(n_features)
    ]


def _class_label(label, class_names) -> str:
    label = label.item() if isinstance(label, np.generic) else label
    if (
        class_names is not None
        and isinstance(label, (int, np.integer))
        and 0 <= label < len(class_names)
    ):
        return repr(str(class_names[label]))
    return repr(label)


def _names(items, limit: int = _SHOW) -> str:
    """`'a', 'b', 'c' and 4 more`."""
    items = list(items)
    shown = ", ".join(repr(i) for i in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


def _count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 row`, `3 rows`."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%"


# ---------------------------------------------------------------------------
# Row hashing (duplicates, leakage, identical rows with different labels)
# ---------------------------------------------------------------------------


def _row_digests(x2d: np.ndarray, dtype) -> list[bytes]:
    """A 128-bit BLAKE2b digest of the bytes of each row, in `dtype`.

    Rows are cast to one dtype (so float32 train and float64 test compare equal),
    -0.0 becomes 0.0 and every NaN the same NaN, so equal values give equal bytes.
    Cost is O(n) and memory one chunk of rows.
    """
    out = []
    floating = np.issubdtype(dtype, np.floating)
    for start in range(0, len(x2d), _ROWS_PER_CHUNK):
        chunk = np.array(x2d[start : start + _ROWS_PER_CHUNK], dtype=dtype, order="C")
        if floating:
            chunk += 0.0
            chunk[np.isnan(chunk)] = np.nan
        out.extend(hashlib.blake2b(row, digest_size=16).digest() for row in chunk)
    return out


def _groups(digests: list[bytes]) -> dict[bytes, list[int]]:
    """Row indices per digest, in order of first appearance."""
    groups: dict[bytes, list[int]] = {}
    for i, d in enumerate(digests):
        groups.setdefault(d, []).append(i)
    return groups
