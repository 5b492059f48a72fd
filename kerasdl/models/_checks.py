"""Argument checks shared by the model builders: one message for each mistake."""

from __future__ import annotations

from kerasdl._checks import check_int

__all__ = ["check_int", "check_sample_shape"]


def check_sample_shape(input_shape, name="input_shape"):
    """The shape of one sample (no batch axis) as a tuple of positive ints.

    An int is taken as a 1-D shape. Anything else raises a ValueError naming `name`.
    """
    if isinstance(input_shape, int) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) == 0
        or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1
            for d in input_shape
        )
    ):
        raise ValueError(
            f"`{name}` must be a non-empty tuple of positive integers (one sample, "
            f"no batch axis); received {name}={input_shape!r}."
        )
    return tuple(int(d) for d in input_shape)
