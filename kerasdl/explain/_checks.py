"""Argument checks shared by Grad-CAM and saliency."""

from __future__ import annotations

import numbers

import keras
import numpy as np


def check_image_model(model, what: str):
    """Return `(input_shape, num_classes)` of an image classifier, else ValueError.

    `input_shape` is `(height, width, channels)` (entries may be None); the model
    must take one input `(batch, height, width, channels)` and return one output
    `(batch, num_classes)`. For a subclassed model, whose inputs and outputs are
    unknown until it is called, both are None (`check_predictions` checks the
    output once it is known).
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"{what} needs a keras.Model; received {type(model).__name__}."
        )
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        return None, None
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        shapes = [tuple(t.shape) for t in inputs]
        raise ValueError(
            f"{what} needs a model with one image input (batch, height, width, "
            f"channels), or one flat input that feeds only a Reshape to (height, "
            f"width, channels); model {model.name!r} takes inputs of shapes {shapes}."
        )
    if len(outputs) != 1 or len(outputs[0].shape) != 2:
        shapes = [tuple(t.shape) for t in outputs]
        raise ValueError(
            f"{what} needs a classifier with one output (batch, num_classes); model "
            f"{model.name!r} returns outputs of shapes {shapes}."
        )
    return tuple(inputs[0].shape[1:]), outputs[0].shape[-1]


def check_predictions(predictions, what: str) -> np.ndarray:
    """The model's outputs for one image, `(num_classes,)`, else ValueError."""
    if isinstance(predictions, (list, tuple, dict)):
        raise ValueError(
            f"{what} needs a classifier with one output (batch, num_classes); the "
            f"model returned a {type(predictions).__name__} of outputs."
        )
    array = np.asarray(keras.ops.convert_to_numpy(predictions))
    if array.ndim != 2:
        raise ValueError(
            f"{what} needs a classifier with one output (batch, num_classes); the "
            f"model returned shape {array.shape}."
        )
    return array[0]


def prepare_image(image, input_shape) -> np.ndarray:
    """`image` as float32 `(1, h, w, c)`, checked against the model's input shape.

    Accepts `(h, w, c)`, a batch of one `(1, h, w, c)`, or `(h, w)` when the model
    takes one channel.
    """
    array = np.asarray(image)
    if input_shape is None:  # a subclassed model: only the rank is known
        input_shape = (None, None, array.shape[-1] if array.ndim in (3, 4) else None)
    if not (
        np.issubdtype(array.dtype, np.floating)
        or np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(
            f"Expected `image` to hold numbers; received dtype {array.dtype}."
        )
    expected = tuple(input_shape)
    if array.ndim == 2 and expected[-1] == 1:
        array = array[..., None]
    if array.ndim == 3:
        array = array[None]
    described = tuple("?" if d is None else d for d in expected)
    if array.ndim != 4 or array.shape[0] != 1:
        raise ValueError(
            f"Expected `image` of shape (height, width, channels) = {described} or a "
            f"batch of one (1, *{described}); received shape {np.shape(image)}."
        )
    for got, want in zip(array.shape[1:], expected):
        if want is not None and got != want:
            raise ValueError(
                f"`image` does not match the model's input: expected (height, width, "
                f"channels) = {described}; received shape {np.shape(image)}."
            )
    if not np.all(np.isfinite(array)):
        raise ValueError("`image` contains NaN or infinite values.")
    return array.astype("float32")


def check_class_index(class_index, num_classes, predictions) -> int:
    """The class to explain: `class_index`, or the predicted class when None."""
    if class_index is None:
        return int(np.argmax(predictions))
    if (
        isinstance(class_index, bool)
        or not isinstance(class_index, numbers.Integral)
        or not 0 <= class_index < num_classes
    ):
        raise ValueError(
            f"`class_index` must be an integer in [0, {num_classes}) (the model has "
            f"{num_classes} outputs) or None; received class_index={class_index!r}."
        )
    return int(class_index)


def normalize_map(values: np.ndarray) -> np.ndarray:
    """Scale non-negative `values` to [0, 1] by their maximum (all zeros stay zero)."""
    values = np.asarray(values, dtype="float32")
    peak = float(values.max()) if values.size else 0.0
    if not np.isfinite(peak) or peak <= 0.0:
        return np.zeros_like(values)
    return np.clip(values / peak, 0.0, 1.0)


def resize_map(values: np.ndarray, size) -> np.ndarray:
    """Bilinear resize of a 2-D map to `size = (height, width)` (keras.ops.image)."""
    values = np.asarray(values, dtype="float32")
    if tuple(values.shape) == tuple(size):
        return values
    resized = keras.ops.image.resize(
        values[None, :, :, None], tuple(size), interpolation="bilinear"
    )
    return np.asarray(keras.ops.convert_to_numpy(resized))[0, :, :, 0]
