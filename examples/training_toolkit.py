"""The training toolkit: every training choice in one `TrainingConfig`, then `train`.

Shows, on scikit-learn's real 8x8 handwritten digits:

- a `TrainingConfig` with AdamW (decoupled weight decay), a linear warm-up then
  cosine decay of the learning rate, gradient clipping by norm, a seed, early
  stopping on the validation loss, and the callbacks that write into `--out`: the
  best model (`best.keras`), a CSV log per epoch (`log.csv`) and `BackupAndRestore`
  (rerun the same command after a crash and it resumes from the last finished
  epoch; the backup folder is removed when training finishes);
- `config.setup()` (seeds + dtype policy) called *before* the model is built;
- an `MLP` trained with `train` on a stratified train/validation split, scored once
  on a held-out test part that training never saw, and the saved best model
  reloaded and scored the same.

Run:

    python examples/training_toolkit.py
    KERAS_BACKEND=jax python examples/training_toolkit.py --epochs 20 --patience 3
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras

from kerasdl import data
from kerasdl.models import MLP
from kerasdl.training import CHECKPOINT_FILE, CSV_LOG_FILE, TrainingConfig, train

NAME = "training_toolkit"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="peak rate")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument(
        "--warmup-steps",
        type=int,
        default=20,
        help="optimizer updates of linear warm-up before the cosine decay",
    )
    parser.add_argument("--clipnorm", type=float, default=1.0)
    parser.add_argument("--patience", type=int, default=2, help="early stopping")
    parser.add_argument(
        "--precision",
        default="float32",
        choices=["float32", "mixed_float16", "mixed_bfloat16"],
    )
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2])
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)

    digits = data.load_digits()
    split = data.train_val_test_split(
        digits.x, digits.y, val_size=0.15, test_size=0.15, seed=args.seed
    )
    print(
        f"digits: train {len(split.x_train)}, validation {len(split.x_val)}, "
        f"test {len(split.x_test)} (stratified, seed {args.seed})"
    )

    config = TrainingConfig(
        optimizer="adamw",
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        schedule="warmup_cosine",
        schedule_kwargs={"warmup_steps": args.warmup_steps},
        clipnorm=args.clipnorm,
        precision=args.precision,
        seed=args.seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        early_stopping_patience=args.patience,
        monitor="val_loss",
        checkpoint=True,
        csv_log=True,
        backup=True,
        verbose=args.verbose,
    )
    print("TrainingConfig:", json.dumps(config.to_dict()))

    config.setup()  # seeds and dtype policy: before the model is built
    model = MLP(
        digits.x.shape[1:], digits.num_classes, depth=args.depth, width=args.width
    )
    history = train(
        model,
        split.x_train,
        split.y_train,
        config=config,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        validation_data=(split.x_val, split.y_val),
        out_dir=out,
    )
    epochs_run = len(history.history["loss"])
    best_epoch = min(range(epochs_run), key=lambda i: history.history["val_loss"][i])
    print(
        f"\nRan {epochs_run} of {config.epochs} epochs; best val_loss "
        f"{history.history['val_loss'][best_epoch]:.4f} at epoch {best_epoch + 1} "
        f"(val accuracy {history.history['val_accuracy'][best_epoch]:.4f})"
    )

    _, test_accuracy = model.evaluate(split.x_test, split.y_test, verbose=0)
    best = keras.saving.load_model(out / CHECKPOINT_FILE)
    _, best_test_accuracy = best.evaluate(split.x_test, split.y_test, verbose=0)
    print(f"Test accuracy: {test_accuracy:.4f} (held out, {len(split.x_test)} digits)")
    print(f"Test accuracy of the reloaded {CHECKPOINT_FILE}: {best_test_accuracy:.4f}")
    written = sorted(p.name for p in out.iterdir())
    print(f"Files in {out}: {', '.join(written)}")

    results = {
        "backend": keras.backend.backend(),
        "config": config.to_dict(),
        "epochs_run": epochs_run,
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "test_accuracy": float(test_accuracy),
        "best_checkpoint_test_accuracy": float(best_test_accuracy),
        "files": [CHECKPOINT_FILE, CSV_LOG_FILE],
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
