"""Reproducible runs: one call seeds everything Keras draws randomness from."""

from __future__ import annotations

import numbers

__all__ = ["set_seed"]


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy, the backend and Keras's global seed generator.

    Calls `kerasdl.backend.set_random_seed(seed)`, which seeds `random`,
    `numpy.random`, TensorFlow (when it is the backend or already loaded) and resets
    Keras's global `SeedGenerator` (weight initialisers, dropout and `fit`'s shuffling
    draw from these). With `deterministic=True` it also switches the backend to
    deterministic kernels through `kerasdl.backend.enable_determinism()` (TensorFlow op
    determinism; a no-op on JAX, whose CPU kernels are deterministic). That switch is
    process-wide and stays on.

    Call it before building the model: initial weights are drawn when layers are
    built.

    Args:
        seed: An integer >= 0.
        deterministic: Also make backend kernels deterministic.

    Raises:
        ValueError: If `seed` is not a non-negative integer or `deterministic` is not
            a bool.

    Example:
        >>> set_seed(42)
        >>> model = build_model()  # same initial weights on every run
    """
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; received {seed!r}.")
    if not isinstance(deterministic, bool):
        raise ValueError(
            f"deterministic must be True or False; received {deterministic!r}."
        )
    from kerasdl import backend as kbackend

    kbackend.set_random_seed(int(seed))
    if deterministic:
        kbackend.enable_determinism()
