"""Data checks: the pitfalls to catch before any training starts.

`check_data` looks at arrays (a training part and, optionally, a test part) and
returns `Finding`s, each with the numbers and the fix: class imbalance, duplicate
rows, identical samples shared by train and test (leakage), NaN/inf, unscaled
features, constant features, identical or near-identical inputs with different
labels (label-noise hints) and too few samples per class. `diagnose_dataset` splits a
`kerasdl.data.Dataset` the honest way (stratified, seeded) and runs the same checks
on train vs test.

Works on tabular data `(n, features)` and on images `(n, height, width, channels)`;
images are flattened to one row per sample wherever rows are compared.

Example:

```python
from kerasdl.data import load_dataset
from kerasdl.doctor import diagnose_dataset, format_findings

print(format_findings(diagnose_dataset(load_dataset("wine")), title="wine"))
```
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from kerasdl.doctor.findings import Finding

__all__ = ["DATA_CHECKS", "check_data", "diagnose_dataset"]

#: The checks `check_data` runs, by the `check` name their findings carry.
DATA_CHECKS = {
    "non_finite": "NaN or infinite values in x, x_test or float targets",
    "class_balance": "ratio of the largest to the smallest class in y",
    "samples_per_class": "smallest class size compared with the number of features",
    "duplicates": "rows of x that occur more than once",
    "train_test_leak": "samples of x_test that also occur in x",
    "constant_features": "features with a single value over x",
    "feature_scale": "features far from zero mean and unit standard deviation",
    "label_conflicts": "identical or near-identical rows of x with different labels",
}

_TASKS = ("classification", "regression")

# Class balance: largest / smallest class size above which it is a warning / error.
_IMBALANCE_WARNING = 3.0
_IMBALANCE_ERROR = 20.0
# Duplicates: fraction of rows at and above which duplicates are a warning.
_DUPLICATE_WARNING = 0.01
# Leakage: fraction of the test rows at and above which a leak is an error.
_LEAK_ERROR = 0.05
# Feature scale (tabular): a feature is "unscaled" when its mean or std is this far off.
_MAX_ABS_MEAN = 1.0
_STD_RANGE = (1 / 3, 3.0)
# Label conflicts: near-duplicate when the distance in standardised units is below
# this many times sqrt(number of features) (0.05 per feature on average; the closest
# differently-labelled neighbours in digits, wine, iris and breast_cancer are at
# least 0.19 * sqrt(features) apart).
_NEAR_TOLERANCE = 0.05
_CONFLICT_ERROR = 0.05
# Nearest-neighbour search cost cap: queries x rows x features stays below this budget
# (about 2 s on 2 CPU cores), with at least _MIN_NN_QUERIES sampled query rows.
_NN_BUDGET = 2e10
_MIN_NN_QUERIES = 500
_ROWS_PER_CHUNK = 4096
_SHOW = 5  # names / examples listed in a message


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


# ---------------------------------------------------------------------------
# The checks: each returns one Finding or None
# ---------------------------------------------------------------------------


def _check_non_finite(x, x_test, feature_labels, y=None, y_test=None):
    parts = []
    bad_features: set[int] = set()
    total = 0
    for name, t in (("y", y), ("y_test", y_test)):
        if t is not None and t.dtype.kind == "f" and not np.all(np.isfinite(t)):
            n_bad = int(np.size(t) - np.count_nonzero(np.isfinite(t)))
            total += n_bad
            parts.append(f"{name}: {n_bad} NaN/inf targets of {len(t)}")
    for name, a in (("x", x), ("x_test", x_test)):
        if a is None or not np.issubdtype(a.dtype, np.floating):
            continue
        flat = _flat(a)
        nan = np.isnan(flat)
        inf = np.isinf(flat)
        n_nan, n_inf = int(nan.sum()), int(inf.sum())
        if n_nan + n_inf == 0:
            continue
        bad = nan | inf
        rows = int(bad.any(axis=1).sum())
        bad_features.update(np.flatnonzero(bad.any(axis=0)).tolist())
        total += n_nan + n_inf
        parts.append(f"{name}: {n_nan} NaN and {n_inf} inf in {rows} of {len(a)} rows")
    if not parts:
        return None
    features = [feature_labels[j] for j in sorted(bad_features)]
    where = f", in {_count(len(features), 'feature')}: {_names(features)}"
    return Finding(
        check="non_finite",
        severity="error",
        message=(
            f"{_count(total, 'non-finite value')} ({'; '.join(parts)})"
            f"{where if features else ''}."
        ),
        fix=(
            "Find where they come from (a failed parse, a division by zero); then "
            "impute with statistics fitted on the training part only (e.g. "
            "sklearn SimpleImputer in a Pipeline) or drop those rows. A single NaN "
            "turns the loss into NaN."
        ),
    )


def _check_class_balance(y, class_names) -> Finding | None:
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        return Finding(
            check="class_balance",
            severity="error",
            message=(
                f"y holds a single class ({_class_label(classes[0], class_names)}, "
                f"{counts[0]} samples); there is nothing to discriminate."
            ),
            fix=(
                "Check the target column and the filtering that produced the data; "
                "a classifier needs samples of at least two classes."
            ),
        )
    big, small = int(np.argmax(counts)), int(np.argmin(counts))
    ratio = counts[big] / counts[small]
    if ratio <= _IMBALANCE_WARNING:
        return None
    severity = "error" if ratio > _IMBALANCE_ERROR else "warning"
    return Finding(
        check="class_balance",
        severity=severity,
        message=(
            f"imbalance ratio {ratio:.1f}: largest class "
            f"{_class_label(classes[big], class_names)} has {counts[big]} samples, "
            f"smallest {_class_label(classes[small], class_names)} has "
            f"{counts[small]} ({_pct(counts[small], len(y))} of {len(y)})."
        ),
        fix=(
            "Use stratified splits and folds; pass class_weight to fit (or resample: "
            "oversample the rare class in the training part only); report macro-F1 "
            "or balanced accuracy, not accuracy (always predicting the largest class "
            f"already scores {counts[big] / len(y):.0%})."
        ),
    )


def _check_samples_per_class(y, n_features, class_names) -> Finding | None:
    classes, counts = np.unique(y, return_counts=True)
    small = int(np.argmin(counts))
    if counts[small] >= n_features:
        return None
    return Finding(
        check="samples_per_class",
        severity="info",
        message=(
            f"smallest class {_class_label(classes[small], class_names)} has "
            f"{_count(counts[small], 'sample')} for {_count(n_features, 'feature')}; "
            "a flexible model "
            "can memorise it."
        ),
        fix=(
            "Prefer a small or regularised model (weight decay, dropout, early "
            "stopping), reduce the features, augment, or gather more samples of "
            "that class; judge it with cross-validation, not one split."
        ),
    )


def _check_duplicates(groups, n_rows, n_features) -> Finding | None:
    if n_features < 2:
        return None  # a single column repeats values by nature
    extra = n_rows - len(groups)
    if extra == 0:
        return None
    repeated = [rows for rows in groups.values() if len(rows) > 1]
    examples = ", ".join(str(tuple(rows[:3])) for rows in repeated[:3])
    severity = "warning" if extra / n_rows >= _DUPLICATE_WARNING else "info"
    return Finding(
        check="duplicates",
        severity=severity,
        message=(
            f"{_count(extra, 'duplicate row')} in x ({_pct(extra, n_rows)} of "
            f"{n_rows}) in {_count(len(repeated), 'group')} of identical rows, e.g. "
            f"rows {examples}."
        ),
        fix=(
            "Drop exact duplicates before splitting (pandas drop_duplicates / "
            "np.unique(x, axis=0)), or split by group (sklearn GroupKFold) so copies "
            "never sit on both sides of a split; duplicates also over-weight those "
            "samples in the loss."
        ),
    )


def _check_leak(train_groups, test_digests) -> Finding | None:
    leaked = [
        (i, train_groups[d][0]) for i, d in enumerate(test_digests) if d in train_groups
    ]
    if not leaked:
        return None
    n_test = len(test_digests)
    examples = ", ".join(f"test {i} = train {j}" for i, j in leaked[:3])
    severity = "error" if len(leaked) / n_test >= _LEAK_ERROR else "warning"
    return Finding(
        check="train_test_leak",
        severity=severity,
        message=(
            f"{len(leaked)} of {n_test} test rows ({_pct(len(leaked), n_test)}) also "
            f"appear in the training data, e.g. {examples}; the test score is "
            "flattered by memorised answers."
        ),
        fix=(
            "Remove duplicates before splitting, or split by group (e.g. by patient, "
            "writer or source: sklearn GroupShuffleSplit) so identical samples stay "
            "on one side; then re-measure the test score."
        ),
    )


def _check_constant(flat, feature_labels, is_image) -> Finding | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        lo, hi = np.nanmin(flat, axis=0), np.nanmax(flat, axis=0)
    constant = np.flatnonzero(lo == hi)
    if len(constant) == 0:
        return None
    names = [feature_labels[j] for j in constant]
    if is_image:
        return Finding(
            check="constant_features",
            severity="info",
            message=(
                f"{len(constant)} of {flat.shape[1]} pixels never change in x "
                f"(e.g. {_names(names, 3)}): usually an empty border."
            ),
            fix=(
                "Nothing to do for a CNN; for a dense model or a classical baseline "
                "on flattened pixels they carry no information and can be dropped."
            ),
        )
    return Finding(
        check="constant_features",
        severity="warning",
        message=(
            f"{len(constant)} of {flat.shape[1]} features are constant in x: "
            f"{_names(names)}."
        ),
        fix=(
            "Drop them (sklearn VarianceThreshold, fitted on the training part): they "
            "carry no information, and a standardiser divides them by a zero scale; "
            "check whether a join or filter emptied them by mistake."
        ),
    )


def _check_feature_scale(flat, feature_labels, is_image) -> Finding | None:
    finite = np.isfinite(flat)
    if is_image:
        values = flat[finite]
        if values.size == 0:
            return None
        lo, hi = float(values.min()), float(values.max())
        if lo >= -1.5 and hi <= 1.5:
            return None  # [0, 1] or [-1, 1] pixels: fine for a network
        return Finding(
            check="feature_scale",
            severity="warning",
            message=(
                f"pixel values range {lo:g}..{hi:g} (mean {values.mean():.3g}); "
                "networks expect roughly [0, 1] or standardised inputs."
            ),
            fix=(
                "Rescale, e.g. divide by 255 (or a keras.layers.Rescaling(1/255) "
                "first layer), or standardise per channel with statistics from the "
                "training part only."
            ),
        )
    if finite.all():
        mean = flat.mean(axis=0, dtype=np.float64)
        std = flat.std(axis=0, dtype=np.float64)
        lo, hi = flat.min(axis=0), flat.max(axis=0)
    else:
        values = np.where(finite, flat, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            mean = np.nanmean(values, axis=0, dtype=np.float64)
            std = np.nanstd(values, axis=0, dtype=np.float64)
            lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    # 0/1 indicator columns (one-hot, flags) are conventionally left as they are.
    binary = np.zeros(flat.shape[1], dtype=bool)
    for j in np.flatnonzero((lo == 0) & (hi == 1)):
        column = flat[:, j]
        binary[j] = np.all((column == 0) | (column == 1) | ~finite[:, j])
    varying = np.isfinite(std) & (std > 0) & ~binary
    safe_std = np.where(varying, std, 1.0)
    off = varying & (
        (np.abs(mean) > _MAX_ABS_MEAN)
        | (safe_std < _STD_RANGE[0])
        | (safe_std > _STD_RANGE[1])
    )
    if not off.any():
        return None
    score = np.where(off, np.abs(mean) + np.abs(np.log(safe_std)), -np.inf)
    worst = int(np.argmax(score))
    detail = f"{feature_labels[worst]!r}, mean {mean[worst]:.3g}, std {std[worst]:.3g}"
    if varying.sum() > 1:
        detail = (
            f"means {mean[varying].min():.3g}..{mean[varying].max():.3g}, standard "
            f"deviations {std[varying].min():.3g}..{std[varying].max():.3g} (most "
            f"off: {detail})"
        )
    return Finding(
        check="feature_scale",
        severity="warning",
        message=(
            f"{int(off.sum())} of {flat.shape[1]} features are not standardised: "
            f"{detail}."
        ),
        fix=(
            "Fit a StandardScaler (or kerasdl.data.Standardizer) on the training part "
            "only and apply it unchanged to validation and test data; networks, "
            "k-NN and SVMs train slowly or badly on raw scales, and fitting on all "
            "the data leaks test statistics."
        ),
    )


def _near_pairs(flat, y, *, seed: int = 0) -> tuple[dict, int, float]:
    """Pairs of near-identical rows with different labels, by nearest neighbours.

    Rows are standardised (constant features keep scale 1); two rows are near
    duplicates when their Euclidean distance is below `_NEAR_TOLERANCE *
    sqrt(features)`. Rows with NaN/inf are left out. For large sets only a seeded
    sample of rows is queried (against all rows), keeping the cost near
    `_NN_BUDGET` multiply-adds.

    Returns:
        `({(i, j): "near"}, number of query rows, radius)`.
    """
    from sklearn.neighbors import NearestNeighbors

    radius = _NEAR_TOLERANCE * float(np.sqrt(flat.shape[1]))
    finite = np.flatnonzero(np.all(np.isfinite(flat), axis=1))
    if len(finite) < 2:
        return {}, 0, radius
    data = flat[finite].astype(np.float32)
    mean = data.mean(axis=0, dtype=np.float64)
    std = data.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0
    data = ((data - mean) / std).astype(np.float32)
    queries = np.arange(len(finite))
    n_queries = max(_MIN_NN_QUERIES, int(_NN_BUDGET / (len(finite) * flat.shape[1])))
    if len(finite) > n_queries:
        rng = np.random.default_rng(seed)
        queries = np.sort(rng.choice(len(finite), n_queries, replace=False))
    nn = NearestNeighbors(radius=radius, algorithm="brute").fit(data)
    _, neighbours = nn.radius_neighbors(data[queries])
    pairs = {}
    for q, found in zip(queries, neighbours):
        i = int(finite[q])
        for j in finite[found].tolist():
            if j != i and y[j] != y[i]:
                pairs.setdefault((min(i, j), max(i, j)), "near")
    return pairs, len(queries), radius


def _check_label_conflicts(flat, y, groups, class_names) -> Finding | None:
    pairs: dict[tuple[int, int], str] = {}
    for rows in groups.values():  # identical rows: every row, by hash
        first = rows[0]
        for other in rows[1:]:
            if y[other] != y[first]:
                pairs[(first, other)] = "identical"
    near, n_queries, radius = _near_pairs(flat, y)
    for pair, kind in near.items():
        pairs.setdefault(pair, kind)
    if not pairs:
        return None
    n = len(y)
    rows = {i for pair in pairs for i in pair}
    examples = ", ".join(
        f"{i} & {j} ({_class_label(y[i], class_names)} vs "
        f"{_class_label(y[j], class_names)}, {kind})"
        for (i, j), kind in list(pairs.items())[:3]
    )
    sampled = (
        f"; near twins searched for {n_queries} sampled rows" if n_queries < n else ""
    )
    severity = "error" if len(rows) / n >= _CONFLICT_ERROR else "warning"
    return Finding(
        check="label_conflicts",
        severity=severity,
        message=(
            f"different labels on {_count(len(pairs), 'pair')} of identical or "
            f"near-identical rows (standardised distance < {radius:.2g}), involving "
            f"{_count(len(rows), 'row')} ({_pct(len(rows), n)}){sampled}; e.g. rows "
            f"{examples}."
        ),
        fix=(
            "Inspect those pairs: fix mislabelled samples, merge true duplicates to "
            "one label, or add the feature that tells them apart; noisy labels cap "
            "the reachable accuracy and reward memorisation."
        ),
    )


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def check_data(
    x,
    y=None,
    *,
    x_test=None,
    y_test=None,
    task: str = "classification",
    feature_names=None,
    class_names=None,
) -> list[Finding]:
    """Look for the common data pitfalls and say what to do about each.

    Checks (see `DATA_CHECKS`): NaN/inf in `x`, `x_test` and float targets; class
    balance and samples per class (classification with `y`); duplicate rows in `x`;
    samples of `x_test` that also occur in `x` (leakage; rows compared by a hash of
    their bytes, O(n)); constant features; feature scale (tabular data; images only
    when pixels look unscaled, e.g. 0..255); identical or near-identical rows with
    different labels (classification; near duplicates by nearest neighbours in
    standardised space, for large sets from a seeded sample of query rows, which
    the message states).

    Args:
        x: Training inputs, `(n, features)` tabular or `(n, height, width,
            channels)` images (any rank >= 1; rows are flattened for comparisons).
        y: Targets `(n,)` (class labels or one-hot rows for classification), or
            `None` to run only the row checks.
        x_test: Held-out inputs with the same per-sample shape as `x`, or `None`;
            enables the leakage check.
        y_test: Targets of `x_test` (checked for length and NaN/inf only).
        task: `"classification"` or `"regression"` (regression skips the label
            checks).
        feature_names: Names of the (flattened) features, for the messages.
        class_names: Names of the classes, index-aligned with integer `y`.

    Returns:
        A list of `Finding`s, at most one per check; empty when nothing is wrong.
        Print them with `format_findings`.

    Raises:
        ValueError: empty or non-numeric `x`/`x_test`; `y` or `y_test` of another
            length than its inputs; `x_test` of another per-sample shape than `x`;
            `y_test` without `x_test`; an unknown `task`; non-integer `y` for
            classification; `feature_names` of the wrong length; `class_names`
            shorter than the largest class index in `y`.

    Example:

    ```python
    from kerasdl.data import load_wine, train_val_test_split

    ds = load_wine()
    parts = train_val_test_split(ds.x, ds.y, seed=0)
    findings = check_data(parts.x_train, parts.y_train, x_test=parts.x_test,
                          feature_names=ds.feature_names)
    [f.check for f in findings]  # ['feature_scale']
    ```
    """
    if task not in _TASKS:
        raise ValueError(f"task must be one of {_TASKS}; received {task!r}.")
    x = _as_numeric(x, "x")
    if x.ndim == 1:
        x = x[:, None]
    if y is not None:
        y = _as_labels(y, len(x), "y", "x", task)
    if x_test is not None:
        x_test = _as_numeric(x_test, "x_test")
        if x_test.ndim == 1:
            x_test = x_test[:, None]
        if x_test.shape[1:] != x.shape[1:]:
            raise ValueError(
                f"x_test must have the same per-sample shape as x, {x.shape[1:]}; "
                f"received x_test of shape {x_test.shape}."
            )
    if y_test is not None:
        if x_test is None:
            raise ValueError(
                "y_test was given without x_test; pass x_test too (received "
                f"y_test of length {len(np.asarray(y_test))})."
            )
        y_test = _as_labels(y_test, len(x_test), "y_test", "x_test", task)
    n_features = int(np.prod(x.shape[1:], dtype=np.int64))
    if feature_names is not None and len(feature_names) != n_features:
        raise ValueError(
            f"feature_names must name each of the {n_features} features of x; "
            f"received {len(feature_names)} names."
        )
    if class_names is not None and y is not None and task == "classification":
        if y.dtype.kind in "iub" and y.size and int(y.max()) >= len(class_names):
            raise ValueError(
                f"class_names has {len(class_names)} names but y holds class index "
                f"{int(y.max())}; received class_names={list(class_names)!r}."
            )

    is_image = x.ndim >= 3
    flat = _flat(x)
    labels = _feature_labels(x, feature_names)
    dtype = x.dtype if x_test is None else np.result_type(x.dtype, x_test.dtype)
    groups = _groups(_row_digests(flat, dtype))
    classify = y is not None and task == "classification"

    findings = [
        _check_non_finite(x, x_test, labels, y, y_test),
        _check_class_balance(y, class_names) if classify else None,
        _check_samples_per_class(y, n_features, class_names) if classify else None,
        _check_duplicates(groups, len(x), n_features),
        (
            _check_leak(groups, _row_digests(_flat(x_test), dtype))
            if x_test is not None
            else None
        ),
        _check_constant(flat, labels, is_image),
        _check_feature_scale(flat, labels, is_image),
        (_check_label_conflicts(flat, y, groups, class_names) if classify else None),
    ]
    return [f for f in findings if f is not None]


def diagnose_dataset(dataset, *, test_size: float = 0.2, seed: int = 0) -> list:
    """Split a `Dataset` honestly and run `check_data` on train vs test.

    Classification sets are split stratified (scikit-learn's `train_test_split`),
    falling back to a plain random split when a class is too small to stratify (the
    class-balance check then reports it); regression sets are split at random. A
    dataset without targets (a time series) is not split: only the row checks run on
    all of it.

    This is the array path; `kerasdl.doctor.diagnose_dataset` (in `table_checks`)
    sends raw tables (`dataset.is_raw_table`) to `check_table` and everything else
    here.

    Args:
        dataset: A `kerasdl.data.Dataset` with numeric `x`.
        test_size: Fraction held out as the test part, in (0, 1).
        seed: Seed of the split.

    Returns:
        The list of `Finding`s from `check_data`.

    Raises:
        TypeError: `dataset` is not a `Dataset`.
        ValueError: `test_size` outside (0, 1); a text dataset (non-numeric `x`);
            a raw table (use `kerasdl.doctor.diagnose_dataset`); any input error
            `check_data` raises.

    Example:

    ```python
    from kerasdl.data import load_dataset

    findings = diagnose_dataset(load_dataset("digits"))
    ```
    """
    from kerasdl.data.dataset import Dataset

    if not isinstance(dataset, Dataset):
        raise TypeError(
            "dataset must be a kerasdl.data.Dataset (e.g. "
            f"kerasdl.data.load_dataset('wine')); received {type(dataset).__name__}."
        )
    _check_test_size(test_size)
    if dataset.is_raw_table:
        raise ValueError(
            f"dataset {dataset.name!r} is a raw table (x is a DataFrame of raw "
            "columns); kerasdl.doctor.diagnose_dataset runs the table checks on it "
            "(kerasdl.doctor.table_checks), this function only the array checks."
        )
    x = np.asarray(dataset.x)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(
            f"Data checks need numeric inputs; dataset {dataset.name!r} "
            f"({dataset.task}) has x of dtype {x.dtype}. Vectorise text first."
        )
    names = dict(feature_names=dataset.feature_names, class_names=dataset.class_names)
    if dataset.y is None:
        return check_data(x, feature_names=dataset.feature_names)
    task = "classification" if dataset.task == "classification" else "regression"
    y = np.asarray(dataset.y)
    train, test = _split_indices(y, task, test_size, seed)
    return check_data(
        x[train], y[train], x_test=x[test], y_test=y[test], task=task, **names
    )


def _check_test_size(test_size) -> None:
    """Raise a ValueError unless `test_size` is a fraction strictly in (0, 1)."""
    if (
        isinstance(test_size, bool)
        or not isinstance(test_size, (int, float, np.number))
        or not 0 < test_size < 1
    ):
        raise ValueError(
            f"test_size must be a fraction strictly between 0 and 1; received "
            f"{test_size!r}."
        )


def _split_indices(y, task: str, test_size: float, seed: int):
    """Row indices `(train, test)` of a seeded split: stratified for classification,
    falling back to a plain random split when a class is too small to stratify."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(y))
    try:
        return train_test_split(
            index,
            test_size=test_size,
            random_state=seed,
            stratify=y if task == "classification" else None,
        )
    except ValueError:
        if task != "classification":
            raise
        return train_test_split(index, test_size=test_size, random_state=seed)
