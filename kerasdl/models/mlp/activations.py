"""Activation functions as a learner meets them: each one and its derivative
(`activation_function`, `activation_derivative`), drawn side by side as a PNG with
the values as JSON (`plot_activations`).
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from kerasdl.models.mlp.mlp import ACTIVATIONS  # one list, shared
from kerasdl.plotting import plt, save_figure

# Step of the central differences. On float32 the rounding error is ~eps/h ~ 1e-5
# and the truncation error h**2/6 * |f'''| ~ 2e-6 for sigmoid, so 1e-2 balances them.
_DIFF_STEP = 1e-2


def activation_function(name):
    """Returns `f(x)` for an activation name, as a NumPy-in, NumPy-out function.

    For `"softmax"` the scalar function is the first component of
    `softmax([x, 0])`, i.e. the probability of one class against a fixed logit of
    0 (it equals `sigmoid(x)`).

    Args:
        name: One of `kerasdl.models.mlp.ACTIVATIONS`.

    Returns:
        A function mapping a float array to a float32 array of the same shape,
        computed with `keras.activations` (hence `keras.ops`).
    """
    if name not in ACTIVATIONS:
        raise ValueError(
            f"`name` must be one of {ACTIVATIONS}; received name={name!r}."
        )
    activation = keras.activations.get(name)

    def f(x):
        x = keras.ops.convert_to_tensor(np.asarray(x, dtype="float32"))
        if name == "softmax":
            pair = keras.ops.stack([x, keras.ops.zeros_like(x)], axis=-1)
            y = keras.ops.softmax(pair, axis=-1)[..., 0]
        else:
            y = activation(x)
        return np.asarray(keras.ops.convert_to_numpy(y), dtype="float32")

    return f


def activation_derivative(name, x, step=_DIFF_STEP):
    """Central-difference derivative `(f(x + h) - f(x - h)) / 2h` of an activation.

    At a kink (ReLU at 0) this gives the mean of the two one-sided slopes.

    Args:
        name: One of `kerasdl.models.mlp.ACTIVATIONS`.
        x: Points at which to differentiate.
        step: The difference step `h`.

    Returns:
        A float64 array shaped like `x`.
    """
    f = activation_function(name)
    x = np.asarray(x, dtype="float64")
    upper = f(x + step).astype("float64")
    lower = f(x - step).astype("float64")
    return (upper - lower) / (2.0 * step)


def plot_activations(path, activations=ACTIVATIONS, x_range=(-4.0, 4.0), num=161):
    """Plots activation functions and their derivatives to a PNG grid plus a JSON.

    One panel per activation shows `f(x)` and `f'(x)`; the derivative is taken by
    central differences of the `keras.activations` outputs. The JSON written next
    to the PNG (same stem, `.json`) holds the sampled values:
    `{"x": [...], "activations": {name: {"value": [...], "derivative": [...]}}}`.

    Args:
        path: Destination PNG file (parent folders are created); a path
            without a suffix gets ".png".
        activations: Names to plot, from `kerasdl.models.mlp.ACTIVATIONS`.
        x_range: `(low, high)` interval of the x axis.
        num: Number of sample points (the default puts 0, +-1 on the grid).

    Returns:
        The `pathlib.Path` of the PNG.

    Example:

    ```python
    png = kerasdl.plotting.plot_activations("runs/plots/activations.png")
    data = json.loads(png.with_suffix(".json").read_text())
    ```
    """
    activations = tuple(activations)
    if not activations:
        raise ValueError("`activations` must name at least one activation.")
    for name in activations:
        if name not in ACTIVATIONS:
            raise ValueError(
                f"`activations` must be drawn from {ACTIVATIONS}; received {name!r}."
            )
    low, high = (float(v) for v in x_range)
    if not low < high:
        raise ValueError(
            "`x_range` must be (low, high) with low < high; received "
            f"x_range={tuple(x_range)!r}."
        )
    if isinstance(num, bool) or not isinstance(num, int) or num < 2:
        raise ValueError(f"`num` must be an integer >= 2; received num={num!r}.")
    x = np.linspace(low, high, num)
    data = {"x": x.tolist(), "activations": {}}
    columns = min(4, len(activations))
    rows = -(-len(activations) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(3.2 * columns, 2.8 * rows), squeeze=False
    )
    for ax in axes.ravel()[len(activations) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.ravel(), activations):
        value = activation_function(name)(x).astype("float64")
        derivative = activation_derivative(name, x)
        data["activations"][name] = {
            "value": value.tolist(),
            "derivative": derivative.tolist(),
        }
        ax.plot(x, value, label="f(x)")
        ax.plot(x, derivative, "--", label="f'(x)")
        ax.axhline(0.0, color="0.8", linewidth=0.8)
        ax.axvline(0.0, color="0.8", linewidth=0.8)
        ax.set_title(name if name != "softmax" else "softmax([x, 0])[0]")
        ax.legend(loc="upper left", fontsize="small")
    fig.suptitle("Activation functions and their derivatives")
    fig.tight_layout()
    path = Path(path)
    if not path.suffix:  # matplotlib would add ".png" itself: return the real path
        path = path.with_suffix(".png")
    png = save_figure(fig, path)
    png.with_suffix(".json").write_text(json.dumps(data))
    return png
