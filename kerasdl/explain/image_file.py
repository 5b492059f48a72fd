"""Explaining a saved classifier on an image file: load both as the model sees them.

`load_image_classifier` loads a `.keras` file (or the run folder holding
model.keras) and checks that it is an image classifier, through its image-input view
(`image_input_model`). `read_image_for_model` decodes an image file or a `.npy`
array into the `(height, width, channels)` floats that model takes.
`class_names_beside` reads the class names `kerasdl train` writes
beside its model. `explain_image_file` runs Grad-CAM or saliency on them and writes
the heatmap files and their record; `format_explanation` says it in one line.
`kerasdl explain` is these two calls.

Every mistake raises a one-line `ValueError` that names the argument as the caller
calls it (`name`, or `argument_names` for a command-line flag).
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
from kerasdl._figures import plt
from kerasdl.data import opencv
from kerasdl.explain.gradcam import default_target_layer, grad_cam
from kerasdl.explain.image_input import image_input_model
from kerasdl.explain.plots import overlay_heatmap, save_explanation
from kerasdl.explain.saliency import saliency

__all__ = [
    "class_names_beside",
    "explain_image_file",
    "format_explanation",
    "load_image_classifier",
    "read_image_for_model",
]

_FILES = {
    "heatmap.png": "image | heatmap | overlay at the model's input size",
    "overlay.png": "the overlay at the image's own size",
    "heatmap.npy": "the heatmap, float32 in [0, 1], at the model's input size",
}


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


def _label(record: dict, k: int) -> str:
    names = record["class_names"]
    return f"{k} ({names[k]})" if names and names[k] != str(k) else str(k)


def _heatmap(view, image, method, class_index, layer, smooth_samples, noise, seed):
    """`(heatmap, layer)` of `method` for `class_index`."""
    if method == "gradcam":
        layer = layer or default_target_layer(view)
        return grad_cam(view, image, class_index=class_index, layer_name=layer), layer
    heatmap = saliency(
        view,
        image,
        class_index=class_index,
        smooth_samples=smooth_samples,
        noise=noise,
        seed=seed,
    )
    return heatmap, None


def explain_image_file(
    model_path,
    image_path,
    out_dir,
    *,
    method: str = "gradcam",
    class_index: int | None = None,
    layer: str | None = None,
    smooth_samples: int = 0,
    noise: float = 0.1,
    seed: int = 0,
    invert: bool = False,
    argument_names: dict | None = None,
) -> dict:
    """Explain one prediction of a saved image classifier on an image file.

    Writes `out_dir/heatmap.png` (image | heatmap | overlay), `overlay.png` (the
    overlay at the image's own size), `heatmap.npy` and `explanation.json`.

    Args:
        model_path: A `.keras` file or a run folder (`load_image_classifier`).
        image_path: An image file or `.npy` array (`read_image_for_model`).
        out_dir: The folder to write to (created).
        method: `"gradcam"` or `"saliency"`.
        class_index: The class to explain (default: the predicted class).
        layer: Grad-CAM's layer (default: the last convolution's activation).
        smooth_samples: Saliency: SmoothGrad's noisy copies (0: plain gradient).
        noise: Saliency: SmoothGrad's noise std, a fraction of the value range.
        seed: Saliency: SmoothGrad's seed.
        invert: Use `1 - value` for the image (`read_image_for_model`).
        argument_names: What to call the arguments in error messages, e.g.
            `{"model_path": "--model", "class_index": "--class-index"}`.

    Returns:
        The record written to `explanation.json`: the predicted and explained
        classes and their outputs, the class names found beside the model, the
        layer, the shapes, the heatmap's peak (also in image coordinates) and how
        the image was prepared.
    """
    arg = {
        a: a
        for a in ("model_path", "image_path", "class_index", "layer")
        + ("smooth_samples", "noise")
    }
    arg.update(argument_names or {})
    if method not in ("gradcam", "saliency"):
        raise ValueError(
            f"Expected `method` 'gradcam' or 'saliency'; received {method!r}."
        )
    if method == "saliency":
        if smooth_samples < 0:
            raise ValueError(
                f"{arg['smooth_samples']} must be >= 0; received {smooth_samples}."
            )
        if not noise >= 0:
            raise ValueError(f"{arg['noise']} must be >= 0; received {noise}.")
    model, view, shape, model_path = load_image_classifier(
        model_path, name=arg["model_path"]
    )
    image, full_image, preprocessing = read_image_for_model(
        image_path, shape, invert=invert, name=arg["image_path"]
    )
    where = f"{arg['model_path']} {str(model_path)!r}"
    outputs = np.asarray(keras.ops.convert_to_numpy(view(image[None], training=False)))
    if outputs.ndim != 2:
        raise ValueError(
            f"{where} returns shape {outputs.shape}; explain needs a classifier "
            "returning (batch, num_classes)."
        )
    outputs = outputs[0].astype("float64")
    num_classes = len(outputs)
    predicted = int(np.argmax(outputs))
    explained = predicted if class_index is None else class_index
    if not 0 <= explained < num_classes:
        raise ValueError(
            f"{arg['class_index']} {class_index} is out of range: the model has "
            f"{num_classes} classes (0..{num_classes - 1})."
        )
    try:
        heatmap, layer_used = _heatmap(
            view, image, method, explained, layer, smooth_samples, noise, seed
        )
    except ValueError as error:
        if method == "gradcam" and layer:
            where = f"{arg['layer']} {layer!r}"
        raise ValueError(f"{where}: {error}") from error

    names = class_names_beside(model_path)
    if names is not None and len(names) != num_classes:
        names = None
    probabilities = bool(
        np.all(outputs >= 0) and np.all(outputs <= 1) and abs(outputs.sum() - 1) < 1e-3
    )
    image_shape = full_image.shape
    peak = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    scale = (image_shape[0] / heatmap.shape[0], image_shape[1] / heatmap.shape[1])
    record = {
        "method": method,
        "model": str(model_path),
        "image": str(image_path),
        "predicted_class": predicted,
        "predicted_probability": float(outputs[predicted]),
        "class_explained": explained,
        "class_explained_probability": float(outputs[explained]),
        "outputs_are_probabilities": probabilities,
        "class_names": names,
        "layer": layer_used,
        "smoothgrad_samples": None if method == "gradcam" else smooth_samples,
        "model_input_shape": [int(d) for d in image.shape],
        "image_shape": [int(d) for d in image_shape],
        "heatmap_shape": [int(d) for d in heatmap.shape],
        "heatmap_argmax": [int(p) for p in peak],
        "heatmap_argmax_in_image": [
            min(int((p + 0.5) * f), n - 1)
            for p, f, n in zip(peak, scale, image_shape[:2], strict=True)
        ],
        "heatmap_max": float(heatmap.max()),
        "preprocessing": preprocessing,
        "files": dict(_FILES),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    score = "p" if probabilities else "score"
    title = (
        f"{method}: class {_label(record, explained)} ({score} "
        f"{outputs[explained]:.3f}); predicted {_label(record, predicted)}"
        + (f"; layer {layer_used}" if layer_used else "")
    )
    save_explanation(image, heatmap, out / "heatmap.png", title=title)
    overlay = overlay_heatmap(full_image, heatmap)  # heatmap resized to the image
    plt.imsave(out / "overlay.png", np.clip(overlay, 0.0, 1.0))
    np.save(out / "heatmap.npy", heatmap)
    (out / "explanation.json").write_text(json.dumps(record, indent=2))
    return record


def format_explanation(record: dict, out_dir) -> str:
    """One line saying what `explain_image_file` found and wrote to `out_dir`."""
    score = "p" if record["outputs_are_probabilities"] else "score"
    layer = record["layer"]
    peak, shape = record["heatmap_argmax"], record["heatmap_shape"]
    return (
        f"{record['method']}: predicted class "
        f"{_label(record, record['predicted_class'])} ({score} "
        f"{record['predicted_probability']:.3f}), explained class "
        f"{_label(record, record['class_explained'])}"
        + (f" at layer {layer}" if layer else "")
        + f"; heatmap peak at row {peak[0]}, col {peak[1]} of "
        f"{shape[0]}x{shape[1]}; wrote {out_dir}/heatmap.png, "
        "overlay.png, heatmap.npy, explanation.json"
    )
