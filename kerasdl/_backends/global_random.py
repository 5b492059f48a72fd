"""The global random generators Keras draws from besides its `SeedGenerator`s.

Keras's layers draw from their own `SeedGenerator` state, except that (a) its data
adapters shuffle with NumPy's global generator (JAX, TensorFlow) or torch's (torch),
and (b) on torch an unseeded `Dropout` draws its mask from torch's global generator.
Code that promises the same draws for the same seed (a reused compiled model in
cross-validation, the LR finder) saves, restores or seeds these here.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np

from kerasdl._backends.selected import _impl


def global_random_state():
    """Python's, NumPy's and the backend's own global generator states, as one
    opaque value for `set_global_random_state`."""
    own = getattr(_impl, "global_generator_state", None)
    return random.getstate(), np.random.get_state(), None if own is None else own()


def set_global_random_state(state) -> None:
    """Restore what `global_random_state()` returned."""
    python_state, numpy_state, own = state
    random.setstate(python_state)
    np.random.set_state(numpy_state)
    if own is not None:
        _impl.set_global_generator_state(own)


def seeded_global_generator(seed: int | None):
    """Context in which the backend's own global generator is seeded with `seed`
    and restored on exit; a no-op for `seed=None` and on backends whose layers do
    not draw from one (TensorFlow, JAX)."""
    if seed is None or not hasattr(_impl, "global_generator_state"):
        return contextlib.nullcontext()
    return _seeded(int(seed))


@contextlib.contextmanager
def _seeded(seed: int):
    state = _impl.global_generator_state()
    _impl.seed_global_generator(seed)
    try:
        yield
    finally:
        _impl.set_global_generator_state(state)
