"""Load the user's own data: a CSV table, a folder of images, a text file.

Every loader returns the same `Dataset` as the built-in sets, and turns the usual
mistakes (wrong path, wrong column, text in a numeric column, missing values) into a
`ValueError` that names the argument and what was received.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from kerasdl.data.dataset import Dataset

__all__ = [
    "load_csv",
    "load_image_folder",
    "load_text_file",
    "MAX_CLASSES_FOR_INTEGERS",
]

#: An integer-valued numeric target with at most this many distinct values is taken as
#: class labels by `load_csv` (unless `task=` says otherwise); more is a regression.
MAX_CLASSES_FOR_INTEGERS = 20

_COLOR_MODES = {"rgb": ("RGB", 3), "grayscale": ("L", 1)}


def _stem(path) -> str:
    return os.path.splitext(os.path.basename(os.path.normpath(str(path))))[0]


def _format_columns(columns, limit: int = 20) -> str:
    shown = [repr(c) for c in list(columns)[:limit]]
    more = len(columns) - limit
    return ", ".join(shown) + (f", ... ({more} more)" if more > 0 else "")


def load_csv(path, target: str, *, name: str | None = None, task: str | None = None):
    """Load a CSV table (header row first) as a tabular `Dataset`.

    The task is inferred from the target column unless `task` is given: text or
    boolean labels, or integer values with at most `MAX_CLASSES_FOR_INTEGERS`
    distinct values, make a classification; other numbers a regression. Class labels
    are encoded as indices into `class_names`, the sorted distinct labels as `str`
    (so labels `[3, 1, 2]` become indices `[2, 0, 1]` with names `["1", "2", "3"]`).

    Args:
        path: Path to the `.csv` file.
        target: Name of the column to predict; every other column is a feature.
        name: Dataset name; defaults to the file name without extension.
        task: Force `"classification"` or `"regression"` instead of inferring it.

    Returns:
        A `Dataset` with `x` float32 `(n, n_features)`, `y` int64 (classification) or
        float32 (regression), `feature_names` (the other columns, in file order) and,
        for classification, `class_names`.

    Raises:
        ValueError: the file is missing, empty or not parseable; `target` is not a
            column; a feature column is not numeric; a feature or the target has
            missing values; `task` is invalid or a regression target is not numeric.

    Example:

    ```python
    ds = load_csv("houses.csv", target="price")
    ds.task, ds.feature_names
    ```
    """
    import pandas as pd

    if task is not None and task not in ("classification", "regression"):
        raise ValueError(
            f"task must be 'classification', 'regression' or None; received {task!r}."
        )
    if not os.path.isfile(path):
        raise ValueError(f"path must be an existing CSV file; received {str(path)!r}.")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError as exc:
        raise ValueError(
            f"path {str(path)!r} is an empty file; expected a CSV table."
        ) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"path {str(path)!r} could not be parsed as CSV: {exc}"
        ) from exc
    if len(frame) == 0:
        raise ValueError(
            f"path {str(path)!r} has a header but no data rows; received columns "
            f"{_format_columns(frame.columns)}."
        )
    if target not in frame.columns:
        raise ValueError(
            f"target {target!r} is not a column of {str(path)!r}; available columns: "
            f"{_format_columns(frame.columns)}."
        )
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise ValueError(
            f"target {target!r} is the only column of {str(path)!r}; no features left."
        )
    non_numeric = [
        c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])
    ]
    if non_numeric:
        example = features[non_numeric[0]].dropna()
        example = repr(example.iloc[0]) if len(example) else "only missing values"
        raise ValueError(
            f"feature columns of {str(path)!r} must be numeric; non-numeric column(s): "
            f"{_format_columns(non_numeric)} (first value of {non_numeric[0]!r}: "
            f"{example}). Encode them as numbers or drop them first."
        )
    missing = features.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        raise ValueError(
            f"feature columns of {str(path)!r} contain {int(missing.sum())} missing "
            f"value(s), in column(s): "
            + ", ".join(f"{c!r} ({n})" for c, n in missing.items())
            + ". Impute or drop them first."
        )
    y_col = frame[target]
    n_missing = int(y_col.isna().sum())
    if n_missing:
        raise ValueError(
            f"target {target!r} has {n_missing} missing value(s) in {str(path)!r}; "
            "drop those rows first."
        )
    is_numeric = pd.api.types.is_numeric_dtype(
        y_col
    ) and not pd.api.types.is_bool_dtype(y_col)
    if task is None:
        if not is_numeric:
            task = "classification"
        else:
            values = y_col.to_numpy(dtype=np.float64)
            integer_valued = bool(
                np.all(np.isfinite(values)) and np.all(values % 1 == 0)
            )
            n_unique = len(np.unique(values))
            few = n_unique <= MAX_CLASSES_FOR_INTEGERS
            task = "classification" if integer_valued and few else "regression"
    class_names = None
    if task == "classification":
        if is_numeric:
            values = y_col.to_numpy()
            labels, y = np.unique(values, return_inverse=True)
            class_names = [_label_str(v) for v in labels]
        else:
            as_str = y_col.astype(str).to_numpy()
            labels, y = np.unique(as_str, return_inverse=True)
            class_names = [str(v) for v in labels]
        y = y.astype(np.int64)
    else:
        if not is_numeric:
            raise ValueError(
                f"task='regression' needs a numeric target; column {target!r} has "
                f"dtype {y_col.dtype} (first value {y_col.iloc[0]!r})."
            )
        y = y_col.to_numpy(dtype=np.float32)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"target {target!r} contains infinite values.")
    x = features.to_numpy(dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError(
            f"feature columns of {str(path)!r} contain infinite values (or values too "
            "large for float32)."
        )
    kind = f"{len(class_names)}-class classification" if class_names else "regression"
    return Dataset(
        x=x,
        y=y,
        name=name or _stem(path),
        task=task,
        description=(
            f"User data from {os.path.abspath(path)}: {x.shape[0]} rows, "
            f"{x.shape[1]} numeric feature columns, target column {target!r} "
            f"({kind})."
        ),
        class_names=class_names,
        feature_names=[str(c) for c in features.columns],
        extra={"path": os.path.abspath(path), "target": target},
    )


def _label_str(value) -> str:
    """`1.0` -> `"1"`, so integer labels read from a float column look like integers."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_image_size(image_size) -> tuple[int, int]:
    ok = (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
            for s in image_size
        )
    )
    if not ok:
        raise ValueError(
            "image_size must be a pair of positive integers (height, width); "
            f"received {image_size!r}."
        )
    return int(image_size[0]), int(image_size[1])


