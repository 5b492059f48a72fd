"""The learning-rate range test: find a learning rate before training.

Leslie Smith's range test ("Cyclical Learning Rates for Training Neural Networks",
2017), as fastai popularised it: train a copy of the model for a few hundred updates
while the rate grows exponentially from `min_lr` to `max_lr`, recording every batch's
loss; a good rate lies on the falling slope, well before the loss bottoms out.

```python
from kerasdl.training import find_learning_rate

result = find_learning_rate(model, x_train, y_train,
                            loss="sparse_categorical_crossentropy",
                            optimizer="adam", out="runs/lr_finder.png")
model.compile(keras.optimizers.Adam(result.suggestion), ...)
```

The test trains a clone (`keras.models.clone_model` with the model's weights copied),
compiled with a fresh optimizer whose rate is an `ExponentialRangeSchedule` read from
its own `iterations` inside the compiled step, so the rate applied is the rate
recorded on every backend. Batches go through `train_on_batch`, so each loss is that
batch's loss before its update. The model passed in, its optimizer and its compiled
state are never touched. The schedule, the result and the curve live in
`kerasdl.training.lr_curve`.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import keras
import numpy as np

from kerasdl import backend as kb
from kerasdl._checks import is_number
from kerasdl.training import optimizers as _optimizers
from kerasdl.training.lr_curve import (
    SUGGESTION_RULE,
    ExponentialRangeSchedule,
    LRFinderResult,
    _check_range,
    _is_real,
    plot_lr_finder,
    smooth_losses,
    suggest_learning_rate,
)

__all__ = [
    "SUGGESTION_RULE",
    "ExponentialRangeSchedule",
    "LRFinderResult",
    "find_learning_rate",
    "plot_lr_finder",
    "smooth_losses",
    "suggest_learning_rate",
]


def _check_arguments(steps, batch_size, smoothing, divergence_factor, seed) -> None:
    if not is_number(steps, integer=True) or steps < 10:
        raise ValueError(
            "steps must be an integer >= 10 (a curve needs points); "
            f"received {steps!r}."
        )
    if not is_number(batch_size, integer=True) or batch_size < 1:
        raise ValueError(
            f"batch_size must be an integer >= 1; received {batch_size!r}."
        )
    if not _is_real(smoothing) or not 0.0 <= smoothing < 1.0:
        raise ValueError(
            f"smoothing must be a number in [0, 1) (0: no smoothing); "
            f"received {smoothing!r}."
        )
    if (
        not _is_real(divergence_factor)
        or not math.isfinite(divergence_factor)
        or divergence_factor <= 1.0
    ):
        raise ValueError(
            f"divergence_factor must be a finite number > 1; "
            f"received {divergence_factor!r}."
        )
    if seed is not None and (not is_number(seed, integer=True) or seed < 0):
        raise ValueError(f"seed must be None or an integer >= 0; received {seed!r}.")


def _as_arrays(x, y):
    """NumPy leaves of `x` (any structure) and `y`, and the number of samples."""
    if x is None:
        raise ValueError(
            "x must be an array (or a structure of arrays); received None."
        )
    x = keras.tree.map_structure(np.asarray, x)
    leaves = keras.tree.flatten(x)
    if not leaves:
        raise ValueError("x is empty: it holds no arrays.")
    sizes = set()
    for leaf in leaves:
        if leaf.ndim == 0:
            raise ValueError(
                f"x must have a batch axis; received an array of shape {leaf.shape}."
            )
        sizes.add(len(leaf))
    if len(sizes) > 1:
        raise ValueError(
            f"The arrays in x must have the same number of samples; received {sizes}."
        )
    n = sizes.pop()
    if n == 0:
        raise ValueError(f"x is empty; received shape {leaves[0].shape}.")
    if y is not None:
        y = keras.tree.map_structure(np.asarray, y)
        for leaf in keras.tree.flatten(y):
            if leaf.ndim == 0 or len(leaf) != n:
                raise ValueError(
                    "x and y must have the same number of samples; received "
                    f"{n} samples in x and y of shape {leaf.shape}."
                )
    return x, y, n


def _make_optimizer(optimizer, schedule):
    """A fresh optimizer driven by `schedule`: built by name, or a clone of one."""
    if isinstance(optimizer, str):
        return _optimizers.get_optimizer(optimizer, schedule)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            raise ValueError(
                "optimizer must not be a LossScaleOptimizer; pass the inner optimizer "
                "(compile wraps it again under the mixed_float16 policy)."
            )
        config = optimizer.get_config()
        config["learning_rate"] = schedule
        return optimizer.__class__.from_config(config)
    raise TypeError(
        "optimizer must be a name (one of "
        f"{sorted(_optimizers.OPTIMIZERS)}) or a keras.optimizers.Optimizer; "
        f"received {optimizer!r} of type {type(optimizer).__name__}."
    )


def _trainable_copy(model: keras.Model, first_inputs) -> keras.Model:
    """A clone of `model` holding the same state, built and ready to compile.

    The range test trains this copy, so `model` (its weights, optimizer, compiled
    state) stays exactly as it was. An unbuilt model stays unbuilt: its clone is
    built on the first batch instead.
    """
    try:
        clone = keras.models.clone_model(model)
    except Exception as error:  # Keras raises TypeError/ValueError, by model type
        raise ValueError(
            "find_learning_rate trains a copy of the model made by "
            "keras.models.clone_model, and this model could not be cloned: "
            f"{type(model).__name__} needs a get_config() returning every "
            "constructor argument (Functional and Sequential models always "
            f"clone). Keras said: {error}"
        ) from error
    clone(first_inputs)
    if model.built:
        # All state, weights and seed-generator states alike, so that the clone
        # draws the same dropout masks the model would have drawn.
        pairs = list(zip(clone.variables, model.variables))
        if len(clone.variables) != len(model.variables) or any(
            tuple(copy.shape) != tuple(original.shape) for copy, original in pairs
        ):
            raise ValueError(
                f"The clone of {type(model).__name__} does not have the model's "
                f"variables ({len(clone.variables)} vs {len(model.variables)}, or "
                "other shapes); find_learning_rate needs a get_config() that "
                "rebuilds the same layers."
            )
        for copy, original in pairs:
            # Through NumPy: on JAX the clone's train step donates its buffers, and
            # a shared array would be deleted under the model.
            copy.assign(np.array(keras.ops.convert_to_numpy(original.value)))
    return clone


def find_learning_rate(
    model: keras.Model,
    x,
    y=None,
    *,
    loss,
    optimizer="sgd",
    min_lr: float = 1e-6,
    max_lr: float = 10.0,
    steps: int = 200,
    batch_size: int = 32,
    smoothing: float = 0.98,
    divergence_factor: float = 4.0,
    out: str | os.PathLike | None = None,
    seed: int | None = None,
) -> LRFinderResult:
    """Run the learning-rate range test on `model` and suggest a learning rate.

    The model trains for up to `steps` updates on shuffled batches of `(x, y)` while
    the rate grows exponentially from `min_lr` to `max_lr`; the loss of every batch is
    recorded and smoothed. The run stops early when the smoothed loss exceeds
    `divergence_factor` times its lowest value, or a loss is NaN/inf. The test trains
    a clone of `model` holding its weights (see the module docstring): `model`, its
    weights, its optimizer and its compiled state are left untouched.

    The suggestion is the rate of steepest descent of the smoothed loss (see
    `suggest_learning_rate` for the exact rule and why): on the falling slope,
    where the loss drops fastest, well below the rate where it bottoms out. It is a
    constant rate for that optimizer and batch size; a schedule (warm-up, cosine)
    can use it as its peak.

    Args:
        model: A `keras.Model` that `keras.models.clone_model` can copy (Functional,
            Sequential, or subclassed with a complete `get_config`). An unbuilt
            model stays unbuilt; its clone starts from fresh weights.
        x: Training inputs: an array or a structure (list, dict) of arrays with the
            samples on the first axis.
        y: Targets with as many samples, or None for models whose loss needs none.
        loss: The loss, as for `compile`.
        optimizer: The optimizer whose rate is sought: a name (`"sgd"`, `"rmsprop"`,
            `"adam"`, `"adamw"`, built by `get_optimizer` with default settings) or
            a `keras.optimizers.Optimizer`, which is cloned (its other settings, such
            as momentum, kept) and left untouched. The suggestion holds for that
            optimizer only: Adam's good rates are ~100x smaller than plain SGD's.
        min_lr: The first rate (> 0).
        max_lr: The last rate (> `min_lr`).
        steps: Updates from `min_lr` to `max_lr` (>= 10). Batches are drawn without
            replacement, reshuffled every pass over the data; a last partial batch
            is dropped (all batches have one size, so one compiled step serves).
        batch_size: Samples per batch (>= 1; capped at the number of samples). Use
            the batch size you will train with: the best rate depends on it.
        smoothing: Decay of the exponential moving average of the loss, in [0, 1).
        divergence_factor: Stop when the smoothed loss exceeds this multiple of its
            lowest value (> 1).
        out: Path of a loss-vs-rate PNG (log x axis, the suggestion marked); the
            numbers go to a JSON beside it (same name, `.json`). None writes nothing.
        seed: Seed of the batch order (None: a fresh order each call).

    Returns:
        An `LRFinderResult`.

    Raises:
        ValueError: For a rate range that is not `0 < min_lr < max_lr`, `steps < 10`,
            an impossible `batch_size`, `smoothing`, `divergence_factor` or `seed`,
            empty data, `x` and `y` of different lengths, an unknown optimizer name,
            a `LossScaleOptimizer`, a model that cannot be cloned, or `out` ending
            in `.json`; and after the run
            (the model untouched) if the loss was NaN/inf on the first or second
            batch, too early for a curve.

    Warns:
        UserWarning: If the smoothed loss was still falling at `max_lr` (the range
            ends too early), or never fell below its first value (it starts too
            late; the suggestion is then `min_lr / 10`, a guess).
        TypeError: If `model` is not a Keras model or `optimizer` neither a name nor
            a Keras optimizer.

    Example:
        >>> result = find_learning_rate(model, x, y,
        ...                             loss="sparse_categorical_crossentropy",
        ...                             optimizer="sgd", out="runs/lr.png", seed=0)
        >>> model.compile(keras.optimizers.SGD(result.suggestion), ...)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"model must be a keras.Model; received {type(model).__name__}."
        )
    _check_range(min_lr, max_lr)
    _check_arguments(steps, batch_size, smoothing, divergence_factor, seed)
    if loss is None:
        raise ValueError("loss must be given (as for compile); received None.")
    if out is not None and Path(out).suffix.lower() == ".json":
        raise ValueError(
            f"out is the path of the plot (e.g. a .png); its JSON is written beside "
            f"it. Received {str(out)!r}."
        )
    x, y, num_samples = _as_arrays(x, y)
    schedule = ExponentialRangeSchedule(min_lr, max_lr, steps)
    finder_optimizer = _make_optimizer(optimizer, schedule)

    batch_size = min(batch_size, num_samples)
    batches_per_pass = num_samples // batch_size
    rng = np.random.default_rng(seed)

    def take(structure, index):
        if structure is None:
            return None
        return keras.tree.map_structure(lambda a: a[index], structure)

    trainee = _trainable_copy(model, take(x, np.arange(batch_size)))
    losses: list[float] = []
    diverged_lr = None
    rates = schedule.rates()
    trainee.compile(optimizer=finder_optimizer, loss=loss, metrics=[])
    best = math.inf
    average = 0.0
    order = np.empty(0, dtype="int64")
    with kb.seeded_global_generator(seed):
        for step in range(steps):
            position = step % batches_per_pass
            if position == 0:
                order = rng.permutation(num_samples)
            index = order[position * batch_size : (position + 1) * batch_size]
            logs = trainee.train_on_batch(
                take(x, index), take(y, index), return_dict=True
            )
            value = float(logs["loss"])
            if not math.isfinite(value):
                diverged_lr = float(rates[step])
                break
            losses.append(value)
            average = smoothing * average + (1.0 - smoothing) * value
            smoothed = average / (1.0 - smoothing ** (step + 1))
            best = min(best, smoothed)
            # A ratio to the best loss means something for positive losses only.
            if step > 0 and best > 0 and smoothed > divergence_factor * best:
                diverged_lr = float(rates[step])
                break
    del trainee

    if len(losses) < 2:
        raise ValueError(
            f"The loss was NaN/inf at update {len(losses)} (learning rate "
            f"{rates[len(losses)]:.3g}), too early for a curve: check the data for "
            f"NaN/inf values, or lower min_lr (received min_lr={min_lr!r})."
        )
    learning_rates = rates[: len(losses)]
    smoothed_losses = smooth_losses(losses, smoothing)
    suggestion, min_loss_lr, steepest_lr = suggest_learning_rate(
        learning_rates, smoothed_losses, smoothing
    )
    result = LRFinderResult(
        learning_rates=[float(v) for v in learning_rates],
        losses=[float(v) for v in losses],
        smoothed_losses=[float(v) for v in smoothed_losses],
        suggestion=float(suggestion),
        min_loss_lr=float(min_loss_lr),
        steepest_lr=steepest_lr,
        diverged_lr=diverged_lr,
        rule=SUGGESTION_RULE,
        optimizer=type(finder_optimizer).__name__,
    )
    lowest = int(np.argmin(smoothed_losses))
    if diverged_lr is None and lowest == len(losses) - 1:
        warnings.warn(
            "The smoothed loss was still falling at max_lr; the range may end too "
            f"early (received max_lr={max_lr!r}). Try a larger max_lr.",
            stacklevel=2,
        )
    elif lowest == 0:
        warnings.warn(
            "The smoothed loss never fell below its first value: the range starts "
            f"too high to show where training works; lower min_lr (received "
            f"min_lr={min_lr!r}). The suggestion (min_lr / 10) is a guess.",
            stacklevel=2,
        )
    if out is not None:
        result.plot_path = str(plot_lr_finder(result, out))
    return result
