"""Target checks of a raw table: the target itself, and columns that give it away.

Rows dropped for a missing target (or NaN/inf in y), rows per class, the
distribution of a regression target, and target leakage: a single column that
predicts the target almost perfectly on its own (per-value majority/mean or a
one-column decision tree, cross-validated). `kerasdl.doctor.table_checks.check_table`
runs them with the column and row checks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kerasdl.doctor.array_checks import _check_samples_per_class
from kerasdl.doctor.array_inputs import _class_label, _count, _pct
from kerasdl.doctor.findings import Finding
from kerasdl.doctor.table_columns import _MISSING_WARNING, _listed

# Target leak: cross-validated score of one column alone at and above which it is a
# leak; for classification it must also remove at least (1 - _LEAK_ERROR_SHARE) of
# the errors of always predicting the largest class.
_LEAK_SCORE = 0.99
_LEAK_ERROR_SHARE = 0.2
_LEAK_ROWS = 5000  # rows sampled for the leak check
_LEAK_MIN_ROWS = 30
_LEAK_FOLDS = 5
_TREE_DEPTH = {"classification": 6, "regression": 8}
_TREE_LEAF = 5  # rows per leaf: a stray noisy row cannot claim a leaf of its own
# Rows per class: fewer than this many rows in a class is a warning (a 5-fold
# stratified CV puts 1 or 2 of them in each fold).
_MIN_CLASS_ROWS = 10
# Regression target: |skewness| above this is a warning; otherwise a share of
# extreme outliers (beyond 3 IQR of the quartiles) at and above _OUTLIER_SHARE is info.
_SKEW_WARNING = 2.0
_OUTLIER_IQR = 3.0
_OUTLIER_SHARE = 0.01
_TARGET_MIN_ROWS = 20


# ---------------------------------------------------------------------------
# What the loader did with the target
# ---------------------------------------------------------------------------


def _check_missing_target(y, extra, task) -> Finding | None:
    dropped = int(extra.get("dropped_target_rows") or 0)
    name = f" {extra['target']!r}" if extra.get("target") else ""
    bad = 0
    if y is not None and task == "regression":
        bad = int(len(y) - np.count_nonzero(np.isfinite(y)))
    if not dropped and not bad:
        return None
    n = 0 if y is None else len(y)
    parts = []
    if dropped:
        parts.append(
            f"the loader dropped {_count(dropped, 'row')} whose target{name} was "
            f"missing ({_pct(dropped, n + dropped)} of {n + dropped})"
        )
    if bad:
        parts.append(f"y holds {bad} NaN/inf targets of {n}")
    share = max(dropped / (n + dropped), bad / max(n, 1))
    severity = "error" if bad else ("warning" if share >= _MISSING_WARNING else "info")
    return Finding(
        check="missing_target",
        severity=severity,
        message="; ".join(parts) + ".",
        fix=(
            "Rows without a target cannot be trained or scored on: drop them (as the "
            "loader does), and check why the target is missing; if it is missing for "
            "a reason (not yet known, censored), the kept rows may be a biased "
            "sample."
        ),
    )


# ---------------------------------------------------------------------------
# Target checks
# ---------------------------------------------------------------------------


def _check_rows_per_class(y, n_columns: int, class_names) -> Finding | None:
    classes, counts = np.unique(y, return_counts=True)
    few = [(k, c) for k, c in zip(classes, counts) if c < _MIN_CLASS_ROWS]
    if not few:
        return _check_samples_per_class(y, n_columns, class_names)
    listed = _listed([f"{_class_label(k, class_names)} ({c})" for k, c in few])
    return Finding(
        check="samples_per_class",
        severity="warning",
        message=(
            f"{_count(len(few), 'class', 'classes')} with fewer than "
            f"{_MIN_CLASS_ROWS} rows: {listed}; a 5-fold stratified split puts at "
            "most one or two of them in each fold."
        ),
        fix=(
            "Gather more rows of those classes, merge them into a related class or "
            "'other', or drop them; judge any model on them with repeated "
            "cross-validation and per-class recall, not one split."
        ),
    )


def _check_target_distribution(y) -> Finding | None:
    y = y[np.isfinite(y)]
    if len(y) < _TARGET_MIN_ROWS:
        return None
    if np.all(y == y[0]):
        return Finding(
            check="target_distribution",
            severity="error",
            message=f"the target is constant ({y[0]:g} in all {len(y)} rows).",
            fix="Check the target column and the filtering that produced the data.",
        )
    skew = float(pd.Series(y).skew())
    q1, median, q3 = np.percentile(y, [25, 50, 75])
    iqr = q3 - q1
    outliers = 0
    if iqr > 0:
        lo, hi = q1 - _OUTLIER_IQR * iqr, q3 + _OUTLIER_IQR * iqr
        outliers = int(np.count_nonzero((y < lo) | (y > hi)))
    if abs(skew) <= _SKEW_WARNING and outliers < _OUTLIER_SHARE * len(y):
        return None
    summary = (
        f"skewness {skew:.2f} (median {median:.4g}, mean {y.mean():.4g}, range "
        f"{y.min():.4g}..{y.max():.4g}); {_count(outliers, 'target')} "
        f"({_pct(outliers, len(y))}) lie more than {_OUTLIER_IQR:g} IQR beyond the "
        "quartiles"
    )
    if y.min() > 0:
        transform = "train on log(y) (sklearn TransformedTargetRegressor)"
    elif y.min() >= 0:
        transform = "train on log1p(y) (sklearn TransformedTargetRegressor)"
    else:
        transform = "use a Yeo-Johnson PowerTransformer on the target"
    return Finding(
        check="target_distribution",
        severity="warning" if abs(skew) > _SKEW_WARNING else "info",
        message=f"regression target {summary}.",
        fix=(
            f"A squared-error loss is dominated by the tail: {transform} and report "
            "errors on the original scale, or use a robust loss (Huber / MAE); check "
            "the extreme values for entry errors."
        ),
    )


def _majority_oof(codes, y, folds, n_classes) -> np.ndarray:
    """Out-of-fold predictions of the per-level majority class."""
    n_levels = int(codes.max()) + 1
    pred = np.empty(len(y), dtype=np.int64)
    for train, test in folds:
        table = np.bincount(
            codes[train] * n_classes + y[train], minlength=n_levels * n_classes
        ).reshape(n_levels, n_classes)
        seen = table.sum(axis=1) > 0
        fallback = int(np.argmax(np.bincount(y[train], minlength=n_classes)))
        best = np.where(seen, table.argmax(axis=1), fallback)
        pred[test] = best[codes[test]]
    return pred


def _mean_oof(codes, y, folds) -> np.ndarray:
    """Out-of-fold predictions of the per-level mean target."""
    n_levels = int(codes.max()) + 1
    pred = np.empty(len(y), dtype=np.float64)
    for train, test in folds:
        sums = np.bincount(codes[train], weights=y[train], minlength=n_levels)
        counts = np.bincount(codes[train], minlength=n_levels)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), y[train].mean())
        pred[test] = means[codes[test]]
    return pred


def _tree_oof(x, y, folds, task: str) -> np.ndarray:
    """Out-of-fold predictions of a depth-limited tree on one column (NaN allowed)."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    finite = x[np.isfinite(x)]
    lo, hi = float(finite.min()), float(finite.max())
    x = np.clip(x, lo, hi)  # +-inf to the range's ends; NaN stays missing
    x = ((x - lo) / ((hi - lo) or 1.0)).reshape(-1, 1)  # float32-safe for the tree
    classify = task == "classification"
    model = DecisionTreeClassifier if classify else DecisionTreeRegressor
    pred = np.empty(len(y), dtype=y.dtype)
    for train, test in folds:
        tree = model(
            max_depth=_TREE_DEPTH[task], min_samples_leaf=_TREE_LEAF, random_state=0
        )
        pred[test] = tree.fit(x[train], y[train]).predict(x[test])
    return pred


