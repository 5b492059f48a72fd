"""The learning-rate range test: find a learning rate before training.

Leslie Smith's range test ("Cyclical Learning Rates for Training Neural Networks",
2017), as fastai popularised it: train the model for a few hundred optimizer updates
while the learning rate grows exponentially from `min_lr` to `max_lr`, and record the
loss of every batch. At first the rate is too small to change anything; then the
loss falls, faster and faster; past some rate the updates overshoot and the loss
climbs and explodes. A good rate lies on the falling slope, well before the minimum.

```python
from kerasdl.training import find_learning_rate

result = find_learning_rate(model, x_train, y_train,
                            loss="sparse_categorical_crossentropy",
                            optimizer="adam", out="runs/lr_finder.png")
model.compile(keras.optimizers.Adam(result.suggestion), ...)
```

How it is built, and why that way:

- The rate comes from a `keras.optimizers.schedules.LearningRateSchedule`
  (`ExponentialRangeSchedule`) that the optimizer evaluates from its own `iterations`
  counter inside the compiled train step. That is the robust way on every backend:
  the rate is part of the (jitted) step and of the optimizer state the JAX trainer
  threads through it. A callback that assigns `optimizer.learning_rate` between
  batches also works with Keras 3.15's JAX `fit` (it re-reads the variables after
  callbacks run), but only because of that re-reading, which the stateless step
  does not promise. The test that the rate reported is the rate applied runs on
  each backend.
- Batches go through `model.train_on_batch`, which resets the metrics before each
  batch, so the loss recorded is that batch's loss (`fit` logs a running mean). It
  is the loss of the batch *before* the update made with the rate recorded beside
  it, and it includes the model's regularisation losses.
- The model is trained in place, then put back: every variable (weights, batch-norm
  statistics, seed-generator states) gets its original value back, exactly, and the
  attributes `compile` and `train_on_batch` set (the optimizer, loss, metrics and
  train functions) are restored, so a compiled model keeps its own optimizer and its
  optimizer state, and an uncompiled one is uncompiled again. The optimizer given
  here is never the one the model trains with afterwards: an instance is cloned.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from kerasdl.training import optimizers as _optimizers

__all__ = [
    "SUGGESTION_RULE",
    "ExponentialRangeSchedule",
    "LRFinderResult",
    "find_learning_rate",
    "plot_lr_finder",
    "smooth_losses",
    "suggest_learning_rate",
]

#: How `find_learning_rate` picks `LRFinderResult.suggestion` (also in the JSON).
SUGGESTION_RULE = (
    "steepest descent: the learning rate at which the smoothed loss falls fastest "
    "per unit of log(lr), searched after the smoothing's warm-up (the first "
    "min(1 / (1 - smoothing), n / 4) points are skipped) and up to the lowest smoothed "
    "loss; min_loss_lr / 10 when that stretch is empty"
)

# Attributes of a Keras 3 `Model` that `compile` and `train_on_batch` (re)assign
# (read from keras/src/trainers/trainer.py and the backends' trainers). They are put
# back as they were, so the range test leaves the model's compiled state untouched.
_COMPILE_ATTRIBUTES = (
    "compiled",
    "optimizer",
    "loss",
    "_compile_loss",
    "_compile_metrics",
    "_loss_tracker",
    "_compile_config",
    "_compiled_trainable_state",
    "_jit_compile",
    "_run_eagerly",
    "steps_per_execution",
    "stop_training",
    "train_function",
    "test_function",
    "predict_function",
    "_jax_state",
    "_jax_state_synced",
)


@keras.saving.register_keras_serializable(package="kerasdl")
class ExponentialRangeSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate growing exponentially from `min_lr` to `max_lr`.

    At optimizer update `i` (the optimizer's `iterations`, counted from 0) the rate is
    `min_lr * (max_lr / min_lr) ** (i / (steps - 1))`: `min_lr` for the first update,
    `max_lr` for update `steps - 1`, equal ratios in between, and `max_lr` after.

    Args:
        min_lr: The first rate (> 0).
        max_lr: The rate at update `steps - 1` (> `min_lr`).
        steps: Updates from `min_lr` to `max_lr` (>= 2).

    Example:
        >>> schedule = ExponentialRangeSchedule(1e-6, 10.0, steps=200)
        >>> optimizer = keras.optimizers.SGD(learning_rate=schedule)
    """

    def __init__(self, min_lr: float, max_lr: float, steps: int):
        _check_range(min_lr, max_lr)
        if not _is_int(steps) or steps < 2:
            raise ValueError(f"steps must be an integer >= 2; received {steps!r}.")
        self.min_lr = float(min_lr)
        self.max_lr = float(max_lr)
        self.steps = int(steps)

    def __call__(self, step):
        fraction = keras.ops.minimum(
            keras.ops.cast(step, "float32") / float(self.steps - 1), 1.0
        )
        log_ratio = math.log(self.max_lr / self.min_lr)
        return self.min_lr * keras.ops.exp(fraction * log_ratio)

    def rates(self, num: int | None = None) -> np.ndarray:
        """The rates of updates `0 .. num - 1` (default: `steps`), as float64."""
        num = self.steps if num is None else num
        fraction = np.minimum(np.arange(num, dtype="float64") / (self.steps - 1), 1.0)
        return self.min_lr * (self.max_lr / self.min_lr) ** fraction

    def get_config(self):
        return {"min_lr": self.min_lr, "max_lr": self.max_lr, "steps": self.steps}


