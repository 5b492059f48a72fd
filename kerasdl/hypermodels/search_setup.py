"""What a search needs before it starts: the data (a registered dataset or arrays),
standardisation fitted on the training rows, the hypermodel for a family, and the
checks of the search settings.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kerasdl._checks import check_float, check_int
from kerasdl.hypermodels.registry import (
    get_hypermodel,
)
from kerasdl.hypermodels.tuners import (
    check_tuner,
    hyperband_trials,
)

SETTINGS_FILE = "kerasdl_search.json"  # inside the Keras Tuner project folder
DEFAULT_TRIALS = 10  # random and Bayesian search; Hyperband: one full iteration


def _load_data(dataset, x, y):
    """(name, x float32, y int64 labels 0..k-1, num_classes, class_names)."""
    from kerasdl.data import Dataset, check_xy, load_dataset

    if x is not None or y is not None:
        if x is None or y is None:
            raise ValueError("Give both `x` and `y` (user data), or neither.")
        if isinstance(dataset, Dataset):
            raise ValueError("Give either a Dataset or `x`/`y`, not both.")
        name = "user" if dataset is None else str(dataset)
        x, y = check_xy(x, y)
        class_names = None
    else:
        data = (
            dataset
            if isinstance(dataset, Dataset)
            else load_dataset("digits" if dataset is None else dataset)
        )
        if data.task != "classification":
            raise ValueError(
                f"Tuning needs a classification dataset; {data.name!r} is a "
                f"{data.task} dataset."
            )
        name, x, y, class_names = data.name, data.x, data.y, data.class_names
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"Expected labels `y` of shape (n,); received {y.shape}.")
    if np.issubdtype(y.dtype, np.integer) and y.min() >= 0:
        num_classes = int(y.max()) + 1
    else:
        labels, y = np.unique(y, return_inverse=True)
        class_names = class_names or [str(v) for v in labels]
        num_classes = len(labels)
    if len(np.unique(y)) < 2:
        raise ValueError("Expected at least 2 classes in `y`; received 1.")
    return name, np.asarray(x, "float32"), y.astype("int64"), num_classes, class_names


def _standardization(x):
    """Per-feature (per-pixel) mean and variance of the training part; constant
    features get variance 1 (they are only centred), as in StandardScaler."""
    mean = x.mean(axis=0)
    variance = x.var(axis=0)
    variance = np.where(variance > 1e-12, variance, 1.0)
    return mean.astype("float32"), variance.astype("float32")


def _make_hypermodel(
    family, x_fit, num_classes, *, standardize, flat_shape, seed, epochs, search_space
):
    """(hypermodel, standardize) with the statistics of `x_fit` if standardizing."""
    reserved = {"flat_input", "num_train_samples", "epochs", "seed", "normalization"}
    clash = sorted(reserved & set(search_space or {}))
    if clash:
        raise ValueError(
            f"search_space takes hyperparameters only; received {clash[0]!r}."
        )
    sample_shape = tuple(flat_shape or x_fit.shape[1:])
    flat_input = flat_shape is not None and tuple(x_fit.shape[1:]) != sample_shape
    common = {
        "flat_input": flat_input,
        "num_train_samples": len(x_fit),
        "epochs": epochs,
        "seed": seed,
        **(search_space or {}),
    }
    probe = get_hypermodel(family, sample_shape, num_classes, **common)
    if standardize is None:
        standardize = bool(probe.default_standardize)
    if not standardize:
        return probe, False
    return (
        get_hypermodel(
            family,
            sample_shape,
            num_classes,
            normalization=_standardization(x_fit),
            **common,
        ),
        True,
    )


def _settings_check(project_dir: Path, settings: dict, overwrite: bool) -> bool:
    """Refuse to resume a project made with other settings; True if resuming."""
    path = project_dir / SETTINGS_FILE
    tuner_state = project_dir / "tuner0.json"
    if overwrite or not tuner_state.exists():
        return False
    if path.exists():
        saved = json.loads(path.read_text())
        current = json.loads(json.dumps(settings))
        changed = [k for k in current if saved.get(k) != current[k]]
        if changed:
            key = changed[0]
            raise ValueError(
                f"{project_dir} holds a search with {key}={saved.get(key)!r}, not "
                f"{current[key]!r}; pass overwrite=True (--overwrite) or another "
                "output folder."
            )
    return True


def _check_common(tuner, max_trials, epochs, seed, val_size):
    tuner = check_tuner(tuner)
    epochs = check_int("epochs", epochs)
    if max_trials is None:
        max_trials = (
            hyperband_trials(epochs) if tuner == "hyperband" else DEFAULT_TRIALS
        )
    max_trials = check_int("max_trials", max_trials)
    seed = check_int("seed", seed, minimum=0)
    val_size = check_float(
        "val_size", val_size, low=0.0, high=1.0, low_open=True, high_open=True
    )
    return tuner, max_trials, epochs, seed, val_size
