"""DQNAgent: bootstrapping, target schedule, TD-loss descent, save/load, errors."""

import json

import numpy as np
import pytest
from corridor import Corridor

from kerasdl.rl import DQNAgent


def small_agent(env="CartPole-v1", **kwargs):
    # One environment, one update per step and hard target copies unless a test
    # says otherwise (the agent's defaults, tuned for CartPole, differ).
    defaults = dict(
        hidden_units=(16,),
        learning_starts=50,
        batch_size=16,
        buffer_size=1000,
        verbose=0,
        seed=0,
        n_envs=1,
        gradient_steps=1,
        tau=1.0,
    )
    return DQNAgent(env, **{**defaults, **kwargs})


@pytest.mark.parametrize("truncate", [False, True])
def test_terminated_transitions_do_not_bootstrap_truncated_ones_do(truncate):
    agent = small_agent(Corridor(truncate), learning_starts=1000, gamma=0.9)
    agent.learn(9)
    buffer = agent.buffer
    last = buffer.observations[: len(buffer), 0] == 2  # the step from t=2 to t=3
    assert last.sum() == 3
    # The stored next observation is the final one (t=3), not the next reset.
    np.testing.assert_array_equal(buffer.next_observations[: len(buffer)][last, 0], 3)
    expected = 0.9 if truncate else 0.0
    np.testing.assert_allclose(buffer.discounts[: len(buffer)][last], expected)
    np.testing.assert_allclose(buffer.discounts[: len(buffer)][~last], 0.9)


def test_n_step_transitions_carry_discounted_returns():
    agent = small_agent(Corridor(), learning_starts=1000, gamma=0.5, n_steps=2)
    agent.learn(3)
    rows = sorted(
        zip(
            agent.buffer.observations[:3, 0],
            agent.buffer.rewards[:3],
            agent.buffer.discounts[:3],
        )
    )
    assert rows == [(0.0, 1.5, 0.25), (1.0, 1.5, 0.0), (2.0, 1.0, 0.0)]


def test_target_network_is_copied_exactly_on_schedule():
    agent = small_agent(target_update_interval=100, learning_starts=10)
    copies = []

    def callback(agent, logs):
        if agent.num_target_updates > len(copies):
            copies.append((agent.num_timesteps, agent.q_network.get_weights()))

    agent.learn(350, callback=callback)
    assert [step for step, _ in copies] == [100, 200, 300]
    # Between copies the target is frozen: it still holds the step-300 weights.
    for target, online in zip(agent.target_network.get_weights(), copies[-1][1]):
        np.testing.assert_array_equal(target, online)
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(agent.q_network.get_weights(), copies[-1][1])
    )


def test_polyak_target_moves_by_tau_each_update():
    agent = small_agent(tau=0.5, learning_starts=1000)
    agent.learn(64)
    target_before = agent.target_network.get_weights()
    agent.train_on_batch(agent.buffer.sample(16))
    online = agent.q_network.get_weights()
    for t_after, t0, o in zip(
        agent.target_network.get_weights(), target_before, online
    ):
        np.testing.assert_allclose(t_after, 0.5 * t0 + 0.5 * o, rtol=1e-5, atol=1e-6)


def test_short_training_lowers_the_td_loss_on_a_fixed_batch():
    agent = small_agent(learning_starts=1000, learning_rate=3e-3)
    agent.learn(200)  # random play only: fills the buffer
    batch = agent.buffer.sample(64)
    before = agent.td_loss(batch)
    stacked = type(batch)(*[np.stack([a] * 10) for a in batch])
    for _ in range(5):
        agent.train_on_batch(stacked)  # 10 updates per compiled call
    assert agent.num_updates == 50
    assert agent.td_loss(batch) < 0.5 * before


