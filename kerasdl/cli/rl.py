"""`kerasdl rl`: train a reinforcement-learning agent on a gymnasium environment
(`kerasdl.recipes.rl.run_rl`) and print its evaluation."""

from __future__ import annotations

from pathlib import Path

NAME = "rl"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="train a reinforcement-learning agent on a gymnasium environment",
        description="Train an agent (dqn, reinforce, a2c, qlearning), evaluate it "
        "with deterministic actions and write DIR/result.json, episodes.csv, "
        "learning_curve.png and the saved agent. The deep agents evaluate "
        "checkpoints during training (EvalCallback) and keep the best.",
    )
    p.add_argument("algo", help="dqn, reinforce, a2c or qlearning")
    p.add_argument(
        "--env",
        default=None,
        help="gymnasium id (CartPole-v1; qlearning: FrozenLake-v1)",
    )
    p.add_argument("--steps", type=int, default=None, help="environment steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--eval-episodes", type=int, default=None, help="100 (qlearning: 1000)"
    )
    p.add_argument(
        "--eval-every",
        type=int,
        default=None,
        metavar="STEPS",
        help="deep agents: evaluate the greedy policy every STEPS steps on separate "
        "environments and keep the best checkpoint (default: steps/10; 0: off)",
    )
    p.add_argument(
        "--checkpoint-episodes",
        type=int,
        default=10,
        help="greedy episodes per checkpoint evaluation (default 10)",
    )
    p.add_argument(
        "--no-restore-best",
        action="store_true",
        help="keep the final weights instead of restoring the best checkpoint",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an agent hyperparameter, e.g. --set learning_rate=0.0005 "
        "--set hidden_units=[128,128] (repeatable)",
    )
    p.add_argument("--tensorboard", action="store_true", help="TensorBoard scalars")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", type=Path, default=None, help="default runs/rl/<run>")
    return p


def run(args) -> int:
    from kerasdl.recipes.rl import parse_overrides, run_rl

    result = run_rl(
        args.algo,
        env=args.env,
        steps=args.steps,
        seed=args.seed,
        out_dir=args.out,
        eval_episodes=args.eval_episodes,
        overrides=parse_overrides(args.set),
        verbose=0 if args.quiet else 1,
        tensorboard=args.tensorboard,
        eval_every=args.eval_every,
        checkpoint_episodes=args.checkpoint_episodes,
        restore_best=not args.no_restore_best,
    )
    line = (
        f"{result['algo']} on {result['env']}: {result['steps']} steps in "
        f"{result['train_seconds']:.1f} s on {result['backend']}; evaluation over "
        f"{result['eval_episodes']} episodes: {result['eval_mean_return']:.1f} "
        f"+- {result['eval_std_return']:.1f}"
    )
    if "eval_success_rate" in result:
        line += f" (success rate {result['eval_success_rate']:.3f})"
    print(line)
    if result.get("best_step") is not None:
        n = len(result["evaluations"])
        kept = "restored" if result["restore_best"] else "not restored (final weights)"
        print(
            f"chosen checkpoint: step {result['best_step']} of {n} evaluated "
            f"(mean return {result['best_eval_mean_return']:.1f} over "
            f"{args.checkpoint_episodes} episodes), {kept}"
        )
    out = args.out or Path("runs") / "rl" / (
        f"{result['algo']}-{result['env']}-seed{result['seed']}"
    )
    print(f"wrote {out}/result.json, learning_curve.png, episodes.csv and the agent")
    return 0
