"""A Vision Transformer on the real 8x8 digits: patches as tokens, a [CLS] token.

Shows:

- `ViTClassifier`: each 8x8 digit is cut into patches (`--patch-size`), each
  patch projected to a token; a learned class token and position embeddings are
  added, pre-norm Transformer encoder blocks mix the tokens, and the class
  token's final state is classified;
- why a ViT needs help on a small dataset: it has no built-in notion of
  locality, so it trains with random shifts of +-1 pixel (`augment_shift`,
  active only in training);
- honest evaluation: a stratified train/validation/test split, the weights of
  the best validation epoch kept, the test part scored once;
- where the class token looks: its attention over the patches in the last
  block, drawn next to the digit.

Writes, under `--out`: `training_curves.png` (+ `history.json`),
`cls_attention.png` (+ `cls_attention.json`), `vit_digits.keras` and
`results.json`. The full benchmark (several seeds, both backends) is
`benchmarks/bench_vit.py`.

Run:

    python examples/vit_digits.py
    KERAS_BACKEND=jax python examples/vit_digits.py --epochs 30
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np

from kerasdl import backend, data, plotting
from kerasdl.models.transformers import ViTClassifier

NAME = "vit_digits"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--patch-size", type=int, default=4, choices=[1, 2, 4, 8])
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--augment-shift", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--train-limit",
        type=int,
        default=None,
        help="use only the first N training images (for quick tests)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def plot_curves(history, path):
    fig, axes = plotting.plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, key in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, history[key], label="train (augmented)")
        ax.plot(epochs, history[f"val_{key}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
    axes[0].set_title("ViT on 8x8 digits: loss")
    axes[1].set_title("accuracy")
    fig.tight_layout()
    return plotting.save_figure(fig, path)


def plot_cls_attention(model, images, labels, predictions, path):
    """The class token's last-block attention over the patches, mean over heads."""
    scores = keras.ops.convert_to_numpy(model.attention_scores(images))
    grid = (model.image_shape[0] // model.patch_size, -1)
    maps = scores[:, :, 0, 1:].mean(axis=1).reshape(len(images), *grid)
    fig, axes = plotting.plt.subplots(2, len(images), figsize=(1.6 * len(images), 3.4))
    axes = np.asarray(axes).reshape(2, len(images))
    for k in range(len(images)):
        axes[0, k].imshow(images[k, :, :, 0], cmap="gray_r")
        axes[0, k].set_title(f"{labels[k]} -> {predictions[k]}", fontsize="small")
        axes[1, k].imshow(maps[k], cmap="viridis")
        for ax in axes[:, k]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("digit")
    axes[1, 0].set_ylabel("[CLS] attention")
    fig.tight_layout()
    png = plotting.save_figure(fig, path)
    path.with_suffix(".json").write_text(
        json.dumps(
            {
                "labels": [int(v) for v in labels],
                "predictions": [int(v) for v in predictions],
                "cls_attention_over_patches": maps.round(5).tolist(),
                "note": "last encoder block, mean over heads; row-major patch grid",
            }
        )
    )
    return png


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    digits = data.load_digits()
    parts = data.train_val_test_split(digits.x, digits.y, seed=args.seed)
    x_train, y_train = parts.x_train, parts.y_train
    if args.train_limit:
        x_train, y_train = x_train[: args.train_limit], y_train[: args.train_limit]
    backend.set_random_seed(args.seed)
    model = ViTClassifier(
        digits.x.shape[1:],
        10,
        patch_size=args.patch_size,
        hidden_dim=args.hidden_dim,
        num_layers=args.num_layers,
        num_heads=args.num_heads,
        intermediate_dim=2 * args.hidden_dim,
        dropout=0.0,
        augment_shift=args.augment_shift,
        seed=args.seed,
    )
    steps = -(-len(x_train) // args.batch_size)
    warmup = min(5, max(args.epochs // 10, 0)) * steps
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else args.learning_rate,
        max(steps * args.epochs - warmup, 1),
        warmup_target=args.learning_rate if warmup else None,
        warmup_steps=warmup,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    print(
        f"ViT: {model.num_patches} patches of {args.patch_size}x{args.patch_size} "
        f"+ [CLS], {args.num_layers} blocks, {model.count_params():,} parameters; "
        f"{len(x_train)} training images"
    )
    best = keras.callbacks.EarlyStopping(
        monitor="val_accuracy",
        mode="max",
        patience=args.epochs,
        restore_best_weights=True,
    )
    start = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        validation_data=(parts.x_val, parts.y_val),
        epochs=args.epochs,
        batch_size=args.batch_size,
        callbacks=[best],
        verbose=0,
    ).history
    seconds = time.perf_counter() - start
    history = {k: [float(v) for v in values] for k, values in history.items()}

    test_predictions = model.predict(parts.x_test, verbose=0).argmax(-1)
    test_accuracy = float(np.mean(test_predictions == parts.y_test))
    print(
        f"trained {args.epochs} epochs in {seconds:.0f} s; best validation accuracy "
        f"{max(history['val_accuracy']):.4f} (epoch {best.best_epoch + 1}); "
        f"test accuracy {test_accuracy:.4f}"
    )

    curves_png = plot_curves(history, out / "training_curves.png")
    (out / "history.json").write_text(json.dumps(history))
    attention_png = plot_cls_attention(
        model,
        parts.x_test[:8],
        parts.y_test[:8],
        test_predictions[:8],
        out / "cls_attention.png",
    )
    model_path = out / f"{NAME}.keras"
    model.save(model_path)
    reloaded = keras.saving.load_model(model_path)
    same = bool(
        np.array_equal(
            reloaded.predict(parts.x_test, verbose=0).argmax(-1), test_predictions
        )
    )
    results = {
        "backend": keras.backend.backend(),
        "epochs": args.epochs,
        "patch_size": args.patch_size,
        "num_patches": model.num_patches,
        "params": int(model.count_params()),
        "train_size": len(x_train),
        "best_epoch": best.best_epoch + 1,
        "val_accuracy": float(max(history["val_accuracy"])),
        "test_accuracy": test_accuracy,
        "train_seconds": round(seconds, 1),
        "reloaded_model_predicts_the_same": same,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"Wrote {curves_png}, {attention_png}, {model_path}, {out / 'results.json'}")
    return results


if __name__ == "__main__":
    main()
