"""Transfer learning: pretrain on digits 0-4, reuse for 5-9 with 20 labels per class.

Shows the recipe of `kerasdl.models` (`load_backbone`, `build_transfer_model`,
`fit_transfer`, `backbone_blocks`, `unfreeze_top_blocks`) on scikit-learn's
1,797 real 8x8 digits:

1. pretrain a ResNet-18 (a quarter of its width, small-input stem) on the
   digits 0-4 and save it as `.keras`;
2. a new task with few labels: the digits 5-9, `--labels-per-class` labelled
   images each (100 in all); every other 5-9 image is the test set;
3. ways to learn it, each for `--epochs` epochs on the same 100 images:
   * scratch: the same ResNet-18, randomly initialised, every weight trained
     (Adam, `--learning-rate` 1e-3);
   * frozen_top: the pretrained backbone, frozen, cut at its last feature map
     (stage 4: 1x1 on an 8x8 digit), under a new head (global average
     pooling, dropout, Dense); only the head trains;
   * frozen_cut: the same, cut lower, after stage `--cut-stage` (2: 4x4 maps),
     with a flattened head (`pooling="flatten"` keeps where each feature is).
     The top layers are the most specific to the digits 0-4 (Yosinski et al.,
     2014); the middle ones transfer better to other digits;
   * fine_tuned: the cut model; the head for half the epochs, then the top
     `--fine-tune-blocks` blocks of the cut backbone too, at
     `--fine-tune-learning-rate` (1e-3, a tenth of the head's; batch norm
     stays in inference mode);
   and, for scale, the library's RBF SVM on the same 100 flattened images.
   The heads train at `--head-learning-rate` 1e-2: a linear layer on fixed
   features takes a larger step (at 1e-3 the top head's training loss is
   still about 1.0 after 30 epochs of 4 steps: an unfinished head);
4. the backbone's blocks (the units one unfreezes) and how many weights each
   phase trains;
5. optionally (`--application MobileNetV2 --weights imagenet`) the same recipe
   on a `keras.applications` backbone, for digits upsampled to 32x32 RGB.
   ImageNet weights are downloaded once by Keras; offline, `load_backbone`
   raises a ValueError saying where to put the file, which this script prints
   before going on with random weights (`weights=None`) - then the backbone
   has nothing to transfer, and the point is only the API.

One seed and short runs: the numbers move with the seed. The full protocol
(several label draws, both backends, longer training) is
`benchmarks/bench_transfer.py`.

Writes, under `--out`: `source_digits_0-4.keras` (the pretrained model),
`transfer.png` (test accuracy per method | training curves) and
`results.json`.

Run:

    python examples/transfer_learning.py
    KERAS_BACKEND=jax python examples/transfer_learning.py --epochs 60
    python examples/transfer_learning.py --application MobileNetV2 --weights imagenet
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
from sklearn.model_selection import train_test_split

from kerasdl import data, plotting
from kerasdl.baselines import make_classical
from kerasdl.models import (
    ResNet,
    backbone_blocks,
    build_transfer_model,
    get_backbone,
    load_backbone,
    unfreeze_top_blocks,
)
from kerasdl.recipes import fit_transfer
from kerasdl.training import set_seed

NAME = "transfer_learning"
CLASSES = 5  # digits 0-4 for pretraining, 5-9 (as 0-4) for the new task
# The keras.applications backbones this script can prepare images for: the
# module holding each one's `preprocess_input` (it expects RGB in [0, 255]).
APPLICATIONS = {
    "MobileNetV2": "mobilenet_v2",
    "ResNet50": "resnet50",
    "EfficientNetB0": "efficientnet",
    "VGG16": "vgg16",
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-per-class", type=int, default=20)
    parser.add_argument("--source-epochs", type=int, default=15)
    parser.add_argument(
        "--epochs",
        type=int,
        default=30,
        help="epochs of each method on the new task (fine-tuned: half head only)",
    )
    parser.add_argument(
        "--cut-stage",
        type=int,
        default=2,
        choices=[1, 2, 3, 4],
        help="cut the backbone after this stage for frozen_cut and fine_tuned",
    )
    parser.add_argument("--fine-tune-blocks", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--head-learning-rate", type=float, default=1e-2)
    parser.add_argument("--fine-tune-learning-rate", type=float, default=1e-3)
    parser.add_argument("--width-multiplier", type=float, default=0.25)
    parser.add_argument(
        "--stage-depth",
        type=int,
        default=2,
        help="residual blocks per stage: 2 is ResNet-18, 1 a quicker ResNet-10",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--source-limit",
        type=int,
        default=None,
        help="pretrain on only the first N images of digits 0-4 (for quick tests)",
    )
    parser.add_argument(
        "--application",
        default=None,
        choices=sorted(APPLICATIONS),
        help="also transfer from this keras.applications backbone (default: off)",
    )
    parser.add_argument(
        "--weights",
        default=None,
        help="its weights: 'imagenet' or the path of a weights file (default: None)",
    )
    parser.add_argument(
        "--application-epochs",
        type=int,
        default=10,
        help="epochs on that backbone, half head only (below 2: build and show only)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error(f"--epochs must be at least 2; received {args.epochs}.")
    if not 1 <= args.labels_per_class <= 150:
        parser.error(
            "--labels-per-class must be between 1 and 150 (each digit has about 180 "
            f"images); received {args.labels_per_class}."
        )
    return args


def resnet(args):
    """ResNet-18 (or -10) for 8x8 digits; `small_input="auto"` picks the small stem."""
    return ResNet(
        (8, 8, 1),
        CLASSES,
        stackwise_depth=(args.stage_depth,) * 4,
        width_multiplier=args.width_multiplier,
        zero_init_residual=True,
        name=f"resnet{2 + 8 * args.stage_depth}",
    )


def trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def accuracy(model, x, y) -> float:
    return float(np.mean(model.predict(x, verbose=0).argmax(-1) == y))


def few_labels(y, per_class, seed):
    """Indices of `per_class` random images of each class, and of all the others."""
    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [
            rng.choice(np.flatnonzero(y == c), per_class, replace=False)
            for c in range(CLASSES)
        ]
    )
    return rng.permutation(chosen), np.setdiff1d(np.arange(len(y)), chosen)


def pretrain(args, xs, ys, out):
    x_train, x_test, y_train, y_test = train_test_split(
        xs, ys, test_size=0.2, stratify=ys, random_state=0
    )
    if args.source_limit:
        x_train, y_train = x_train[: args.source_limit], y_train[: args.source_limit]
    set_seed(args.seed)
    start = time.perf_counter()
    model = resnet(args)
    model.compile(
        keras.optimizers.Adam(args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        epochs=args.source_epochs,
        batch_size=args.batch_size,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    source = {
        "model": model.name,
        "params": int(model.count_params()),
        "train_images": len(x_train),
        "test_images": len(x_test),
        "epochs": args.source_epochs,
        "test_accuracy": accuracy(model, x_test, y_test),
        "seconds": round(seconds, 1),
    }
    path = out / "source_digits_0-4.keras"
    model.save(path)
    print(
        f"1. Pretrained {model.name} ({source['params']:,} parameters) on digits 0-4:"
        f" {len(x_train)} images, {args.source_epochs} epochs, {seconds:.0f} s; "
        f"held-out accuracy {source['test_accuracy']:.4f}. Saved to {path}."
    )
    return path, source


def block_rows(model):
    """The backbone's blocks, bottom to top, with their weights."""
    return [
        {"block": name, "params": int(sum(layer.count_params() for layer in layers))}
        for name, layers in backbone_blocks(get_backbone(model))
    ]


