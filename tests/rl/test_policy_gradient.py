"""REINFORCEAgent and A2CAgent: returns and GAE by hand, bootstrapping on truncation
only, policy-gradient descent on a fixed batch, save/load, predict, errors, logs."""

import numpy as np
import pytest
from corridor import Corridor

from kerasdl.rl import A2CAgent, REINFORCEAgent
from kerasdl.rl.actor_critic_base import sample_actions
from kerasdl.rl.returns import discounted_returns, gae_advantages

SMALL = dict(hidden_units=(16,), verbose=0, seed=0)


def value_of(agent, t):
    return float(agent.policy_and_value(np.array([[t, 1.0]], np.float32))[1][0])


# -- helpers by hand -------------------------------------------------------------------


def test_discounted_returns_by_hand():
    np.testing.assert_allclose(discounted_returns([1, 1, 1], 0.5), [1.75, 1.5, 1.0])
    # Truncated: G_3 = V(final) = 4 -> G_2 = 3, G_1 = 2.5, G_0 = 2.25.
    np.testing.assert_allclose(
        discounted_returns([1, 1, 1], 0.5, terminated=False, final_value=4.0),
        [2.25, 2.5, 3.0],
    )
    # A terminated episode ignores final_value.
    np.testing.assert_allclose(
        discounted_returns([0, 2], 0.9, terminated=True, final_value=100.0), [1.8, 2.0]
    )


def test_gae_terminated_vs_truncated_by_hand():
    rewards, values = [1.0, 1.0, 1.0], [0.5, 0.5, 0.5]
    # Episode boundary after step 1; next_values[1] is V(final obs) = 4; the rollout
    # ends in a state of value 2.
    next_values = [0.5, 4.0, 2.0]
    # Terminated: delta = [0.75, 0.5, 1.5]; A_0 = 0.75 + 0.5 * 0.5 = 1.0.
    adv, ret = gae_advantages(
        rewards, values, next_values, [0, 1, 0], [0, 0, 0], gamma=0.5, gae_lambda=1.0
    )
    np.testing.assert_allclose(adv, [1.0, 0.5, 1.5])
    np.testing.assert_allclose(ret, [1.5, 1.0, 2.0])
    # Truncated: delta_1 = 1 + 0.5 * 4 - 0.5 = 2.5; A_0 = 0.75 + 0.5 * 2.5 = 2.0.
    adv, ret = gae_advantages(
        rewards, values, next_values, [0, 0, 0], [0, 1, 0], gamma=0.5, gae_lambda=1.0
    )
    np.testing.assert_allclose(adv, [2.0, 2.5, 1.5])
    # With lambda = 1 the targets are the n-step returns of each episode piece.
    np.testing.assert_allclose(ret[:2], discounted_returns([1, 1], 0.5, False, 4.0))
    # lambda = 0: the one-step TD errors; lambda = 0.5 in between.
    adv0, _ = gae_advantages(
        rewards, values, next_values, [0, 0, 0], [0, 1, 0], gamma=0.5, gae_lambda=0.0
    )
    np.testing.assert_allclose(adv0, [0.75, 2.5, 1.5])
    adv_half, _ = gae_advantages(
        rewards, values, next_values, [0, 0, 0], [0, 1, 0], gamma=0.5, gae_lambda=0.5
    )
    np.testing.assert_allclose(adv_half, [0.75 + 0.25 * 2.5, 2.5, 1.5])


def test_gae_runs_each_environment_column_separately():
    rng = np.random.default_rng(0)
    r, v, nv = rng.normal(size=(3, 5, 2))
    term = np.array([[0, 1], [0, 0], [1, 0], [0, 0], [0, 0]], bool)
    trunc = np.array([[0, 0], [0, 1], [0, 0], [0, 0], [0, 0]], bool)
    adv, ret = gae_advantages(r, v, nv, term, trunc, 0.9, 0.8)
    for i in range(2):
        a, b = gae_advantages(
            r[:, i], v[:, i], nv[:, i], term[:, i], trunc[:, i], 0.9, 0.8
        )
        np.testing.assert_allclose(adv[:, i], a, rtol=1e-6)
        np.testing.assert_allclose(ret[:, i], b, rtol=1e-6)
    with pytest.raises(ValueError, match="one shape"):
        gae_advantages(r, v, nv[:3], term, trunc, 0.9, 0.8)


def test_sample_actions_follow_the_softmax():
    logits = np.tile([0.0, np.log(3.0)], (20_000, 1))
    actions = sample_actions(logits, np.random.default_rng(0))
    assert set(np.unique(actions)) == {0, 1}
    assert abs(actions.mean() - 0.75) < 0.015


