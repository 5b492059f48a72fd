"""EvalCallback: its own environments and seed (training untouched), best-checkpoint
selection and restore on every deep agent (also when training stops early), the
restored agent acts like the chosen checkpoint, state and save/load round trips,
CallbackList, errors."""

import numpy as np
import pytest
from corridor import CHOICE_ID, Choice, Corridor

from kerasdl.rl import (
    A2CAgent,
    CallbackList,
    DQNAgent,
    EvalCallback,
    REINFORCEAgent,
    evaluate_policy,
)

DQN_SMALL = dict(
    hidden_units=(16,),
    learning_starts=50,
    batch_size=16,
    buffer_size=1000,
    gradient_steps=1,
    verbose=0,
    seed=0,
    n_envs=2,
)
SMALL = {
    DQNAgent: DQN_SMALL,
    A2CAgent: dict(hidden_units=(16,), verbose=0, seed=0, n_envs=4, n_steps=8),
    REINFORCEAgent: dict(
        hidden_units=(16,), verbose=0, seed=0, n_envs=4, episodes_per_update=4
    ),
}


def output_layer(agent):
    if isinstance(agent, DQNAgent):
        return agent.q_network.get_layer("q_values")
    return agent.model.get_layer("logits")


def force_action(agent, action):
    """Make the greedy action `action` in every state: a zero output kernel and a
    bias that favours it."""
    layer = output_layer(agent)
    kernel, bias = layer.get_weights()
    bias = np.zeros_like(bias)
    bias[action] = 5.0
    layer.set_weights([np.zeros_like(kernel), bias])


class Recorder:
    """Keeps the agent's weights at every step where `callback` evaluated."""

    def __init__(self, callback):
        self.callback, self.weights = callback, {}

    def __call__(self, agent, logs):
        trace = self.callback.evaluations
        if trace and trace[-1]["step"] == agent.num_timesteps:
            self.weights[agent.num_timesteps] = agent.get_weights()


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        for x, y in zip(a[name], b[name], strict=True):
            np.testing.assert_array_equal(x, y)


def weights_differ(a, b):
    return any(not np.array_equal(x, y) for name in a for x, y in zip(a[name], b[name]))


# -- its own environment and seed ------------------------------------------------------


