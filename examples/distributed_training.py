"""Training on several devices: data parallel (JAX, TensorFlow), model parallel (JAX).

Splits the CPU into `--devices` virtual devices (the same code runs unchanged on
several GPUs or TPU cores, where it also runs faster; on one CPU it only shows
how the pieces fit) and shows:

- **data parallel**, switched on by one option, `TrainingConfig(distribution=
  "data_parallel")`: an MLP on scikit-learn's real 8x8 digits trained on one
  device and on all of them, with the same seed, data and order. Every device
  holds a whole copy of each weight (the per-device shapes are printed) and
  takes `batch_size / devices` samples of each batch; the gradients are averaged
  over the devices, so the loss curves agree to float rounding. JAX:
  `keras.distribution.DataParallel`; TensorFlow: `tf.distribute.MirroredStrategy`.
- **model parallel** (JAX only): a small GPT character model on Python's help
  texts, built inside `distributed_scope("model_parallel", model_axis=...)`: a
  `(batch, model)` device mesh, the attention heads and the feed-forward width of
  every block split over the `model` axis (each device stores a slice: printed),
  each batch split over the `batch` axis. Same loss curve as on one device.

Writes `loss_curves.png` (one device against several, for both) and
`summary.json` into `--out`.

Run:

    KERAS_BACKEND=jax python examples/distributed_training.py
    KERAS_BACKEND=jax python examples/distributed_training.py --devices 8 --model-axis 4
    KERAS_BACKEND=tensorflow python examples/distributed_training.py --devices 2

The device count is fixed when the backend starts: the script splits the CPU
first thing (`distribute.use_virtual_cpu_devices`, the same as
`XLA_FLAGS=--xla_force_host_platform_device_count=4` on JAX) and, if the backend
has already started with another count (a notebook, a test), runs itself again
in a fresh process with `XLA_FLAGS` set.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np

from kerasdl import backend as kb
from kerasdl import data
from kerasdl.models import MLP
from kerasdl.models.transformers import GPTLanguageModel
from kerasdl.plotting import plt, save_figure
from kerasdl.recipes import corpus_text, text_windows
from kerasdl.training import TrainingConfig, distribute, train

NAME = "distributed_training"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=4, help="virtual CPU devices")
    parser.add_argument(
        "--model-axis",
        type=int,
        default=2,
        help="model parallel: devices each weight is split over (the rest split "
        "the batch); must divide --devices and the number of heads",
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--samples", type=int, default=1792, help="digits used")
    parser.add_argument("--text-chars", type=int, default=20000)
    parser.add_argument("--seq-len", type=int, default=32)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    parser.add_argument(
        "--in-fresh-process", action="store_true", help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


class StepLosses(keras.callbacks.Callback):
    """After each batch: the loss Keras logs (the running mean of the epoch so
    far) and, recovered from it, the loss of that batch alone."""

    def on_train_begin(self, logs=None):
        self.logged, self.per_batch = [], []

    def on_train_batch_end(self, batch, logs=None):
        mean = float(logs["loss"])
        previous = self.logged[-1] if batch > 0 else 0.0
        self.per_batch.append((batch + 1) * mean - batch * previous)
        self.logged.append(mean)


def run_again_in_fresh_process(argv, args) -> dict:
    """The backend started with another device count: rerun with XLA_FLAGS set."""
    env = dict(os.environ)
    if keras.backend.backend() == "jax":
        flag = f"--xla_force_host_platform_device_count={args.devices}"
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}".strip()
    print(
        f"The {keras.backend.backend()} backend already started with other devices "
        f"in this process: running again in a fresh one with {args.devices}."
    )
    command = [sys.executable, str(Path(__file__).resolve()), *argv]
    subprocess.run([*command, "--in-fresh-process"], env=env, check=True)
    return json.loads((Path(args.out) / "summary.json").read_text())


def shard_table(model, names) -> dict:
    """For the named weights: their shape and the part each device stores."""
    table = {}
    for variable in model.weights:
        if any(variable.path.endswith(name) for name in names):
            table[variable.path] = {
                "shape": list(variable.shape),
                "per_device": [list(s) for s in distribute.shard_shapes(variable)],
            }
    return table


def print_shards(title, table) -> None:
    print(title)
    for path, entry in table.items():
        shape, parts = tuple(entry["shape"]), entry["per_device"]
        shares = {int(np.prod(shape)) // max(1, int(np.prod(p))) for p in parts}
        share = "whole" if shares == {1} else f"1/{shares.pop()}"
        name = path.split("/", 1)[-1] if path.count("/") > 1 else path
        print(
            f"  {name:45s} {str(shape):13s} -> {len(parts)} devices x "
            f"{tuple(parts[0])} ({share} each)"
        )


def fit_curve(model_fn, x, y, loss, args, distribution=None, scope=None):
    """Per-step losses of `model_fn()` trained with `train` (no shuffling)."""
    config = TrainingConfig(
        optimizer="adam",
        learning_rate=3e-3,
        seed=args.seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        checkpoint=False,
        csv_log=False,
        backup=False,
        verbose=0,
        distribution=distribution,
    )
    recorder = StepLosses()
    start = time.perf_counter()
    with config.scope():
        with scope() if scope is not None else contextlib.nullcontext():
            model = model_fn()
            train(
                model,
                x,
                y,
                config=config,
                loss=loss,
                shuffle=False,
                callbacks=[recorder],
            )
    return model, recorder, time.perf_counter() - start


def compare(single, multi, t_single, t_multi, label) -> dict:
    """Print and return both runs' losses and their largest relative gap."""
    a, b = np.asarray(single.logged), np.asarray(multi.logged)
    gap = float(np.max(np.abs(a - b) / np.abs(a)))
    print(
        f"loss after {len(a)} steps: 1 device {a[-1]:.4f}, {label} {b[-1]:.4f}; "
        f"largest relative gap between the logged losses {gap:.1e}"
    )
    return {
        "single_device": single.logged,
        "distributed": multi.logged,
        "single_device_per_batch": single.per_batch,
        "distributed_per_batch": multi.per_batch,
        "max_relative_gap": gap,
        "seconds": {"single_device": t_single, "distributed": t_multi},
    }


