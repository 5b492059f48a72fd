"""TensorFlow side of `kerasdl.training.distribute`: `tf.distribute.MirroredStrategy`.

Keras's `keras.distribution` API is JAX-only (its TensorFlow half is marked "do
not use"); on TensorFlow, Keras's trainer runs on the `tf.distribute` strategy a
model was created under. A `MirroredStrategy` keeps one copy of every variable on
each device (a `MirroredVariable`), runs the step on each replica's slice of the
batch and all-reduces the gradients: synchronous data parallelism.
"""

from __future__ import annotations

import keras
import tensorflow as tf

#: The distribution kinds TensorFlow trains with (`keras.distribution` is JAX-only).
DISTRIBUTIONS = ("data_parallel",)

#: Every batch must split evenly over the replicas: Keras's TensorFlow trainer sums
#: the replicas' first evaluation batch to build the metrics, which fails for
#: slices of different sizes.
EVEN_BATCHES_REQUIRED = True


def list_devices() -> list[str]:
    """The devices training can use, as Keras names them (`"cpu:0"`, `"gpu:1"`)."""
    return list(keras.distribution.list_devices())


def set_virtual_cpu_devices(count: int) -> None:
    """Split the first physical CPU into `count` logical devices (before TF starts)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError:
        have = len(tf.config.list_logical_devices("CPU"))
        if have == count:
            return
        raise RuntimeError(
            f"Cannot split the CPU into {count} devices: TensorFlow has already "
            f"started with {have} logical CPU device(s) in this process. Call "
            "use_virtual_cpu_devices before any TensorFlow or Keras computation."
        ) from None


def make_data_parallel(devices: list[str]):
    """A `MirroredStrategy` over Keras device names such as `"cpu:0"`, `"gpu:1"`."""
    return tf.distribute.MirroredStrategy(devices=[f"/{name}" for name in devices])


def current_distribution():
    """The strategy in force (a scope or the global one), or None for the default."""
    return tf.distribute.get_strategy() if tf.distribute.has_strategy() else None


def set_global_distribution(strategy) -> None:
    tf.distribute.experimental_set_strategy(strategy)


def num_replicas(strategy) -> int:
    return int(strategy.num_replicas_in_sync)


def model_replicas(model):
    """Replicas the model's variables are mirrored over (None: not distributed)."""
    if not model.weights:
        # Not built yet: `fit` builds it under the strategy Keras's trainer took
        # from the scope the model was created in (None outside any).
        strategy = getattr(model, "_distribute_strategy", None)
        return None if strategy is None else num_replicas(strategy)
    for variable in model.weights:
        if not isinstance(variable.value, tf.distribute.DistributedValues):
            return None
    return num_replicas(model.distribute_strategy)


def model_scope(model):
    """Context to compile `model` in: its strategy's scope.

    The optimizer's variables must be created under the strategy of the model's
    variables, or `fit` fails with "Mixing different tf.distribute.Strategy
    objects".
    """
    return model.distribute_strategy.scope()


def shard_shapes(variable) -> list[tuple[int, ...]]:
    """The shape of the copy of `variable` each device holds (whole: mirrored)."""
    value = variable.value
    if isinstance(value, tf.distribute.DistributedValues):
        return [tuple(int(d) for d in part.shape) for part in value.values]
    return [tuple(int(d) for d in variable.shape)]


def partition_spec(variable):
    """Mirrored variables are whole on every device."""
    return (None,) * len(variable.shape)
