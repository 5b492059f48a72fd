"""Learning-rate schedules: Keras's own, with the formula and the checks in one place.

Each function returns a `keras.optimizers.schedules.LearningRateSchedule`, which an
optimizer calls with its `iterations` (the number of updates so far, starting at 0).
Pass it as `learning_rate` to `get_optimizer` or any Keras optimizer.
"""

from __future__ import annotations

import inspect
import math
import numbers

import keras

__all__ = [
    "SCHEDULES",
    "cosine_annealing",
    "get_schedule",
    "step_decay",
    "warmup_cosine",
]

_schedules = keras.optimizers.schedules


def _float(name: str, value, *, low=None, high=None, low_open=False) -> float:
    """Return `value` as a float, checking it is finite and within bounds."""
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or (low is not None and (value <= low if low_open else value < low))
        or (high is not None and value > high)
    ):
        lo = "" if low is None else ("> " if low_open else ">= ") + str(low)
        hi = "" if high is None else "<= " + str(high)
        bounds = " and ".join(b for b in (lo, hi) if b)
        raise ValueError(
            f"{name} must be a finite number{' ' + bounds if bounds else ''}; "
            f"received {value!r}."
        )
    return float(value)


def _int(name: str, value, *, low: int) -> int:
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or value < low
    ):
        raise ValueError(f"{name} must be an integer >= {low}; received {value!r}.")
    return int(value)


def step_decay(
    initial_learning_rate: float, drop_every: int, factor: float = 0.5
) -> _schedules.LearningRateSchedule:
    """Multiply the learning rate by `factor` every `drop_every` steps.

    `lr(step) = initial_learning_rate * factor ** floor(step / drop_every)`

    Built on `keras.optimizers.schedules.ExponentialDecay(staircase=True)`.

    Args:
        initial_learning_rate: The rate for steps `0 .. drop_every - 1`; > 0.
        drop_every: Number of optimizer steps between drops; an integer >= 1.
        factor: The multiplier applied at each drop, in (0, 1].

    Returns:
        A `keras.optimizers.schedules.ExponentialDecay`.

    Example:
        >>> schedule = step_decay(0.1, drop_every=100, factor=0.5)
        >>> schedule(250)  # 0.1 * 0.5**2 = 0.025 (float32)
    """
    initial_learning_rate = _float(
        "initial_learning_rate", initial_learning_rate, low=0, low_open=True
    )
    drop_every = _int("drop_every", drop_every, low=1)
    factor = _float("factor", factor, low=0, high=1, low_open=True)
    return _schedules.ExponentialDecay(
        initial_learning_rate,
        decay_steps=drop_every,
        decay_rate=factor,
        staircase=True,
    )


def cosine_annealing(
    initial_learning_rate: float, decay_steps: int, alpha: float = 0.0
) -> _schedules.LearningRateSchedule:
    """Half a cosine from `initial_learning_rate` down to `alpha` times it.

    `lr(step) = initial_learning_rate * ((1 - alpha) * c + alpha)` with
    `c = 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))`; after
    `decay_steps` the rate stays at `alpha * initial_learning_rate`.

    Built on `keras.optimizers.schedules.CosineDecay`.

    Args:
        initial_learning_rate: The rate at step 0; > 0.
        decay_steps: Number of steps to decay over; an integer >= 1.
        alpha: The final rate as a fraction of the initial one, in [0, 1].

    Returns:
        A `keras.optimizers.schedules.CosineDecay`.

    Example:
        >>> cosine_annealing(0.1, decay_steps=100)(50)  # half-way: 0.1 / 2 = 0.05
    """
    initial_learning_rate = _float(
        "initial_learning_rate", initial_learning_rate, low=0, low_open=True
    )
    decay_steps = _int("decay_steps", decay_steps, low=1)
    alpha = _float("alpha", alpha, low=0, high=1)
    return _schedules.CosineDecay(initial_learning_rate, decay_steps, alpha=alpha)


