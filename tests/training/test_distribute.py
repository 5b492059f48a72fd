"""Multi-device training: `kerasdl.training.distribute`, `TrainingConfig.distribution`.

The device count of a process is fixed when its backend starts, and this test
process has one CPU device. So the multi-device checks run in one fresh
subprocess per backend, with the CPU split into virtual devices, and print their
measurements as JSON:

* JAX (`XLA_FLAGS=--xla_force_host_platform_device_count=4`): data-parallel
  training on 4 devices follows the single-device per-step loss curve (same seed
  and data, no shuffling, no dropout) within `CURVE_RTOL`; a model-parallel
  Transformer block trains, and its attention and feed-forward kernels (and
  their Adam moments) are split over the 4 devices.
* TensorFlow (2 logical CPU devices via `use_virtual_cpu_devices`): a
  `MirroredStrategy` run follows the single-device curve within `CURVE_RTOL`.

Measured (2-core CPU, Keras 3.15.1): largest relative difference between the
12-step curves 2.3e-7 (JAX 0.10.2, 4 devices) and 1.5e-7 (TensorFlow 2.21, 2
devices): float32 rounding of the gradient all-reduce. `CURVE_RTOL = 1e-5`
leaves a 40x margin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from kerasdl.training import distribute
from kerasdl.training.config import TrainingConfig
from kerasdl.training.fit import train

BACKEND = keras.backend.backend()
#: Relative tolerance between single- and multi-device per-step losses.
CURVE_RTOL = 1e-5
JAX_DEVICES = 4
TF_DEVICES = 2


def jax_only(reason):
    skip = pytest.mark.skipif(BACKEND != "jax", reason=reason)
    return lambda test: pytest.mark.jax_only(skip(test))


def tf_only(reason):
    skip = pytest.mark.skipif(BACKEND != "tensorflow", reason=reason)
    return lambda test: pytest.mark.tensorflow_only(skip(test))


# -------------------------------------------------------------------------------------
# Worker code, run in a fresh subprocess (see `_run_worker`)
# -------------------------------------------------------------------------------------


class _StepLosses(keras.callbacks.Callback):
    """The logged loss after every batch (Keras logs the running epoch mean)."""

    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def _curve(distribution, how="scope", optimizer="adam"):
    """Per-step losses of a tiny MLP on fixed data; `how`: "scope" or "setup"."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 1)) + 0.1).astype("float32")
    config = TrainingConfig(
        optimizer=optimizer,
        learning_rate=0.02,
        seed=0,
        epochs=3,
        batch_size=16,
        checkpoint=False,
        csv_log=False,
        backup=False,
        verbose=0,
        distribution=distribution,
    )
    recorder = _StepLosses()

    def build_and_train():
        model = keras.Sequential(
            [
                keras.Input((6,)),
                keras.layers.Dense(16, activation="tanh"),
                keras.layers.Dense(1),
            ]
        )
        train(
            model, x, y, config=config, loss="mse", shuffle=False, callbacks=[recorder]
        )
        return model

    if how == "setup":
        config.setup()
        model = build_and_train()
        distribute.set_global_distribution(None)
    else:
        with config.scope():
            model = build_and_train()
    return recorder.losses, distribute.shard_shapes(model.weights[0])