def test_evaluation_leaves_training_episodes_rngs_and_weights_unchanged():
    plain = DQNAgent("CartPole-v1", **DQN_SMALL)
    plain.learn(600)
    watched = DQNAgent("CartPole-v1", **DQN_SMALL)
    callback = EvalCallback(
        eval_freq=200, n_eval_episodes=3, restore_best=False, verbose=0
    )
    watched.learn(600, callback=callback)
    assert [e["step"] for e in callback.evaluations] == [200, 400, 600]
    assert callback.seed == 20_000  # its own seed: the agent's + 20,000
    # The evaluation episodes count nowhere in training: same episodes, same
    # counters, same random streams (agent, replay buffer, training environments).
    assert watched.num_episodes == plain.num_episodes
    assert watched.episodes == plain.episodes
    for name in ("rng", "buffer"):
        assert (
            watched._rngs()[name].bit_generator.state
            == plain._rngs()[name].bit_generator.state
        )
    for w_env, p_env in zip(watched.env.envs, plain.env.envs):
        assert (
            w_env.unwrapped.np_random.bit_generator.state
            == p_env.unwrapped.np_random.bit_generator.state
        )
    np.testing.assert_array_equal(watched._observations, plain._observations)
    for a, b in zip(watched.q_network.get_weights(), plain.q_network.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_restored_agent_acts_like_the_checkpoint_it_picked():
    agent = DQNAgent("CartPole-v1", **{**DQN_SMALL, "learning_rate": 3e-3})
    callback = EvalCallback(eval_freq=250, n_eval_episodes=4, verbose=0)
    recorder = Recorder(callback)
    final = {}
    agent.learn(
        1000,
        callback=[
            callback,
            recorder,
            lambda a, logs: final.update(weights=a.get_weights()),
        ],
    )
    steps = [e["step"] for e in callback.evaluations]
    assert steps == [250, 500, 750, 1000]
    means = [e["mean_return"] for e in callback.evaluations]
    assert callback.best_mean_return == max(means)
    # Ties go to the later checkpoint.
    assert callback.best_step == max(s for s, m in zip(steps, means) if m == max(means))
    checkpoint = recorder.weights[callback.best_step]
    assert_same_weights(agent.get_weights(), checkpoint)
    twin = DQNAgent("CartPole-v1", **DQN_SMALL)
    twin.set_weights(checkpoint)
    obs = np.random.default_rng(1).normal(size=(256, 4)).astype("float32")
    np.testing.assert_array_equal(agent.predict(obs), twin.predict(obs))
    # On the callback's own episodes the restored agent scores what it scored then.
    again = agent.evaluate(n_episodes=4, seed=callback.seed)
    assert again["mean_return"] == callback.best_mean_return
    if callback.best_step != steps[-1]:
        assert weights_differ(final["weights"], checkpoint)


@pytest.mark.parametrize("cls", [DQNAgent, A2CAgent, REINFORCEAgent])
def test_every_agent_restores_the_best_checkpoint_even_when_stopped_early(cls):
    # Until step 200 the greedy policy takes the rewarded action (return 5), then
    # the other one (return 0); training is stopped early at step 360.
    callback = EvalCallback(eval_freq=80, n_eval_episodes=2, verbose=0)
    recorder = Recorder(callback)

    def steer(agent, logs):
        force_action(agent, 1 if agent.num_timesteps <= 200 else 0)
        return agent.num_timesteps < 360

    agent = cls(CHOICE_ID, **SMALL[cls])
    final = {}
    agent.learn(
        1000,
        callback=CallbackList(
            [steer, callback, recorder, lambda a, _: final.update(w=a.get_weights())]
        ),
    )
    assert 360 <= agent.num_timesteps < 1000
    trace = callback.evaluations
    assert [e["mean_return"] for e in trace] == [
        5.0 if e["step"] <= 200 else 0.0 for e in trace
    ]
    assert trace[-1]["step"] > 200, "an evaluation after the switch"
    assert callback.best_step == max(e["step"] for e in trace if e["step"] <= 200)
    assert callback.best_mean_return == 5.0
    checkpoint = recorder.weights[callback.best_step]
    assert_same_weights(agent.get_weights(), checkpoint)
    assert weights_differ(final["w"], checkpoint)
    obs = np.random.default_rng(0).uniform(0, 5, size=(64, 2)).astype("float32")
    np.testing.assert_array_equal(agent.predict(obs), 1)  # the checkpoint's choice
    assert agent.evaluate(CHOICE_ID, n_episodes=3)["mean_return"] == 5.0


def test_best_weights_are_restored_when_training_raises_and_not_when_opted_out():
    for restore in (True, False):
        callback = EvalCallback(
            eval_freq=40, n_eval_episodes=1, restore_best=restore, verbose=0
        )

        def steer(agent, logs):
            force_action(agent, 1 if agent.num_timesteps <= 80 else 0)
            if agent.num_timesteps >= 150:
                raise RuntimeError("stop")

        agent = DQNAgent(CHOICE_ID, **DQN_SMALL)
        with pytest.raises(RuntimeError, match="stop"):
            agent.learn(1000, callback=[steer, callback])
        assert callback.best_step == 80
        assert agent.predict(np.zeros(2, "float32")) == (1 if restore else 0)


def test_an_eval_env_instance_is_used_alone_and_seeded():
    eval_env = Choice()
    callback = EvalCallback(eval_env, eval_freq=50, n_eval_episodes=3, seed=7)
    agent = DQNAgent(Choice(), **{**DQN_SMALL, "n_envs": 1})
    agent.learn(100, callback=callback)
    assert [e["step"] for e in callback.evaluations] == [50, 100]
    assert callback.seed == 7
    assert eval_env.steps == 2 * 3 * 5  # it played 3 episodes on eval_env, twice
    # The restored agent is the best checkpoint: the same score on those episodes.
    expected = evaluate_policy(agent.predict, Choice(), 3, seed=7)
    assert callback.best_mean_return == expected["mean_return"]


# -- state -----------------------------------------------------------------------------


def _assert_same_trace(restored, callback):
    """The evaluations, best checkpoint, seed and kept weights of two callbacks."""
    assert restored.evaluations == callback.evaluations
    assert (restored.best_step, restored.best_mean_return, restored.seed) == (
        callback.best_step,
        callback.best_mean_return,
        callback.seed,
    )
    assert_same_weights(restored.best_weights, callback.best_weights)


def test_state_round_trip_and_save_load_resume_the_trace(tmp_path, capsys):
    callback = EvalCallback(eval_freq=200, n_eval_episodes=2, verbose=1)
    recorder = Recorder(callback)
    agent = DQNAgent("CartPole-v1", **DQN_SMALL)
    agent.learn(400, callback=[callback, recorder])
    out = capsys.readouterr().out
    assert out.count("EvalCallback: step") == 2 and "restored the best" in out

    copy = EvalCallback(verbose=0)
    copy.set_state(callback.get_state())
    _assert_same_trace(copy, callback)

    folder = tmp_path / "agent"
    agent.save(folder)
    callback.save(folder)
    loaded_agent = DQNAgent.load(folder, verbose=0)
    loaded = EvalCallback.load(folder, verbose=0)
    assert (loaded.eval_freq, loaded.n_eval_episodes) == (200, 2)
    _assert_same_trace(loaded, callback)

    recorder.callback = loaded
    loaded_agent.learn(400, callback=[loaded, recorder])
    trace = loaded.evaluations
    assert [e["step"] for e in trace] == [200, 400, 600, 800]
    assert trace[:2] == callback.evaluations
    means = [e["mean_return"] for e in trace]
    assert loaded.best_mean_return == max(means)
    assert loaded.best_step == max(
        e["step"] for e in trace if e["mean_return"] == max(means)
    )
    # The best may come from before the save: its weights were saved too.
    assert_same_weights(loaded_agent.get_weights(), recorder.weights[loaded.best_step])


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(eval_freq=0), r"eval_freq.*received eval_freq=0"),
        (dict(n_eval_episodes=-1), r"n_eval_episodes.*received n_eval_episodes=-1"),
        (dict(seed=-3), r"seed.*received seed=-3"),
        (dict(restore_best="yes"), r"restore_best.*received restore_best='yes'"),
        (dict(eval_env=5), r"eval_env.*received eval_env=5"),
        (dict(env_kwargs=[1]), r"env_kwargs.*received env_kwargs=\[1\]"),
        (
            dict(eval_env=Choice(), env_kwargs={"a": 1}),
            r"env_kwargs apply only when eval_env is an id",
        ),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EvalCallback(**kwargs)


def test_training_environment_and_missing_ids_are_refused(tmp_path):
    agent = DQNAgent(CHOICE_ID, **DQN_SMALL)
    with pytest.raises(ValueError, match="separate environment"):
        agent.learn(10, callback=EvalCallback(agent.env.envs[0], eval_freq=5))
    no_spec = DQNAgent(Corridor(), **{**DQN_SMALL, "n_envs": 1})
    with pytest.raises(ValueError, match="pass eval_env="):
        no_spec.learn(10, callback=EvalCallback(eval_freq=5))
    with pytest.raises(ValueError, match="callback must be a callable"):
        agent.learn(10, callback=5)
    with pytest.raises(ValueError, match=r"callbacks\[1\]"):
        CallbackList([print, "x"])
    with pytest.raises(ValueError, match="no eval_callback.json"):
        EvalCallback.load(tmp_path)
    with pytest.raises(ValueError, match="state must be a dict"):
        EvalCallback().set_state({"evaluations": []})
    with pytest.raises(ValueError, match=r"weights must map.*q_network"):
        agent.set_weights({"q_network": []})
