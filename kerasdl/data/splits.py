"""Honest evaluation plumbing: seeded (stratified) splits, k folds, and a standardiser.

The rule these helpers serve: nothing learned from the validation or test part may
leak into training. Split first, then fit any statistics (`Standardizer`) on the
training part only, and apply them unchanged to the other parts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_array, validate_data

from kerasdl.data.dataset import check_xy

__all__ = ["Split", "Standardizer", "stratified_kfold", "train_val_test_split"]


class Split(NamedTuple):
    """The three parts of a dataset, as returned by `train_val_test_split`."""

    x_train: np.ndarray
    y_train: np.ndarray | None
    x_val: np.ndarray
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None


def _as_array(a, name: str) -> np.ndarray:
    """NumPy view of `a`; ragged sequences (token lists) become an object array."""
    if isinstance(a, np.ndarray):
        return a
    try:
        return np.asarray(a)
    except ValueError:
        try:
            out = np.empty(len(a), dtype=object)
        except TypeError as exc:
            raise ValueError(
                f"{name} must be an array or a sequence; received {type(a).__name__}."
            ) from exc
        for i, item in enumerate(a):
            out[i] = item
        return out


def _is_label_array(y: np.ndarray) -> bool:
    """True for class labels (integers, booleans, strings); floats are regression."""
    return y.dtype.kind in "iubUSO"


def _check_fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(
            f"{name} must be a fraction strictly between 0 and 1; received {value!r}."
        )
    if not 0 < value < 1:
        raise ValueError(
            f"{name} must be a fraction strictly between 0 and 1; received {value!r}."
        )
    return float(value)


def train_val_test_split(
    x,
    y=None,
    *,
    val_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 0,
    stratify: bool = True,
) -> Split:
    """Split data into shuffled train, validation and test parts, seeded.

    With `stratify=True` and class labels in `y` (integer, boolean or string dtype),
    each part keeps the class proportions of the whole; float targets (regression)
    are split at random. Do not use a random split for a time series: keep the order
    and cut it (earliest for training, latest for testing).

    Args:
        x: Inputs, `(n, ...)`; any array (numbers, strings, token lists).
        y: Targets `(n,)`, or `None` (then the `y_*` parts are `None`).
        val_size: Fraction of all samples for validation, in (0, 1).
        test_size: Fraction of all samples for testing, in (0, 1);
            `val_size + test_size` must be below 1.
        seed: Seed of the shuffles; the same seed gives the same split.
        stratify: Keep class proportions (only applies to class-label `y`).

    Returns:
        A `Split(x_train, y_train, x_val, y_val, x_test, y_test)`.

    Raises:
        ValueError: a size is outside (0, 1) or they sum to 1 or more; `x` and `y`
            differ in length; the data is too small for the sizes, or a class too
            small to be stratified.

    Example:

    ```python
    ds = kerasdl.data.load_digits()
    parts = train_val_test_split(ds.x, ds.y, val_size=0.1, test_size=0.2)
    parts.x_train.shape, parts.x_test.shape
    ```
    """
    from sklearn.model_selection import train_test_split

    val_size = _check_fraction(val_size, "val_size")
    test_size = _check_fraction(test_size, "test_size")
    if val_size + test_size >= 1:
        raise ValueError(
            "val_size + test_size must be below 1 to leave training data; received "
            f"val_size={val_size} and test_size={test_size}."
        )
    x = _as_array(x, "x")
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x is empty; received shape {x.shape}.")
    if y is not None:
        y = _as_array(y, "y")
        if len(y) != len(x):
            raise ValueError(
                "x and y must have the same number of samples; received "
                f"len(x)={len(x)} and len(y)={len(y)}."
            )
    do_stratify = bool(stratify) and y is not None and _is_label_array(y)
    index = np.arange(len(x))
    try:
        rest, test = train_test_split(
            index,
            test_size=test_size,
            random_state=seed,
            stratify=y if do_stratify else None,
        )
        train, val = train_test_split(
            rest,
            test_size=val_size / (1.0 - test_size),
            random_state=seed,
            stratify=y[rest] if do_stratify else None,
        )
    except ValueError as exc:
        hint = (
            " Pass stratify=False, gather more samples of the rare classes, or use "
            "larger sizes."
            if do_stratify
            else " Use more samples or other sizes."
        )
        raise ValueError(
            f"Cannot split {len(x)} samples with val_size={val_size}, "
            f"test_size={test_size}"
            + (" stratified on y" if do_stratify else "")
            + f": {exc}.{hint}"
        ) from exc

    def part(a, idx):
        return None if a is None else a[idx]

    return Split(
        part(x, train),
        part(y, train),
        part(x, val),
        part(y, val),
        part(x, test),
        part(y, test),
    )


def stratified_kfold(
    y, n_splits: int = 5, *, seed: int = 0, shuffle: bool = True
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Index pairs for stratified k-fold cross-validation.

    Every sample appears in exactly one test fold, and each fold keeps the class
    proportions of `y` (scikit-learn's `StratifiedKFold`).

    Args:
        y: Class labels, `(n,)`.
        n_splits: Number of folds, at least 2 and at most the size of the smallest
            class.
        seed: Seed of the shuffle (ignored when `shuffle=False`).
        shuffle: Shuffle each class before cutting it into folds.

    Returns:
        A list of `n_splits` `(train_idx, test_idx)` int arrays indexing `y`.

    Raises:
        ValueError: `n_splits < 2`; `y` does not hold class labels; the smallest class
            has fewer than `n_splits` members.
    """
    from sklearn.model_selection import StratifiedKFold
    from sklearn.utils.multiclass import type_of_target

    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)):
        raise ValueError(f"n_splits must be an integer >= 2; received {n_splits!r}.")
    if n_splits < 2:
        raise ValueError(f"n_splits must be an integer >= 2; received {n_splits}.")
    y = _as_array(y, "y")
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(
            f"y must be a non-empty 1-D array of labels; received shape {y.shape}."
        )
    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise ValueError(
            f"y must hold class labels for stratified folds; received {kind!r} values "
            f"of dtype {y.dtype} (for regression use sklearn.model_selection.KFold)."
        )
    classes, counts = np.unique(y, return_counts=True)
    smallest = int(np.argmin(counts))
    if counts[smallest] < n_splits:
        label = classes[smallest]
        label = label.item() if isinstance(label, np.generic) else label
        raise ValueError(
            f"n_splits={n_splits} is larger than the smallest class: class "
            f"{label!r} has only {counts[smallest]} member(s), so some "
            "fold would have none of it. Lower n_splits or gather more samples."
        )
    folds = StratifiedKFold(
        n_splits=n_splits, shuffle=shuffle, random_state=seed if shuffle else None
    )
    return [(train, test) for train, test in folds.split(np.zeros((len(y), 1)), y)]


class Standardizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale features to zero mean and unit variance, per feature (last axis).

    Statistics are taken over every axis but the last: per column for tabular
    `(n, features)`, per channel for images `(n, height, width, channels)`, and over
    the whole series for 1-D `(n,)` data. Features with zero variance get scale 1 (they
    are only centred).

    Fit it on the training part only, then transform the training, validation and
    test parts with it: fitting on all the data leaks the test set's statistics into
    training and flatters the test score.

    A scikit-learn transformer (`fit`/`transform`/`fit_transform`, `clone`,
    `Pipeline`, `set_output`, `get_feature_names_out`); unlike scikit-learn's
    `StandardScaler` it also takes images and 1-D series, so scikit-learn's
    `check_fit1d` (which expects a 1-D `X` to be refused) does not hold for it.

    Attributes:
        mean_: Per-feature mean, shape `(features,)` (`(1,)` for 1-D data).
        scale_: Per-feature standard deviation (1 where it is 0).
        n_features_in_: Number of features seen by `fit`.
        n_dims_in_: Rank of the data seen by `fit` (1 for a series, 2 for a table,
            4 for images).
        feature_names_in_: Column names, when `fit` was given a DataFrame with
            string column names.

    Example:

    ```python
    scaler = Standardizer().fit(parts.x_train)
    x_train = scaler.transform(parts.x_train)
    x_test = scaler.transform(parts.x_test)
    ```
    """

    def fit(self, x, y=None) -> Standardizer:
        """Learn `mean_` and `scale_` from `x` (the training part).

        Args:
            x: Numeric array `(n, ..., features)` or `(n,)`, without NaN; a
                DataFrame of numbers.
            y: Ignored (scikit-learn's signature).

        Returns:
            `self`.

        Raises:
            ValueError: `x` is empty, not numeric, or contains NaN/inf.
            TypeError: `x` is a sparse matrix.
        """
        x = self._validate(x, reset=True)
        flat = self._flatten(x).astype(np.float64)
        mean = flat.mean(axis=0)
        std = flat.std(axis=0)
        constant = flat.max(axis=0) == flat.min(axis=0)
        std[constant] = 1.0
        self.mean_ = mean
        self.scale_ = std
        self.n_features_in_ = flat.shape[1]
        self.n_dims_in_ = x.ndim
        return self

    @staticmethod
    def _flatten(x: np.ndarray) -> np.ndarray:
        if x.ndim == 1:
            return x.reshape(-1, 1)
        return x.reshape(-1, x.shape[-1])

    def _validate(self, x, *, reset: bool, method: str = "fit") -> np.ndarray:
        """`x` as a finite numeric array; with `reset=False`, as wide as in `fit`."""
        if not reset and not hasattr(self, "mean_"):
            raise NotFittedError(
                f"This Standardizer is not fitted yet; call fit(x_train) before "
                f"{method}()."
            )
        if sparse.issparse(x):
            raise TypeError(
                "x must be a dense array (centring would fill a sparse matrix); "
                f"received a sparse {type(x).__name__} of shape {x.shape}."
            )
        array = check_array(
            x,
            dtype="numeric",
            ensure_all_finite=False,  # check_xy says how many are not finite
            ensure_2d=False,
            allow_nd=True,
            ensure_min_samples=0,  # check_xy says "x is empty"
        )
        array, _ = check_xy(array)
        if not reset:
            n_features = 1 if array.ndim == 1 else array.shape[-1]
            if (array.ndim == 1) != (self.n_dims_in_ == 1):
                raise ValueError(
                    f"x has shape {array.shape} (rank {array.ndim}), but the "
                    f"Standardizer was fitted on rank-{self.n_dims_in_} data with "
                    f"{self.n_features_in_} feature(s). Reshape your data: a 1-D x "
                    "is one series, a feature per column needs (samples, features)."
                )
            if n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {n_features} features, but Standardizer is expecting "
                    f"{self.n_features_in_} features as input (x of shape "
                    f"{array.shape}; features are the last axis)."
                )
        if array.ndim == 2 and (reset or self.n_dims_in_ == 2):
            # A table: scikit-learn's bookkeeping of n_features_in_ and of the
            # DataFrame column names (feature_names_in_).
            validate_data(self, x, reset=reset, skip_check_array=True)
        elif reset:
            self.__dict__.pop("feature_names_in_", None)
        return array

    def _dtype(self, x: np.ndarray):
        return np.result_type(x.dtype, np.float32)

    def transform(self, x) -> np.ndarray:
        """Return `(x - mean_) / scale_` (float32, or float64 for float64 input).

        Raises:
            NotFittedError: not fitted (a `ValueError`).
            ValueError: `x` has a different number of features, or is not finite.
        """
        x = self._validate(x, reset=False, method="transform")
        dtype = self._dtype(x)
        return ((x - self.mean_) / self.scale_).astype(dtype)

    def inverse_transform(self, x) -> np.ndarray:
        """Undo `transform`: `x * scale_ + mean_` (e.g. to read predictions in units).

        Raises:
            NotFittedError: not fitted (a `ValueError`).
            ValueError: `x` has a different number of features, or is not finite.
        """
        x = self._validate(x, reset=False, method="inverse_transform")
        dtype = self._dtype(x)
        return (x * self.scale_ + self.mean_).astype(dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