def warmup_cosine(
    peak_learning_rate: float,
    warmup_steps: int,
    decay_steps: int,
    initial_learning_rate: float = 0.0,
    alpha: float = 0.0,
) -> _schedules.LearningRateSchedule:
    """Linear warm-up to `peak_learning_rate`, then cosine decay to `alpha * peak`.

    For `step < warmup_steps`:
    `lr(step) = initial_learning_rate
    + (peak_learning_rate - initial_learning_rate) * step / warmup_steps`.

    Afterwards, with `s = min(step - warmup_steps, decay_steps)`:
    `lr(step) = peak_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s /
    decay_steps)) + alpha)`.

    So the rate reaches the peak at `step == warmup_steps` and the floor
    `alpha * peak_learning_rate` at `step == warmup_steps + decay_steps`: the decay
    phase comes *after* the warm-up, and a run of `T` steps that should end at the
    floor uses `decay_steps = T - warmup_steps`.

    Built on `keras.optimizers.schedules.CosineDecay(warmup_target=...,
    warmup_steps=...)`, whose semantics these are.

    Args:
        peak_learning_rate: The rate at the end of the warm-up; > 0.
        warmup_steps: Length of the linear warm-up; an integer >= 0 (0 means none).
        decay_steps: Length of the cosine decay after the warm-up; an integer >= 1.
        initial_learning_rate: The rate at step 0, in [0, peak_learning_rate].
        alpha: The final rate as a fraction of the peak, in [0, 1].

    Returns:
        A `keras.optimizers.schedules.CosineDecay`.

    Example:
        >>> schedule = warmup_cosine(1e-3, warmup_steps=100, decay_steps=900)
        >>> schedule(50)  # half-way up the warm-up: 5e-4
        >>> schedule(100)  # the peak: 1e-3
    """
    peak_learning_rate = _float(
        "peak_learning_rate", peak_learning_rate, low=0, low_open=True
    )
    warmup_steps = _int("warmup_steps", warmup_steps, low=0)
    decay_steps = _int("decay_steps", decay_steps, low=1)
    initial_learning_rate = _float(
        "initial_learning_rate", initial_learning_rate, low=0, high=peak_learning_rate
    )
    alpha = _float("alpha", alpha, low=0, high=1)
    if warmup_steps == 0:
        # Keras would divide by zero in the (untaken) warm-up branch; no warm-up is
        # plain cosine decay from the peak.
        return _schedules.CosineDecay(peak_learning_rate, decay_steps, alpha=alpha)
    return _schedules.CosineDecay(
        initial_learning_rate,
        decay_steps,
        alpha=alpha,
        warmup_target=peak_learning_rate,
        warmup_steps=warmup_steps,
    )


#: Schedule names accepted by `get_schedule` and `TrainingConfig.schedule`.
SCHEDULES = {
    "step": step_decay,
    "cosine": cosine_annealing,
    "warmup_cosine": warmup_cosine,
}


def schedule_parameters(name: str) -> tuple[str, ...]:
    """The keyword arguments the schedule called `name` accepts."""
    return tuple(inspect.signature(SCHEDULES[name]).parameters)


def get_schedule(name: str, **kwargs) -> _schedules.LearningRateSchedule:
    """Build a schedule by name.

    Args:
        name: `"step"` (`step_decay`), `"cosine"` (`cosine_annealing`) or
            `"warmup_cosine"` (`warmup_cosine`).
        **kwargs: The arguments of that function.

    Returns:
        A `keras.optimizers.schedules.LearningRateSchedule`.

    Raises:
        ValueError: For an unknown name (the message lists the valid ones), an
            argument the schedule does not take, a missing one, or an impossible
            value.

    Example:
        >>> schedule = get_schedule("cosine", initial_learning_rate=0.1, decay_steps=10)
    """
    if name not in SCHEDULES:
        raise ValueError(
            f"schedule must be one of {sorted(SCHEDULES)}; received {name!r}."
        )
    accepted = schedule_parameters(name)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"schedule {name!r} takes {list(accepted)}; received unknown "
            f"argument(s) {unknown}."
        )
    try:
        inspect.signature(SCHEDULES[name]).bind(**kwargs)
    except TypeError as error:
        raise ValueError(f"schedule {name!r}: {error}.") from None
    return SCHEDULES[name](**kwargs)
