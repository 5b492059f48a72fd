"""`kerasdl explain gradcam|saliency`: a Grad-CAM or saliency heatmap of a saved image
classifier for one image file. The model and image are read by
`kerasdl.explain.image_file`; the heatmaps come from `kerasdl.explain`; this module
writes heatmap.png, overlay.png, heatmap.npy and explanation.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from kerasdl.cli.common import CLIError

NAME = "explain"

# What kerasdl.explain.image_file.read_image_for_model does, for --help.
PREPROCESSING = (
    "An image file is read with OpenCV, made grayscale when the model takes one "
    "channel (RGB when three), resized (pixel-area interpolation) to the model's "
    "input size and scaled to [0, 1] (divided by 255), the range the embedded "
    "datasets are in (the digits are grey levels 0..16 divided by 16, light "
    "strokes on a dark background; use --invert for dark ink on white paper). A "
    "uint8 .npy array is treated like an image file; a float .npy array is taken "
    "as already scaled (e.g. load_digits().x[i]), of shape (h, w), (h, w, c) or "
    "flat (h * w * c,), and resized if its size differs. The model must take that "
    "input: flat-input models saved by `kerasdl train` (Input -> Reshape -> "
    "convnet) are explained through their Reshape's image shape."
)


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="Grad-CAM or saliency heatmap of an image classifier for one image",
        description="Explain one prediction of an image classifier (a model.keras "
        "written by `kerasdl train cnn`, or any Keras image classifier): write "
        "DIR/heatmap.png (image | heatmap | overlay), DIR/overlay.png (the overlay "
        "at the image's own size), DIR/heatmap.npy and DIR/explanation.json.",
    )
    explain = p.add_subparsers(dest="explain_method", metavar="METHOD")
    explain.required = True
    for method, text in (
        ("gradcam", "Grad-CAM: where the last convolutional features decide"),
        ("saliency", "gradient saliency (optionally SmoothGrad)"),
    ):
        q = explain.add_parser(
            method,
            help=text,
            description=f"{text}. " + PREPROCESSING,
        )
        q.add_argument(
            "--model",
            type=Path,
            required=True,
            help="the model.keras file (or the run folder holding it)",
        )
        q.add_argument(
            "--image",
            type=Path,
            required=True,
            help="a PNG/JPEG/BMP/TIFF image, or a .npy array (already scaled "
            "when float)",
        )
        q.add_argument(
            "--class-index",
            type=int,
            default=None,
            help="the class to explain (default: the predicted class)",
        )
        if method == "gradcam":
            q.add_argument(
                "--layer",
                default=None,
                help="the layer with a 4-D output to take Grad-CAM at (default: "
                "the last convolution's activation)",
            )
        else:
            q.add_argument(
                "--smoothgrad",
                type=int,
                default=0,
                metavar="N",
                help="average the gradient over N noisy copies (SmoothGrad; 0: off)",
            )
            q.add_argument(
                "--noise",
                type=float,
                default=0.1,
                help="SmoothGrad noise std, a fraction of the value range (0.1)",
            )
            q.add_argument("--seed", type=int, default=0, help="SmoothGrad seed (0)")
        q.add_argument(
            "--invert",
            action="store_true",
            help="use 1 - pixel (dark strokes on a light background, for a model "
            "trained on light strokes on dark, as the digits are)",
        )
        q.add_argument(
            "--out", type=Path, default=None, help="default runs/explain/<image stem>"
        )
    return p


def run(args) -> int:
    import numpy as np
    from keras import ops

    from kerasdl._figures import plt
    from kerasdl.explain import (
        default_target_layer,
        grad_cam,
        overlay_heatmap,
        saliency,
        save_explanation,
    )
    from kerasdl.explain.image_file import (
        class_names_beside,
        load_image_classifier,
        read_image_for_model,
    )

    method = args.explain_method
    model, view, shape, model_path = load_image_classifier(args.model, name="--model")
    image, full_image, preprocessing = read_image_for_model(
        args.image, shape, invert=args.invert, name="--image"
    )
    image_shape = full_image.shape
    outputs = np.asarray(ops.convert_to_numpy(view(image[None], training=False)))
    if outputs.ndim != 2:
        raise CLIError(
            f"--model {str(model_path)!r} returns shape {outputs.shape}; explain "
            "needs a classifier returning (batch, num_classes)."
        )
    outputs = outputs[0].astype("float64")
    num_classes = len(outputs)
    predicted = int(np.argmax(outputs))
    class_index = predicted if args.class_index is None else args.class_index
    if not 0 <= class_index < num_classes:
        raise CLIError(
            f"--class-index {args.class_index} is out of range: the model has "
            f"{num_classes} classes (0..{num_classes - 1})."
        )
    try:
        if method == "gradcam":
            layer = args.layer or default_target_layer(view)
            heatmap = grad_cam(view, image, class_index=class_index, layer_name=layer)
        else:
            if args.smoothgrad < 0:
                raise CLIError(
                    f"--smoothgrad must be >= 0; received {args.smoothgrad}."
                )
            if not args.noise >= 0:
                raise CLIError(f"--noise must be >= 0; received {args.noise}.")
            layer = None
            heatmap = saliency(
                view,
                image,
                class_index=class_index,
                smooth_samples=args.smoothgrad,
                noise=args.noise,
                seed=args.seed,
            )
    except ValueError as error:
        where = (
            f"--layer {args.layer!r}"
            if method == "gradcam" and args.layer
            else f"--model {str(model_path)!r}"
        )
        raise CLIError(f"{where}: {error}") from error

    out = args.out or Path("runs") / "explain" / args.image.stem
    out.mkdir(parents=True, exist_ok=True)
    names = class_names_beside(model_path)
    if names is not None and len(names) != num_classes:
        names = None

    def label(k):
        return f"{k} ({names[k]})" if names and names[k] != str(k) else str(k)

    probabilities = bool(
        np.all(outputs >= 0) and np.all(outputs <= 1) and abs(outputs.sum() - 1) < 1e-3
    )
    score = "p" if probabilities else "score"
    title = (
        f"{method}: class {label(class_index)} ({score} {outputs[class_index]:.3f})"
        f"; predicted {label(predicted)}" + (f"; layer {layer}" if layer else "")
    )
    save_explanation(image, heatmap, out / "heatmap.png", title=title)
    overlay = overlay_heatmap(full_image, heatmap)  # heatmap resized to the image
    plt.imsave(out / "overlay.png", np.clip(overlay, 0.0, 1.0))
    np.save(out / "heatmap.npy", heatmap)
    peak = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    scale = (image_shape[0] / heatmap.shape[0], image_shape[1] / heatmap.shape[1])
    peak_in_image = [
        min(int((p + 0.5) * f), n - 1)
        for p, f, n in zip(peak, scale, image_shape[:2], strict=True)
    ]
    record = {
        "method": method,
        "model": str(model_path),
        "image": str(args.image),
        "predicted_class": predicted,
        "predicted_probability": float(outputs[predicted]),
        "class_explained": class_index,
        "class_explained_probability": float(outputs[class_index]),
        "outputs_are_probabilities": probabilities,
        "class_names": names,
        "layer": layer,
        "smoothgrad_samples": None if method == "gradcam" else args.smoothgrad,
        "model_input_shape": [int(d) for d in image.shape],
        "image_shape": [int(d) for d in image_shape],
        "heatmap_shape": [int(d) for d in heatmap.shape],
        "heatmap_argmax": [int(p) for p in peak],
        "heatmap_argmax_in_image": peak_in_image,
        "heatmap_max": float(heatmap.max()),
        "preprocessing": preprocessing,
        "files": {
            "heatmap.png": "image | heatmap | overlay at the model's input size",
            "overlay.png": "the overlay at the image's own size",
            "heatmap.npy": "the heatmap, float32 in [0, 1], at the model's input size",
        },
    }
    (out / "explanation.json").write_text(json.dumps(record, indent=2))
    print(
        f"{method}: predicted class {label(predicted)} ({score} "
        f"{outputs[predicted]:.3f}), explained class {label(class_index)}"
        + (f" at layer {layer}" if layer else "")
        + f"; heatmap peak at row {peak[0]}, col {peak[1]} of "
        f"{heatmap.shape[0]}x{heatmap.shape[1]}; wrote {out}/heatmap.png, "
        "overlay.png, heatmap.npy, explanation.json"
    )
    return 0
