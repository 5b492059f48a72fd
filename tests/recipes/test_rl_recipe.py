"""`kerasdl rl` and `run_rl`: result.json fields, files, saved agent, clear errors."""

import json

import numpy as np
import pytest

from kerasdl.cli import main
from kerasdl.recipes.rl import RESULT_FIELDS, parse_overrides, run_rl
from kerasdl.rl import A2CAgent, DQNAgent, EvalCallback, QLearningAgent


def test_dqn_run_writes_result_curve_and_a_loadable_agent(tmp_path):
    result = run_rl(
        "dqn",
        steps=300,
        seed=1,
        out_dir=tmp_path,
        eval_episodes=2,
        overrides={"hidden_units": [16], "learning_starts": 100, "n_envs": 2},
        verbose=0,
    )
    saved = json.loads((tmp_path / "result.json").read_text())
    assert set(RESULT_FIELDS) <= set(saved)
    assert saved["algo"] == "dqn" and saved["env"] == "CartPole-v1"
    assert saved["steps"] == 300 and saved["seed"] == 1 and saved["eval_episodes"] == 2
    assert saved["train_seconds"] > 0
    assert saved["eval_mean_return"] == pytest.approx(result["eval_mean_return"])
    assert saved["hyperparameters"]["hidden_units"] == [16]
    for name in ("learning_curve.png", "episodes.csv", "agent"):
        assert (tmp_path / name).exists()
    agent = DQNAgent.load(tmp_path / "agent", verbose=0)
    assert agent.num_timesteps == 300
    # The saved agent is the evaluated one: same greedy return on the same seeds.
    again = agent.evaluate(n_episodes=2)
    assert again["mean_return"] == pytest.approx(saved["eval_mean_return"])


def test_cli_selects_checkpoints_with_the_eval_callback(tmp_path, capsys):
    argv = ["rl", "a2c", "--steps", "256", "--eval-every", "64"]
    argv += ["--checkpoint-episodes", "2", "--eval-episodes", "2"]
    argv += ["--set", "hidden_units=[8]", "--set", "n_envs=4", "--set", "n_steps=4"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    saved = json.loads((tmp_path / "result.json").read_text())
    trace = saved["evaluations"]
    assert [e["step"] for e in trace] == [64, 128, 192, 256]
    assert set(trace[0]) == {"step", "mean_return", "std_return"}
    means = [e["mean_return"] for e in trace]
    assert saved["best_eval_mean_return"] == max(means)
    assert saved["best_step"] == max(
        e["step"] for e in trace if e["mean_return"] == max(means)
    )
    assert saved["restore_best"] is True
    assert 0 < saved["checkpoint_eval_seconds"] and 0 < saved["train_seconds"]
    # One line per evaluation, then the chosen checkpoint's step.
    assert out.count("EvalCallback: step") == 4
    assert f"chosen checkpoint: step {saved['best_step']} of 4 evaluated" in out
    # The saved agent is the restored checkpoint, and its callback state is beside
    # it: the same score on the callback's episodes, and a resumable trace.
    callback = EvalCallback.load(tmp_path / "agent", verbose=0)
    assert callback.evaluations == trace and callback.best_step == saved["best_step"]
    agent = A2CAgent.load(tmp_path / "agent", verbose=0)
    again = agent.evaluate(n_episodes=2, seed=callback.seed)
    assert again["mean_return"] == saved["best_eval_mean_return"]

    quiet = tmp_path / "quiet"
    assert main([*argv, "--out", str(quiet), "--quiet", "--no-restore-best"]) == 0
    out = capsys.readouterr().out
    assert "EvalCallback" not in out and "not restored (final weights)" in out
    assert json.loads((quiet / "result.json").read_text())["restore_best"] is False
    off = tmp_path / "off"
    assert main([*argv, "--out", str(off), "--quiet", "--eval-every", "0"]) == 0
    assert "chosen checkpoint" not in capsys.readouterr().out
    assert "evaluations" not in json.loads((off / "result.json").read_text())


def test_qlearning_run_through_the_cli(tmp_path, capsys):
    code = main(
        [
            "rl",
            "qlearning",
            "--steps",
            "30000",
            "--out",
            str(tmp_path),
            "--quiet",
            "--set",
            "gamma=0.99",
        ]
    )
    assert code == 0
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["algo"] == "qlearning" and saved["env"] == "FrozenLake-v1"
    assert saved["eval_episodes"] == 1000
    assert 0.6 < saved["eval_success_rate"] <= 1.0
    rows = np.loadtxt(tmp_path / "episodes.csv", delimiter=",", skiprows=1)
    assert rows[-1, 1] <= 30000 and rows.shape[1] == 4
    agent = QLearningAgent.load(tmp_path / "agent.npz")
    assert agent.q_table_.shape == (16, 4)
    assert "success rate" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["rl", "ppo"], "algo must be one of"),
        (["rl", "dqn", "--set", "nope=1"], "Unknown hyperparameter 'nope'"),
        (["rl", "dqn", "--set", "learning_rate"], "--set takes KEY=VALUE"),
        (["rl", "dqn", "--steps", "0"], "steps"),
        (["rl", "dqn", "--env", "NoSuchEnv-v0"], "NoSuchEnv"),
        (["rl", "dqn", "--env", "Pendulum-v1"], "action_space=Box"),
        (["rl", "dqn", "--checkpoint-episodes", "0"], "checkpoint_episodes=0"),
        (["rl", "a2c", "--eval-every", "-5"], "eval_every=-5"),
        (["rl", "dqn", "--set", "keep_best=true"], "EvalCallback"),
        (["rl", "qlearning", "--eval-every", "100"], "Q-learning keeps no checkpoints"),
        (["rl", "qlearning", "--no-restore-best"], "restore_best=False"),
    ],
)
def test_cli_mistakes_are_one_line_errors(argv, message, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_parse_overrides_reads_json_values():
    assert parse_overrides(["a=1", "b=[64, 64]", "c=true", "d=relu"]) == {
        "a": 1,
        "b": [64, 64],
        "c": True,
        "d": "relu",
    }