def data_parallel(args) -> dict:
    digits = data.load_digits()
    n = (min(args.samples, len(digits.x)) // args.batch_size) * args.batch_size
    x = digits.x[:n].reshape(n, -1)
    y = digits.y[:n]
    print(f"\n== Data parallel: MLP on {n} digits, batches of {args.batch_size} ==")

    def model_fn():
        return MLP((64,), 10, depth=2, width=64)

    loss = "sparse_categorical_crossentropy"
    _, single, t_single = fit_curve(model_fn, x, y, loss, args)
    model, multi, t_multi = fit_curve(
        model_fn, x, y, loss, args, distribution="data_parallel"
    )
    shards = shard_table(model, ["kernel"])
    print_shards(
        f"Per-device shapes on {args.devices} devices "
        f"({args.batch_size // args.devices} samples per device per step):",
        shards,
    )
    result = compare(single, multi, t_single, t_multi, f"{args.devices} devices")
    return {"samples": n, **result, "shard_shapes": shards}


def model_parallel(args) -> dict:
    text = corpus_text()[: args.text_chars]
    tokenizer = data.CharTokenizer.fit(text)
    x, y = text_windows(tokenizer.encode(text), args.seq_len)
    n = (len(x) // args.batch_size) * args.batch_size
    x, y = x[:n], y[:n]
    mesh = (args.devices // args.model_axis, args.model_axis)
    print(
        f"\n== Model parallel: GPT ({args.num_layers} blocks, {args.num_heads} heads) "
        f"on {n} windows of {args.seq_len} characters, mesh (batch, model) = {mesh} =="
    )

    def model_fn():
        model = GPTLanguageModel(
            vocab_size=tokenizer.vocab_size,
            max_len=args.seq_len,
            num_layers=args.num_layers,
            num_heads=args.num_heads,
            hidden_dim=args.hidden_dim,
            dropout=0.0,
            seed=args.seed,
        )
        model.build((None, args.seq_len))
        return model

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    _, single, t_single = fit_curve(model_fn, x, y, loss, args)

    def scope():
        return distribute.distributed_scope(
            "model_parallel", model_axis=args.model_axis
        )

    model, multi, t_multi = fit_curve(model_fn, x, y, loss, args, scope=scope)
    shards = shard_table(
        model,
        [
            "decoder_block_0/self_attention/query_kernel",
            "decoder_block_0/self_attention/output_kernel",
            "decoder_block_0/ffn_intermediate/kernel",
            "decoder_block_0/ffn_output/kernel",
            "token_embedding/embeddings",
        ],
    )
    print_shards(
        "Per-device shapes (query kernel: features, heads, head size):", shards
    )
    result = compare(single, multi, t_single, t_multi, f"mesh {mesh}")
    return {"mesh": list(mesh), "windows": n, **result, "shard_shapes": shards}


def plot(summary, path) -> None:
    parts = [
        (k, summary[k])
        for k in ("data_parallel", "model_parallel")
        if "distributed" in summary[k]
    ]
    fig, axes = plt.subplots(
        1, len(parts), figsize=(5.5 * len(parts), 4), squeeze=False
    )
    for ax, (name, part) in zip(axes[0], parts, strict=True):
        steps = np.arange(1, len(part["single_device_per_batch"]) + 1)
        label = (
            f"{summary['devices']} devices"
            if name == "data_parallel"
            else f"mesh (batch, model) = {tuple(part['mesh'])}"
        )
        ax.plot(
            steps, part["single_device_per_batch"], lw=3, alpha=0.5, label="1 device"
        )
        ax.plot(steps, part["distributed_per_batch"], "--", label=label)
        ax.set_title(
            f"{name.replace('_', ' ')} ({summary['backend']}): largest relative gap "
            f"{part['max_relative_gap']:.0e}",
            fontsize=9,
        )
        ax.set_xlabel("training step")
        ax.set_ylabel("training loss of the batch")
        ax.legend()
    save_figure(fig, path)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if not kb.supported_distributions():
        backend = keras.backend.backend()
        print(
            f"{backend}: Keras has no keras.distribution on this backend; run with "
            "KERAS_BACKEND=jax (data and model parallel) or tensorflow (data parallel)."
        )
        return {"backend": backend, "skipped": "no keras.distribution"}
    try:
        distribute.use_virtual_cpu_devices(args.devices)
    except RuntimeError:
        if args.in_fresh_process:
            raise
        return run_again_in_fresh_process(argv, args)
    out = Path(args.out)
    backend = keras.backend.backend()
    print(f"{backend}: devices {distribute.list_devices()}")

    summary = {"backend": backend, "devices": args.devices}
    summary["data_parallel"] = data_parallel(args)
    if backend == "jax":
        summary["model_parallel"] = model_parallel(args)
    else:
        print(
            "\nModel parallel (keras.distribution.ModelParallel) is JAX-only: "
            "run with KERAS_BACKEND=jax."
        )
        summary["model_parallel"] = {"skipped": "JAX only"}

    out.mkdir(parents=True, exist_ok=True)
    plot(summary, out / "loss_curves.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nWrote {out / 'loss_curves.png'} and {out / 'summary.json'}")
    return summary


if __name__ == "__main__":
    main()
