"""Small helpers of the cross-validation loops: a progress line, rows of an array or
a DataFrame, and a fitted model's predictions with class probabilities.
"""

from __future__ import annotations

import sys

import numpy as np


def _log(message: str, verbose: bool) -> None:
    if verbose:
        print(message, file=sys.stderr, flush=True)


def _rows(x, index):
    """Rows `index` of an array or of a DataFrame (positional)."""
    return x.iloc[index] if hasattr(x, "iloc") else x[index]


def _predict(model, x, task):
    """`(pred, proba, classes)`: probabilities when the model has `predict_proba`."""
    if task == "classification" and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(x))
        return model.classes_[np.argmax(proba, axis=1)], proba, model.classes_
    return np.asarray(model.predict(x)), None, None
