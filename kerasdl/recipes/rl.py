"""`kerasdl rl ALGO`: train an agent, evaluate it, save it, and write `result.json`."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np

from kerasdl import rl
from kerasdl._checks import check_bool, check_int
from kerasdl.rl import AGENTS

# Budgets and environments of `kerasdl rl` when none are given. The deep agents'
# constructor defaults are tuned for CartPole-v1 with these budgets (see the README's
# RL table); Q-learning's for slippery FrozenLake 4x4.
DEFAULT_ENVS = {
    "dqn": "CartPole-v1",
    "reinforce": "CartPole-v1",
    "a2c": "CartPole-v1",
    "qlearning": "FrozenLake-v1",
}
DEFAULT_STEPS = {
    "dqn": 50_000,
    "reinforce": 300_000,
    "a2c": 300_000,
    "qlearning": 150_000,
}
DEFAULT_EVAL_EPISODES = {"dqn": 100, "reinforce": 100, "a2c": 100, "qlearning": 1000}
# The deep agents' EvalCallback: evaluations per run (when `eval_every` is not given)
# and greedy episodes per evaluation.
DEFAULT_EVALUATIONS = 10
DEFAULT_CHECKPOINT_EPISODES = 10
RESULT_FIELDS = (
    "algo",
    "env",
    "steps",
    "seed",
    "backend",
    "train_seconds",
    "eval_mean_return",
    "eval_std_return",
    "eval_episodes",
)


def agent_class(algo: str):
    """The agent class of a command-line name (dqn, reinforce, a2c, qlearning)."""
    if algo not in AGENTS:
        raise ValueError(
            f"algo must be one of {sorted(AGENTS)}; received algo={algo!r}."
        )
    import kerasdl.rl

    return getattr(kerasdl.rl, AGENTS[algo])


def parse_overrides(pairs) -> dict:
    """`["lr=0.001", "hidden_units=[128,128]"]` → a dict (values read as JSON when
    they parse, else kept as strings)."""
    overrides = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(
                f"--set takes KEY=VALUE (e.g. learning_rate=0.001); received {pair!r}."
            )
        try:
            overrides[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key.strip()] = value
    return overrides


def _check_overrides(cls, algo, overrides):
    params = inspect.signature(cls.__init__).parameters
    reserved = {"self", "env", "seed", "verbose", "log_dir", "tensorboard"}
    known = sorted(
        name
        for name, p in params.items()
        if name not in reserved and p.kind == p.KEYWORD_ONLY
    )
    for key in overrides:
        if key not in known:
            raise ValueError(
                f"Unknown hyperparameter {key!r} for {algo}; known: {', '.join(known)}."
            )


def _check_env_kwargs(env: str, env_kwargs) -> None:
    """`env_kwargs` is a mapping that `gymnasium.make(env, **env_kwargs)` takes:
    made once here, so a wrong key or value fails before any training."""
    if env_kwargs is None:
        return
    if not isinstance(env_kwargs, dict):
        raise ValueError(
            "env_kwargs must be a mapping of gymnasium.make keyword arguments, "
            'e.g. env_kwargs={"is_slippery": false}; received env_kwargs='
            f"{env_kwargs!r}."
        )
    from kerasdl.rl.envs import make_env

    try:
        make_env(env, env_kwargs).close()
    except (TypeError, KeyError) as error:  # the environment refused the kwargs
        message = " ".join(str(error).split())
        raise ValueError(
            f"env_kwargs={env_kwargs!r} do not fit {env!r}: {message}"
        ) from None


def run_rl(
    algo: str,
    env: str | None = None,
    steps: int | None = None,
    seed: int = 0,
    out_dir=None,
    eval_episodes: int | None = None,
    overrides: dict | None = None,
    verbose: int = 1,
    tensorboard: bool = False,
    eval_every: int | None = None,
    checkpoint_episodes: int = DEFAULT_CHECKPOINT_EPISODES,
    restore_best: bool = True,
) -> dict:
    """Train `algo` on `env` for `steps` environment steps, evaluate it with
    deterministic actions, save it, and write `out_dir/result.json`.

    Args:
        algo: `dqn`, `reinforce`, `a2c` or `qlearning`.
        env: gymnasium id (default CartPole-v1; FrozenLake-v1 for `qlearning`).
        steps: Environment steps of training (defaults in `DEFAULT_STEPS`).
        seed: Seed of the agent and its environments.
        out_dir: Folder for `result.json`, `episodes.csv`, `learning_curve.png` and
            the saved agent (`agent/`, or `agent.npz` for Q-learning).
        eval_episodes: Evaluation episodes (100; 1000 for Q-learning).
        overrides: Constructor keyword arguments of the agent (hyperparameters);
            `env_kwargs` must be a mapping that `gymnasium.make(env, ...)` takes
            (checked by making the environment once before training).
        verbose: Progress bar, and one line per checkpoint evaluation.
        tensorboard: Also write TensorBoard scalars (deep agents).
        eval_every: Deep agents: environment steps between the `EvalCallback`'s
            evaluations (default: a tenth of `steps`); 0 turns the callback off.
        checkpoint_episodes: Greedy episodes per checkpoint evaluation (on the
            callback's own environments and seed, apart from the final
            evaluation's episodes).
        restore_best: Restore the best evaluated checkpoint at the end of training;
            the saved and finally evaluated agent is then that checkpoint.

    Returns:
        The result dict (the `RESULT_FIELDS`, plus `hyperparameters`, `files`; for
        the deep agents with the callback `evaluations` (step, mean_return,
        std_return of each), `best_step` and `best_eval_mean_return` (the chosen
        checkpoint's step and its mean return on the callback's episodes) and
        `restore_best` and `checkpoint_eval_seconds` (not in `train_seconds`); for
        Q-learning `eval_success_rate`). If training is interrupted (Ctrl-C), the
        agent trained so far (with the best checkpoint restored) is saved before
        the interruption propagates.
    """
    cls = agent_class(algo)
    env = env or DEFAULT_ENVS[algo]
    steps = check_int("steps", DEFAULT_STEPS[algo] if steps is None else steps)
    eval_episodes = check_int(
        "eval_episodes",
        DEFAULT_EVAL_EPISODES[algo] if eval_episodes is None else eval_episodes,
    )
    checkpoint_episodes = check_int("checkpoint_episodes", checkpoint_episodes)
    restore_best = check_bool("restore_best", restore_best)
    if algo == "qlearning" and (
        eval_every is not None
        or checkpoint_episodes != DEFAULT_CHECKPOINT_EPISODES
        or not restore_best
    ):
        raise ValueError(
            "Q-learning keeps no checkpoints: eval_every, checkpoint_episodes and "
            "restore_best apply to dqn, reinforce and a2c; received "
            f"eval_every={eval_every!r}, checkpoint_episodes={checkpoint_episodes!r}, "
            f"restore_best={restore_best!r}."
        )
    if eval_every is None:
        eval_every = max(1, steps // DEFAULT_EVALUATIONS)
    eval_every = check_int("eval_every", eval_every, minimum=0)
    overrides = dict(overrides or {})
    _check_overrides(cls, algo, overrides)
    _check_env_kwargs(env, overrides.get("env_kwargs"))
    out = Path(out_dir or Path("runs") / "rl" / f"{algo}-{env}-seed{seed}")
    out.mkdir(parents=True, exist_ok=True)

    tabular = algo == "qlearning"
    if tabular:
        agent = cls(env, seed=seed, **overrides)
    else:
        agent = cls(
            env,
            seed=seed,
            verbose=verbose,
            log_dir=out,
            tensorboard=tensorboard,
            **overrides,
        )
    saved = out / ("agent.npz" if tabular else "agent")
    callback = None
    if not tabular and eval_every:
        callback = rl.EvalCallback(  # loaded on first use: Q-learning needs no Keras
            eval_freq=eval_every,
            n_eval_episodes=checkpoint_episodes,
            restore_best=restore_best,
            verbose=verbose,
        )

    def save():
        agent.save(saved)
        if callback is not None:
            callback.save(saved)  # beside the agent: EvalCallback.load resumes it

    try:
        if tabular:
            agent.learn(total_timesteps=steps, progress=bool(verbose))
        else:
            agent.learn(steps, callback=callback)
    except KeyboardInterrupt:
        save()  # what was learned so far (both kinds keep it)
        raise
    save()
    evaluation = agent.evaluate(n_episodes=eval_episodes)

    if tabular:
        from kerasdl.rl.monitor import EPISODE_FIELDS, plot_learning_curve

        rows = np.column_stack(
            [
                np.arange(1, agent.n_episodes_ + 1),
                np.cumsum(agent.episode_lengths_),
                agent.episode_returns_,
                agent.episode_lengths_,
            ]
        )
        np.savetxt(
            out / "episodes.csv",
            rows,
            delimiter=",",
            fmt=["%d", "%d", "%.6g", "%d"],
            header=",".join(EPISODE_FIELDS),
            comments="",
        )
        plot_learning_curve(
            rows,
            out / "learning_curve.png",
            title=f"Q-learning on {env}",
            window=max(20, len(rows) // 100),
        )
        train_seconds = agent.train_seconds_
        hyperparameters = agent.get_config()
    else:
        train_seconds = agent.train_seconds
        hyperparameters = agent.config

    from kerasdl import backend

    # Checkpoint evaluations run inside learn; train_seconds excludes them.
    eval_seconds = callback.eval_seconds if callback is not None else 0.0
    result = {
        "algo": algo,
        "env": env,
        "steps": steps,
        "seed": seed,
        "backend": backend.name(),
        "train_seconds": round(float(train_seconds - eval_seconds), 3),
        "eval_mean_return": evaluation["mean_return"],
        "eval_std_return": evaluation["std_return"],
        "eval_episodes": evaluation["episodes"],
    }
    if tabular:
        result["eval_success_rate"] = evaluation["success_rate"]
    if callback is not None:
        result["evaluations"] = callback.evaluations
        result["best_step"] = callback.best_step
        result["best_eval_mean_return"] = callback.best_mean_return
        result["restore_best"] = restore_best
        result["checkpoint_eval_seconds"] = round(eval_seconds, 3)
    result["hyperparameters"] = hyperparameters
    result["files"] = sorted(
        p.name for p in out.iterdir() if p.name != "result.json"
    ) + ["result.json"]
    (out / "result.json").write_text(json.dumps(result, indent=2, default=str))
    return result
