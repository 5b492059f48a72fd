"""`kerasdl explain gradcam|saliency`: a Grad-CAM or saliency heatmap of a saved image
classifier for one image file (`kerasdl.explain.image_file.explain_image_file`, which
writes heatmap.png, overlay.png, heatmap.npy and explanation.json)."""

from __future__ import annotations

from pathlib import Path

NAME = "explain"

#: explain_image_file's arguments as this command's flags (for its error messages).
ARGUMENT_NAMES = {
    "model_path": "--model",
    "image_path": "--image",
    "class_index": "--class-index",
    "layer": "--layer",
    "smooth_samples": "--smoothgrad",
    "noise": "--noise",
}

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
    from kerasdl.explain.image_file import explain_image_file, format_explanation

    method = args.explain_method
    out = args.out or Path("runs") / "explain" / args.image.stem
    record = explain_image_file(
        args.model,
        args.image,
        out,
        method=method,
        class_index=args.class_index,
        layer=getattr(args, "layer", None),
        smooth_samples=getattr(args, "smoothgrad", 0),
        noise=getattr(args, "noise", 0.1),
        seed=getattr(args, "seed", 0),
        invert=args.invert,
        argument_names=ARGUMENT_NAMES,
    )
    print(format_explanation(record, out))
    return 0