def show_blocks(top_model, cut_model, fine_tune_blocks):
    """Print the blocks of both cuts, and what unfreezing the top ones trains."""
    rows = block_rows(top_model)
    print(f"3. The backbone's {len(rows)} blocks (what `fine_tune_blocks` counts):")
    print("   " + ", ".join(f"{r['block']} ({r['params']:,})" for r in rows))
    for label, model in (("top", top_model), ("cut", cut_model)):
        features = tuple(get_backbone(model).outputs[0].shape[1:])
        print(
            f"   {label}: features {features} -> head of {trainable(model):,} "
            f"weights, {len(block_rows(model))} backbone blocks"
        )
    frozen = trainable(cut_model)
    unfrozen = unfreeze_top_blocks(cut_model, fine_tune_blocks)
    print(
        f"   cut: unfreeze_top_blocks(model, {fine_tune_blocks}) -> {unfrozen}: "
        f"{frozen:,} -> {trainable(cut_model):,} trainable weights (batch-norm "
        "scales and offsets stay frozen)"
    )
    unfreeze_top_blocks(cut_model, 0)  # frozen again: fit_transfer starts there
    return rows


def transfer_model(source_file, args, cut):
    """A new head on a fresh copy of the pretrained backbone."""
    if not cut:
        return build_transfer_model(load_backbone(str(source_file)), CLASSES)
    return build_transfer_model(
        load_backbone(str(source_file)),
        CLASSES,
        layer_name=f"stage{args.cut_stage}_block{args.stage_depth}",
        pooling="flatten",
    )