def _error(fn) -> str:
    try:
        fn()
    except (ValueError, RuntimeError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


def _data_parallel_results() -> dict:
    start = time.perf_counter()
    single, single_shards = _curve(None)
    scoped, scoped_shards = _curve("data_parallel", how="scope")
    global_, _ = _curve("data_parallel", how="setup")
    return {
        "devices": distribute.list_devices(),
        "single": single,
        "scope": scoped,
        "setup": global_,
        "single_shards": single_shards,
        "scope_shards": scoped_shards,
        "after_setup": repr(distribute.current_distribution()),
        "too_many": _error(lambda: distribute.make_distribution(devices=8)),
        "odd_batch": _error(
            lambda: distribute.check_batches(
                distribute.num_replicas(distribute.make_distribution()), 5
            )
        ),
        "data_parallel_seconds": time.perf_counter() - start,
    }


def _jax_worker() -> dict:
    """4 virtual devices (XLA_FLAGS): data parallel, then model parallel."""
    from kerasdl.layers.transformer import TransformerDecoderBlock

    results = _data_parallel_results()
    distribute.use_virtual_cpu_devices(JAX_DEVICES)  # already so: a no-op
    results["resplit"] = _error(lambda: distribute.use_virtual_cpu_devices(2))
    results["hybrid_replicas"] = distribute.num_replicas(
        distribute.make_distribution("model_parallel", model_axis=2)
    )

    start = time.perf_counter()
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 17, size=(16, 8))
    targets = np.roll(tokens, -1, axis=1)
    config = TrainingConfig(
        optimizer="adam",
        learning_rate=0.02,
        seed=0,
        epochs=3,
        batch_size=8,
        checkpoint=False,
        csv_log=False,
        backup=False,
        verbose=0,
        distribution="model_parallel",
    )
    with config.scope():
        inputs = keras.Input((8,), dtype="int32")
        h = keras.layers.Embedding(17, 16, name="tokens")(inputs)
        h = TransformerDecoderBlock(num_heads=4, intermediate_dim=32, seed=0)(h)
        model = keras.Model(inputs, keras.layers.Dense(17, name="logits")(h))
        history = train(
            model,
            tokens,
            targets,
            config=config,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            shuffle=False,
        )
        weights = {
            v.path: {
                "spec": list(distribute.partition_spec(v)),
                "shards": distribute.shard_shapes(v),
            }
            for v in model.weights
        }
        moments = {
            v.path: list(distribute.partition_spec(v))
            for v in model.optimizer.variables
            if v.path.endswith("query_kernel_momentum")
        }
        bad_split = _error(
            lambda: TransformerDecoderBlock(num_heads=2, intermediate_dim=32)(
                keras.ops.zeros((4, 8, 16))
            )
        )
    results.update(
        {
            "mp_loss": history.history["loss"],
            "mp_weights": weights,
            "mp_moments": moments,
            "mp_bad_split": bad_split,
            "model_parallel_seconds": time.perf_counter() - start,
        }
    )
    return results


def _tensorflow_worker() -> dict:
    """2 logical CPU devices: MirroredStrategy against one device."""
    distribute.use_virtual_cpu_devices(TF_DEVICES)
    return _data_parallel_results()


