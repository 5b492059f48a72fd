"""Reinforcement learning on gymnasium, on every backend (issue #6, "Must show").

- DQN on CartPole-v1: 50,000 environment steps per seed, then 100 deterministic
  evaluation episodes; solved when the mean return is at least 475. Train seconds
  per run (training only: evaluation and process start-up excluded).
- A2C and REINFORCE on CartPole-v1 with their default budgets, the same evaluation.
- Tabular Q-learning (NumPy, no backend) on slippery FrozenLake 4x4 and Taxi-v4:
  success rate / mean return of the greedy policy over 1,000 episodes, next to the
  optimal policy from value iteration on the same evaluation seeds.

Every deep run is `kerasdl.recipes.rl.run_rl` (the job behind `kerasdl rl ALGO`), with
the agent's default hyperparameters. Each (backend, algorithm) pair runs in a fresh
process.

    python benchmarks/bench_rl.py                                   # everything
    python benchmarks/bench_rl.py --backends jax --algos dqn --seeds 0

The table is printed; the numbers go to `benchmarks/results/bench_rl.json`, the
learning curves of all DQN runs to `benchmarks/results/rl/dqn_cartpole_curves.png`,
and the run folders (result.json, episodes.csv, learning_curve.png, the agent) to
`runs/bench_rl/<backend>/<algo>-seed<seed>/`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from _workers import run_in_fresh_process

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = ROOT / "runs" / "bench_rl"
DEEP = ("dqn", "a2c", "reinforce")
SOLVED = 475.0


def run_here(args) -> dict:
    """The deep runs of one algorithm on the current backend, in this process."""
    from kerasdl import backend
    from kerasdl.recipes.rl import run_rl

    rows = []
    for seed in args.seeds:
        out = RUNS / backend.name() / f"{args.worker}-seed{seed}"
        result = run_rl(
            args.worker, seed=seed, steps=args.steps, out_dir=out, verbose=0
        )
        result.pop("hyperparameters")
        result.pop("files")
        result["run_dir"] = str(out.relative_to(ROOT))
        result["solved"] = result["eval_mean_return"] >= SOLVED
        print(
            f"  {result['backend']:<10} {args.worker:<9} seed {seed}: "
            f"{result['eval_mean_return']:6.1f} +- {result['eval_std_return']:5.1f} "
            f"in {result['train_seconds']:.1f} s",
            flush=True,
        )
        rows.append(result)
    return {"backend": backend.name(), "algo": args.worker, "rows": rows}


def tabular_rows(seeds) -> list[dict]:
    """Q-learning against value iteration's optimal policy (NumPy only)."""
    from kerasdl.recipes.rl import DEFAULT_STEPS
    from kerasdl.rl.q_learning import evaluate_tabular_policy, optimal_policy
    from kerasdl.rl.q_learning_agent import QLearningAgent

    rows = []
    for env in ("FrozenLake-v1", "Taxi-v4"):
        optimal = optimal_policy(env, gamma=0.99)
        for seed in seeds:
            agent = QLearningAgent(env, seed=seed)
            agent.learn(total_timesteps=DEFAULT_STEPS["qlearning"], progress=False)
            eval_seed = 10_000 + seed
            mine = agent.evaluate(n_episodes=1000, seed=eval_seed)
            best = evaluate_tabular_policy(env, optimal, 1000, seed=eval_seed)
            rows.append(
                {
                    "env": env,
                    "seed": seed,
                    "steps": DEFAULT_STEPS["qlearning"],
                    "train_seconds": round(agent.train_seconds_, 2),
                    "success_rate": mine["success_rate"],
                    "optimal_success_rate": best["success_rate"],
                    "mean_return": mine["mean_return"],
                    "optimal_mean_return": best["mean_return"],
                }
            )
            print(
                f"  qlearning {env:<14} seed {seed}: success "
                f"{mine['success_rate']:.3f} (optimal {best['success_rate']:.3f}), "
                f"return {mine['mean_return']:.2f} "
                f"(optimal {best['mean_return']:.2f})",
                flush=True,
            )
    return rows


