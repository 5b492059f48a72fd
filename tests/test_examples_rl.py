"""The RL example scripts, with tiny budgets (the full runs are in bench_rl)."""

from __future__ import annotations

import json

from test_examples import run_example


def test_rl_qlearning(tmp_path, capsys):
    summary = run_example(
        "rl_qlearning",
        "--steps",
        "20000",
        "--eval-episodes",
        "200",
        "--out",
        str(tmp_path),
    )
    tasks = {row["task"]: row for row in summary["tasks"]}
    # Deterministic FrozenLake is learned exactly; the optimal policy is the bar.
    assert tasks["FrozenLake-v1 (not slippery)"]["success_rate"] == 1.0
    slippery = tasks["FrozenLake-v1 (slippery)"]
    assert 0.6 < slippery["optimal_success_rate"] < 0.9
    assert (tmp_path / "learning_curve.png").stat().st_size > 0
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert "optimal" in capsys.readouterr().out


def test_rl_dqn_cartpole(tmp_path):
    summary = run_example(
        "rl_dqn_cartpole",
        "--steps",
        "400",
        "--eval-episodes",
        "2",
        "--quiet",
        "--out",
        str(tmp_path),
    )
    assert summary["steps"] == 400 and summary["eval_episodes"] == 2
    assert summary["best_step"] in range(40, 401, 40)  # ten checkpoint evaluations
    assert summary["loaded_agent_acts_the_same"] is True
    for name in ("learning_curve.png", "episodes.csv", "summary.json", "agent"):
        assert (tmp_path / name).exists()


def test_rl_policy_gradient(tmp_path):
    summary = run_example(
        "rl_policy_gradient",
        "--steps",
        "600",
        "--eval-episodes",
        "2",
        "--quiet",
        "--out",
        str(tmp_path),
    )
    assert set(summary["agents"]) == {"reinforce", "a2c"}
    for name, row in summary["agents"].items():
        assert row["steps"] >= 600 and row["updates"] >= 1, name
        assert (tmp_path / name / "agent" / "agent.json").exists()
    assert (tmp_path / "learning_curves.png").stat().st_size > 0
