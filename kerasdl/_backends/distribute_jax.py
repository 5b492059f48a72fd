"""JAX side of `kerasdl.training.distribute` (Keras's `keras.distribution` API).

On JAX, Keras distributes with its own `keras.distribution` objects (a
`DataParallel` or `ModelParallel` over a `DeviceMesh`): variables created while one
is active get a `jax.sharding.NamedSharding`, and `fit` shards every batch along
the mesh's batch axis. This module only does what needs JAX itself: splitting the
host CPU into virtual devices and reading the shardings back.
"""

from __future__ import annotations

import contextlib

import jax
import keras

#: The distribution kinds JAX trains with.
DISTRIBUTIONS = ("data_parallel", "model_parallel")

#: Every batch must split evenly over the data-parallel replicas (JAX cannot shard
#: a batch of 6 over 4 devices, and a failed step leaves the model unusable).
EVEN_BATCHES_REQUIRED = True


def list_devices() -> list[str]:
    """The devices training can use, as Keras names them (`"cpu:0"`, `"gpu:1"`)."""
    return list(keras.distribution.list_devices())


def set_virtual_cpu_devices(count: int) -> None:
    """Split the host CPU into `count` JAX devices (before JAX starts its runtime)."""
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError:
        have = jax.device_count("cpu")
        if have == count:
            return
        raise RuntimeError(
            f"Cannot split the CPU into {count} devices: JAX has already started with "
            f"{have} CPU device(s) in this process. Call use_virtual_cpu_devices "
            "before any JAX or Keras computation, or start Python with "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={count}."
        ) from None


def make_data_parallel(devices: list[str]):
    """A `keras.distribution.DataParallel` over Keras device names."""
    return keras.distribution.DataParallel(devices=devices)


def current_distribution():
    """The active `keras.distribution.Distribution`, or None."""
    return keras.distribution.distribution()


def set_global_distribution(distribution) -> None:
    keras.distribution.set_distribution(distribution)


def num_replicas(distribution) -> int:
    """Data-parallel replicas: the size of the mesh's batch axis."""
    return int(distribution.num_model_replicas)


def model_replicas(model):
    """Batch slices the model's variables are laid out for (None: one device)."""
    meshes = set()
    for variable in model.weights:
        sharding = getattr(variable.value, "sharding", None)
        if not isinstance(sharding, jax.sharding.NamedSharding):
            return None
        meshes.add(sharding.mesh.devices.size)
    distribution = current_distribution()
    if not meshes:  # not built yet: `fit` builds it under the current distribution
        return None if distribution is None else num_replicas(distribution)
    if distribution is None or meshes != {distribution.device_mesh.devices.size}:
        raise ValueError(
            f"The model's variables are spread over a mesh of {sorted(meshes)} "
            "device(s), but the current keras distribution is "
            f"{distribution!r}: train inside the scope the model was built in "
            "(`with config.scope():` / `with distributed_scope(...):`)."
        )
    return num_replicas(distribution)


def model_scope(model):
    """Context to compile `model` in: the active distribution's, if any."""
    distribution = current_distribution()
    if distribution is None:
        return contextlib.nullcontext()
    return distribution.scope()


def shard_shapes(variable) -> list[tuple[int, ...]]:
    """The shape of the part of `variable` each device holds, in device order."""
    value = variable.value
    shards = sorted(value.addressable_shards, key=lambda shard: shard.device.id)
    return [tuple(int(d) for d in shard.data.shape) for shard in shards]


def partition_spec(variable):
    """The mesh axis each dimension of `variable` is split along (None: whole)."""
    sharding = getattr(variable.value, "sharding", None)
    if not isinstance(sharding, jax.sharding.NamedSharding):
        return (None,) * len(variable.shape)
    spec = tuple(sharding.spec) + (None,) * (len(variable.shape) - len(sharding.spec))
    return spec