def plot_dqn_curves(deep: list[dict]) -> Path | None:
    import numpy as np

    from kerasdl.plotting import plt, save_figure
    from kerasdl.rl.monitor import read_episodes

    runs = [
        row
        for group in deep
        if group["algo"] == "dqn"
        for row in group["rows"]
        if row["seed"] <= 2
        # runs/ is not kept in git: rows merged from an earlier run on another
        # machine have no episodes.csv here
        and (ROOT / row["run_dir"] / "episodes.csv").is_file()
    ]
    if not runs:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for row in runs:
        episodes = read_episodes(ROOT / row["run_dir"] / "episodes.csv")
        k = min(20, len(episodes))
        smooth = np.convolve(episodes[:, 2], np.ones(k) / k, mode="valid")
        style = "-" if row["backend"] == "jax" else "--"
        ax.plot(
            episodes[k - 1 :, 1],
            smooth,
            style,
            lw=1.5,
            label=f"{row['backend']} seed {row['seed']} "
            f"(eval {row['eval_mean_return']:.0f})",
        )
    ax.axhline(SOLVED, color="gray", ls=":", label=f"solved ({SOLVED:g})")
    ax.set_xlabel("environment step")
    ax.set_ylabel("training return (mean of 20 episodes)")
    ax.set_title("DQN on CartPole-v1: training curves, 50k steps, seeds 0-2")
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, RESULTS / "rl" / "dqn_cartpole_curves.png")


def print_table(deep, tabular) -> None:
    print()
    print(
        f"{'algo':<10} {'backend':<11} {'seed':>4} {'steps':>8} {'train s':>8} "
        f"{'eval return':>15} {'solved':>7}"
    )
    for group in deep:
        for row in group["rows"]:
            print(
                f"{row['algo']:<10} {row['backend']:<11} {row['seed']:>4} "
                f"{row['steps']:>8} {row['train_seconds']:>8.1f} "
                f"{row['eval_mean_return']:>8.1f} +-{row['eval_std_return']:>5.1f} "
                f"{'yes' if row['solved'] else 'NO':>7}"
            )
    if tabular:
        print()
        print(
            f"{'Q-learning':<15} {'seed':>4} {'train s':>8} {'success':>8} "
            f"{'optimal':>8} {'return':>8} {'optimal':>8}"
        )
        for row in tabular:
            print(
                f"{row['env']:<15} {row['seed']:>4} {row['train_seconds']:>8.2f} "
                f"{row['success_rate']:>8.3f} {row['optimal_success_rate']:>8.3f} "
                f"{row['mean_return']:>8.2f} {row['optimal_mean_return']:>8.2f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--algos", default="dqn,a2c,reinforce,qlearning")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument(
        "--steps", type=int, default=None, help="override every deep run's budget"
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--row-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    algos = [a for a in args.algos.split(",") if a]
    unknown = set(algos) - {*DEEP, "qlearning"}
    if unknown:
        parser.error(f"unknown algos {sorted(unknown)}")

    if args.row_json:  # a worker started by main
        Path(args.row_json).write_text(json.dumps(run_here(args)))
        return 0

    started = time.perf_counter()
    common = ["--seeds", ",".join(map(str, args.seeds))]
    if args.steps:
        common += ["--steps", str(args.steps)]
    deep = []
    for algo in (a for a in DEEP if a in algos):
        for backend in (b for b in args.backends.split(",") if b):
            print(f"{algo} on {backend} ...", flush=True)
            deep.append(
                run_in_fresh_process(__file__, backend, ["--worker", algo, *common])
            )
    tabular = tabular_rows(args.seeds) if "qlearning" in algos else []
    print_table(deep, tabular)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench_rl.json"
    existing = json.loads(out.read_text()) if out.is_file() else {}
    groups = {(g["algo"], g["backend"]): g for g in existing.get("deep", [])}
    for group in deep:  # a new run replaces the rows of its seeds, keeps the others
        key = (group["algo"], group["backend"])
        rows = {row["seed"]: row for row in groups.get(key, {"rows": []})["rows"]}
        rows.update({row["seed"]: row for row in group["rows"]})
        groups[key] = {**group, "rows": [rows[seed] for seed in sorted(rows)]}
    merged = sorted(groups.values(), key=lambda g: (g["algo"], g["backend"]))
    curves = plot_dqn_curves(merged)
    out.write_text(
        json.dumps(
            {
                "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                "solved_threshold": SOLVED,
                "deep": merged,
                "qlearning": tabular or existing.get("qlearning", []),
                "wall_seconds": round(time.perf_counter() - started, 1),
            },
            indent=2,
        )
    )
    print(
        f"wrote {out.relative_to(ROOT)}"
        + (f" and {curves.relative_to(ROOT)}" if curves else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
