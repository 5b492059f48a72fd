"""Tabular Q-learning: the update rule, its schedules, real toy-text envs, saving."""

import gymnasium
import numpy as np
import pytest

from kerasdl.rl.q_learning import (
    evaluate_tabular_policy,
    optimal_policy,
    q_update,
    value_iteration,
)
from kerasdl.rl.q_learning_agent import QLearningAgent

# ---------------------------------------------------------------------------------
# Tiny hand-made environments: every reward, termination and truncation is known.
# ---------------------------------------------------------------------------------


class TwoStepEnv(gymnasium.Env):
    """State 0 -> state 1 (reward 0), then state 1 -> state 0 (reward 1) and the
    episode ends: by termination or by truncation, as chosen."""

    observation_space = gymnasium.spaces.Discrete(2)
    action_space = gymnasium.spaces.Discrete(1)

    def __init__(self, end_by="terminated"):
        self.end_by = end_by

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = 0
        return 0, {}

    def step(self, action):
        if self.state == 0:
            self.state = 1
            return 1, 0.0, False, False, {}
        self.state = 0
        ends = self.end_by == "terminated"
        return 0, 1.0, ends, not ends, {}


class OneStepBanditEnv(gymnasium.Env):
    """One state; every step terminates with a reward drawn from the env's RNG
    (action a pays 1 with probability `probs[a]`)."""

    observation_space = gymnasium.spaces.Discrete(1)

    def __init__(self, probs=(0.3, 0.6, 0.0, 0.0)):
        self.probs = probs
        self.action_space = gymnasium.spaces.Discrete(len(probs))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        reward = float(self.np_random.random() < self.probs[action])
        return 0, reward, True, False, {}


def uniform_random_policy(n_actions, seed=0):
    rng = np.random.default_rng(seed)
    return lambda state: int(rng.integers(n_actions))


# ---------------------------------------------------------------------------------
# The update rule
# ---------------------------------------------------------------------------------


def test_q_update_on_a_hand_made_transition():
    q = np.array([[0.0, 0.0], [2.0, 4.0]])
    td_error = q_update(q, 0, 1, 1.0, 1, False, gamma=0.9, learning_rate=0.5)
    # target = 1 + 0.9 * max(2, 4) = 4.6; Q[0, 1] = 0 + 0.5 * (4.6 - 0) = 2.3
    assert td_error == pytest.approx(4.6)
    assert q[0, 1] == pytest.approx(2.3)
    np.testing.assert_array_equal(q[1], [2.0, 4.0])  # nothing else moved

    q_update(q, 0, 1, 1.0, 1, True, gamma=0.9, learning_rate=0.5)
    # terminated: target = 1, no bootstrap; 2.3 + 0.5 * (1 - 2.3) = 1.65
    assert q[0, 1] == pytest.approx(1.65)


@pytest.mark.parametrize(
    "end_by, expected_q1", [("terminated", 1.0), ("truncated", 1.25)]
)
def test_learn_bootstraps_through_truncation_but_not_termination(end_by, expected_q1):
    # lr = 1, gamma = 0.5, greedy, two episodes of TwoStepEnv:
    # episode 1: Q0 = 0 + 0.5 * Q1 = 0; Q1 = 1 (+ 0.5 * Q0 = 0 if truncated)
    # episode 2: Q0 = 0.5 * 1 = 0.5; Q1 = 1, or 1 + 0.5 * 0.5 = 1.25 if truncated
    agent = QLearningAgent(
        TwoStepEnv(end_by),
        gamma=0.5,
        learning_rate=1.0,
        learning_rate_decay=0.0,
        min_learning_rate=0.0,
        epsilon_start=0.0,
        epsilon_end=0.0,
    )
    agent.learn(total_episodes=2, progress=False)
    np.testing.assert_allclose(agent.q_table_[:, 0], [0.5, expected_q1])
    np.testing.assert_array_equal(agent.visits_[:, 0], [2, 2])
    np.testing.assert_array_equal(agent.episode_returns_, [1.0, 1.0])
    assert agent.n_timesteps_ == 4


def test_visit_count_schedule_averages_the_targets():
    # lr0 = 1, decay = 1, no floor: the n-th update of a pair has step 1 / n, so each
    # Q[0, a] is exactly the mean of the rewards that action a received.
    agent = QLearningAgent(
        OneStepBanditEnv((0.5, 0.5)),
        learning_rate=1.0,
        learning_rate_decay=1.0,
        min_learning_rate=0.0,
        epsilon_start=1.0,
        epsilon_end=1.0,
        seed=3,
    )
    agent.learn(total_episodes=400, progress=False)
    assert agent.visits_.sum() == 400
    # Replay the same seeds to know which action earned which reward.
    rng = np.random.default_rng(3)
    env = OneStepBanditEnv((0.5, 0.5))
    env.reset(seed=3)
    sums, counts = np.zeros(2), np.zeros(2)
    for reward in agent.episode_returns_:
        rng.random()  # the epsilon draw
        action = int(rng.integers(2))
        assert reward == env.step(action)[1]
        sums[action] += reward
        counts[action] += 1
    np.testing.assert_allclose(agent.q_table_[0], sums / counts)
    assert agent.q_table_[0].min() > 0.3  # both actions were actually rewarded


