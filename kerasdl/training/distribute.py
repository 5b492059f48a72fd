"""Training on several devices: data parallel (both backends), model parallel (JAX).

Data parallel copies the weights to every device and splits the batch (JAX:
`keras.distribution.DataParallel`; TensorFlow: `tf.distribute.MirroredStrategy`);
model parallel (JAX only) also splits the weights named in a `LayoutMap` over a
`(batch, model)` mesh (`kerasdl.training.distribute_layouts`). This module holds the
device choice, `make_distribution`/`distributed_scope`, and the queries `train` makes
(replicas, even batches); the per-backend half is behind `kerasdl.backend`.

Weights are placed when they are created, so build the model inside the scope:

```python
with distributed_scope("data_parallel"):          # all devices
    model = build_model()
    train(model, x, y, config=config, loss="mse")  # batch_size % devices == 0
```

Without accelerators, `use_virtual_cpu_devices(4)` first thing in the process
splits the CPU, to check the pieces fit (not for speed). Every batch, the last
partial one included, must split evenly over the replicas (`check_batches`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping, Sequence

import keras

from kerasdl import backend as kb
from kerasdl._checks import check_int
from kerasdl.training.distribute_layouts import (
    BATCH_AXIS,
    MODEL_AXIS,
    TRANSFORMER_LAYOUT_RULES,
    CheckedModelParallel,
    transformer_layout_map,
)

__all__ = [
    "BATCH_AXIS",
    "DISTRIBUTIONS",
    "MODEL_AXIS",
    "TRANSFORMER_LAYOUT_RULES",
    "check_batches",
    "check_kind",
    "current_distribution",
    "distributed_scope",
    "list_devices",
    "make_distribution",
    "model_replicas",
    "model_scope",
    "num_replicas",
    "partition_spec",
    "set_global_distribution",
    "shard_shapes",
    "transformer_layout_map",
    "use_virtual_cpu_devices",
    "validation_split_sizes",
]

#: Values of `kind` (and of `TrainingConfig.distribution`, with None).
DISTRIBUTIONS = ("data_parallel", "model_parallel")


def check_kind(kind, name: str = "kind") -> str | None:
    """Return `kind` if it is None or a distribution this backend supports.

    Raises:
        ValueError: Naming `name` and the value, for an unknown name or
            `"model_parallel"` on a backend other than JAX.
    """
    if kind is not None and kind not in DISTRIBUTIONS:
        raise ValueError(
            f"{name} must be None or one of {list(DISTRIBUTIONS)}; received {kind!r}."
        )
    backend = kb.name()
    if kind is not None and kind not in kb.supported_distributions():
        if kind == "model_parallel":
            raise ValueError(
                f"{name}='model_parallel' is JAX-only (keras.distribution."
                f"ModelParallel); KERAS_BACKEND is {backend!r}. Use "
                "'data_parallel' (tf.distribute.MirroredStrategy on TensorFlow) or "
                "run with KERAS_BACKEND=jax."
            )
        raise ValueError(
            f"{name}={kind!r} needs the JAX or TensorFlow backend; KERAS_BACKEND is "
            f"{backend!r}."
        )
    return kind


# -------------------------------------------------------------------------------------
# Devices
# -------------------------------------------------------------------------------------


def list_devices() -> list[str]:
    """The devices training can use, as Keras names them (`"cpu:0"`, `"gpu:1"`...).

    Accelerators when there are any, else the CPU devices (one unless split with
    `use_virtual_cpu_devices`). Multi-host: the global devices of all processes.
    """
    return kb.distribution_impl().list_devices()


def use_virtual_cpu_devices(count: int) -> None:
    """Split the host CPU into `count` devices, to try distribution without a GPU.

    Must run before the backend starts its runtime (before any Keras or backend
    computation in the process). JAX: `jax_num_cpu_devices` (the same as
    `XLA_FLAGS=--xla_force_host_platform_device_count=count`); TensorFlow:
    `tf.config.set_logical_device_configuration` on the first CPU. A second call
    with the same count is a no-op.

    Args:
        count: Number of CPU devices (>= 1).

    Raises:
        ValueError: If `count` is not an integer >= 1.
        RuntimeError: If the runtime already started with another device count.
    """
    count = check_int("count", count)
    kb.distribution_impl().set_virtual_cpu_devices(count)


def _resolve_devices(devices) -> list[str]:
    available = list_devices()
    if devices is None:
        return available
    if (
        isinstance(devices, bool)
        or not isinstance(devices, int | Sequence)
        or (isinstance(devices, str))
    ):
        raise ValueError(
            "devices must be None (all), a number of devices or a list of device "
            f"names such as ['cpu:0', 'cpu:1']; received devices={devices!r}."
        )
    if isinstance(devices, int):
        count = check_int("devices", devices)
        if count > len(available):
            raise ValueError(
                f"devices={count} but only {len(available)} device(s) are available "
                f"({', '.join(available)}). Without accelerators, split the CPU "
                f"first: use_virtual_cpu_devices({count}) at the start of the "
                "process (JAX: or XLA_FLAGS=--xla_force_host_platform_device_count="
                f"{count})."
            )
        return available[:count]
    names = [str(name).lower() for name in devices]
    if not names:
        raise ValueError("devices is an empty list; give at least one device.")
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(
            f"devices names unknown device(s) {unknown}; the available devices are "
            f"{available}."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"devices lists a device twice; received {list(devices)}.")
    return names


# -------------------------------------------------------------------------------------
# Distributions
# -------------------------------------------------------------------------------------


def make_distribution(
    kind: str | None = "data_parallel",
    devices: int | Sequence[str] | None = None,
    model_axis: int | None = None,
    layout_map=None,
):
    """The backend's distribution object for `kind`.

    Args:
        kind: `"data_parallel"`, `"model_parallel"` (JAX only) or None (returns
            None: one device).
        devices: None (every device of `list_devices()`), a number `n` (the
            first `n`) or a list of device names (`["cpu:0", "cpu:2"]`).
        model_axis: Model parallel only: how many devices each weight is split
            over; default all of them (mesh `(1, n)`). Must divide the number of
            devices; the rest form the `batch` axis (mesh `(n // model_axis,
            model_axis)`), over which the batch is split.
        layout_map: Model parallel only: None (`transformer_layout_map`), a dict
            `{path_regex: axes}` applied to the mesh, a callable `mesh ->
            LayoutMap`, or a ready `keras.distribution.LayoutMap` (then its mesh
            is used and `devices`/`model_axis` must be None).

    Returns:
        JAX: a `keras.distribution.DataParallel` or `ModelParallel`; TensorFlow:
        a `tf.distribute.MirroredStrategy`; None for `kind=None`. Each has a
        `.scope()` context manager: build (and compile) the model inside it.

    Raises:
        ValueError: For an unknown `kind`, `"model_parallel"` on TensorFlow, more
            devices than exist, a `model_axis` that does not divide the device
            count, or model-parallel arguments with `"data_parallel"`.

    Example:
        >>> distribution = make_distribution("model_parallel", devices=4,
        ...                                  model_axis=2)  # mesh (2, 2)
        >>> with distribution.scope():
        ...     model = GPTLanguageModel(vocab_size=64, max_len=32)
    """
    kind = check_kind(kind)
    if kind is None:
        return None
    if kind == "data_parallel":
        for name, value in (("model_axis", model_axis), ("layout_map", layout_map)):
            if value is not None:
                raise ValueError(
                    f"{name} is for kind='model_parallel'; received {name}={value!r} "
                    "with kind='data_parallel'."
                )
        return kb.distribution_impl().make_data_parallel(_resolve_devices(devices))

    if isinstance(layout_map, keras.distribution.LayoutMap):
        if devices is not None or model_axis is not None:
            raise ValueError(
                "A ready LayoutMap brings its own DeviceMesh: pass devices=None and "
                f"model_axis=None; received devices={devices!r}, "
                f"model_axis={model_axis!r}."
            )
        return CheckedModelParallel(
            layout_map=layout_map, batch_dim_name=layout_map.device_mesh.axis_names[0]
        )
    names = _resolve_devices(devices)
    count = len(names)
    model_axis = check_int("model_axis", model_axis, allow_none=True)
    model_axis = count if model_axis is None else model_axis
    if count % model_axis:
        raise ValueError(
            f"model_axis must divide the number of devices ({count}); received "
            f"model_axis={model_axis}."
        )
    mesh = keras.distribution.DeviceMesh(
        shape=(count // model_axis, model_axis),
        axis_names=(BATCH_AXIS, MODEL_AXIS),
        devices=names,
    )
    if layout_map is None:
        layout_map = transformer_layout_map(mesh)
    elif isinstance(layout_map, Mapping):
        layout_map = transformer_layout_map(mesh, rules=layout_map)
    elif isinstance(layout_map, Callable):
        layout_map = layout_map(mesh)
        if not isinstance(layout_map, keras.distribution.LayoutMap):
            raise ValueError(
                "layout_map(mesh) must return a keras.distribution.LayoutMap; "
                f"received {type(layout_map).__name__}."
            )
    else:
        raise ValueError(
            "layout_map must be None, a dict {path_regex: axes}, a callable "
            "mesh -> LayoutMap or a keras.distribution.LayoutMap; received "
            f"{layout_map!r}."
        )
    return CheckedModelParallel(layout_map=layout_map, batch_dim_name=BATCH_AXIS)


@contextlib.contextmanager
def distributed_scope(
    kind: str | None = "data_parallel",
    devices: int | Sequence[str] | None = None,
    model_axis: int | None = None,
    layout_map=None,
):
    """Build, compile and train models inside this to spread them over devices.

    `make_distribution(kind, devices, model_axis, layout_map)`, entered: on JAX
    the Keras distribution becomes the current one (and the previous one is
    restored on exit); on TensorFlow the `MirroredStrategy` scope is entered.

    Yields:
        The distribution object (None for `kind=None`, which changes nothing).

    Example:
        >>> with distributed_scope("data_parallel", devices=4) as distribution:
        ...     model = build_model()
        ...     model.compile("adam", "mse")
        ...     model.fit(x, y, batch_size=32)  # 8 samples per device per step
    """
    distribution = make_distribution(kind, devices, model_axis, layout_map)
    if distribution is None:
        yield None
        return
    with distribution.scope():
        yield distribution


def current_distribution():
    """The distribution in force (JAX: `keras.distribution.distribution()`;
    TensorFlow: the strategy of the enclosing scope or the global one), or None."""
    return kb.distribution_impl().current_distribution()


def set_global_distribution(distribution) -> None:
    """Make `distribution` current for the rest of the process (None: clear it).

    JAX: `keras.distribution.set_distribution`; TensorFlow:
    `tf.distribute.experimental_set_strategy` (not allowed inside a scope).
    """
    kb.distribution_impl().set_global_distribution(distribution)


def num_replicas(distribution) -> int:
    """How many slices each batch is split into (1 for None).

    Data parallel: the number of devices; model parallel: the size of the mesh's
    `batch` axis.
    """
    if distribution is None:
        return 1
    return kb.distribution_impl().num_replicas(distribution)


def model_replicas(model: keras.Model) -> int | None:
    """The number of batch slices `model`'s distributed variables are set up for.

    None when the model's variables live on one device (it was built outside any
    distribution).

    Raises:
        ValueError: On JAX, if the variables are spread over devices but no
            matching distribution is current (the model was built in a scope
            that has been left).
    """
    return kb.distribution_impl().model_replicas(model)


def model_scope(model: keras.Model):
    """The context to create the model's optimizer in (its strategy's scope on
    TensorFlow; the current distribution on JAX)."""
    return kb.distribution_impl().model_scope(model)


def shard_shapes(variable) -> list[tuple[int, ...]]:
    """The shape of the part of `variable` each device stores, in device order.

    A replicated variable shows its whole shape on every device; a variable split
    over `m` devices along an axis shows that axis divided by `m`.
    """
    return kb.distribution_impl().shard_shapes(variable)


def partition_spec(variable) -> tuple:
    """For each dimension of `variable`, the mesh axis it is split along, or None.

    JAX: read from the array's `NamedSharding`; TensorFlow (mirrored): all None.
    """
    return kb.distribution_impl().partition_spec(variable)


def check_batches(
    replicas: int,
    batch_size: int,
    train_samples: int | None = None,
    validation_samples: int | None = None,
) -> None:
    """Check that every batch of a fit splits evenly over `replicas` replicas.

    Args:
        replicas: Data-parallel replicas (`num_replicas(...)`).
        batch_size: The batch size.
        train_samples: Number of training samples (array inputs), if known.
        validation_samples: Number of validation samples, if known.

    Raises:
        ValueError: If `batch_size` is not a multiple of `replicas`, or (on
            backends that need it, JAX and TensorFlow both) the last, partial
            batch of the training or validation samples is not.
    """
    if replicas <= 1:
        return
    if batch_size % replicas:
        raise ValueError(
            f"batch_size={batch_size} does not split over the {replicas} "
            f"data-parallel replicas (devices); use a multiple of {replicas}."
        )
    if (
        not kb.distribution_impl().EVEN_BATCHES_REQUIRED
    ):  # pragma: no cover - both backends need it
        return
    for what, samples in (
        ("training", train_samples),
        ("validation", validation_samples),
    ):
        if not samples:
            continue
        last = samples % batch_size
        if last % replicas:
            raise ValueError(
                f"{samples} {what} samples in batches of {batch_size} leave a last "
                f"batch of {last}, which does not split over the {replicas} "
                f"data-parallel replicas; use a number of {what} samples that "
                f"leaves a multiple of {replicas} (e.g. drop {last % replicas})."
            )


def validation_split_sizes(samples: int, validation_split: float) -> tuple[int, int]:
    """Training and validation sample counts as `fit`'s `validation_split` cuts
    them (Keras keeps the first `floor(samples * (1 - validation_split))`)."""
    train = int(math.floor(samples * (1.0 - validation_split)))
    return train, samples - train
