"""Error analysis for any classifier: confusion matrix, per-class table, and the
most confident mistakes on image data.

Everything is computed from labels (and, optionally, class probabilities) with
NumPy, so it works for a Keras model, a scikit-learn estimator or predictions read
from a file. Plots are files: each PNG is written next to a JSON of its numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from kerasdl.evaluation.error_plots import (
    _ratio,
    plot_confident_mistakes,
    plot_confusion_matrix,
)

# Probabilities may be off by rounding (float16 outputs, softmax in float32).
_PROBA_TOLERANCE = 1e-3


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _as_labels(values, name: str) -> np.ndarray:
    """Class indices as a 1-D int64 array, or a ValueError naming `name`."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 2:
        raise ValueError(
            f"`{name}` must hold class indices of shape (n,); received shape "
            f"{array.shape}. If these are class probabilities, pass them as "
            f"`proba=` and use `{name}=proba.argmax(axis=1)`."
        )
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(
            f"`{name}` must be a non-empty 1-D array of class indices; received "
            f"shape {array.shape}."
        )
    if array.dtype == bool:
        return array.astype("int64")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"`{name}` must hold integer class indices 0..n_classes-1; received "
            f"dtype {array.dtype} (first value {array.tolist()[0]!r}). Encode the "
            "labels first, e.g. with sklearn.preprocessing.LabelEncoder, and pass "
            "the names as `class_names`."
        )
    if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
        bad = array[~(np.isfinite(array) & (array == np.round(array)))].tolist()[0]
        raise ValueError(
            f"`{name}` must hold integer class indices; received the value {bad!r}."
        )
    array = array.astype("int64")
    if array.min() < 0:
        raise ValueError(
            f"`{name}` must hold class indices >= 0; received {int(array.min())}."
        )
    return array


def _check_inputs(y_true, y_pred, proba, class_names):
    """Validated `(y_true, y_pred, proba, class_names)`; the class count is
    `len(class_names)`."""
    if y_pred is None and proba is None:
        raise ValueError("`y_pred` is None; give the predicted labels or `proba`.")
    y_true = _as_labels(y_true, "y_true")
    if proba is not None:
        proba = np.asarray(proba, dtype="float64")
        if proba.ndim != 2:
            raise ValueError(
                "`proba` must have shape (n_samples, n_classes); received shape "
                f"{proba.shape}."
            )
        if len(proba) != len(y_true):
            raise ValueError(
                "`proba` must have one row per sample; received "
                f"{len(proba)} rows for len(y_true)={len(y_true)}."
            )
        if not np.all(np.isfinite(proba)):
            raise ValueError("`proba` contains NaN or infinite values.")
        if proba.min() < -_PROBA_TOLERANCE or proba.max() > 1 + _PROBA_TOLERANCE:
            raise ValueError(
                "`proba` must hold probabilities in [0, 1]; received values in "
                f"[{proba.min():.3g}, {proba.max():.3g}]. If these are logits, "
                "apply a softmax first."
            )
    y_pred = proba.argmax(axis=1) if y_pred is None else _as_labels(y_pred, "y_pred")
    if len(y_pred) != len(y_true):
        raise ValueError(
            "`y_true` and `y_pred` must have the same length; received "
            f"len(y_true)={len(y_true)} and len(y_pred)={len(y_pred)}."
        )
    if class_names is not None:
        class_names = [str(name) for name in class_names]
        if len(class_names) < 2:
            raise ValueError(
                f"`class_names` must name at least 2 classes; received {class_names}."
            )
        n_classes = len(class_names)
        if proba is not None and proba.shape[1] != n_classes:
            raise ValueError(
                f"`proba` must have one column per class; received shape "
                f"{proba.shape} for {n_classes} `class_names`."
            )
    elif proba is not None:
        n_classes = proba.shape[1]
    else:
        n_classes = max(int(y_true.max()), int(y_pred.max()), 1) + 1
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.max() >= n_classes:
            source = (
                f"{n_classes} `class_names`"
                if class_names is not None
                else f"{n_classes} columns of `proba`"
            )
            raise ValueError(
                f"`{name}` holds the label {int(labels.max())}, outside the range "
                f"0..{n_classes - 1} given by {source}."
            )
    if class_names is None:
        class_names = [str(i) for i in range(n_classes)]
    return y_true, y_pred, proba, class_names