def test_greedy_ties_are_broken_at_random():
    # No rewards at all and no exploration: only random tie-breaking reaches
    # actions other than 0.
    agent = QLearningAgent(
        OneStepBanditEnv((0.0, 0.0, 0.0, 0.0)), epsilon_start=0.0, epsilon_end=0.0
    )
    agent.learn(total_episodes=200, progress=False)
    assert (agent.visits_[0] > 20).all()


def test_epsilon_decays_linearly_then_stays():
    agent = QLearningAgent(
        TwoStepEnv(), epsilon_start=1.0, epsilon_end=0.1, exploration_fraction=0.5
    )
    assert agent.epsilon(0.0) == pytest.approx(1.0)
    assert agent.epsilon(0.25) == pytest.approx(0.55)
    assert agent.epsilon(0.5) == pytest.approx(0.1)
    assert agent.epsilon(0.9) == pytest.approx(0.1)


# ---------------------------------------------------------------------------------
# Budgets, seeds, callbacks, progress
# ---------------------------------------------------------------------------------


def test_timestep_budget_is_exact_and_seeds_reproduce():
    def run(seed):
        agent = QLearningAgent("FrozenLake-v1", seed=seed)
        return agent.learn(total_timesteps=3_000, progress=False)

    a, b, c = run(0), run(0), run(1)
    assert a.n_timesteps_ == 3_000 == a.visits_.sum()
    assert a.episode_lengths_.sum() <= 3_000
    np.testing.assert_array_equal(a.q_table_, b.q_table_)
    np.testing.assert_array_equal(a.episode_returns_, b.episode_returns_)
    assert not np.array_equal(a.episode_lengths_, c.episode_lengths_)


def test_callback_sees_each_episode_and_can_stop_training():
    seen = []

    def callback(agent, info):
        seen.append(info)
        return info["episode"] < 10

    agent = QLearningAgent("FrozenLake-v1").learn(
        total_episodes=1_000, callback=callback, progress=False
    )
    assert agent.n_episodes_ == 10 == len(seen)
    assert [info["episode"] for info in seen] == list(range(1, 11))
    assert seen[-1]["timesteps"] == agent.n_timesteps_
    assert set(seen[0]) >= {"episode_return", "episode_length", "epsilon"}


def test_progress_line_goes_to_stderr(capsys):
    QLearningAgent("FrozenLake-v1").learn(total_episodes=50, progress=True)
    err = capsys.readouterr().err
    assert "Q-learning 100%  50/50 episodes" in err
    assert err.endswith("\n")
    QLearningAgent("FrozenLake-v1").learn(total_episodes=50, progress=False)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------
# Real environments
# ---------------------------------------------------------------------------------


def test_solves_non_slippery_frozen_lake():
    agent = QLearningAgent("FrozenLake-v1", env_kwargs={"is_slippery": False})
    result = agent.learn(total_episodes=1_000, progress=False).evaluate(n_episodes=100)
    assert result["success_rate"] == 1.0
    assert result["mean_length"] == 6.0  # the shortest path on the 4x4 map
    assert result["episodes"] == 100


def test_taxi_beats_a_random_policy():
    random_result = evaluate_tabular_policy(
        "Taxi-v4", uniform_random_policy(6), 20, seed=0
    )
    agent = QLearningAgent("Taxi-v4").learn(total_episodes=500, progress=False)
    result = agent.evaluate(n_episodes=100, seed=1)
    assert random_result["mean_return"] < -300  # random moves: -1 a step, -10 a
    assert result["mean_return"] > -100  # bad pick-up/drop-off, 200 steps
    assert result["mean_return"] > random_result["mean_return"] + 300


def test_value_iteration_on_slippery_frozen_lake():
    q = value_iteration("FrozenLake-v1", gamma=0.99)
    assert q.shape == (16, 4)
    assert q[0].max() == pytest.approx(0.542, abs=1e-3)  # V*(start), gamma = 0.99
    assert np.all(q[[5, 7, 11, 12, 15]] == 0)  # holes and goal are terminal
    policy = optimal_policy("FrozenLake-v1", gamma=0.99)
    result = evaluate_tabular_policy("FrozenLake-v1", policy, n_episodes=1000, seed=0)
    assert result["success_rate"] > 0.7
    # A policy that always moves right (action 2) mostly falls in a hole.
    always_right = np.full(16, 2)
    worse = evaluate_tabular_policy(
        "FrozenLake-v1", always_right, n_episodes=1000, seed=0
    )
    assert worse["success_rate"] < 0.3