def load_image_folder(path, *, image_size=(32, 32), color_mode: str = "rgb"):
    """Load images stored as one subfolder per class (`path/cat/1.jpg`, ...).

    Class names are the subfolder names, sorted; class index `i` is
    `class_names[i]`. Every file Pillow can open is used; files it cannot open
    (e.g. `.DS_Store`, notes) are skipped with a warning and listed in
    `extra["skipped"]`. Hidden subfolders (starting with `.`) are ignored.

    Args:
        path: The root folder.
        image_size: `(height, width)` every image is resized to (bilinear).
        color_mode: `"rgb"` (3 channels) or `"grayscale"` (1 channel).

    Returns:
        A classification `Dataset`: `x` float32 `(n, height, width, channels)` in
        [0, 1], `y` int64, `class_names`, and `extra["paths"]`, the file of each image.

    Raises:
        ValueError: `path` is not a folder or has no class subfolders; a class folder
            holds no readable image; `image_size` or `color_mode` is invalid.
    """
    from PIL import Image, UnidentifiedImageError

    height, width = _check_image_size(image_size)
    if color_mode not in _COLOR_MODES:
        raise ValueError(
            f"color_mode must be one of {sorted(_COLOR_MODES)}; received "
            f"{color_mode!r}."
        )
    pil_mode, channels = _COLOR_MODES[color_mode]
    if not os.path.isdir(path):
        raise ValueError(f"path must be an existing folder; received {str(path)!r}.")
    class_names = sorted(
        d
        for d in os.listdir(path)
        if os.path.isdir(os.path.join(path, d)) and not d.startswith(".")
    )
    if not class_names:
        raise ValueError(
            f"path {str(path)!r} has no class subfolders; expected one folder per "
            "class, e.g. path/cat/*.jpg and path/dog/*.jpg."
        )
    images, labels, paths, skipped = [], [], [], []
    for index, class_name in enumerate(class_names):
        folder = os.path.join(path, class_name)
        n_before = len(images)
        for file_name in sorted(os.listdir(folder)):
            file_path = os.path.join(folder, file_name)
            if not os.path.isfile(file_path):
                continue
            try:
                with Image.open(file_path) as img:
                    img = img.convert(pil_mode).resize(
                        (width, height), Image.Resampling.BILINEAR
                    )
                    array = np.asarray(img, dtype=np.float32) / 255.0
            except (UnidentifiedImageError, OSError, ValueError):
                skipped.append(file_path)
                continue
            images.append(array.reshape(height, width, channels))
            labels.append(index)
            paths.append(file_path)
        if len(images) == n_before:
            raise ValueError(
                f"class folder {folder!r} (under path {str(path)!r}) holds no readable "
                "image; add images or remove the folder."
            )
    if skipped:
        warnings.warn(
            f"load_image_folder skipped {len(skipped)} file(s) that are not readable "
            f"images, e.g. {skipped[0]!r}.",
            stacklevel=2,
        )
    x = np.stack(images).astype(np.float32)
    counts = np.bincount(labels, minlength=len(class_names))
    return Dataset(
        x=x,
        y=np.asarray(labels, dtype=np.int64),
        name=_stem(path),
        task="classification",
        description=(
            f"User images from {os.path.abspath(path)}: {len(x)} images in "
            f"{len(class_names)} classes ("
            + ", ".join(f"{c}: {n}" for c, n in zip(class_names, counts))
            + f"), resized to {height}x{width}, {color_mode}, pixels in [0, 1]."
        ),
        class_names=class_names,
        extra={"paths": paths, "skipped": skipped, "root": os.path.abspath(path)},
    )


