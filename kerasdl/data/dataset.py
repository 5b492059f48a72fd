"""The container every kerasdl loader returns, and the library's shared input checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TASKS = ("classification", "regression", "forecasting", "text")

#: The roles a table's feature column can play (`Dataset.feature_types` values).
FEATURE_ROLES = ("numeric", "categorical", "text", "date")


@dataclass
class Dataset:
    """NumPy arrays plus the metadata needed to use them honestly.

    Attributes:
        x: Inputs. Images are `(n, height, width, channels)` float32 in [0, 1];
            tabular data is `(n, features)` float32, or a pandas `DataFrame` of the
            raw feature columns when the table has non-numeric columns or missing
            cells (a *raw table*: see `feature_types`); a time series is `(n,)` float32;
            a text corpus is a `(n_documents,)` array of `str`.
        y: Targets (`(n,)` int64 class indices, or float32 values), or `None` when the
            data has no target (a series, a corpus).
        name: Short name, as accepted by `kerasdl.data.load_dataset`.
        task: One of `"classification"`, `"regression"`, `"forecasting"`, `"text"`.
        description: One paragraph: what the data is and where it comes from.
        class_names: Names of the classes, index-aligned with `y` (classification).
        feature_names: Names of the columns of `x` (tabular data).
        feature_types: For tables, the role of every feature column, in column
            order: `{"bill_length_mm": "numeric", "island": "categorical", ...}`
            with roles from `FEATURE_ROLES`. Set by `load_csv`/`load_table`;
            `None` for images, series and corpora.
        extra: Anything else a loader knows (e.g. the years of a yearly series).
    """

    x: np.ndarray
    y: np.ndarray | None
    name: str
    task: str
    description: str
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    extra: dict = field(default_factory=dict)
    feature_types: dict[str, str] | None = None

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}; received {self.task!r}.")
        if self.feature_types is not None:
            roles = self.feature_types.items()
            bad = {c: r for c, r in roles if r not in FEATURE_ROLES}
            if bad:
                raise ValueError(
                    f"feature_types roles must be in {FEATURE_ROLES}; received {bad}."
                )
        if self.y is not None and len(self.x) != len(self.y):
            raise ValueError(
                f"x and y must have the same length; received len(x)={len(self.x)} "
                f"and len(y)={len(self.y)}."
            )

    def __len__(self) -> int:
        return len(self.x)

    @property
    def num_classes(self) -> int | None:
        """Number of classes for a classification set, else `None`."""
        if self.task != "classification":
            return None
        return len(self.class_names) if self.class_names else int(self.y.max()) + 1

    @property
    def is_raw_table(self) -> bool:
        """True when `x` is a pandas `DataFrame` of raw columns (strings, missing
        cells, dates) that models must encode inside each training fold."""
        return hasattr(self.x, "columns") and hasattr(self.x, "iloc")

    @property
    def is_image(self) -> bool:
        """True when `x` holds images `(n, height, width, channels)`."""
        return self.x.ndim == 4

    def summary(self) -> str:
        """One line: name, task, shape and classes."""
        parts = [f"{self.name}: {self.task}", f"x{tuple(self.x.shape)}"]
        if self.num_classes:
            parts.append(f"{self.num_classes} classes")
        return ", ".join(parts)


def check_xy(x, y=None, *, name_x: str = "x", name_y: str = "y", allow_nan=False):
    """Validate model inputs and return them as NumPy arrays.

    Raises a `ValueError` naming the argument and the received value for: empty data,
    non-numeric features, NaN or inf in features, and an x/y length mismatch.

    Returns:
        `(x, y)` as NumPy arrays (`y` is `None` when not given).
    """
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{name_x} is empty; received shape {x.shape}.")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(
            f"{name_x} must be numeric; received dtype {x.dtype} "
            f"(first value: {x.flat[0]!r}). Encode categorical features as numbers "
            "first."
        )
    if not allow_nan and not np.all(np.isfinite(x)):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise ValueError(
            f"{name_x} contains {bad} NaN or infinite value(s); impute or drop them "
            "first."
        )
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(
                f"{name_x} and {name_y} must have the same number of samples; received "
                f"len({name_x})={len(x)} and len({name_y})={len(y)}."
            )
    return x, y


def check_value_range(
    x, low: float, high: float, *, name: str = "x", tolerance: float = 0.01, why=""
):
    """Refuse arrays whose values fall outside `[low, high]`: the images-on-the-
    wrong-scale mistake (0..255 where [0, 1] is expected) that trains without error.

    One min and one max over the array (call it once per dataset, not per batch).
    Values up to `tolerance * (high - low)` outside the interval are accepted
    (rounding, interpolation overshoot). NaN/inf are not this check's business:
    check finiteness first.

    Args:
        x: A numeric array (or anything `np.asarray` takes).
        low: Lower end of the expected range.
        high: Upper end of the expected range.
        name: The argument's name, for the message.
        tolerance: Accepted overshoot, as a fraction of `high - low`.
        why: Optional reason shown after the expected range, e.g. `"(the
            generator ends in a sigmoid)"`.

    Returns:
        `(min, max)` of `x` as floats (`None` for an empty array).

    Raises:
        ValueError: naming `name`, the range received and the one expected, with
            the rescaling that fixes the usual cases.
    """
    array = np.asarray(x)
    if array.size == 0:
        return None
    lowest, highest = float(array.min()), float(array.max())
    slack = tolerance * (high - low)
    if lowest >= low - slack and highest <= high + slack:
        return lowest, highest
    if (low, high) == (0.0, 1.0):
        fix = "x / 255.0 for 8-bit images, (x + 1) / 2 for images in [-1, 1]"
    elif (low, high) == (-1.0, 1.0):
        fix = "x / 127.5 - 1 for 8-bit images, x * 2 - 1 for images in [0, 1]"
    else:
        fix = f"(x - x.min()) / (x.max() - x.min()) * {high - low:g} + {low:g}"
    reason = f" {why}" if why else ""
    raise ValueError(
        f"`{name}` must hold values in [{low:g}, {high:g}]{reason}; received values "
        f"in [{lowest:.4g}, {highest:.4g}]. Rescale them first, e.g. {fix}."
    )


#: The tasks a table dataset can have.
TABULAR_TASKS = ("classification", "regression")


def table_arrays(dataset, job: str = "train_tabular"):
    """A table dataset checked and split for a model: `(x, y, class_names,
    feature_types)`.

    `x` is a DataFrame (positional index) or a float32 2-D array; `y` int64 class
    indices or float64 values; `feature_types` the column roles a model must encode
    (None for a numeric array). `job` names the caller in the error messages.

    Raises:
        ValueError: not a table dataset, no target, empty, mismatched rows, a
            non-numeric or non-finite regression target, fewer than 4 rows, or class
            indices outside `class_names`.
    """
    if not isinstance(dataset, Dataset):
        raise ValueError(
            "dataset must be a kerasdl.data.Dataset; received "
            f"{type(dataset).__name__}."
        )
    if dataset.task not in TABULAR_TASKS:
        raise ValueError(
            f"{job} needs a classification or regression table; dataset "
            f"{dataset.name!r} is a {dataset.task} dataset."
        )
    if dataset.y is None:
        raise ValueError(f"dataset {dataset.name!r} has no target (dataset.y is None).")
    if dataset.is_raw_table:
        x = dataset.x.reset_index(drop=True)
        if len(x) == 0 or x.shape[1] == 0:
            raise ValueError(f"dataset.x is empty; received shape {x.shape}.")
        y = np.asarray(dataset.y)
        if len(y) != len(x):
            raise ValueError(
                "dataset.x and dataset.y must have the same number of rows; "
                f"received {len(x)} and {len(y)}."
            )
        feature_types = dataset.feature_types
    else:
        x, y = check_xy(dataset.x, dataset.y, name_x="dataset.x", name_y="dataset.y")
        if x.ndim != 2 or x.shape[1] == 0:
            raise ValueError(
                "dataset.x must be a table (rows, columns); received shape "
                f"{x.shape}. Train images with `kerasdl train cnn`."
            )
        x = x.astype("float32")
        feature_types = None  # a numeric array: every column numeric
    if y.ndim != 1:
        raise ValueError(f"dataset.y must be 1-D; received shape {y.shape}.")
    if dataset.task == "regression":
        try:
            y = y.astype("float64")
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"dataset.y must hold numbers for regression; received dtype {y.dtype}."
            ) from error
        if not np.all(np.isfinite(y)):
            raise ValueError("dataset.y (a regression target) has NaN or inf values.")
        if len(y) < 4:
            raise ValueError(
                f"dataset {dataset.name!r} has {len(y)} rows; {job} needs at "
                "least 4 (training, validation and test rows)."
            )
        return x, y, None, feature_types
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            "dataset.y must hold integer class indices into dataset.class_names; "
            f"received dtype {y.dtype}."
        )
    y = y.astype("int64")
    n_classes = max(len(dataset.class_names or ()), int(y.max()) + 1)
    if y.min() < 0:
        raise ValueError(f"dataset.y holds the negative class index {int(y.min())}.")
    class_names = [str(c) for c in (dataset.class_names or range(n_classes))]
    if len(class_names) < n_classes:
        raise ValueError(
            f"dataset.y holds the class index {int(y.max())}, outside the "
            f"{len(class_names)} dataset.class_names."
        )
    present, counts = np.unique(y, return_counts=True)
    if len(present) < 2:
        raise ValueError(
            "dataset.y must hold at least 2 classes; received 1 class "
            f"({class_names[int(present[0])]!r})."
        )
    if counts.min() < 2:
        rare = class_names[int(present[np.argmin(counts)])]
        raise ValueError(
            f"class {rare!r} of dataset.y has 1 row; a stratified split into "
            "training and test rows needs at least 2 rows per class."
        )
    return x, y, class_names, feature_types