# -- bootstrapping inside the agents ---------------------------------------------------


@pytest.mark.parametrize("truncate", [False, True])
def test_reinforce_bootstraps_truncated_episodes_only(truncate):
    agent = REINFORCEAgent(
        Corridor(truncate),
        gamma=0.9,
        episodes_per_update=2,
        normalize_returns=False,
        n_envs=1,
        **SMALL,
    )
    captured = []
    agent.train_on_batch = lambda o, a, r: captured.append((o, r)) or {}
    v3 = value_of(agent, 3)
    assert abs(v3) > 1e-3  # an untrained but non-zero value: bootstrapping shows
    agent.learn(6)
    ((obs, returns),) = captured
    np.testing.assert_array_equal(obs[:, 0], [0, 1, 2, 0, 1, 2])
    tail = 0.9 * v3 if truncate else 0.0
    expected = [1 + 0.9 + 0.81 + 0.81 * tail, 1.9 + 0.9 * tail, 1 + tail]
    np.testing.assert_allclose(returns, expected * 2, rtol=1e-5)


@pytest.mark.parametrize("truncate", [False, True])
def test_a2c_bootstraps_from_the_final_observation_on_truncation_only(truncate):
    agent = A2CAgent(
        Corridor(truncate), gamma=0.9, n_steps=4, gae_lambda=1.0, n_envs=1, **SMALL
    )
    captured = []
    agent._run_update = lambda *arrays: captured.append(arrays) or {}
    values = [value_of(agent, t) for t in range(4)]
    # V of the final state [3, 1] differs from V of the next reset state [0, 1].
    assert abs(values[3] - values[0]) > 1e-3
    agent.learn(4)
    ((obs, actions, advantages, returns),) = captured
    np.testing.assert_array_equal(obs[:, 0], [0, 1, 2, 0])
    tail = values[3] if truncate else 0.0
    # The rollout's last step (t=0 of episode 2) bootstraps from V([1, 1]).
    expected = [
        1 + 0.9 + 0.81 + 0.729 * tail,
        1.9 + 0.81 * tail,
        1 + 0.9 * tail,
        1 + 0.9 * values[1],
    ]
    np.testing.assert_allclose(returns, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        advantages,
        np.array(expected) - [values[0], values[1], values[2], values[0]],
        rtol=1e-5,
        atol=1e-6,
    )


# -- gradient steps --------------------------------------------------------------------


def fixed_batch(n=64):
    """Random states and actions; an action is good when it equals [obs_0 > 0]."""
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(n, 4)).astype("float32")
    actions = rng.integers(0, 2, n)
    good = actions == (obs[:, 0] > 0)
    return obs, actions, good


def test_a2c_steps_raise_log_prob_of_advantaged_actions_and_fit_values():
    agent = A2CAgent(learning_rate=3e-3, **SMALL)
    obs, actions, good = fixed_batch()
    advantages = np.where(good, 1.0, -1.0).astype("float32")
    returns = 2.0 * obs[:, 1]  # a value function the network can fit quickly
    before = agent.log_probabilities(obs, actions)
    first = agent.train_on_batch(obs, actions, advantages, returns)
    for _ in range(20):
        logs = agent.train_on_batch(obs, actions, advantages, returns)
    after = agent.log_probabilities(obs, actions)
    assert (after - before)[good].mean() > 0.05
    assert (after - before)[~good].mean() < -0.05
    assert logs["value_loss"] < 0.7 * first["value_loss"]
    assert logs["policy_loss"] < first["policy_loss"]
    assert agent.num_updates == 21


def test_reinforce_steps_favour_high_return_actions():
    agent = REINFORCEAgent(learning_rate=3e-3, **SMALL)
    obs, actions, good = fixed_batch(50)  # padded to 64 inside: the mask must hold
    returns = np.where(good, 10.0, 0.0).astype("float32")
    before = agent.log_probabilities(obs, actions)
    first = agent.train_on_batch(obs, actions, returns)
    for _ in range(20):
        logs = agent.train_on_batch(obs, actions, returns)
    after = agent.log_probabilities(obs, actions)
    assert (after - before)[good].mean() > 0.05
    assert (after - before)[~good].mean() < -0.05
    assert logs["value_loss"] < 0.7 * first["value_loss"]


