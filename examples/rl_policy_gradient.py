"""Policy gradients on CartPole-v1: REINFORCE with a baseline, and A2C.

Shows `kerasdl.rl.REINFORCEAgent` and `kerasdl.rl.A2CAgent`, on any Keras backend:

- REINFORCE plays complete episodes and follows `grad log pi(a|s) * (G - V(s))`:
  the discounted return G minus a learned state value V (the baseline lowers the
  variance without biasing the gradient); returns are scaled by their running
  standard deviation;
- A2C steps 8 environments for 8 steps, bootstraps from V(next state) and weighs
  `grad log pi` by generalised advantage estimates; a truncated episode (time limit)
  bootstraps from V(final observation), a terminated one does not;
- both: an actor-critic network (`build_actor_critic`, separate torsos), the loss
  compiled through the backend seam, Adam with the learning rate annealed to 0;
- the two learning curves in one PNG (`learning_curves.png`) and each agent's
  greedy return over 100 evaluation episodes.

Run:

    python examples/rl_policy_gradient.py
    KERAS_BACKEND=jax python examples/rl_policy_gradient.py --steps 200000
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from kerasdl.plotting import plt, save_figure
from kerasdl.rl import A2CAgent, REINFORCEAgent

NAME = "rl_policy_gradient"
AGENTS = {"reinforce": REINFORCEAgent, "a2c": A2CAgent}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300_000, help="per agent")
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(f"runs/examples/{NAME}"))
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    results, curves = {}, {}
    for name, cls in AGENTS.items():
        agent = cls(
            "CartPole-v1",
            seed=args.seed,
            log_dir=args.out / name,
            verbose=0 if args.quiet else 1,
        )
        agent.learn(args.steps)
        evaluation = agent.evaluate(n_episodes=args.eval_episodes)
        agent.save(args.out / name / "agent")
        curves[name] = np.asarray(agent.episodes, dtype=float).reshape(-1, 4)
        results[name] = {
            "steps": agent.num_timesteps,
            "updates": agent.num_updates,
            "train_seconds": round(agent.train_seconds, 1),
            "eval_mean_return": evaluation["mean_return"],
            "eval_std_return": evaluation["std_return"],
        }
        print(
            f"{name}: {agent.num_timesteps} steps in {agent.train_seconds:.1f} s, "
            f"greedy return {evaluation['mean_return']:.1f} "
            f"+- {evaluation['std_return']:.1f} over {evaluation['episodes']} episodes"
        )

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, episodes in curves.items():
        if len(episodes):
            k = min(20, len(episodes))
            smooth = np.convolve(episodes[:, 2], np.ones(k) / k, mode="valid")
            ax.plot(episodes[k - 1 :, 1], smooth, label=name)
    ax.axhline(475, ls="--", color="gray", label="solved (475)")
    ax.set_xlabel("environment step")
    ax.set_ylabel("training return (mean of 20 episodes)")
    ax.set_title("Policy gradients on CartPole-v1")
    ax.legend(loc="lower right")
    save_figure(fig, args.out / "learning_curves.png")
    summary = {"seed": args.seed, "agents": results}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out}/summary.json and learning_curves.png")
    return summary


if __name__ == "__main__":
    main()
