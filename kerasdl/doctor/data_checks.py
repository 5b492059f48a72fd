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

import numpy as np

from kerasdl.doctor.array_checks import (
    _check_class_balance,
    _check_constant,
    _check_duplicates,
    _check_feature_scale,
    _check_label_conflicts,
    _check_leak,
    _check_non_finite,
    _check_samples_per_class,
)
from kerasdl.doctor.array_inputs import (
    _TASKS,
    _as_labels,
    _as_numeric,
    _feature_labels,
    _flat,
    _groups,
    _row_digests,
)
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
