"""Group fairness metrics for a classifier, and a demonstration on real data.

Given the true labels, the predictions and a sensitive attribute (one group value
per sample), `fairness_report` compares the groups on accuracy, selection rate
(share predicted positive) and true-positive rate (share of actual positives
predicted positive), and summarises the gaps:

- demographic-parity difference: max - min selection rate across groups (0 when
  every group is predicted positive equally often);
- equal-opportunity difference: max - min true-positive rate across groups (0 when
  the actual positives of every group are found equally often).

`load_fairness_demo` / `fairness_demo` show them on the extramarital-affairs survey
that ships with statsmodels (Fair, 1978), with age group as the sensitive attribute.
"""

from __future__ import annotations

import math

import numpy as np

# Groups smaller than this get a note: their rates move by > 3 points per sample.
_SMALL_GROUP = 30


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(np.isnan(value))
    except (TypeError, ValueError):
        return False


def _python(value):
    """A NumPy scalar as the plain Python value (JSON-serialisable)."""
    return value.item() if isinstance(value, np.generic) else value


def _as_1d(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(
            f"`{name}` must be a non-empty 1-D array (one value per sample); "
            f"received shape {array.shape}."
        )
    return array


def _check(y_true, y_pred, sensitive, positive_label, group_names):
    """Validated arrays, the sorted group values and their display names."""
    y_pred = _as_1d(y_pred, "y_pred")
    sensitive = _as_1d(sensitive, "sensitive")
    if len(sensitive) != len(y_pred):
        raise ValueError(
            "`sensitive` must have one value per sample; received "
            f"len(sensitive)={len(sensitive)} and len(y_pred)={len(y_pred)}."
        )
    if y_true is not None:
        y_true = _as_1d(y_true, "y_true")
        if len(y_true) != len(y_pred):
            raise ValueError(
                "`y_true` and `y_pred` must have the same length; received "
                f"len(y_true)={len(y_true)} and len(y_pred)={len(y_pred)}."
            )
    missing = [i for i, v in enumerate(sensitive.tolist()) if _is_missing(v)]
    if missing:
        raise ValueError(
            f"`sensitive` has {len(missing)} missing value(s) (None/NaN), first at "
            f"index {missing[0]}; drop those samples or give them a group of their "
            "own (e.g. 'unknown')."
        )
    seen = set(y_pred.tolist()) | (set() if y_true is None else set(y_true.tolist()))
    if positive_label not in seen:
        raise ValueError(
            f"`positive_label`={positive_label!r} appears in neither y_true nor "
            f"y_pred; labels seen: {sorted(seen, key=str)[:10]}."
        )
    try:
        groups = np.unique(sensitive)
    except TypeError as error:
        raise ValueError(
            "`sensitive` must hold values of one comparable type (all numbers or "
            f"all strings); received {sorted({type(v).__name__ for v in sensitive})}."
        ) from error
    if len(groups) < 2:
        raise ValueError(
            "`sensitive` must contain at least 2 groups to compare; received only "
            f"{[_python(g) for g in groups]}."
        )
    return y_true, y_pred, sensitive, groups, _names(groups, group_names)


def _names(groups, group_names) -> list[str]:
    if group_names is None:
        return [str(_python(g)) for g in groups]
    if isinstance(group_names, dict):
        lookup = {_python(k): str(v) for k, v in group_names.items()}
        absent = [_python(g) for g in groups if _python(g) not in lookup]
        if absent:
            raise ValueError(
                f"`group_names` has no name for the group(s) {absent}; received "
                f"keys {list(group_names)}."
            )
        return [lookup[_python(g)] for g in groups]
    names = [str(name) for name in group_names]
    codes = [_python(g) for g in groups]
    if not all(isinstance(c, int) for c in codes):  # bools count as 0 and 1
        raise ValueError(
            "A list of `group_names` is indexed by integer group codes, but "
            f"`sensitive` holds {codes[:5]}; pass a dict {{value: name}} instead."
        )
    if min(codes) < 0 or max(codes) >= len(names):
        raise ValueError(
            f"`group_names` has {len(names)} names, but `sensitive` holds the codes "
            f"{codes}; give a name for every code 0..{max(codes)}."
        )
    return [names[c] for c in codes]


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def _rates(y_true, y_pred, positive_label) -> dict:
    predicted = y_pred == positive_label
    positives = y_true == positive_label
    n_positive = int(positives.sum())
    return {
        "support": len(y_pred),
        "n_positive": n_positive,
        "accuracy": float(np.mean(y_true == y_pred)),
        "selection_rate": float(np.mean(predicted)),
        "true_positive_rate": (
            float(np.mean(predicted[positives])) if n_positive else float("nan")
        ),
    }


def _spread(values, names):
    """`(max - min, name of max, name of min)` over the finite values."""
    pairs = [(v, n) for v, n in zip(values, names) if not math.isnan(v)]
    if len(pairs) < 2:
        return float("nan"), None, None
    high = max(pairs, key=lambda p: p[0])
    low = min(pairs, key=lambda p: p[0])
    return float(high[0] - low[0]), high[1], low[1]


def fairness_report(
    y_true,
    y_pred,
    sensitive,
    *,
    positive_label=1,
    group_names=None,
    attribute: str = "sensitive attribute",
) -> dict:
    """Per-group accuracy, selection rate and true-positive rate, and their gaps.

    A group with no actual positives has no true-positive rate: it is reported as
    NaN, left out of the equal-opportunity difference, and named in `notes`.

    Args:
        y_true: True labels, shape `(n,)` (any label type).
        y_pred: Predicted labels, shape `(n,)`.
        sensitive: The group of each sample, shape `(n,)` (codes or strings).
        positive_label: The label counted as "selected"/positive.
        group_names: Display names: a dict `{group value: name}`, or a list
            indexed by integer group codes. Default: the values as strings.
        attribute: What `sensitive` is (e.g. `"age group"`), for the printouts.

    Returns:
        A JSON-serialisable dict: `attribute`, `positive_label`, `groups` (a list of
        `{"group", "value", "support", "n_positive", "accuracy", "selection_rate",
        "true_positive_rate"}`), `overall` (the same rates on all samples),
        `demographic_parity_difference`, `demographic_parity_between` (the names of
        the groups with the highest and lowest selection rate),
        `equal_opportunity_difference`, `equal_opportunity_between` and `notes`.

    Raises:
        ValueError: For mismatched lengths, missing values in `sensitive`, fewer
            than 2 groups, a `positive_label` found in neither label array, or
            `group_names` that do not cover the groups.

    Example:

    ```python
    report = fairness_report(y_test, model.predict(x_test), age_group,
                             group_names=["under 30", "30 or older"])
    print(format_fairness(report))
    ```
    """
    y_true, y_pred, sensitive, groups, names = _check(
        y_true, y_pred, sensitive, positive_label, group_names
    )
    if y_true is None:
        raise ValueError("`y_true` is None; the report needs the true labels.")
    rows, notes = [], []
    for group, name in zip(groups, names):
        mask = sensitive == group
        row = {"group": name, "value": _python(group)}
        row.update(_rates(y_true[mask], y_pred[mask], positive_label))
        rows.append(row)
        if row["n_positive"] == 0:
            notes.append(
                f"group {name!r} has no actual positives (label {positive_label!r}): "
                "its true-positive rate is undefined (NaN) and left out of the "
                "equal-opportunity difference."
            )
        if row["support"] < _SMALL_GROUP:
            notes.append(
                f"group {name!r} has only {row['support']} samples; its rates are "
                "noisy."
            )
    dp, dp_high, dp_low = _spread([r["selection_rate"] for r in rows], names)
    eo, eo_high, eo_low = _spread([r["true_positive_rate"] for r in rows], names)
    if math.isnan(eo):
        notes.append(
            "fewer than 2 groups have actual positives, so the equal-opportunity "
            "difference is undefined (NaN)."
        )
    return {
        "attribute": attribute,
        "positive_label": _python(positive_label),
        "groups": rows,
        "overall": _rates(y_true, y_pred, positive_label),
        "demographic_parity_difference": dp,
        "demographic_parity_between": [dp_high, dp_low],
        "equal_opportunity_difference": eo,
        "equal_opportunity_between": [eo_high, eo_low],
        "notes": notes,
    }


def demographic_parity_difference(y_true, y_pred, sensitive, *, positive_label=1):
    """Largest minus smallest selection rate (share predicted positive) of the groups.

    Args:
        y_true: True labels (only checked for length; may be None), as in
            `fairness_report`; kept so all metrics share one signature.
        y_pred: Predicted labels, shape `(n,)`.
        sensitive: The group of each sample, shape `(n,)`.
        positive_label: The label counted as selected.

    Returns:
        A float in [0, 1]; 0 means every group is selected equally often.

    Raises:
        ValueError: As `fairness_report`.
    """
    _, y_pred, sensitive, groups, names = _check(
        y_true, y_pred, sensitive, positive_label, None
    )
    rates = [float(np.mean(y_pred[sensitive == g] == positive_label)) for g in groups]
    return _spread(rates, names)[0]


def equal_opportunity_difference(y_true, y_pred, sensitive, *, positive_label=1):
    """Largest minus smallest true-positive rate of the groups.

    Groups without actual positives have no true-positive rate and are left out.

    Args:
        y_true: True labels, shape `(n,)`.
        y_pred: Predicted labels, shape `(n,)`.
        sensitive: The group of each sample, shape `(n,)`.
        positive_label: The positive label.

    Returns:
        A float in [0, 1]; NaN when fewer than 2 groups have actual positives.

    Raises:
        ValueError: As `fairness_report`.
    """
    if y_true is None:
        raise ValueError("`y_true` is None; the true-positive rate needs it.")
    y_true, y_pred, sensitive, groups, names = _check(
        y_true, y_pred, sensitive, positive_label, None
    )
    rates = [
        _rates(y_true[sensitive == g], y_pred[sensitive == g], positive_label)[
            "true_positive_rate"
        ]
        for g in groups
    ]
    return _spread(rates, names)[0]


def format_fairness(report: dict) -> str:
    """The fairness report as an aligned text table for the terminal.

    Args:
        report: The dict of `fairness_report` (or of `fairness_demo`).

    Returns:
        A multi-line string: one row per group and one for all samples, then the
        two differences and the notes.
    """

    def cell(value):
        return "n/a" if math.isnan(value) else f"{value:.3f}"

    keys = ("support", "n_positive", "accuracy", "selection_rate")
    keys += ("true_positive_rate",)
    rows = [(r["group"], *(r[k] for k in keys)) for r in report["groups"]]
    rows.append(("all", *(report["overall"][k] for k in keys)))
    width = max(len("group"), *(len(str(r[0])) for r in rows))
    header = ("support", "positives", "accuracy", "selection", "TPR")
    lines = [
        f"fairness by {report.get('attribute', 'group')} "
        f"(positive label {report['positive_label']!r})",
        f"{'group':<{width}}  " + "  ".join(f"{h:>9}" for h in header),
    ]
    for name, support, positives, *rates in rows:
        lines.append(
            f"{name:<{width}}  {support:>9d}  {positives:>9d}  "
            + "  ".join(f"{cell(v):>9}" for v in rates)
        )
    for key, label in (
        ("demographic_parity", "demographic-parity difference (selection rate)"),
        ("equal_opportunity", "equal-opportunity difference (TPR)"),
    ):
        high, low = report[f"{key}_between"]
        between = f"  ({high} vs {low})" if high != low else ""
        lines.append(f"{label}: {cell(report[f'{key}_difference'])}{between}")
    lines += [f"note: {note}" for note in report.get("notes", [])]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# A real demonstration dataset (ships with statsmodels; no download)
# ---------------------------------------------------------------------------