def _run_worker(name: str, env_extra: dict) -> dict:
    env = {**os.environ, "KERAS_BACKEND": BACKEND, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.update(env_extra)
    code = (
        "import json, runpy, sys; "
        f"print('RESULT' + json.dumps(runpy.run_path(sys.argv[1])[{name!r}]()))"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    results = json.loads(lines[-1][len("RESULT") :])
    results["wall_seconds"] = time.perf_counter() - start
    print({k: round(v, 1) for k, v in results.items() if k.endswith("seconds")})
    return results


def _check_data_parallel(results: dict, devices: int) -> None:
    assert len(results["devices"]) == devices
    single = np.array(results["single"])
    assert len(single) == 12 and single[-1] < single[0]  # 3 epochs x 4 batches
    for how in ("scope", "setup"):
        gap = np.max(np.abs(np.array(results[how]) - single) / np.abs(single))
        print(f"{how}: largest relative gap to one device {gap:.1e}")
        np.testing.assert_allclose(results[how], single, rtol=CURVE_RTOL, atol=0)
    # Data parallel: a whole copy of the kernel on every device.
    assert results["single_shards"] == [[6, 16]]
    assert results["scope_shards"] == [[6, 16]] * devices
    assert results["after_setup"] == "None"  # set_global_distribution(None) cleared
    assert f"devices=8 but only {devices} device(s)" in results["too_many"]
    assert "batch_size=5" in results["odd_batch"]
    assert f"{devices} data-parallel replicas" in results["odd_batch"]


@pytest.mark.slow
@jax_only("keras.distribution's DataParallel/ModelParallel run on JAX only")
def test_jax_data_and_model_parallel_on_four_virtual_devices():
    results = _run_worker(
        "_jax_worker",
        {"XLA_FLAGS": f"--xla_force_host_platform_device_count={JAX_DEVICES}"},
    )
    _check_data_parallel(results, JAX_DEVICES)
    assert "already started with 4 CPU device(s)" in results["resplit"]
    assert results["hybrid_replicas"] == 2  # mesh (2, 2): batch split in two

    # Model parallel: the Transformer block trains ...
    loss = results["mp_loss"]
    assert loss[-1] < loss[0]
    # ... with its kernels split over the "model" axis (4 devices) ...
    weights = {
        "/".join(path.split("/")[-2:]): value
        for path, value in results["mp_weights"].items()
    }
    split = {
        "self_attention/query_kernel": ([None, "model", None], [16, 1, 4]),
        "self_attention/key_kernel": ([None, "model", None], [16, 1, 4]),
        "self_attention/value_kernel": ([None, "model", None], [16, 1, 4]),
        "self_attention/query_bias": (["model", None], [1, 4]),
        "self_attention/output_kernel": (["model", None, None], [1, 4, 16]),
        "ffn_intermediate/kernel": ([None, "model"], [16, 8]),
        "ffn_intermediate/bias": (["model"], [8]),
        "ffn_output/kernel": (["model", None], [8, 16]),
    }
    for name, (spec, shard) in split.items():
        assert weights[name]["spec"] == spec, name
        assert weights[name]["shards"] == [shard] * JAX_DEVICES, name
    # ... and everything else whole on every device.
    for name in (
        "tokens/embeddings",
        "self_attention/output_bias",
        "ffn_norm/gamma",
    ):
        assert set(map(tuple, weights[name]["shards"])) == {
            tuple(weights[name]["shards"][0])
        }
        assert weights[name]["spec"] == [None] * len(weights[name]["shards"][0])
    assert weights["logits/kernel"]["spec"] == [None, None]  # the output layer
    # The Adam moments follow their weights' layout.
    (moment_spec,) = results["mp_moments"].values()
    assert moment_spec == [None, "model", None]
    # Two heads cannot be split over four devices: a clear error, not XLA's.
    assert (
        "cannot be split along mesh axis 'model' (4 devices)"
        in (results["mp_bad_split"])
    )


@pytest.mark.slow
@tf_only("MirroredStrategy is the TensorFlow path (JAX: the test above)")
def test_tensorflow_mirrored_strategy_matches_one_device():
    results = _run_worker("_tensorflow_worker", {})
    _check_data_parallel(results, TF_DEVICES)


# -------------------------------------------------------------------------------------
# In this process (one device)
# -------------------------------------------------------------------------------------


@pytest.mark.torch_skip(
    "no keras.distribution on torch: test_torch_trains_on_one_device"
)
def test_config_distribution_is_validated():
    with pytest.raises(ValueError, match=r"distribution must be None or one of.*'ddp'"):
        TrainingConfig(distribution="ddp")
    config = TrainingConfig(distribution="data_parallel")
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert TrainingConfig().distribution is None


@pytest.mark.skipif(BACKEND != "torch", reason="the torch half of the seam")
def test_torch_trains_on_one_device():
    """Keras has no keras.distribution for torch: one device, nothing sharded, and
    every request for a distribution is one clear ValueError naming the backend."""
    assert distribute.make_distribution(None) is None
    assert distribute.current_distribution() is None
    for kind in ("data_parallel", "model_parallel"):
        with pytest.raises(ValueError, match="KERAS_BACKEND is 'torch'"):
            TrainingConfig(distribution=kind)
        with pytest.raises(ValueError, match="KERAS_BACKEND is 'torch'"):
            distribute.make_distribution(kind)
    distribute.check_batches(1, 30, train_samples=70)  # one device: any batch
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    assert distribute.shard_shapes(layer.kernel) == [(4, 3)]
    assert distribute.partition_spec(layer.kernel) == (None, None)


@tf_only("checks the error that model_parallel raises on TensorFlow")
def test_model_parallel_is_jax_only_on_tensorflow():
    with pytest.raises(ValueError, match="distribution='model_parallel' is JAX-only"):
        TrainingConfig(distribution="model_parallel")
    with pytest.raises(ValueError, match="kind='model_parallel' is JAX-only"):
        distribute.make_distribution("model_parallel")


@pytest.mark.torch_skip(
    "no keras.distribution on torch: test_torch_trains_on_one_device"
)
def test_make_distribution_rejects_bad_arguments():
    available = len(distribute.list_devices())
    assert distribute.make_distribution(None) is None
    with distribute.distributed_scope(None) as nothing:
        assert nothing is None
    with pytest.raises(ValueError, match=r"kind must be None or one of.*'pipeline'"):
        distribute.make_distribution("pipeline")
    with pytest.raises(
        ValueError, match=rf"devices={available + 1} but only {available} device"
    ):
        distribute.make_distribution(devices=available + 1)
    with pytest.raises(ValueError, match=r"unknown device\(s\) \['cpu:99'\]"):
        distribute.make_distribution(devices=["cpu:99"])
    with pytest.raises(ValueError, match="model_axis is for kind='model_parallel'"):
        distribute.make_distribution("data_parallel", model_axis=2)
    with pytest.raises(ValueError, match="`count` must be an integer >= 1"):
        distribute.use_virtual_cpu_devices(0)


@jax_only("model_parallel is JAX-only (TensorFlow raises: tested above)")
def test_model_parallel_arguments_and_layout_checks():
    with pytest.raises(
        ValueError, match="model_axis must divide the number of devices"
    ):
        distribute.make_distribution("model_parallel", model_axis=2)
    # A rule whose axes do not fit the weight's rank fails when the weight is made.
    rules = {r".*dense.*kernel": ("model",)}
    with distribute.distributed_scope("model_parallel", layout_map=rules):
        with pytest.raises(ValueError, match=r"has 1 axes but the weight has shape"):
            keras.layers.Dense(3, name="dense_probe").build((None, 4))
    assert distribute.current_distribution() is None  # the scope restored it


@pytest.mark.torch_skip(
    "no keras.distribution on torch: test_torch_trains_on_one_device"
)
def test_check_batches_names_the_uneven_batch():
    # As Keras's fit cuts a validation_split: floor for training (57.6 -> 57).
    assert distribute.validation_split_sizes(64, 0.1) == (57, 7)
    distribute.check_batches(4, 16, train_samples=64, validation_samples=8)
    distribute.check_batches(1, 7, train_samples=9)  # one replica: anything goes
    with pytest.raises(ValueError, match="batch_size=30 does not split over the 4"):
        distribute.check_batches(4, 30)
    with pytest.raises(ValueError, match="70 training samples .* last batch of 6"):
        distribute.check_batches(4, 16, train_samples=70)
    with pytest.raises(ValueError, match="10 validation samples .* last batch of 10"):
        distribute.check_batches(4, 16, train_samples=64, validation_samples=10)


@pytest.mark.torch_skip(
    "no keras.distribution on torch: test_torch_trains_on_one_device"
)
def test_train_refuses_a_model_built_outside_the_distribution(regression_data):
    x, y = regression_data
    config = TrainingConfig(
        epochs=1,
        batch_size=16,
        verbose=0,
        checkpoint=False,
        csv_log=False,
        backup=False,
        distribution="data_parallel",
    )
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="model's weights are on one device"):
        train(model, x, y, config=config, loss="mse")