def load_text_file(path, *, encoding: str = "utf-8"):
    """Load a plain-text file as a corpus, one document per paragraph.

    Paragraphs are separated by one or more blank (or whitespace-only) lines; each
    document keeps its inner line breaks, with surrounding whitespace stripped.

    Args:
        path: Path to the text file.
        encoding: The file's text encoding.

    Returns:
        A text `Dataset`: `x` a `(n_paragraphs,)` object array of `str` (object,
        not fixed-width `<U`, so one long paragraph does not inflate them all),
        `y` `None`.

    Raises:
        ValueError: the file is missing, cannot be decoded with `encoding`, or holds
            no text.
    """
    if not os.path.isfile(path):
        raise ValueError(f"path must be an existing text file; received {str(path)!r}.")
    try:
        with open(path, encoding=encoding) as f:
            text = f.read()
    except LookupError as exc:
        raise ValueError(f"encoding {encoding!r} is not a known codec.") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"path {str(path)!r} is not valid {encoding!r} text ({exc.reason} at byte "
            f"{exc.start}); pass the right encoding=."
        ) from exc
    docs, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line.rstrip())
        elif current:
            docs.append("\n".join(current).strip())
            current = []
    if current:
        docs.append("\n".join(current).strip())
    if not docs:
        raise ValueError(f"path {str(path)!r} is empty (no non-blank text).")
    return Dataset(
        x=np.array(docs, dtype=object),
        y=None,
        name=_stem(path),
        task="text",
        description=(
            f"User text from {os.path.abspath(path)}: {len(docs)} paragraph(s), "
            f"{sum(len(d) for d in docs):,} characters, read as {encoding}."
        ),
        extra={"path": os.path.abspath(path)},
    )