def run_conditions(args, source_file, x_train, y_train, x_test, y_test):
    results, curves = {}, {}
    half = args.epochs // 2

    set_seed(args.seed)
    start = time.perf_counter()
    scratch = resnet(args)
    scratch.compile(
        keras.optimizers.Adam(args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = scratch.fit(
        x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0
    ).history
    curves["scratch"] = history["loss"]
    results["scratch"] = {
        "trainable_params": {"all": trainable(scratch)},
        "test_accuracy": accuracy(scratch, x_test, y_test),
        "seconds": round(time.perf_counter() - start, 1),
    }

    models = {}
    for name, cut in (("frozen_top", False), ("frozen_cut", True)):
        set_seed(args.seed)
        start = time.perf_counter()
        models[name] = model = transfer_model(source_file, args, cut)
        if name == "frozen_cut":
            blocks = show_blocks(models["frozen_top"], model, args.fine_tune_blocks)
        fit = fit_transfer(
            model,
            x_train,
            y_train,
            head_epochs=args.epochs,
            fine_tune_blocks=0,
            learning_rate=args.head_learning_rate,
            batch_size=args.batch_size,
            verbose=0,
        )
        curves[name] = fit["head"]["loss"]
        results[name] = {
            "trainable_params": fit["trainable_params"],
            "test_accuracy": accuracy(model, x_test, y_test),
            "seconds": round(time.perf_counter() - start, 1),
        }

    set_seed(args.seed)
    start = time.perf_counter()
    tuned = transfer_model(source_file, args, cut=True)
    fit = fit_transfer(
        tuned,
        x_train,
        y_train,
        head_epochs=half,
        fine_tune_blocks=args.fine_tune_blocks,
        fine_tune_epochs=args.epochs - half,
        learning_rate=args.head_learning_rate,
        fine_tune_learning_rate=args.fine_tune_learning_rate,
        batch_size=args.batch_size,
        verbose=0,
    )
    curves["fine_tuned"] = fit["head"]["loss"] + (fit["fine_tune"] or {}).get(
        "loss", []
    )
    results["fine_tuned"] = {
        "trainable_params": fit["trainable_params"],
        "unfrozen_blocks": fit["unfrozen_blocks"],
        "test_accuracy": accuracy(tuned, x_test, y_test),
        "seconds": round(time.perf_counter() - start, 1),
    }

    start = time.perf_counter()
    svm = make_classical("svm", random_state=args.seed)
    svm.fit(x_train.reshape(len(x_train), -1), y_train)
    predictions = svm.predict(x_test.reshape(len(x_test), -1))
    results["svm"] = {
        "trainable_params": {},
        "test_accuracy": float(np.mean(predictions == y_test)),
        "seconds": round(time.perf_counter() - start, 2),
    }
    return results, curves, blocks


def print_results(results, args):
    epochs, half = args.epochs, args.epochs // 2
    head = f"{epochs} epochs at {args.head_learning_rate:g}"
    cut = f"stage{args.cut_stage}_block{args.stage_depth}"
    what = {
        "scratch": f"all weights, {epochs} epochs at {args.learning_rate:g}",
        "frozen_top": f"head on the top features only, {head}",
        "frozen_cut": f"head on the features of {cut} only, {head}",
        "fine_tuned": f"that head {half} epochs at {args.head_learning_rate:g}, "
        f"then + top blocks {epochs - half} at {args.fine_tune_learning_rate:g}",
        "svm": "RBF SVM on the same images (scikit-learn)",
    }
    print("4. Test accuracy on the other digits 5-9, and what each method trains:")
    for name, row in results.items():
        params = ", ".join(f"{k} {v:,}" for k, v in row["trainable_params"].items())
        print(
            f"   {name:<11} {row['test_accuracy']:.4f}  {row['seconds']:>6.1f} s  "
            f"{what[name]}{'; trainable: ' + params if params else ''}"
        )
    unfrozen = results["fine_tuned"]["unfrozen_blocks"]
    print(f"   fine-tuned unfroze: {', '.join(unfrozen)}")
    top_gain = (
        results["frozen_cut"]["test_accuracy"]
        - (results["frozen_top"]["test_accuracy"])
    )
    gain = results["fine_tuned"]["test_accuracy"] - results["scratch"]["test_accuracy"]
    print(
        f"   frozen_cut - frozen_top = {top_gain:+.4f}: where to cut matters; "
        f"fine_tuned - scratch = {gain:+.4f}\n   (one label draw: see "
        "benchmarks/bench_transfer.py for several)"
    )


# === keras.applications ===


def to_rgb32(x):
    """8x8 grey digits in [0, 1] -> 32x32 RGB in [0, 255] (nearest upsampling)."""
    x = np.repeat(np.repeat(x, 4, axis=1), 4, axis=2)
    return np.repeat(x, 3, axis=-1) * 255.0


def application_transfer(args, x_train, y_train, x_test, y_test):
    name, shape = args.application, (32, 32, 3)
    print(f"5. keras.applications.{name} at 32x32x3, weights={args.weights!r}:")
    weights = args.weights
    start = time.perf_counter()
    try:
        backbone = load_backbone(name, input_shape=shape, weights=weights)
    except ValueError as error:
        print(f"   ValueError: {error}")
        print("   Going on with weights=None (random: there is nothing to transfer).")
        error_message, weights = str(error), None
        backbone = load_backbone(name, input_shape=shape, weights=None)
    else:
        error_message = None
    preprocess = getattr(keras.applications, APPLICATIONS[name]).preprocess_input
    x_train, x_test = preprocess(to_rgb32(x_train)), preprocess(to_rgb32(x_test))
    set_seed(args.seed)
    model = build_transfer_model(backbone, CLASSES)
    blocks = [block for block, _ in backbone_blocks(get_backbone(model))]
    print(
        f"   {backbone.count_params():,} parameters in {len(blocks)} blocks; the top "
        f"ones: {', '.join(blocks[-3:])}"
    )
    result = {
        "application": name,
        "weights": weights,
        "error": error_message,
        "blocks": len(blocks),
        "top_blocks": blocks[-3:],
        "test_accuracy": None,
    }
    if args.application_epochs >= 2:
        half = args.application_epochs // 2
        fit = fit_transfer(
            model,
            x_train,
            y_train,
            head_epochs=half,
            fine_tune_blocks=min(args.fine_tune_blocks, len(blocks)),
            fine_tune_epochs=args.application_epochs - half,
            learning_rate=args.head_learning_rate,
            fine_tune_learning_rate=args.fine_tune_learning_rate,
            batch_size=args.batch_size,
            verbose=0,
        )
        result["trainable_params"] = fit["trainable_params"]
        result["unfrozen_blocks"] = fit["unfrozen_blocks"]
        result["test_accuracy"] = accuracy(model, x_test, y_test)
        print(
            f"   head {half} + fine-tune {args.application_epochs - half} epochs: "
            f"test accuracy {result['test_accuracy']:.4f}; trainable "
            + ", ".join(f"{k} {v:,}" for k, v in fit["trainable_params"].items())
        )
    else:
        # No training: just what unfreezing would make trainable.
        unfrozen = unfreeze_top_blocks(model, min(args.fine_tune_blocks, len(blocks)))
        result["unfrozen_blocks"] = unfrozen
        result["trainable_params"] = {"fine_tune": trainable(model)}
        print(f"   unfreezing {unfrozen} makes {trainable(model):,} weights trainable")
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def plot(results, curves, args, path):
    epochs = args.epochs
    fig, (bars_ax, curves_ax) = plotting.plt.subplots(1, 2, figsize=(10, 3.8))
    names = list(results)
    accuracies = [results[n]["test_accuracy"] for n in names]
    palette = ["tab:gray", "tab:purple", "tab:blue", "tab:green", "tab:orange"]
    colors = dict(zip(names, palette))
    bars = bars_ax.bar(names, accuracies, color=[colors[n] for n in names])
    for bar, value in zip(bars, accuracies):
        bars_ax.annotate(
            f"{value:.2f}",
            (bar.get_x() + bar.get_width() / 2, value),
            ha="center",
            va="bottom",
        )
    bars_ax.set_ylim(0, 1.05)
    bars_ax.set_ylabel("test accuracy, digits 5-9")
    bars_ax.set_title(f"Digits 5-9, {args.labels_per_class} labels per class")
    bars_ax.tick_params(axis="x", labelsize="small")
    for name, losses in curves.items():
        epochs_axis = np.arange(1, len(losses) + 1)
        curves_ax.plot(epochs_axis, losses, label=name, color=colors[name])
    curves_ax.axvline(epochs // 2 + 0.5, color="k", lw=0.8, ls=":")
    curves_ax.annotate(
        " fine-tuning starts", (epochs // 2 + 0.5, curves_ax.get_ylim()[1] * 0.9)
    )
    curves_ax.set_xlabel("epoch")
    curves_ax.set_ylabel("training loss")
    curves_ax.set_title("Training curves")
    curves_ax.legend()
    fig.tight_layout()
    return plotting.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    digits = data.load_digits()
    source = digits.y < CLASSES
    xs, ys = digits.x[source], digits.y[source]
    xt, yt = digits.x[~source], digits.y[~source] - CLASSES  # 5-9 as 0-4
    source_file, source_result = pretrain(args, xs, ys, out)

    train_idx, test_idx = few_labels(yt, args.labels_per_class, args.seed)
    x_train, y_train = xt[train_idx], yt[train_idx]
    x_test, y_test = xt[test_idx], yt[test_idx]
    print(
        f"2. New task, digits 5-9: {len(x_train)} labelled images "
        f"({args.labels_per_class} per class); {len(x_test)} test images."
    )
    results, curves, blocks = run_conditions(
        args, source_file, x_train, y_train, x_test, y_test
    )
    print_results(results, args)
    application = None
    if args.application:
        application = application_transfer(args, x_train, y_train, x_test, y_test)

    summary = {
        "backend": keras.backend.backend(),
        "seed": args.seed,
        "source": source_result,
        "target": {
            "labels_per_class": args.labels_per_class,
            "train_images": len(x_train),
            "test_images": len(x_test),
            "epochs": args.epochs,
        },
        "blocks": blocks,
        "results": results,
        "curves": {k: [float(v) for v in losses] for k, losses in curves.items()},
        "application": application,
    }
    png = plot(results, curves, args, out / "transfer.png")
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    print(f"Wrote {png}, {source_file} and {out / 'results.json'}")
    return summary


if __name__ == "__main__":
    main()
