"""PyTorch side of `kerasdl.training.distribute`: no distribution.

Keras has no `keras.distribution` implementation for torch (its `list_devices` and
`DataParallel` are JAX-only), and kerasdl does not wrap `torch.distributed` itself.
A model on torch trains on one device: every query answers "one device, nothing
sharded", and asking for a distribution is a one-line `ValueError`.
"""

from __future__ import annotations

import contextlib

import torch

#: The distribution kinds torch trains with (none).
DISTRIBUTIONS: tuple[str, ...] = ()

EVEN_BATCHES_REQUIRED = False

_NO_DISTRIBUTION = (
    "Keras has no keras.distribution for the torch backend; "
    "KERAS_BACKEND is 'torch'. Train distributed with KERAS_BACKEND=jax "
    "(data_parallel, model_parallel) or tensorflow (data_parallel)."
)


def list_devices() -> list[str]:
    """The devices Keras on torch computes on, Keras-style (`"gpu:0"` or `"cpu:0"`)."""
    if torch.cuda.is_available():
        return [f"gpu:{i}" for i in range(torch.cuda.device_count())]
    return ["cpu:0"]


def set_virtual_cpu_devices(count: int) -> None:
    raise ValueError(f"{_NO_DISTRIBUTION} (received count={count!r}.)")


def make_data_parallel(devices: list[str]):
    raise ValueError(f"{_NO_DISTRIBUTION} (received devices={devices!r}.)")


def current_distribution():
    return None


def set_global_distribution(distribution) -> None:
    if distribution is not None:
        raise ValueError(f"{_NO_DISTRIBUTION} (received {distribution!r}.)")


def num_replicas(distribution) -> int:
    return 1


def model_replicas(model):
    return None


def model_scope(model):
    return contextlib.nullcontext()


def shard_shapes(variable) -> list[tuple[int, ...]]:
    return [tuple(int(d) for d in variable.shape)]


def partition_spec(variable):
    return (None,) * len(variable.shape)
