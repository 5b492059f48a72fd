"""Classic CNN families, from LeNet-5 to EfficientNet.

Shows, with the builders of `kerasdl.models` (`LeNet5`, `AlexNet`, `VGG11`,
`VGG16`, `VGG19`, `GoogLeNet`, `ResNet18`, `ResNet34`, `ResNet50`,
`EfficientNetB0` ... `EfficientNetB3`):

(a) the published architectures: parameter counts of the 13 models at their
    ImageNet input (224x224x3, 1000 classes; EfficientNet-B1..B3 at their own
    240/260/300) next to the published figures, and at a CIFAR-sized 32x32x3
    with 10 classes. The models are built shape-only, inside
    `keras.StatelessScope(initialize_variables=False)`: every layer and weight
    shape is real but the 143M weights of VGG-19 are never allocated, so the
    table takes seconds instead of minutes. A flatten head (LeNet, AlexNet, VGG)
    grows with the image; a global-average-pooled one (GoogLeNet, ResNet,
    EfficientNet) does not;
(b) how the same builders adapt to 8x8 digits (`small_input="auto"`): the
    feature-map size after each stage of ResNet-18 at 8x8 and at 224x224;
(c) the clear error an image too small for a layout raises (a ValueError
    naming the minimum size), caught and printed;
(d) a brief training of `--models` on scikit-learn's 1,797 real 8x8 digits
    (stratified train/validation/test split, the best validation epoch kept),
    with the small-image settings `kerasdl compare --deep` uses, reporting test
    accuracy, parameters and seconds.

Writes, under `--out`: `results.json` (all of the above) and `convnets.png`
(parameters at 224 on a log scale | test accuracy on the digits). The longer
comparison on k folds is `kerasdl compare --deep resnet18 ...`.

Run:

    python examples/convnets.py
    KERAS_BACKEND=jax python examples/convnets.py --models lenet5,vgg11,resnet18
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import time
from pathlib import Path

import keras
import numpy as np

from kerasdl import data, models, plotting
from kerasdl.training import set_seed

NAME = "convnets"

# name -> (builder in kerasdl.models, published parameter count, its source).
# LeNet-5's figure is at its own 32x32x1 input with 10 classes.
PUBLISHED = {
    "lenet5": ("LeNet5", 61_706, "LeCun et al. 1998, 32x32x1, 10 classes"),
    "alexnet": ("AlexNet", 61_100_840, "torchvision (one tower)"),
    "vgg11": ("VGG11", 132_863_336, "torchvision"),
    "vgg16": ("VGG16", 138_357_544, "torchvision"),
    "vgg19": ("VGG19", 143_667_240, "torchvision"),
    # The paper's Table 1 sums to 6,797.7K with K = 1024 (the "6.8M" quoted).
    "googlenet": ("GoogLeNet", round(6_797.7 * 1024), "Szegedy et al., Table 1"),
    "resnet18": ("ResNet18", 11_689_512, "torchvision"),
    "resnet34": ("ResNet34", 21_797_672, "torchvision"),
    "resnet50": ("ResNet50", 25_557_032, "torchvision (v1.5)"),
    "efficientnet_b0": ("EfficientNetB0", 5_288_548, "keras.applications"),
    "efficientnet_b1": ("EfficientNetB1", 7_794_184, "keras.applications"),
    "efficientnet_b2": ("EfficientNetB2", 9_109_994, "keras.applications"),
    "efficientnet_b3": ("EfficientNetB3", 12_233_232, "keras.applications"),
}

# Settings for the 8x8 digits: the ones `kerasdl compare --deep NAME` uses (the
# model registry, `kerasdl compare --list`): narrower models, batch-normalised
# dense heads, a learning rate per family.
_SMALL_HEAD = {"dense_units": (256,), "dropout": 0.3, "batch_norm": True}
DIGIT_SETTINGS = {
    "lenet5": (2e-3, {"activation": "relu", "subsampling": "max"}),
    "alexnet": (1e-3, {"width_multiplier": 0.5, **_SMALL_HEAD}),
    "googlenet": (2e-3, {"width_multiplier": 0.25}),
    **{
        f"vgg{d}": (1e-3, {"width_multiplier": 0.25, **_SMALL_HEAD})
        for d in (11, 16, 19)
    },
    **{
        f"resnet{d}": (1e-3, {"width_multiplier": 0.5, "zero_init_residual": True})
        for d in (18, 34, 50)
    },
    **{f"efficientnet_b{b}": (2e-3, {}) for b in range(4)},
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        default="lenet5,resnet18",
        help=f"models to train on the digits, comma-separated, from: "
        f"{', '.join(PUBLISHED)} (default: lenet5,resnet18)",
    )
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--train-limit",
        type=int,
        default=None,
        help="use only the first N training images (for quick tests)",
    )
    parser.add_argument(
        "--table-models",
        default="all",
        help="models of the parameter table (a), comma-separated, 'all' or 'none'",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    args = parser.parse_args(argv)
    args.models = _model_list(parser, "--models", args.models)
    if args.table_models == "all":
        args.table_models = list(PUBLISHED)
    elif args.table_models == "none":
        args.table_models = []
    else:
        args.table_models = _model_list(parser, "--table-models", args.table_models)
    return args


def _model_list(parser, option, text):
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in PUBLISHED]
    if unknown or not names:
        parser.error(
            f"{option} must name models from {', '.join(PUBLISHED)}; received {text!r}."
        )
    return names


@contextlib.contextmanager
def shapes_only():
    """Build models with their real weight shapes, but allocate no weights."""
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        keras.backend.clear_session()


def trainable_params(model) -> int:
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))


def builder(name):
    return getattr(models, PUBLISHED[name][0])


# === (a) parameter counts ===


def parameter_table(names):
    rows = []
    print("(a) Trainable parameters: published architectures, and at 32x32x3")
    print(
        f"    {'model':<16} {'input':>11} {'ours':>13} {'published':>13} "
        f"{'diff':>7}   {'32x32x3, 10':>12}"
    )
    for name in names:
        _, published, source = PUBLISHED[name]
        with shapes_only():
            if name == "lenet5":
                model = builder(name)((32, 32, 1), 10)
            else:
                model = builder(name)()  # its ImageNet default, 1000 classes
            shape = tuple(model.inputs[0].shape[1:])
            ours = trainable_params(model)
        with shapes_only():
            cifar = trainable_params(builder(name)((32, 32, 3), 10))
        diff = ours / published - 1
        rows.append(
            {
                "model": name,
                "input_shape": list(shape),
                "params": ours,
                "published": published,
                "published_source": source,
                "relative_difference": round(diff, 5),
                "params_32x32x3_10_classes": cifar,
            }
        )
        size = "x".join(str(d) for d in shape)
        print(
            f"    {name:<16} {size:>11} {ours:>13,} {published:>13,} {diff:>+7.2%}"
            f"   {cifar:>12,}"
        )
    print(
        "    GoogLeNet: the paper's Table 1 is rounded to K and leaves out the "
        "biases (ours has\n    batch norm); the others are the reference "
        "architectures exactly. At 32x32 the flatten\n    heads shrink (VGG-16: "
        "7x7x512 -> 1x1x512 into the first Dense layer); the pooled heads\n    "
        "only lose most of their 1000-class layer."
    )
    return rows


# === (b) small-input layout ===


def stage_sizes(model):
    """Feature-map `(height, width, channels)` after the stem and each stage."""
    sizes = {}
    for layer in model.layers:
        if layer.name.startswith(("stem_", "stage")):
            stage = layer.name.split("_")[0]  # "stem" or "stageK"
            sizes[stage] = list(layer.output.shape[1:])  # the stage's last output
    return sizes


def small_input_demo():
    print("\n(b) small_input='auto': ResNet-18's feature maps after each stage")
    with shapes_only():
        digit = models.ResNet18((8, 8, 1), 10)
        digit_sizes, digit_small = stage_sizes(digit), digit.small_input_layout
    with shapes_only():
        imagenet = models.ResNet18((224, 224, 3), 1000)
        imagenet_sizes, imagenet_small = (
            stage_sizes(imagenet),
            imagenet.small_input_layout,
        )
    print(f"    {'stage':<8} {'8x8x1 digits':>16} {'224x224x3 ImageNet':>20}")
    for stage in imagenet_sizes:
        cells = [
            "x".join(str(d) for d in sizes[stage])
            for sizes in (digit_sizes, imagenet_sizes)
        ]
        print(f"    {stage:<8} {cells[0]:>16} {cells[1]:>20}")
    print(
        "    8x8: a 3x3 stride-1 stem, no max-pool, and stride 2 only while the "
        "map is >= 2x2;\n    224: the 7x7 stride-2 stem and max-pool, then "
        "strides 1, 2, 2, 2 (224 / 32 = 7)."
    )
    return {
        "resnet18_8x8x1": {"small_input_layout": digit_small, "stages": digit_sizes},
        "resnet18_224x224x3": {
            "small_input_layout": imagenet_small,
            "stages": imagenet_sizes,
        },
    }


# === (c) the error for an image too small ===


def too_small_demo():
    print("\n(c) An image too small for the layout is a clear ValueError:")
    attempts = (
        ("ResNet18", (16, 16, 3), {"small_input": False}),
        ("LeNet5", (4, 4, 1), {}),
    )
    messages = []
    for name, shape, kwargs in attempts:
        call = f"{name}({shape}, 10{''.join(f', {k}={v}' for k, v in kwargs.items())})"
        try:
            with shapes_only():
                getattr(models, name)(shape, 10, **kwargs)
        except ValueError as error:
            print(f"    {call}\n      -> ValueError: {error}")
            messages.append({"call": call, "message": str(error)})
        else:  # pragma: no cover - the library promises the error
            raise AssertionError(f"{call} did not raise")
    return messages


# === (d) training on the digits ===


def train_on_digits(args):
    digits = data.load_digits()
    parts = data.train_val_test_split(digits.x, digits.y, seed=args.seed)
    x_train, y_train = parts.x_train, parts.y_train
    if args.train_limit:
        x_train, y_train = x_train[: args.train_limit], y_train[: args.train_limit]
    print(
        f"\n(d) Training on the 8x8 digits: {len(x_train)} train / {len(parts.x_val)}"
        f" validation / {len(parts.x_test)} test images, {args.epochs} epochs"
    )
    print(f"    {'model':<16} {'params':>10} {'val acc':>8} {'test acc':>9} {'s':>6}")
    rows = {}
    for name in args.models:
        learning_rate, kwargs = DIGIT_SETTINGS[name]
        set_seed(args.seed)
        start = time.perf_counter()
        model = builder(name)(digits.x.shape[1:], 10, **kwargs)
        steps = args.epochs * -(-len(x_train) // args.batch_size)
        model.compile(
            optimizer=keras.optimizers.Adam(
                keras.optimizers.schedules.CosineDecay(learning_rate, steps)
            ),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        best = keras.callbacks.EarlyStopping(
            monitor="val_accuracy",
            mode="max",
            patience=args.epochs,
            restore_best_weights=True,
        )
        history = model.fit(
            x_train,
            y_train,
            validation_data=(parts.x_val, parts.y_val),
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=[best],
            verbose=0,
        ).history
        predictions = model.predict(parts.x_test, verbose=0).argmax(-1)
        seconds = time.perf_counter() - start
        rows[name] = {
            "params": int(model.count_params()),
            "small_input_layout": bool(model.small_input_layout),
            "builder_kwargs": {
                k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()
            },
            "learning_rate": learning_rate,
            "best_epoch": best.best_epoch + 1,
            "val_accuracy": float(max(history["val_accuracy"])),
            "test_accuracy": float(np.mean(predictions == parts.y_test)),
            "seconds": round(seconds, 1),
        }
        row = rows[name]
        print(
            f"    {name:<16} {row['params']:>10,} {row['val_accuracy']:>8.4f} "
            f"{row['test_accuracy']:>9.4f} {seconds:>6.1f}",
            flush=True,
        )
    print(
        "    (seconds include building and compiling the model; digits are much "
        "easier than MNIST)"
    )
    sizes = {"train": len(x_train), "val": len(parts.x_val), "test": len(parts.x_test)}
    return {"epochs": args.epochs, "sizes": sizes, "models": rows}


def plot(table, training, path):
    panels = 2 if table else 1
    fig, axes = plotting.plt.subplots(1, panels, figsize=(5.5 * panels, 4))
    axes = np.atleast_1d(axes)
    if table:
        ax = axes[0]
        names = [row["model"] for row in table if row["model"] != "lenet5"]
        counts = [row["params"] for row in table if row["model"] != "lenet5"]
        ax.barh(names, counts, color="tab:blue")
        ax.set_xscale("log")
        ax.set_xlim(1e6, 4e8)
        for y, count in enumerate(counts):
            ax.annotate(f" {count / 1e6:.1f}M", (count, y), va="center")
        ax.invert_yaxis()
        ax.set_xlabel("trainable parameters (ImageNet input, 1000 classes)")
        ax.set_title("Model size")
    ax = axes[-1]
    names = list(training["models"])
    accuracies = [training["models"][n]["test_accuracy"] for n in names]
    bars = ax.bar(names, accuracies, color="tab:green")
    for bar, name in zip(bars, names):
        ax.annotate(
            f"{bar.get_height():.3f}, {training['models'][name]['seconds']:.0f} s",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize="small",
        )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("test accuracy")
    ax.set_title(f"8x8 digits, {training['epochs']} epochs")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return plotting.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    table = parameter_table(args.table_models) if args.table_models else []
    table_seconds = time.perf_counter() - start
    if table:
        print(
            f"    (built {2 * len(table)} models shape-only in {table_seconds:.1f} s)"
        )
    layouts = small_input_demo()
    errors = too_small_demo()
    training = train_on_digits(args)

    results = {
        "backend": keras.backend.backend(),
        "parameter_table": table,
        "parameter_table_seconds": round(table_seconds, 1),
        "small_input": layouts,
        "too_small_errors": errors,
        "digits": training,
    }
    png = plot(table, training, out / "convnets.png")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"Wrote {png} and {out / 'results.json'}")
    return results


if __name__ == "__main__":
    main()