@dataclass
class LRFinderResult:
    """What a learning-rate range test measured and suggests.

    Attributes:
        learning_rates: The rate of each recorded update, in order.
        losses: The loss of each batch, measured before the update made with the
            rate at the same index (finite values only: the run stops at the first
            NaN/inf).
        smoothed_losses: `losses` after bias-corrected exponential smoothing.
        suggestion: The suggested learning rate (see `rule`).
        min_loss_lr: The rate at which the smoothed loss was lowest.
        steepest_lr: The rate at which the smoothed loss fell fastest per unit of
            `log(lr)`, before its minimum and after the smoothing's warm-up; None
            when that stretch is empty.
        diverged_lr: The rate at which the run stopped because the smoothed loss
            exceeded `divergence_factor` times its best (or a loss was NaN/inf), or
            None if it ran all `steps`.
        rule: How `suggestion` was chosen, in words.
        optimizer: The class name of the optimizer the test ran with.
        plot_path: The PNG written (its JSON beside it), or None.
    """

    learning_rates: list[float]
    losses: list[float]
    smoothed_losses: list[float]
    suggestion: float
    min_loss_lr: float
    steepest_lr: float | None
    diverged_lr: float | None = None
    rule: str = SUGGESTION_RULE
    optimizer: str = ""
    plot_path: str | None = field(default=None)

    def to_dict(self) -> dict:
        """The result as a JSON-serialisable dict (the JSON written beside the PNG)."""
        return asdict(self)


# -------------------------------------------------------------------------------------
# Validation
# -------------------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_range(min_lr, max_lr) -> None:
    for name, value in (("min_lr", min_lr), ("max_lr", max_lr)):
        if not _is_real(value) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0; received {value!r}.")
    if min_lr >= max_lr:
        raise ValueError(
            "min_lr must be smaller than max_lr; received "
            f"min_lr={min_lr!r} and max_lr={max_lr!r}."
        )


def _check_arguments(steps, batch_size, smoothing, divergence_factor, seed) -> None:
    if not _is_int(steps) or steps < 10:
        raise ValueError(
            "steps must be an integer >= 10 (a curve needs points); "
            f"received {steps!r}."
        )
    if not _is_int(batch_size) or batch_size < 1:
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
    if seed is not None and (not _is_int(seed) or seed < 0):
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


