"""The learning-rate range test's pieces: its schedule, its result and its curve.

`ExponentialRangeSchedule` (the rate that grows during the test), `LRFinderResult`,
the bias-corrected smoothing of the losses, the rule that picks the suggestion
(`SUGGESTION_RULE`) and the loss-vs-rate plot. `kerasdl.training.lr_finder` runs the
test with them.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from kerasdl._checks import is_number

__all__ = [
    "SUGGESTION_RULE",
    "ExponentialRangeSchedule",
    "LRFinderResult",
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
        if not is_number(steps, integer=True) or steps < 2:
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
