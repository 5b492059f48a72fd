"""Tabular Q-learning on FrozenLake and Taxi, against the optimal policy.

Shows `kerasdl.rl.QLearningAgent` (NumPy only, no Keras):

- the Bellman update `Q[s,a] += lr * (r + gamma * max Q[s'] - Q[s,a])`, where a
  *terminated* step (a hole, the goal) does not bootstrap and a *truncated* one
  (the time limit) does, as gymnasium defines them;
- epsilon-greedy exploration decaying linearly, and a step size per state-action
  pair that shrinks with its visit count (slippery FrozenLake's rewards are noisy:
  a constant step size never settles);
- the greedy policy's success rate over 1,000 episodes next to the optimal policy's
  (value iteration on the environment's own transition table), on slippery and
  non-slippery FrozenLake 4x4 and on Taxi-v4;
- the learning curve of slippery FrozenLake (`learning_curve.png`).

Run:

    python examples/rl_qlearning.py
    python examples/rl_qlearning.py --steps 300000 --seed 1
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from kerasdl.rl import QLearningAgent, make_env, plot_learning_curve
from kerasdl.rl.q_learning import evaluate_tabular_policy, optimal_policy

NAME = "rl_qlearning"
TASKS = (
    ("FrozenLake-v1", {"is_slippery": True}),
    ("FrozenLake-v1", {"is_slippery": False}),
    ("Taxi-v4", {}),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150_000, help="per task")
    parser.add_argument("--eval-episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(f"runs/examples/{NAME}"))
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for env, env_kwargs in TASKS:
        agent = QLearningAgent(env, env_kwargs=env_kwargs, seed=args.seed)
        agent.learn(total_timesteps=args.steps, progress=False)
        mine = agent.evaluate(n_episodes=args.eval_episodes, seed=10_000)
        # The optimal policy, run on the same evaluation episodes (same seed).
        task = make_env(env, env_kwargs)
        optimal = optimal_policy(task, gamma=agent.gamma)
        best = evaluate_tabular_policy(task, optimal, args.eval_episodes, seed=10_000)
        label = env + (" (slippery)" if env_kwargs.get("is_slippery") else "")
        if env.startswith("FrozenLake") and not env_kwargs.get("is_slippery"):
            label = env + " (not slippery)"
        rows.append(
            {
                "task": label,
                "episodes": int(agent.n_episodes_),
                "train_seconds": round(agent.train_seconds_, 2),
                "success_rate": mine["success_rate"],
                "optimal_success_rate": best["success_rate"],
                "mean_return": mine["mean_return"],
                "optimal_mean_return": best["mean_return"],
            }
        )
        if env_kwargs.get("is_slippery"):
            episodes = np.column_stack(
                [
                    np.arange(1, agent.n_episodes_ + 1),
                    np.cumsum(agent.episode_lengths_),
                    agent.episode_returns_,
                    agent.episode_lengths_,
                ]
            )
            plot_learning_curve(
                episodes,
                args.out / "learning_curve.png",
                window=500,
                title="Q-learning on slippery FrozenLake 4x4 (mean of 500 episodes)",
            )

    print(f"{'task':<30} {'success':>8} {'optimal':>8} {'return':>8} {'optimal':>8}")
    for row in rows:
        print(
            f"{row['task']:<30} {row['success_rate']:>8.3f} "
            f"{row['optimal_success_rate']:>8.3f} {row['mean_return']:>8.2f} "
            f"{row['optimal_mean_return']:>8.2f}"
        )
    summary = {"steps": args.steps, "seed": args.seed, "tasks": rows}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out}/summary.json and learning_curve.png")
    return summary


if __name__ == "__main__":
    main()