def _r2(y, pred) -> float:
    return 1.0 - float(np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))


def _spearman(x, y) -> float:
    ok = np.isfinite(x)
    if ok.sum() < _LEAK_MIN_ROWS:
        return 0.0
    rx = pd.Series(x[ok]).rank().to_numpy()
    ry = pd.Series(y[ok]).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def _check_target_leak(columns, y, task: str, *, seed: int = 0) -> Finding | None:
    from sklearn.model_selection import KFold

    rows = np.arange(len(y))
    if task == "regression":
        rows = rows[np.isfinite(y)]
    if len(rows) < _LEAK_MIN_ROWS:
        return None
    sampled = len(rows) > _LEAK_ROWS
    if sampled:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(rows, _LEAK_ROWS, replace=False))
    if task == "classification":
        _, target = np.unique(y[rows], return_inverse=True)
        n_classes = int(target.max()) + 1
        if n_classes < 2:
            return None
        baseline = float(np.bincount(target).max() / len(target))
    else:
        target = np.asarray(y[rows], dtype=np.float64)
        if np.all(target == target[0]):
            return None
    splitter = KFold(_LEAK_FOLDS, shuffle=True, random_state=seed)
    folds = list(splitter.split(rows))
    leaks = []
    for c in columns:
        if c.n_distinct < 2:
            continue
        values = c.values[rows]
        if c.role in ("numeric", "date"):
            if not np.isfinite(values).any():
                continue
            pred = _tree_oof(values, target, folds, task)
            method = f"one-column decision tree, depth {_TREE_DEPTH[task]}"
        else:
            codes, _ = pd.factorize(values, use_na_sentinel=False)
            if task == "classification":
                pred = _majority_oof(codes, target, folds, n_classes)
            else:
                pred = _mean_oof(codes, target, folds)
            method = "per-value " + ("majority" if task == "classification" else "mean")
        if task == "classification":
            score = float(np.mean(pred == target))
            near_perfect = score >= _LEAK_SCORE - 1e-9
            if near_perfect and 1 - score <= _LEAK_ERROR_SHARE * (1 - baseline):
                leaks.append(f"{c.name!r} (accuracy {score:.3f}, {method})")
            continue
        score = _r2(target, pred)
        rho = _spearman(values, target) if c.role in ("numeric", "date") else 0.0
        if abs(rho) >= _LEAK_SCORE - 1e-9:
            leaks.append(f"{c.name!r} (Spearman rho {rho:.3f}, R^2 {score:.3f})")
        elif score >= _LEAK_SCORE - 1e-9:
            leaks.append(f"{c.name!r} (R^2 {score:.3f}, {method})")
    if not leaks:
        return None
    verb = "predicts" if len(leaks) == 1 else "predict"
    against = (
        f"always predicting the largest class scores {baseline:.3f}"
        if task == "classification"
        else "predicting the mean scores R^2 0"
    )
    return Finding(
        check="target_leak",
        severity="error",
        message=(
            f"{_count(len(leaks), 'column')} alone {verb} the target almost "
            f"perfectly: {_listed(leaks)}; {against} "
            f"({_LEAK_FOLDS}-fold cross-validation on {len(rows)} "
            f"{'sampled ' if sampled else ''}rows)."
        ),
        fix=(
            "Find out how that column is produced: if it is recorded after the "
            "outcome or derived from the target (a status, a code, a copy), drop it — "
            "the model would lean on it and fail where it is not available. If it is "
            "truly known at prediction time, the task is easier than it looks: a rule "
            "on that column is the baseline to beat."
        ),
    )
