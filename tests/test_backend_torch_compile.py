"""torch only: hot functions of the seam (an RL agent's update and acting) run eagerly
for a warm-up, then through `torch.compile`, with the same results."""

import keras
import numpy as np
import pytest
from keras import ops

from kerasdl import backend as kb

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch",
    reason="the warm-up-then-compile tiering exists on torch only",
)


@pytest.fixture
def impl():
    from kerasdl._backends import torch as impl

    return impl


@pytest.fixture
def recorded_compiles(impl, monkeypatch):
    """torch.compile replaced by a recorder that returns the function unchanged."""
    import torch

    compiled = []

    def fake_compile(fn, **kwargs):
        compiled.append(fn)
        return fn

    monkeypatch.setattr(torch, "compile", fake_compile)
    return compiled


def _q_learning_update(seed, repeats=2):
    """A small Q-network, its target network and a compiled TD update with a
    Polyak step and global-norm clipping (what DQN compiles)."""
    keras.utils.set_random_seed(seed)
    online = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(2),
        ]
    )
    target = keras.models.clone_model(online)
    target.set_weights(online.get_weights())

    def loss_fn(x, actions, rewards):
        q = online(x, training=True)
        taken = ops.take_along_axis(q, ops.expand_dims(actions, -1), axis=-1)[:, 0]
        best_next = ops.max(target(x, training=False), axis=-1)
        td_target = ops.stop_gradient(rewards + 0.9 * best_next)
        return ops.mean((td_target - taken) ** 2), {"q_mean": ops.mean(taken)}

    def polyak():
        for t, o in zip(target.weights, online.weights):
            t.assign(0.1 * o.value + 0.9 * t.value)

    update = kb.compile_update(
        loss_fn,
        keras.optimizers.Adam(1e-2, global_clipnorm=1.0),
        online.trainable_weights,
        target.weights,
        after_update=polyak,
        repeats=repeats,
    )
    return online, target, update


def _batches(n=6, repeats=2):
    rng = np.random.default_rng(0)
    return [
        (
            rng.normal(size=(repeats, 16, 4)).astype("float32"),
            rng.integers(0, 2, (repeats, 16)),
            rng.normal(size=(repeats, 16)).astype("float32"),
        )
        for _ in range(n)
    ]


def test_compiled_update_equals_the_eager_one(impl, monkeypatch):
    monkeypatch.setattr(impl, "COMPILE_AFTER", 10**9)
    online_eager, target_eager, update_eager = _q_learning_update(0)
    eager_logs = [update_eager(*batch) for batch in _batches()]
    # The second update compiles: updates 1-2 (one call of 2 repeats) are eager.
    monkeypatch.setattr(impl, "COMPILE_AFTER", 2)
    online, target, update = _q_learning_update(0)
    logs = [update(*batch) for batch in _batches()]

    for a, b in zip(online_eager.get_weights(), online.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(target_eager.get_weights(), target.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(eager_logs, logs):
        assert set(a) == set(b) == {"loss", "q_mean"}
        np.testing.assert_allclose(float(a["loss"]), float(b["loss"]), atol=1e-5)


def test_a_hot_function_compiles_once_after_the_warm_up(
    impl, recorded_compiles, monkeypatch
):
    monkeypatch.setattr(impl, "COMPILE_AFTER", 3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    forward = kb.compile_function(lambda x: model(x), model.weights, hot_loop=True)
    x = np.ones((5, 4), "float32")
    expected = ops.convert_to_numpy(model(x))
    for calls in range(1, 7):
        np.testing.assert_allclose(
            ops.convert_to_numpy(forward(x)), expected, atol=1e-6
        )
        assert len(recorded_compiles) == (1 if calls > 3 else 0)


def test_only_hot_functions_and_updates_are_compiled(
    impl, recorded_compiles, monkeypatch
):
    monkeypatch.setattr(impl, "COMPILE_AFTER", 1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    forward = kb.compile_function(lambda x: model(x), model.weights)
    for _ in range(5):
        forward(np.ones((2, 4), "float32"))
    assert recorded_compiles == []
    _, _, update = _q_learning_update(0, repeats=1)
    for batch in _batches(3, repeats=1):
        update(*[a[0] for a in batch])
    assert len(recorded_compiles) == 1


def test_kerasdl_torch_compile_0_keeps_everything_eager(
    impl, recorded_compiles, monkeypatch
):
    monkeypatch.setattr(impl, "COMPILE_AFTER", 1)
    monkeypatch.setenv("KERASDL_TORCH_COMPILE", "0")
    _, _, update = _q_learning_update(0)
    for batch in _batches(4):
        update(*batch)
    assert recorded_compiles == []


def test_a_failed_compile_warns_once_and_goes_on_eagerly(impl, monkeypatch):
    import torch

    def failing_compile(fn, **kwargs):
        def compiled(*args):
            raise torch._dynamo.exc.BackendCompilerFailed(
                "inductor", RuntimeError("no C++ compiler found"), None
            )

        return compiled

    monkeypatch.setattr(torch, "compile", failing_compile)
    monkeypatch.setattr(impl, "COMPILE_AFTER", 10**9)
    eager_online, _, eager_update = _q_learning_update(0)
    for batch in _batches(4):
        eager_update(*batch)
    monkeypatch.setattr(impl, "COMPILE_AFTER", 2)
    online, _, update = _q_learning_update(0)
    with pytest.warns(RuntimeWarning, match="torch.compile failed") as caught:
        for batch in _batches(4):
            update(*batch)
    assert len([w for w in caught if "torch.compile" in str(w.message)]) == 1
    for a, b in zip(eager_online.get_weights(), online.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