# ---------------------------------------------------------------------------------
# predict, save and load
# ---------------------------------------------------------------------------------


def test_predict_is_greedy_and_vectorised():
    agent = QLearningAgent("FrozenLake-v1").learn(total_episodes=300, progress=False)
    greedy = np.argmax(agent.q_table_, axis=1)
    states = np.arange(16)
    np.testing.assert_array_equal(agent.predict(states), greedy)
    assert agent.predict(3) == greedy[3]
    assert isinstance(agent.predict(3), int)
    explored = agent.predict(np.zeros(2_000, dtype=int), deterministic=False)
    assert 0.0 < np.mean(explored != greedy[0]) < 0.05  # epsilon_end = 0.01


def test_save_load_round_trip(tmp_path):
    agent = QLearningAgent("FrozenLake-v1", env_kwargs={"is_slippery": False}, seed=4)
    agent.learn(total_episodes=300, progress=False)
    path = agent.save(tmp_path / "agent")
    assert path.name == "agent.npz"

    loaded = QLearningAgent.load(path)
    states = np.arange(16)
    np.testing.assert_array_equal(loaded.predict(states), agent.predict(states))
    np.testing.assert_array_equal(loaded.q_table_, agent.q_table_)
    np.testing.assert_array_equal(loaded.episode_returns_, agent.episode_returns_)
    assert loaded.get_config() == agent.get_config()
    assert loaded.n_timesteps_ == agent.n_timesteps_
    assert loaded.evaluate(n_episodes=20) == agent.evaluate(n_episodes=20)

    # An agent built on an env instance is remade from the instance's spec.
    instance_agent = QLearningAgent(
        gymnasium.make("FrozenLake-v1", is_slippery=False)
    ).learn(total_episodes=300, progress=False)
    reloaded = QLearningAgent.load(instance_agent.save(tmp_path / "instance.npz"))
    assert reloaded._env.unwrapped.spec.kwargs["is_slippery"] is False
    np.testing.assert_array_equal(
        reloaded.predict(states), instance_agent.predict(states)
    )


def test_unfitted_agent_and_bad_observations():
    agent = QLearningAgent("FrozenLake-v1")
    with pytest.raises(RuntimeError, match="learn"):
        agent.predict(0)
    agent.learn(total_episodes=10, progress=False)
    for obs in (16, -1, 0.5, [1, 99]):
        with pytest.raises(ValueError, match="obs"):
            agent.predict(obs)


# ---------------------------------------------------------------------------------
# Bad inputs
# ---------------------------------------------------------------------------------


def test_box_spaces_are_rejected():
    with pytest.raises(ValueError, match=r"observation_space=Box\("):
        QLearningAgent("CartPole-v1")


def test_unknown_env_id_is_a_one_line_value_error():
    with pytest.raises(ValueError, match="NoSuchEnv-v0") as info:
        QLearningAgent("NoSuchEnv-v0")
    assert "\n" not in str(info.value)
    assert "doesn't exist" in str(info.value)  # gymnasium's own words


def test_env_of_the_wrong_type():
    with pytest.raises(ValueError, match="env must be a gymnasium environment id"):
        QLearningAgent(42)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"gamma": 1.5}, "gamma"),
        ({"gamma": 0.0}, "gamma"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -0.1}, "learning_rate"),
        ({"learning_rate_decay": -1.0}, "learning_rate_decay"),
        ({"min_learning_rate": 0.9}, "min_learning_rate"),
        ({"epsilon_start": 1.2}, "epsilon_start"),
        ({"epsilon_end": -0.1}, "epsilon_end"),
        ({"exploration_fraction": 2.0}, "exploration_fraction"),
        ({"seed": -1}, "seed"),
        ({"env_kwargs": "is_slippery"}, "env_kwargs"),
    ],
)
def test_bad_hyperparameters_name_the_argument(kwargs, name):
    value = next(iter(kwargs.values()))
    with pytest.raises(ValueError, match=rf"{name}={value!r}"):
        QLearningAgent("FrozenLake-v1", **kwargs)


@pytest.mark.parametrize(
    "budget, match",
    [
        ({}, "exactly one budget"),
        ({"total_episodes": 10, "total_timesteps": 10}, "exactly one budget"),
        ({"total_episodes": -5}, "total_episodes=-5"),
        ({"total_timesteps": 0}, "total_timesteps=0"),
        ({"total_episodes": 10, "callback": "stop"}, "callback"),
    ],
)
def test_bad_budgets_name_the_argument(budget, match):
    agent = QLearningAgent("FrozenLake-v1")
    with pytest.raises(ValueError, match=match):
        agent.learn(progress=False, **budget)
