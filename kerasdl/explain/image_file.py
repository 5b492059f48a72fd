"""Explaining a saved classifier on an image file: load both as the model sees them.

`load_image_classifier` loads a `.keras` file (or the run folder holding
model.keras) and checks that it is an image classifier, through its image-input view
(`image_input_model`). `read_image_for_model` decodes an image file or a `.npy`
array into the `(height, width, channels)` floats that model takes.
`class_names_beside` reads the class names `kerasdl train` writes
beside its model. `kerasdl explain` is built on these.

Every mistake in a file raises a one-line `ValueError` that starts with `name` (the
argument or command-line flag the path came from).
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

# Registers every kerasdl class a model.keras may hold (classifiers, and the models
# refused by kind, such as the GPT of `kerasdl train gpt`).
import kerasdl.models  # noqa: F401
import kerasdl.models.transformers  # noqa: F401
from kerasdl._checks import check_keras_file
from kerasdl.data import opencv
from kerasdl.explain.image_input import image_input_model

__all__ = [
    "class_names_beside",
    "load_image_classifier",
    "read_image_for_model",
]


def load_image_classifier(path, *, name: str = "path"):
    """Load an image classifier from a `.keras` file or a run folder.

    Args:
        path: The `.keras` file, or a folder holding `model.keras`.
        name: What to call `path` in error messages (e.g. `"--model"`).

    Returns:
        `(model, view, (height, width, channels), path)`: the loaded model, its
        image-input view (`image_input_model`), the image shape the view takes and
        the file that was loaded.

    Raises:
        ValueError: no such file, a file that is not a Keras model, or a model
            that does not take one image input with 1 or 3 channels.
    """
    path = Path(path)
    if path.is_dir() and (path / "model.keras").is_file():
        path = path / "model.keras"
    if not path.is_file():
        raise ValueError(f"{name}: no model file at {str(path)!r}.")
    if path.suffix == ".keras":
        check_keras_file(path, name)
    try:
        model = keras.saving.load_model(path)
    except (ValueError, TypeError, KeyError, OSError) as error:  # the file's fault
        first = (str(error).strip().splitlines() or [""])[0]
        raise ValueError(
            f"{name} {str(path)!r}: could not load it as a Keras model "
            f"({type(error).__name__}: {first})"
        ) from error
    view = image_input_model(model)
    inputs = getattr(view, "inputs", None) or []
    shape = tuple(inputs[0].shape) if len(inputs) == 1 else None
    if shape is None or len(shape) != 4 or shape[-1] not in (1, 3):
        shapes = [tuple(t.shape) for t in inputs]
        takes = f"takes inputs of shape {shapes}" if shapes else "has no image input"
        raise ValueError(
            f"{name} {str(path)!r} is a {type(model).__name__} that {takes}: not "
            "an image classifier. explain needs one taking (batch, height, width, "
            "1 or 3 channels), or flat images behind a Reshape to that shape (as "
            "`kerasdl train cnn` saves them)."
        )
    return model, view, shape[1:], path


def _read_array(path: Path, shape, name: str):
    """A `.npy` file as `(source array, how it is scaled)`, checked."""
    height, width, channels = shape
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{name} {str(path)!r}: not a readable .npy array ({error})."
        ) from error
    if array.dtype == np.uint8:
        source, scaling = array, "uint8 .npy array divided by 255"
    elif np.issubdtype(array.dtype, np.number) and not np.iscomplexobj(array):
        source = array.astype("float32")
        scaling = "float .npy array taken as already scaled"
    else:
        raise ValueError(
            f"{name} {str(path)!r}: expected a numeric array; received dtype "
            f"{array.dtype}."
        )
    if source.ndim == 1 and height is not None and width is not None:
        if source.size != height * width * channels:
            raise ValueError(
                f"{name} {str(path)!r}: a flat array needs {height}x{width}x"
                f"{channels} = {height * width * channels} values; received "
                f"{source.size}."
            )
        source = source.reshape(height, width, channels)
    if source.ndim == 3 and source.shape[-1] not in (1, 3, 4):
        source = source.squeeze()  # e.g. (1, h, w, 1) saved as (1, h, w)
    if not (source.ndim == 2 or (source.ndim == 3 and source.shape[-1] in (1, 3, 4))):
        raise ValueError(
            f"{name} {str(path)!r}: expected an array of shape (h, w), (h, w, "
            f"c) or (h * w * c,); received shape {array.shape}."
        )
    if source.dtype != np.uint8 and not np.all(np.isfinite(source)):
        raise ValueError(f"{name} {str(path)!r}: the array holds NaN or inf.")
    return source, scaling


def read_image_for_model(path, shape, *, invert: bool = False, name: str = "path"):
    """Read an image file or `.npy` array as a model of input `shape` sees it.

    An image file is read with OpenCV, made grayscale when the model takes one
    channel (RGB when three), resized (pixel-area interpolation) to the model's
    input size and scaled to [0, 1] (divided by 255), the range kerasdl's image
    datasets are in. A uint8 `.npy` array is treated like an image file; a float
    one is taken as already scaled, of shape `(h, w)`, `(h, w, c)` or flat
    `(h * w * c,)`, and resized if its size differs.

    Args:
        path: A PNG/JPEG/BMP/TIFF image, or a `.npy` array.
        shape: The model's `(height, width, channels)` (channels 1 or 3; height
            and width None to keep the image's size).
        invert: Use `1 - value` (dark strokes on a light background, for a model
            trained on light strokes on dark, as the digits are).
        name: What to call `path` in error messages (e.g. `"--image"`).

    Returns:
        `(image, full_image, preprocessing)`: the `(h, w, c)` float32 image the
        model takes, the image at its own size `(H, W, c)` (for an overlay) and a
        sentence saying how it was prepared.

    Raises:
        ValueError: no such file, an unreadable image or array, or an array of
            the wrong size, shape or values.
    """
    path = Path(path)
    height, width, channels = shape
    if not path.is_file():
        raise ValueError(f"{name}: no file at {str(path)!r}.")
    if path.suffix.lower() == ".npy":
        source, scaling = _read_array(path, shape, name)
    else:
        try:
            source = opencv.read_image(path)
        except ValueError as error:
            raise ValueError(f"{name} {str(path)!r}: {error}") from error
        scaling = "pixels divided by 255"
    # Channels as the model takes them, still at the image's own size.
    if channels == 1:
        source = opencv.to_grayscale(source, keepdims=True)
        colour = "grayscale"
    else:
        if source.ndim == 2 or source.shape[-1] == 1:
            source = np.repeat(source.reshape(*source.shape[:2], 1), 3, axis=-1)
        source = source[..., :3]
        colour = "RGB"
    full = opencv.to_float(source)  # uint8 / 255; float as it is
    size = (height or full.shape[0], width or full.shape[1])
    if full.shape[:2] != size:
        resized = opencv.resize(full, size, interpolation="area")
        how = f"resized from {full.shape[0]}x{full.shape[1]} (pixel-area)"
    else:
        resized, how = full, "not resized"
    if invert:
        full, resized = 1.0 - full, 1.0 - resized
    preprocessing = (
        f"{colour}; {how} to {size[0]}x{size[1]}; {scaling}"
        + ("; inverted (1 - value)" * invert)
        + ". Assumes the model was trained on values in [0, 1] (as kerasdl's image "
        "datasets: the digits are grey levels / 16, light strokes on dark)."
    )
    return resized.astype("float32"), full, preprocessing


def class_names_beside(model_path):
    """The class names in the run.json `kerasdl train` writes beside its model, or
    None when there is none."""
    try:
        run = json.loads((Path(model_path).parent / "run.json").read_text())
        names = run["dataset"]["class_names"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [str(n) for n in names] if isinstance(names, list) else None
