"""Gradient flow through time: vanishing gradients, and exploding ones tamed by
clipping.

- `gradient_norm_by_distance`: for a freshly initialised recurrent layer (Keras's
  default initialisers), how much the final output depends on the input `d`
  steps earlier: the norm of d(sum of the final outputs)/d(x_t), by distance
  `d = T - 1 - t`. A SimpleRNN's curve falls by orders of magnitude within a few
  dozen steps; an LSTM's (forget-gate bias 1) falls much more slowly.
- `clipping_experiment`: a linear SimpleRNN whose recurrent matrix is an
  orthogonal one times `recurrent_gain` (> 1, so the state and the gradients grow
  geometrically with time) trained by SGD on the digits read row by row (a real
  labelled set: 8 steps of 8 pixels), once without clipping and once with
  `global_clipnorm`, from the same weights and on the same batches. Unclipped,
  the first huge steps send the loss to inf/NaN; clipped, it decreases.
- `plot_gradient_norms`, `plot_clipping`: the two figures, as PNG files.

Gradients are taken through the backend seam (`kerasdl.backend`), so this runs
on every supported backend.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl._checks import check_float, check_int
from kerasdl._figures import plt, save_figure
from kerasdl.layers.recurrent import SimpleRNNCell
from kerasdl.models.sequence.rnn_classifier import make_cell

__all__ = [
    "clipping_experiment",
    "digits_as_sequences",
    "gradient_norm_by_distance",
    "plot_clipping",
    "plot_gradient_norms",
]


def digits_as_sequences():
    """The 1,797 real 8x8 digits as sequences: 8 time steps (rows) of 8 features.

    Returns:
        `(x, y)`: float32 `(1797, 8, 8)` in [0, 1] and int64 labels 0..9.
    """
    from kerasdl.data import load_digits

    data = load_digits()
    return data.x[..., 0].astype("float32"), data.y


def gradient_norm_by_distance(
    cell="rnn", time_steps=50, units=32, features=8, batch_size=16, repeats=3, seed=0
):
    """How fast a recurrent layer forgets: input-gradient norm by distance.

    For each of `repeats` runs, a new `keras.layers.RNN(cell)` (default
    initialisers, seeded) reads a standard-normal batch `(batch_size,
    time_steps, features)`; the gradient of the sum of its final outputs with
    respect to the input is taken, its norm over the features computed for each
    sample and step, and averaged over samples and runs.

    Args:
        cell: `"rnn"`, `"lstm"`, `"gru"`, or a cell instance (copied per run,
            e.g. `LSTMCell(32, unit_forget_bias=False)`; `units` then ignored).
        time_steps: Sequence length T, >= 2.
        units: State size.
        features: Input features per step.
        batch_size: Samples per run.
        repeats: Runs (each a fresh layer and batch) averaged together.
        seed: Base seed; run r uses `seed + r` (through
            `kerasdl.backend.set_random_seed`, which also seeds NumPy, Python
            and Keras's global generator).

    Returns:
        float64 `(time_steps,)`: entry d is the mean norm of the gradient with
        respect to the input at step `T - 1 - d` (d = 0 is the last input).

    Example:

    ```python
    rnn = gradient_norm_by_distance("rnn")
    rnn[40] / rnn[0]  # ~1e-6: the gradient has vanished
    ```
    """
    time_steps = check_int("time_steps", time_steps, minimum=2)
    units = check_int("units", units)
    features = check_int("features", features)
    batch_size = check_int("batch_size", batch_size)
    repeats = check_int("repeats", repeats)
    seed = check_int("seed", seed, minimum=0)
    make_cell(cell, units)  # checks the argument before any work
    # One layer and one compiled gradient function; each run gives the layer
    # fresh initial weights (those of a new layer built with the run's seed).
    shape = (batch_size, time_steps, features)
    layer = keras.layers.RNN(make_cell(cell, units))
    layer.build(shape)

    def gradient(x):
        return backend.input_gradient(lambda x: ops.sum(layer(x)), x)

    compiled = backend.compile_function(gradient, layer.weights)
    total = np.zeros((time_steps,))
    for r in range(repeats):
        backend.set_random_seed(seed + r)
        fresh = keras.layers.RNN(make_cell(cell, units))
        fresh.build(shape)
        layer.set_weights(fresh.get_weights())
        x = np.random.default_rng(seed + r).standard_normal(shape).astype("float32")
        grad = ops.convert_to_numpy(compiled(x))
        norms = np.linalg.norm(grad, axis=-1)  # (batch, T)
        total += norms.mean(axis=0)[::-1]
    return total / repeats


def _compiled_loss_and_gradients(model, loss_fn):
    """`f(x, y) -> (loss, gradients)` for the model's trainable variables, compiled
    (a closure, not default arguments: tf.function would trace those as inputs)."""
    variables = model.trainable_variables

    def loss_and_gradients(x, y):
        return backend.value_and_weight_gradients(
            lambda: loss_fn(y, model(x)), variables
        )

    return backend.compile_function(loss_and_gradients, variables)


def _global_norm(arrays):
    return float(
        np.sqrt(sum(np.sum(np.square(np.asarray(a, "float64"))) for a in arrays))
    )


def clipping_experiment(
    clipnorm=1.0,
    steps=60,
    batch_size=64,
    learning_rate=0.05,
    recurrent_gain=2.0,
    units=32,
    data=None,
    seed=0,
):
    """Trains an exploding linear SimpleRNN with and without gradient clipping.

    Model: `RNN(SimpleRNNCell(units, activation=None, recurrent_initializer=
    Orthogonal(gain=recurrent_gain)))` -> Dense logits; loss: sparse
    cross-entropy; optimizer: plain SGD(`learning_rate`), with
    `global_clipnorm=clipnorm` in the clipped run. Both runs start from the same
    weights and see the same batches. At each step the loss and the global
    gradient norm (before clipping) are recorded, then the update is applied by
    the optimizer and its size measured as the norm of the change of the
    weights. A run stops at its first non-finite loss (the rest is NaN).

    Args:
        clipnorm: The clipped run's `global_clipnorm` (> 0).
        steps: SGD steps per run.
        batch_size: Samples per step.
        learning_rate: SGD learning rate.
        recurrent_gain: Gain of the orthogonal recurrent initialiser; > 1 makes
            the linear recurrence explode.
        units: State size.
        data: `(x, y)` with x float `(n, time, features)`, y int labels; default
            the digits read row by row (`digits_as_sequences`).
        seed: Seed of the initial weights (via `kerasdl.backend.set_random_seed`,
            which seeds the global generators) and of the batches.

    Returns:
        `{"unclipped": run, "clipped": run, "clipnorm", "learning_rate",
        "recurrent_gain"}`, each run a dict of lists per step: `loss`,
        `grad_norm` (before clipping), `update_norm` (the weights' change;
        `learning_rate * min(grad_norm, clipnorm)` when clipped), and
        `diverged_at` (first step with a non-finite loss, or None).
    """
    clipnorm = check_float("clipnorm", clipnorm, low=0.0, low_open=True)
    steps = check_int("steps", steps)
    batch_size = check_int("batch_size", batch_size)
    learning_rate = check_float("learning_rate", learning_rate, 0.0, low_open=True)
    recurrent_gain = check_float("recurrent_gain", recurrent_gain, 0.0, low_open=True)
    units = check_int("units", units)
    x, y = digits_as_sequences() if data is None else data
    x, y = np.asarray(x, "float32"), np.asarray(y)
    if x.ndim != 3 or len(x) != len(y):
        raise ValueError(
            "`data` must be (x, y) with x of shape (n, time, features) and n labels; "
            f"received shapes {x.shape} and {y.shape}."
        )
    batch_size = min(batch_size, len(x))
    num_classes = int(y.max()) + 1
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    results = {
        "clipnorm": clipnorm,
        "learning_rate": learning_rate,
        "recurrent_gain": recurrent_gain,
    }
    for run, clip in (("unclipped", None), ("clipped", clipnorm)):
        backend.set_random_seed(seed)
        inputs = keras.Input(x.shape[1:])
        cell = SimpleRNNCell(
            units,
            activation=None,
            recurrent_initializer=keras.initializers.Orthogonal(gain=recurrent_gain),
        )
        h = keras.layers.RNN(cell)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(num_classes)(h))
        variables = model.trainable_variables
        optimizer = keras.optimizers.SGD(learning_rate, global_clipnorm=clip)
        gradients = _compiled_loss_and_gradients(model, loss_fn)
        rng = np.random.default_rng(seed)
        record = {"loss": [], "grad_norm": [], "update_norm": [], "diverged_at": None}
        for step in range(steps):
            index = rng.choice(len(x), batch_size, replace=False)
            xb, yb = x[index], y[index]
            loss, grads = gradients(xb, yb)
            loss = float(loss)
            grads_np = [ops.convert_to_numpy(g) for g in grads]
            before = [ops.convert_to_numpy(v) for v in variables]
            optimizer.apply(grads, variables)
            after = [ops.convert_to_numpy(v) for v in variables]
            record["loss"].append(loss)
            record["grad_norm"].append(_global_norm(grads_np))
            record["update_norm"].append(
                _global_norm([a - b for a, b in zip(after, before)])
            )
            if not np.isfinite(loss):
                record["diverged_at"] = step
                break
        for key in ("loss", "grad_norm", "update_norm"):
            record[key] += [float("nan")] * (steps - len(record[key]))
        results[run] = record
    return results


def plot_gradient_norms(curves, path, title=None):
    """Log-scale plot of gradient norm against distance, one line per curve.

    Args:
        curves: `{label: array}` from `gradient_norm_by_distance` (each divided
            by its value at distance 0 here, so the curves start at 1).
        path: PNG file to write.
        title: Optional title.

    Returns:
        The path written.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        curve = np.asarray(curve, "float64")
        ax.semilogy(np.arange(len(curve)), curve / curve[0], label=label)
    ax.set_xlabel("distance T-1-t (steps back from the output)")
    ax.set_ylabel("||d output / d x_t||, relative to distance 0")
    ax.set_title(title or "Gradient flow through time (default initialisation)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def plot_clipping(results, path):
    """Loss and gradient norm per step, with and without clipping (log scale).

    Args:
        results: The dict of `clipping_experiment`.
        path: PNG file to write.

    Returns:
        The path written.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for run, style in (("unclipped", "C3"), ("clipped", "C0")):
        record = results[run]
        label = run if run == "unclipped" else f"global_clipnorm={results['clipnorm']}"
        if record["diverged_at"] is not None:
            label += f" (non-finite at step {record['diverged_at']})"
        for ax, key in zip(axes, ("loss", "grad_norm")):
            values = np.asarray(record[key], "float64")
            shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)
            ax.semilogy(shown, style, marker=".", label=label)
    axes[1].axhline(results["clipnorm"], color="k", ls="--", lw=1, label="threshold")
    axes[0].set_title("training loss")
    axes[1].set_title("global gradient norm (before clipping)")
    for ax in axes:
        ax.set_xlabel("SGD step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"Linear SimpleRNN, recurrent gain {results['recurrent_gain']}, "
        f"SGD lr {results['learning_rate']}"
    )
    return save_figure(fig, path)
