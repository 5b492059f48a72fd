"""Perceptron and MLP: what one threshold unit can learn, and what a hidden layer adds.

Shows:

- Rosenblatt's `Perceptron` (trained by its learning rule, not by backprop) on the
  logical AND and OR, which it learns (`converged_` is True: an epoch without a
  mistake), and on XOR, which it cannot: XOR is not linearly separable, so the rule
  never stops making mistakes;
- an `MLP` with one hidden tanh layer of 8 units that learns XOR with Adam;
- the activation functions an `MLP` can use and their derivatives
  (`kerasdl.models.mlp.plot_activations`), and the decision regions of the
  perceptron and of the MLP on XOR — both as PNG files under `--out`.

Run:

    python examples/perceptron_and_mlp.py
    KERAS_BACKEND=jax python examples/perceptron_and_mlp.py --out runs/examples/xor
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras
import numpy as np

from kerasdl import backend, plotting
from kerasdl.models import MLP, Perceptron
from kerasdl.models.mlp import activations

NAME = "perceptron_and_mlp"

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
GATES = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "XOR": np.array([0, 1, 1, 0]),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--perceptron-epochs",
        type=int,
        default=50,
        help="maximum epochs of the perceptron rule per gate (default: 50)",
    )
    parser.add_argument(
        "--mlp-steps",
        type=int,
        default=300,
        help="full-batch Adam steps for the MLP on XOR (default: 300)",
    )
    parser.add_argument("--width", type=int, default=8, help="hidden units of the MLP")
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def predict(model, x):
    """The model's outputs as NumPy. A direct call: for a few thousand points it is
    cheaper than `model.predict`, which compiles a predict function per model."""
    return keras.ops.convert_to_numpy(model(x, training=False))


def train_perceptrons(epochs, seed):
    """Fit one perceptron per gate; return the results and the XOR perceptron."""
    results, models = {}, {}
    for gate, y in GATES.items():
        model = Perceptron(input_dim=2)
        history = model.fit(X, y, epochs=epochs, seed=seed)
        predictions = predict(model, X).ravel().astype(int)
        results[gate] = {
            "converged": bool(model.converged_),
            "epochs": len(history.history["errors"]),
            "errors_per_epoch": [int(e) for e in history.history["errors"]],
            "predictions": predictions.tolist(),
            "accuracy": float(np.mean(predictions == y)),
        }
        models[gate] = model
    return results, models


def train_mlp(steps, width, learning_rate, seed):
    """An MLP with one hidden tanh layer, trained on XOR with full-batch Adam."""
    backend.set_random_seed(seed)
    model = MLP(
        (2,),
        1,
        depth=1,
        width=width,
        activation="tanh",
        initializer="glorot",
        output_activation="sigmoid",
    )
    model.compile(keras.optimizers.Adam(learning_rate), "binary_crossentropy")
    y = GATES["XOR"].astype("float32")[:, None]
    # Copies of the 4 points in batches of 4, unshuffled: `copies` full-batch steps per
    # epoch, without paying Keras's per-epoch overhead `steps` times.
    copies = min(steps, 20)
    epochs = max(1, steps // copies)
    history = model.fit(
        np.tile(X, (copies, 1)),
        np.tile(y, (copies, 1)),
        batch_size=4,
        epochs=epochs,
        shuffle=False,
        verbose=0,
    )
    probabilities = predict(model, X).ravel()
    return model, history.history["loss"], probabilities


def plot_decision_regions(path, perceptron, mlp):
    """Decision regions on the unit square: the XOR perceptron vs the XOR MLP."""
    import matplotlib.pyplot as plt

    grid = np.linspace(-0.5, 1.5, 101, dtype="float32")
    gx, gy = np.meshgrid(grid, grid)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
    panels = (
        ("Perceptron on XOR (cannot fit)", perceptron),
        ("MLP, 1 hidden tanh layer, on XOR", mlp),
    )
    for ax, (title, model) in zip(axes, panels):
        z = predict(model, points).reshape(gx.shape)
        ax.contourf(gx, gy, z, levels=[0.0, 0.5, 1.0], colors=["#cfe2f3", "#f4cccc"])
        ax.scatter(X[:, 0], X[:, 1], c=GATES["XOR"], cmap="bwr", edgecolors="k", s=80)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    fig.tight_layout()
    return plotting.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)

    print("Perceptron (Rosenblatt's rule) on the logic gates:")
    perceptron_results, perceptrons = train_perceptrons(
        args.perceptron_epochs, args.seed
    )
    for gate, r in perceptron_results.items():
        status = "converged" if r["converged"] else "did NOT converge"
        print(
            f"  {gate:<4} {status:<16} after {r['epochs']:>3} epochs; "
            f"predictions {r['predictions']} (target {GATES[gate].tolist()}), "
            f"mistakes in the last epoch: {r['errors_per_epoch'][-1]}"
        )

    mlp, losses, probabilities = train_mlp(
        args.mlp_steps, args.width, args.learning_rate, args.seed
    )
    mlp_predictions = (probabilities > 0.5).astype(int)
    mlp_accuracy = float(np.mean(mlp_predictions == GATES["XOR"]))
    print(
        f"\nMLP (1 hidden layer of {args.width} tanh units) on XOR: loss "
        f"{losses[0]:.3f} -> {losses[-1]:.3f}; P(y=1) {np.round(probabilities, 3)}; "
        f"predictions {mlp_predictions.tolist()}, accuracy {mlp_accuracy:.2f}"
    )

    activations_png = activations.plot_activations(out / "activations.png")
    regions_png = plot_decision_regions(
        out / "xor_decision_regions.png", perceptrons["XOR"], mlp
    )
    results = {
        "perceptron": perceptron_results,
        "mlp_xor": {
            "loss_first": float(losses[0]),
            "loss_last": float(losses[-1]),
            "probabilities": [float(p) for p in probabilities],
            "accuracy": mlp_accuracy,
        },
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nWrote {activations_png} (+ .json), {regions_png}, {out / 'results.json'}")
    return results


if __name__ == "__main__":
    main()
