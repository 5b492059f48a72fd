"""Argument checks shared across kerasdl: one message for each mistake, naming the
argument and the value received. NumPy only (no Keras), so keras-free modules such as
`kerasdl.rl.q_learning` can use them."""

from __future__ import annotations

import math
import numbers


def check_int(name, value, minimum=1, allow_none=False):
    """Return `value` as an int >= `minimum` (or None when allowed); else ValueError."""
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}; received {name}={value!r}."
        )
    return int(value)


def check_float(
    name, value, low=-math.inf, high=math.inf, low_open=False, high_open=False
):
    """Return `value` as a finite float in the interval from `low` to `high` (each end
    closed unless `low_open`/`high_open`); else ValueError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or (value <= low if low_open else value < low)
        or (value >= high if high_open else value > high)
    ):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(
            f"`{name}` must be a number in {interval}; received {name}={value!r}."
        )
    return float(value)