def test_fused_updates_equal_one_at_a_time():
    one = small_agent(learning_starts=1000)
    fused = small_agent(learning_starts=1000)
    one.learn(64)
    fused.learn(64)
    batches = [one.buffer.sample(16) for _ in range(3)]
    for batch in batches:
        one.train_on_batch(batch)
    fused.train_on_batch(type(batches[0])(*[np.stack(a) for a in zip(*batches)]))
    for a, b in zip(one.q_network.get_weights(), fused.q_network.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_save_load_resumes_with_identical_actions_and_counters(tmp_path):
    agent = small_agent(n_envs=2, gradient_steps=2)
    agent.learn(300)
    agent.save(tmp_path / "agent", include_buffer=True)
    loaded = DQNAgent.load(tmp_path / "agent", verbose=0)
    obs = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    np.testing.assert_array_equal(agent.predict(obs), loaded.predict(obs))
    for name in ("num_timesteps", "num_updates", "num_episodes", "num_target_updates"):
        assert getattr(loaded, name) == getattr(agent, name)
    assert len(loaded.buffer) == len(agent.buffer)
    for a, b in zip(agent.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value))
    # Both continue the same way: same sampled batch, same update.
    batch_a, batch_b = agent.buffer.sample(16), loaded.buffer.sample(16)
    np.testing.assert_array_equal(batch_a.observations, batch_b.observations)
    agent.train_on_batch(batch_a)
    loaded.train_on_batch(batch_b)
    for a, b in zip(agent.q_network.get_weights(), loaded.q_network.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    loaded.learn(100)
    assert loaded.num_timesteps == 400


def test_predict_shapes_and_learning_files(tmp_path):
    agent = small_agent(log_dir=tmp_path, dueling=True)
    agent.learn(120)
    assert isinstance(agent.predict(np.zeros(4, np.float32)), int)
    assert agent.predict(np.zeros((5, 4), np.float32)).shape == (5,)
    assert (tmp_path / "episodes.csv").read_text().startswith("episode,step,return")
    assert (tmp_path / "learning_curve.png").stat().st_size > 0
    result = agent.evaluate(n_episodes=3)
    assert result["episodes"] == 3 and len(result["returns"]) == 3


def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match=r"action_space=Box"):
        DQNAgent("Pendulum-v1", verbose=0)
    with pytest.raises(ValueError, match=r"NoSuchEnv-v0.*doesn't exist"):
        DQNAgent("NoSuchEnv-v0", verbose=0)
    with pytest.raises(ValueError, match="gamma"):
        DQNAgent("CartPole-v1", gamma=1.5, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        DQNAgent("CartPole-v1", batch_size=64, buffer_size=32, verbose=0)
    with pytest.raises(ValueError, match="hidden_units"):
        DQNAgent("CartPole-v1", hidden_units=64, verbose=0)
    with pytest.raises(ValueError, match="loss must be 'huber' or 'mse'"):
        DQNAgent("CartPole-v1", loss="l1", verbose=0)
    with pytest.raises(ValueError, match=r"n_envs=4 \(pass n_envs=1\)"):
        DQNAgent(Corridor(), verbose=0)
    agent = small_agent()
    with pytest.raises(ValueError, match=r"observation must have shape \(4,\)"):
        agent.predict(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        agent.predict(np.full(4, np.nan))
    with pytest.raises(ValueError, match="total_timesteps"):
        agent.learn(0)


def test_keep_best_is_replaced_by_the_eval_callback(tmp_path):
    # The ad-hoc greedy-env-0 mechanism is gone: asking for it fails loudly
    # (rather than silently doing nothing) and points to EvalCallback, which
    # tests/rl/test_eval_callback.py covers.
    for kwargs in (dict(keep_best=True), dict(best_window=3)):
        with pytest.raises(ValueError, match=r"removed.*EvalCallback.*received"):
            small_agent(**kwargs)
    # An agent saved before the removal (its config carries both) still loads.
    agent = small_agent()
    agent.learn(20)
    agent.save(tmp_path / "agent")
    meta_path = tmp_path / "agent" / "agent.json"
    meta = json.loads(meta_path.read_text())
    meta["config"].update(keep_best=True, best_window=3)
    meta_path.write_text(json.dumps(meta))
    loaded = DQNAgent.load(tmp_path / "agent", verbose=0)
    assert "keep_best" not in loaded.config and loaded.num_timesteps == 20


def test_a_short_learn_lowers_the_td_loss_on_a_fixed_batch():
    agent = small_agent(
        learning_starts=200, target_update_interval=100_000, learning_rate=3e-3
    )
    agent.learn(200)  # random play: fills the buffer, no update yet
    assert agent.num_updates <= 1
    batch = agent.buffer.sample(64)
    before = agent.td_loss(batch)
    agent.learn(300)
    assert agent.num_updates >= 300
    assert agent.td_loss(batch) < 0.5 * before
