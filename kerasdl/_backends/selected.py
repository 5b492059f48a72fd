"""The backend implementation chosen once, at import, for the seam's modules:
`_impl` (gradients, train steps, compiled functions) and `_distribute_impl`
(multi-device training) of the Keras backend in use, or None where kerasdl has none
(distribution on torch).
"""

from __future__ import annotations

import keras

from kerasdl._backends import SUPPORTED_BACKENDS

BACKEND = keras.backend.backend()

if BACKEND == "tensorflow":
    from kerasdl._backends import distribute_tensorflow as _distribute_impl
    from kerasdl._backends import tensorflow as _impl
elif BACKEND == "jax":
    from kerasdl._backends import distribute_jax as _distribute_impl
    from kerasdl._backends import jax as _impl
elif BACKEND == "torch":
    from kerasdl._backends import torch as _impl

    # Keras has no `keras.distribution` implementation for torch.
    _distribute_impl = None
else:  # pragma: no cover - exercised only on unsupported backends
    _impl = _distribute_impl = None


def _require_impl(what: str):
    if _impl is None:
        raise NotImplementedError(
            f"{what} is implemented for the {', '.join(SUPPORTED_BACKENDS)} backends; "
            f"KERAS_BACKEND is {BACKEND!r}."
        )
    return _impl
