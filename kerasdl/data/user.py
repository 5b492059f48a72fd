"""Load the user's own data: a CSV table, a folder of images, a text file.

Every loader returns the same `Dataset` as the built-in sets, and turns the usual
mistakes (wrong path, wrong column, unreadable file, empty folder) into a `ValueError`
that names the argument and what was received. A CSV is read as it comes (text
columns, missing cells, dates): see `kerasdl.data.table.load_table`.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from kerasdl.data.dataset import Dataset
from kerasdl.data.table import MAX_CLASSES_FOR_INTEGERS, _stem, load_table

__all__ = [
    "load_csv",
    "load_image_folder",
    "load_text_file",
    "MAX_CLASSES_FOR_INTEGERS",
]

_COLOR_MODES = {"rgb": ("RGB", 3), "grayscale": ("L", 1)}


def load_csv(
    path,
    target: str,
    *,
    name: str | None = None,
    task: str | None = None,
    categorical=(),
    text=(),
    ignore=(),
    groups: str | None = None,
    sep: str | None = None,
):
    """Load a CSV table (header row first) as a tabular `Dataset`, as it comes.

    A thin front to `kerasdl.data.load_table`, which documents the rules in full.
    The delimiter (`,` `;` TAB `|`) is detected unless `sep` is given. Every column
    gets a role (numeric, categorical, text or date; see `infer_feature_types`);
    empty, constant and ID-like columns are dropped (listed in
    `extra["dropped_columns"]`), and rows whose target is missing are dropped with
    a warning (counted in `extra["dropped_target_rows"]`).

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
        categorical: Column name(s) to treat as categories (e.g. integer codes).
        text: Column name(s) to treat as free text.
        ignore: Column name(s) to drop.
        groups: A column that groups the rows (e.g. a patient id): removed from the
            features and returned in `extra["groups"]`.
        sep: The delimiter, when detection is not wanted.

    Returns:
        A `Dataset` with `feature_names`, `feature_types` and, for classification,
        `class_names`; `y` int64 (classification) or float32 (regression). `x` is
        float32 `(n, n_features)` when every kept column is numeric and complete,
        otherwise a pandas `DataFrame` of the raw columns (`Dataset.is_raw_table`).

    Raises:
        ValueError: the file is missing, empty or not parseable; `target` or `groups`
            is not a column; an override names an unknown column, or the target;
            no feature column is left; the target has a single class, or is not
            numeric for `task="regression"`; `task` is invalid.

    Example:

    ```python
    ds = load_csv("houses.csv", target="price")
    ds.task, ds.feature_types
    ```
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(
            "path must be the path of a CSV file; received "
            f"{type(path).__name__} (pass a DataFrame to kerasdl.data.load_table)."
        )
    return load_table(
        path,
        target,
        task=task,
        categorical=categorical,
        text=text,
        ignore=ignore,
        groups=groups,
        name=name,
        sep=sep,
    )


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