def test_reinforce_padding_is_masked_out():
    # A batch and the same batch twice have equal means (of losses, advantage and
    # return statistics), so they must give the same update, whatever the padding.
    once, twice = (REINFORCEAgent(**SMALL) for _ in range(2))
    obs, actions, _ = fixed_batch(50)
    returns = np.linspace(0, 20, 50).astype("float32")
    logs_once = once.train_on_batch(obs, actions, returns)
    logs_twice = twice.train_on_batch(
        *(np.concatenate([a, a]) for a in (obs, actions, returns))
    )
    np.testing.assert_allclose(logs_once["loss"], logs_twice["loss"], rtol=1e-5)
    for a, b in zip(once.model.get_weights(), twice.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# -- persistence, predict, errors, learning files --------------------------------------


@pytest.mark.parametrize("cls", [REINFORCEAgent, A2CAgent])
def test_save_load_gives_identical_actions_and_counters(cls, tmp_path):
    agent = cls(n_envs=2, **SMALL)
    agent.learn(400)
    assert agent.num_updates > 0
    agent.save(tmp_path / "agent")
    loaded = cls.load(tmp_path / "agent", verbose=0)
    obs = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    np.testing.assert_array_equal(agent.predict(obs), loaded.predict(obs))
    for name in cls.counter_names:
        assert getattr(loaded, name) == getattr(agent, name), name
    for a, b in zip(agent.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value))
    # Same random stream: the same sampled actions.
    np.testing.assert_array_equal(
        agent.predict(obs, deterministic=False),
        loaded.predict(obs, deterministic=False),
    )
    loaded.learn(100)
    assert loaded.num_timesteps >= 500


@pytest.mark.parametrize("cls", [REINFORCEAgent, A2CAgent])
def test_short_learn_writes_files_and_predict_shapes(cls, tmp_path):
    agent = cls(log_dir=tmp_path, learning_rate=1e-3, final_learning_rate=1e-4, **SMALL)
    agent.learn(600)
    assert agent.num_timesteps >= 600 and agent.num_updates > 0
    assert agent.num_episodes == len(agent.episodes) > 0
    assert (tmp_path / "episodes.csv").read_text().startswith("episode,step,return")
    assert (tmp_path / "learning_curve.png").stat().st_size > 0
    # The learning rate decayed linearly towards final_learning_rate.
    assert float(np.asarray(agent.optimizer.learning_rate)) < 5e-4
    assert isinstance(agent.predict(np.zeros(4, np.float32)), int)
    batch = agent.predict(np.zeros((5, 4), np.float32), deterministic=False)
    assert batch.shape == (5,) and set(batch) <= {0, 1}
    probs, values = agent.policy_and_value(np.zeros((5, 4), np.float32))
    assert probs.shape == (5, 2) and values.shape == (5,)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    result = agent.evaluate(n_episodes=3)
    assert result["episodes"] == 3 and len(result["returns"]) == 3


@pytest.mark.parametrize("cls", [REINFORCEAgent, A2CAgent])
def test_bad_input_gets_clear_errors(cls):
    with pytest.raises(ValueError, match=r"action_space=Box"):
        cls("Pendulum-v1", verbose=0)
    bad = [
        ({"gamma": 1.5}, "gamma"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"ent_coef": -0.1}, "ent_coef"),
        ({"vf_coef": 0}, "vf_coef"),
        ({"max_grad_norm": -1}, "max_grad_norm"),
        ({"value_loss": "l1"}, "value_loss.*'l1'"),
        ({"hidden_units": 64}, "hidden_units"),
        ({"n_envs": 0}, "n_envs=0"),
    ]
    if cls is A2CAgent:
        bad += [({"n_steps": 0}, "n_steps=0"), ({"gae_lambda": 1.5}, "gae_lambda")]
    else:
        bad += [({"episodes_per_update": 0}, "episodes_per_update=0")]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            cls("CartPole-v1", verbose=0, **kwargs)
    agent = cls(**SMALL)
    with pytest.raises(ValueError, match=r"observation must have shape \(4,\)"):
        agent.predict(np.zeros(3))
    with pytest.raises(ValueError, match="total_timesteps"):
        agent.learn(0)
    obs = np.zeros((4, 4), np.float32)
    n_columns = 2 if cls is A2CAgent else 1  # (advantages, returns) or (returns,)
    with pytest.raises(ValueError, match=r"actions must be in \[0, 2\)"):
        agent.train_on_batch(obs, [0, 1, 2, 0], *[np.zeros(4)] * n_columns)
    with pytest.raises(ValueError, match=r"(advantages|returns) must have shape"):
        agent.train_on_batch(obs, [0, 1, 1, 0], *[np.zeros(3)] * n_columns)
