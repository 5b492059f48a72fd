"""The array data checks, one function each, and their thresholds.

Each takes prepared arrays and returns one `Finding` (with the numbers and the fix)
or None; `kerasdl.doctor.data_checks.check_data` runs them.
"""

from __future__ import annotations

import warnings

import numpy as np

from kerasdl.doctor.array_inputs import (
    _class_label,
    _count,
    _flat,
    _names,
    _pct,
)
from kerasdl.doctor.findings import Finding

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