def _as_images(x, n: int, image_shape, notes: list) -> np.ndarray | None:
    """`x` as `(n, h, w, c)` images, or None (with a note) when it holds none."""
    x = np.asarray(x)
    if len(x) != n:
        raise ValueError(
            f"`x` must have one row per sample; received len(x)={len(x)} for "
            f"len(y_true)={n}."
        )
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(f"`x` must be numeric to be drawn; received dtype {x.dtype}.")
    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if len(shape) not in (2, 3) or math.prod(shape) != math.prod(x.shape[1:]):
            raise ValueError(
                "`image_shape` must be (height, width) or (height, width, channels) "
                f"with as many values as one row of `x` ({math.prod(x.shape[1:])}); "
                f"received image_shape={tuple(image_shape)!r}."
            )
        x = x.reshape((n, *shape))
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim == 4 and x.shape[-1] not in (1, 3, 4) and x.shape[1] in (1, 3, 4):
        notes.append("x looked channels-first; transposed to (n, h, w, c) to draw.")
        x = np.transpose(x, (0, 2, 3, 1))
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        notes.append(
            f"x has shape {tuple(np.shape(x))}, not images (n, h, w, c); give "
            "`image_shape=` for flattened images. No confident-mistakes grid."
        )
        return None
    return x


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts `C[i, j]` of samples of true class `i` predicted as class `j`.

    Args:
        y_true: Integer class indices, shape `(n,)`.
        y_pred: Integer class indices, shape `(n,)`.
        n_classes: Number of classes (rows and columns).

    Returns:
        An `(n_classes, n_classes)` int64 array.
    """
    y_true = np.asarray(y_true, dtype="int64")
    y_pred = np.asarray(y_pred, dtype="int64")
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def per_class_report(y_true, y_pred, class_names=None) -> dict:
    """Precision, recall, F1 and support per class, with averages and accuracy.

    Undefined ratios (a class never predicted has no precision; a class absent from
    `y_true` has no recall) count as 0, as scikit-learn's
    `classification_report` does by default; `notes` names the classes concerned.

    Args:
        y_true: Integer class indices, shape `(n,)`.
        y_pred: Integer class indices, shape `(n,)`.
        class_names: Names of the classes, index-aligned (default `"0"`, `"1"`...).

    Returns:
        A JSON-serialisable dict: `classes` (a list of
        `{"class", "precision", "recall", "f1", "support"}`), `macro_avg` and
        `weighted_avg` (`precision`, `recall`, `f1`, `support`), `accuracy`,
        `n_samples`, `class_names`, `confusion_matrix` (list of lists) and `notes`.

    Raises:
        ValueError: For mismatched lengths or labels outside the class range.
    """
    y_true, y_pred, _, class_names = _check_inputs(y_true, y_pred, None, class_names)
    matrix = confusion_matrix(y_true, y_pred, len(class_names))
    true_positive = np.diag(matrix).astype("float64")
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = _ratio(true_positive, predicted)
    recall = _ratio(true_positive, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    notes = []
    never_predicted = [class_names[i] for i in np.flatnonzero(predicted == 0)]
    if never_predicted:
        notes.append(
            "never predicted, precision counted as 0: " + ", ".join(never_predicted)
        )
    absent = [class_names[i] for i in np.flatnonzero(support == 0)]
    if absent:
        notes.append("no true samples, recall counted as 0: " + ", ".join(absent))
    weights = support / support.sum()
    classes = [
        {
            "class": class_names[i],
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i in range(len(class_names))
    ]
    n = int(support.sum())
    return {
        "class_names": list(class_names),
        "classes": classes,
        "macro_avg": {
            "precision": float(precision.mean()),
            "recall": float(recall.mean()),
            "f1": float(f1.mean()),
            "support": n,
        },
        "weighted_avg": {
            "precision": float(weights @ precision),
            "recall": float(weights @ recall),
            "f1": float(weights @ f1),
            "support": n,
        },
        "accuracy": float(true_positive.sum() / n),
        "n_samples": n,
        "confusion_matrix": matrix.tolist(),
        "notes": notes,
    }


def format_per_class(report: dict) -> str:
    """The per-class report as an aligned text table for the terminal.

    Args:
        report: The dict of `per_class_report` (or `error_analysis(...)["per_class"]`,
            or the content of `per_class.json`).

    Returns:
        A multi-line string: one row per class, then accuracy and the macro and
        weighted averages, then the notes.
    """
    names = [row["class"] for row in report["classes"]]
    width = max(len("weighted avg"), *(len(name) for name in names))
    header = (
        f"{'':<{width}}  {'precision':>9}  {'recall':>9}  {'f1':>9}  {'support':>8}"
    )
    lines = [header]

    def row(label, values):
        return (
            f"{label:<{width}}  {values['precision']:>9.4f}  {values['recall']:>9.4f}"
            f"  {values['f1']:>9.4f}  {values['support']:>8d}"
        )

    lines += [row(r["class"], r) for r in report["classes"]]
    lines.append("")
    accuracy = f"{report['accuracy']:.4f}"
    lines.append(
        f"{'accuracy':<{width}}  {'':>9}  {'':>9}  {accuracy:>9}"
        f"  {report['n_samples']:>8d}"
    )
    lines.append(row("macro avg", report["macro_avg"]))
    lines.append(row("weighted avg", report["weighted_avg"]))
    lines += [f"note: {note}" for note in report.get("notes", [])]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# The whole analysis
# ---------------------------------------------------------------------------


def error_analysis(
    y_true,
    y_pred,
    *,
    proba=None,
    x=None,
    class_names=None,
    out_dir,
    top_k: int = 16,
    title: str = "",
    image_shape=None,
) -> dict:
    """Confusion matrix, per-class table and most confident mistakes of a classifier.

    Writes into `out_dir`:

    - `confusion_matrix.png` (counts and row-normalised rates, class names on the
      axes) and `confusion_matrix.json` (the numbers behind it);
    - `per_class.json` (`per_class_report`) and `per_class.txt` (its table);
    - when `x` holds images and `proba` is given: `confident_mistakes.png`, a grid
      of the `top_k` misclassified samples the model was surest about, titled
      "true → predicted (p=...)", and `confident_mistakes.json` (their indices).

    Args:
        y_true: True class indices `0..n_classes-1`, shape `(n,)`.
        y_pred: Predicted class indices, shape `(n,)`; None to take
            `proba.argmax(axis=1)`.
        proba: Optional class probabilities, shape `(n, n_classes)`; needed for the
            confident-mistakes grid (the confidence is `proba[i, y_pred[i]]`).
        x: Optional inputs. Images `(n, h, w, c)` or `(n, h, w)` are drawn; flat
            rows `(n, d)` are drawn when `image_shape` says how to fold them;
            other inputs are ignored (with a note).
        class_names: Names of the classes, index-aligned (default: the indices).
            The class count is `len(class_names)`, else `proba.shape[1]`, else the
            largest label + 1.
        out_dir: Folder to write into (created).
        top_k: Most mistakes drawn in the grid (>= 1).
        title: Title of the figures (e.g. "SmallCNN on digits (test split)").
        image_shape: `(h, w)` or `(h, w, c)` to fold flat rows of `x` into images.

    Returns:
        A dict: `metrics` (`accuracy`, `macro_precision`, `macro_recall`,
        `macro_f1`, `weighted_precision`, `weighted_recall`, `weighted_f1`,
        `n_samples`), `per_class` (the `per_class_report` dict), `table` (its
        text, as `format_per_class` gives it), `confusion_matrix` (list of lists),
        `confident_mistakes` (list of `{"index", "true", "pred", "true_name",
        "pred_name", "confidence"}`), `files` (name → `pathlib.Path` of every
        file written) and `notes`.

    Raises:
        ValueError: For mismatched lengths, labels outside the class range, a
            `proba` of the wrong shape or not in [0, 1], an `x` with another number
            of samples, a bad `image_shape` or `top_k`.

    Example:

    ```python
    proba = model.predict(x_test)
    result = error_analysis(y_test, proba.argmax(1), proba=proba, x=x_test,
                            class_names=ds.class_names, out_dir="runs/errors")
    print(result["table"])
    ```
    """
    y_true, y_pred, proba, class_names = _check_inputs(
        y_true, y_pred, proba, class_names
    )
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"`top_k` must be an integer >= 1; received {top_k!r}.")
    notes: list[str] = []
    images = None if x is None else _as_images(x, len(y_true), image_shape, notes)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    report = per_class_report(y_true, y_pred, class_names)
    notes += report["notes"]
    matrix = np.asarray(report["confusion_matrix"])
    files = {
        "confusion_matrix_png": plot_confusion_matrix(
            matrix, class_names, out / "confusion_matrix.png", title=title
        )
    }
    files["confusion_matrix_json"] = out / "confusion_matrix.json"
    files["confusion_matrix_json"].write_text(
        json.dumps(
            {
                "class_names": class_names,
                "rows": "true class",
                "columns": "predicted class",
                "counts": matrix.tolist(),
                "row_normalised": _ratio(
                    matrix, np.broadcast_to(matrix.sum(1, keepdims=True), matrix.shape)
                ).tolist(),
            },
            indent=2,
        )
    )
    table = format_per_class(report)
    files["per_class_json"] = out / "per_class.json"
    files["per_class_json"].write_text(json.dumps(report, indent=2))
    files["per_class_txt"] = out / "per_class.txt"
    files["per_class_txt"].write_text(table + "\n")

    mistakes = []
    wrong = np.flatnonzero(y_true != y_pred)
    if proba is not None and len(wrong):
        confidence = proba[wrong, y_pred[wrong]]
        order = np.argsort(-confidence, kind="stable")[:top_k]
        mistakes = [
            {
                "index": int(wrong[i]),
                "true": int(y_true[wrong[i]]),
                "pred": int(y_pred[wrong[i]]),
                "true_name": class_names[y_true[wrong[i]]],
                "pred_name": class_names[y_pred[wrong[i]]],
                "confidence": float(confidence[i]),
            }
            for i in order
        ]
    if images is not None and proba is None:
        notes.append("no `proba` given, so no confident-mistakes grid.")
    elif images is not None and not mistakes:
        notes.append("no mistakes, so no confident-mistakes grid.")
    elif images is not None:
        files["confident_mistakes_png"] = plot_confident_mistakes(
            images[[m["index"] for m in mistakes]],
            mistakes,
            out / "confident_mistakes.png",
            title=(title + "\n" if title else "")
            + "most confident mistakes (true → predicted, p = its probability)",
        )
        files["confident_mistakes_json"] = out / "confident_mistakes.json"
        files["confident_mistakes_json"].write_text(json.dumps(mistakes, indent=2))

    metrics = {
        "accuracy": report["accuracy"],
        "macro_precision": report["macro_avg"]["precision"],
        "macro_recall": report["macro_avg"]["recall"],
        "macro_f1": report["macro_avg"]["f1"],
        "weighted_precision": report["weighted_avg"]["precision"],
        "weighted_recall": report["weighted_avg"]["recall"],
        "weighted_f1": report["weighted_avg"]["f1"],
        "n_samples": report["n_samples"],
    }
    return {
        "metrics": metrics,
        "per_class": report,
        "table": table,
        "confusion_matrix": matrix.tolist(),
        "confident_mistakes": mistakes,
        "files": files,
        "notes": notes,
    }
