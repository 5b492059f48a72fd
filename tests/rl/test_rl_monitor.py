"""What every deep agent shares (`Agent`, `TrainingMonitor`, `evaluate_policy`)."""

import numpy as np
import pytest

from kerasdl.rl import (
    A2CAgent,
    Agent,
    DQNAgent,
    TrainingMonitor,
    evaluate_policy,
    plot_learning_curve,
    read_episodes,
)


def test_monitor_writes_episodes_and_appends_when_resumed(tmp_path):
    monitor = TrainingMonitor(100, verbose=1, log_dir=tmp_path, window=2)
    monitor.episode(1, 10, 10.0, 10)
    monitor.episode(2, 30, 20.0, 20)
    monitor.episode(3, 70, 40.0, 40)
    assert monitor.recent_mean_return() == 30.0  # the last two
    monitor.step(70, {"loss": np.float32(0.5), "epsilon": 0.1})
    monitor.close(100)
    resumed = TrainingMonitor(50, start=100, verbose=0, log_dir=tmp_path)
    resumed.episode(4, 120, 5.0, 50)
    resumed.close(150)
    rows = read_episodes(tmp_path / "episodes.csv")
    np.testing.assert_array_equal(rows[:, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(rows[:, 2], [10, 20, 40, 5])
    path = plot_learning_curve(rows, tmp_path / "curve.png", target=30)
    assert path.stat().st_size > 0


def test_evaluate_policy_counts_each_environment_share():
    # A policy that always pushes left ends CartPole episodes quickly; 7 episodes
    # over 3 environments must give exactly 7 returns (3 + 2 + 2), not more.
    result = evaluate_policy(
        lambda obs: np.zeros(len(obs), int),
        "CartPole-v1",
        n_episodes=7,
        seed=0,
        max_envs=3,
    )
    assert result["episodes"] == 7 and len(result["returns"]) == 7
    assert result["mean_return"] < 30


def test_agent_load_names_the_problem(tmp_path):
    assert issubclass(DQNAgent, Agent) and issubclass(A2CAgent, Agent)
    with pytest.raises(ValueError, match="has no agent.json"):
        DQNAgent.load(tmp_path / "nothing")
    agent = DQNAgent(hidden_units=(8,), verbose=0)
    agent.save(tmp_path / "dqn")
    with pytest.raises(ValueError, match="holds a DQNAgent, not a A2CAgent"):
        A2CAgent.load(tmp_path / "dqn")