# -------------------------------------------------------------------------------------
# The curve and the suggestion
# -------------------------------------------------------------------------------------


def smooth_losses(losses, smoothing: float) -> np.ndarray:
    """Bias-corrected exponential moving average, as Adam corrects its moments.

    `avg_i = smoothing * avg_{i-1} + (1 - smoothing) * loss_i` from `avg_{-1} = 0`,
    divided by `1 - smoothing ** (i + 1)` so that early values are not pulled to 0.

    Args:
        losses: The raw losses, in order.
        smoothing: The decay in [0, 1); 0 returns the losses unchanged.

    Returns:
        A float64 array shaped like `losses`.
    """
    out = np.empty(len(losses), dtype="float64")
    average = 0.0
    for i, loss in enumerate(losses):
        average = smoothing * average + (1.0 - smoothing) * float(loss)
        out[i] = average / (1.0 - smoothing ** (i + 1))
    return out


def suggest_learning_rate(learning_rates, smoothed_losses, smoothing: float):
    """Pick a learning rate from a range test's smoothed curve (`SUGGESTION_RULE`).

    The rule is steepest descent: the rate at which the smoothed loss falls fastest
    against `log(lr)`, where one step of the rate buys the largest drop of the
    loss. Only the stretch before the lowest smoothed loss counts (after it the
    loss rises), and the first `min(1 / (1 - smoothing), n / 4)` points are skipped:
    there the moving average still follows a handful of batches, and its noise
    would pass for slope. If the lowest loss comes before that warm-up ends, the
    suggestion falls back to `min_loss_lr / 10`, fastai's older rule.

    Why this rule: the exponential moving average lags the raw loss by about
    `smoothing / (1 - smoothing)` updates (49 at 0.98: 1.7 decades of rates at the
    default 200 steps over 7 decades), so the lowest *smoothed* loss sits at a rate
    already past the best one, at a ratio that depends on the optimizer. Measured
    on digits (the default `MLP`, 20 epochs of batch 32, 3 seeds, a grid of constant
    rates): test accuracy was best near 0.3 for plain SGD, ~5x below its lowest
    smoothed loss (1.2-1.8), and near 3e-3 for Adam, ~20x below (0.06-0.07), so no
    fixed divisor of `min_loss_lr` suits both; the steepest point (0.08-0.17 for
    SGD, 2.6e-3-4.5e-3 for Adam) fell in the best decade for both.
    `benchmarks/bench_lr_finder.py` trains with the suggestion.

    Args:
        learning_rates: The rates, increasing.
        smoothed_losses: The smoothed loss at each rate.
        smoothing: The smoothing the curve was made with, in [0, 1).

    Returns:
        `(suggestion, min_loss_lr, steepest_lr)`; `steepest_lr` is None when the
        fallback applies.
    """
    lrs = np.asarray(learning_rates, dtype="float64")
    smoothed = np.asarray(smoothed_losses, dtype="float64")
    best = int(np.argmin(smoothed))
    min_loss_lr = float(lrs[best])
    warmup = int(min(round(1.0 / (1.0 - smoothing)), len(lrs) // 4))
    if best - warmup >= 2:
        slope = np.gradient(smoothed[: best + 1], np.log(lrs[: best + 1]))
        steepest = warmup + int(np.argmin(slope[warmup:]))
        steepest_lr = float(lrs[steepest])
        return steepest_lr, min_loss_lr, steepest_lr
    return min_loss_lr / 10.0, min_loss_lr, None


# -------------------------------------------------------------------------------------
# The range test
# -------------------------------------------------------------------------------------


def _snapshot_compile_state(model) -> dict:
    return {k: model.__dict__[k] for k in _COMPILE_ATTRIBUTES if k in model.__dict__}


def _restore_compile_state(model, snapshot: dict) -> None:
    # Written to `__dict__` directly: `Layer.__setattr__` would track the restored
    # metrics (the loss tracker) as the model's own a second time.
    for key in _COMPILE_ATTRIBUTES:
        if key in snapshot:
            model.__dict__[key] = snapshot[key]
        else:
            model.__dict__.pop(key, None)


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
    `divergence_factor` times its lowest value, or a loss is NaN/inf. Afterwards the
    model's variables and compiled state are restored exactly (see the module
    docstring), so the model can be compiled and trained as if nothing had happened.

    The suggestion is the rate of steepest descent of the smoothed loss (see
    `suggest_learning_rate` for the exact rule and why): on the falling slope,
    where the loss drops fastest, well below the rate where it bottoms out. It is a
    constant rate for that optimizer and batch size; a schedule (warm-up, cosine)
    can use it as its peak.

    Args:
        model: A `keras.Model`. An unbuilt model is built on the first batch.
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
            a `LossScaleOptimizer`, or `out` ending in `.json`; and after the run
            (the model restored) if the loss was NaN/inf on the first or second
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

    if not model.built:
        model(take(x, np.arange(batch_size)))
    originals = [np.array(keras.ops.convert_to_numpy(v.value)) for v in model.variables]
    snapshot = _snapshot_compile_state(model)
    losses: list[float] = []
    diverged_lr = None
    rates = schedule.rates()
    try:
        model.compile(optimizer=finder_optimizer, loss=loss, metrics=[])
        best = math.inf
        average = 0.0
        order = np.empty(0, dtype="int64")
        for step in range(steps):
            position = step % batches_per_pass
            if position == 0:
                order = rng.permutation(num_samples)
            index = order[position * batch_size : (position + 1) * batch_size]
            logs = model.train_on_batch(
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
    finally:
        for variable, value in zip(model.variables, originals):
            variable.assign(value)
        _restore_compile_state(model, snapshot)

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


def plot_lr_finder(result: LRFinderResult, path) -> Path:
    """Plot loss against learning rate (log x axis) to a PNG and the numbers to JSON.

    Args:
        result: An `LRFinderResult`.
        path: Destination PNG (parent folders are created); the JSON of
            `result.to_dict()` goes beside it with the suffix `.json`.

    Returns:
        The `pathlib.Path` of the PNG.
    """
    from kerasdl.plotting import plt, save_figure

    path = Path(path)
    lrs = np.asarray(result.learning_rates)
    smoothed = np.asarray(result.smoothed_losses)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(lrs, result.losses, color="0.75", linewidth=0.8, label="batch loss")
    ax.plot(lrs, smoothed, color="C0", linewidth=1.8, label="smoothed loss")
    marks = (
        (result.suggestion, "C3", f"suggestion {result.suggestion:.3g}"),
        (result.min_loss_lr, "C2", f"lowest smoothed loss {result.min_loss_lr:.3g}"),
    )
    for rate, color, label in marks:
        ax.axvline(rate, color=color, linestyle="--", linewidth=1.2, label=label)
        ax.plot(
            [rate], [np.interp(np.log(rate), np.log(lrs), smoothed)], "o", color=color
        )
    if result.diverged_lr is not None:
        ax.axvline(
            result.diverged_lr, color="0.4", linestyle=":", label="stopped: diverged"
        )
    # Keep the divergence from squashing the interesting part of the curve.
    # The y range: the smoothed curve up to its minimum and the batch losses there.
    best = int(np.argmin(smoothed)) + 1
    low = float(min(np.min(smoothed), np.min(result.losses[:best])))
    high = float(np.max(smoothed[:best]))
    margin = 0.05 * (high - low) if high > low else 0.1 * abs(high) + 1e-3
    ax.set_ylim(low - margin, high + 4 * margin)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title(f"Learning-rate range test ({result.optimizer})")
    ax.legend(fontsize="small")
    fig.tight_layout()
    result_dict = dict(result.to_dict(), plot_path=str(path))
    png = save_figure(fig, path)
    png.with_suffix(".json").write_text(json.dumps(result_dict, indent=2))
    return png
