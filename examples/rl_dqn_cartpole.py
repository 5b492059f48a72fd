"""Deep Q-learning on CartPole-v1, on any Keras backend.

Shows `kerasdl.rl.DQNAgent`:

- a replay buffer (NumPy, fixed capacity), a Q-network and a target network that
  follows it by Polyak averaging, the Huber TD loss with Double-DQN targets and
  gradient-norm clipping, epsilon-greedy exploration decaying linearly;
- gymnasium's two ways for an episode to end: a *terminated* transition (the pole
  fell) gets no bootstrap, a *truncated* one (the 500-step limit) does;
- the update compiled once through the backend seam (`jax.jit` on JAX,
  `tf.function` on TensorFlow), several updates fused per call, and several
  environments stepped together (`gymnasium.vector`), so 50,000 steps take seconds;
- `learn` with a progress bar (recent mean return), `episodes.csv` and
  `learning_curve.png`, and an `EvalCallback` that evaluates the greedy policy ten
  times on its own environments and restores the best checkpoint at the end;
  `evaluate` over 100 greedy episodes on other seeds (CartPole counts as
  solved at a mean return of 475); `save` and `load` (networks, optimizer state,
  counters), with the loaded agent checked to act identically.

Run:

    python examples/rl_dqn_cartpole.py
    KERAS_BACKEND=jax python examples/rl_dqn_cartpole.py --seed 1
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from kerasdl.rl import DQNAgent, EvalCallback

NAME = "rl_dqn_cartpole"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(f"runs/examples/{NAME}"))
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    agent = DQNAgent(
        "CartPole-v1", seed=args.seed, log_dir=args.out, verbose=0 if args.quiet else 1
    )
    callback = EvalCallback(
        eval_freq=max(1, args.steps // 10),
        n_eval_episodes=10,
        verbose=0 if args.quiet else 1,
    )
    agent.learn(args.steps, callback=callback)
    evaluation = agent.evaluate(n_episodes=args.eval_episodes)
    agent.save(args.out / "agent")

    loaded = DQNAgent.load(args.out / "agent", verbose=0)
    probe = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
    same_actions = bool((loaded.predict(probe) == agent.predict(probe)).all())

    summary = {
        "steps": agent.num_timesteps,
        "updates": agent.num_updates,
        "episodes": agent.num_episodes,
        "train_seconds": round(agent.train_seconds, 1),
        "best_step": callback.best_step,
        "best_checkpoint_mean_return": callback.best_mean_return,
        "eval_mean_return": evaluation["mean_return"],
        "eval_std_return": evaluation["std_return"],
        "eval_episodes": evaluation["episodes"],
        "solved": evaluation["mean_return"] >= 475,
        "loaded_agent_acts_the_same": same_actions,
    }
    print(
        f"DQN, {summary['steps']} steps ({summary['updates']} updates) in "
        f"{summary['train_seconds']} s, checkpoint of step {summary['best_step']}: "
        f"greedy return over {summary['eval_episodes']} "
        f"episodes {summary['eval_mean_return']:.1f} +- "
        f"{summary['eval_std_return']:.1f} (solved: {summary['solved']})"
    )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out}/summary.json, learning_curve.png, episodes.csv, agent/")
    return summary


if __name__ == "__main__":
    main()
