"""Best-checkpoint selection the field's way (stable-baselines3's `EvalCallback`):
every `eval_freq` environment steps, run `n_eval_episodes` deterministic episodes on
separate evaluation environments with their own seed, keep a copy of the weights
whenever their mean return is the best so far, and restore that copy when training
ends.

The training environments, their episode counter and the agent's random generators
are untouched: evaluation episodes count toward no training statistic, and the
greedy actions draw no random numbers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from kerasdl._checks import check_bool, check_int
from kerasdl.rl.base import evaluate_policy

STATE_FILE = "eval_callback.json"
WEIGHTS_FILE = "eval_callback_weights.npz"
# The evaluation seed when none is given: the agent's seed plus this (training
# resets use seed + step, `Agent.evaluate` seed + 10,000).
SEED_OFFSET = 20_000


class EvalCallback:
    """Evaluate the greedy policy periodically; keep and restore the best weights.

    Pass it to `learn(total_timesteps, callback=...)` of `DQNAgent`, `A2CAgent` or
    `REINFORCEAgent`. Whenever the agent's step counter reaches a multiple of
    `eval_freq` (or passes one: A2C and REINFORCE call back after each update), it
    runs `n_eval_episodes` complete episodes with `predict(deterministic=True)` on
    environments it makes itself (never the training ones), seeded with `seed` at
    every evaluation, so every checkpoint meets the same start states (common
    random numbers: the comparison between checkpoints is not blurred by luckier
    episodes). A mean return at least as high as the best so far makes that
    checkpoint the best (ties go to the later, longer-trained one); its weights
    are copied (every network, for DQN the target network too).

    When training ends, however it ends (budget, a callback returning `False`, an
    exception), `learn` calls `on_training_end`, which with `restore_best` loads
    the best weights into the agent. A later `learn` continues from them (with
    the optimizer state of where training stopped).

    Report the chosen policy on other episodes than those that chose it (e.g.
    `agent.evaluate()`, whose default seed differs): the best of several noisy
    means is biased upwards.

    Args:
        eval_env: A gymnasium id or a `gymnasium.Env` instance that is not one of the
            agent's training environments (default: the agent's environment id,
            with its `env_kwargs`). An id gets up to 10 fresh environments per
            evaluation; an instance is reset with `seed` and used alone.
        eval_freq: Environment steps (summed over the agent's environments)
            between evaluations.
        n_eval_episodes: Complete episodes per evaluation.
        seed: Seed of every evaluation's first reset (default: the agent's seed
            plus 20,000, away from the training and `Agent.evaluate` seeds).
        restore_best: Load the best weights into the agent when training ends.
        env_kwargs: Keyword arguments of `gymnasium.make` for an `eval_env` id
            (default: the agent's, when `eval_env` is None or the agent's id).
        verbose: 1 prints one line per evaluation and one when the best weights
            are restored.

    Attributes:
        evaluations: One dict per evaluation: `step`, `mean_return`, `std_return`.
        best_mean_return: The best mean return so far (None before the first).
        best_step: The agent's step count at that evaluation.
        best_weights: The copy of the agent's weights taken there
            (`agent.get_weights()` format).
        eval_seconds: Wall time spent in evaluations (inside `learn`'s
            `train_seconds`).

    Example:
        >>> callback = EvalCallback(eval_freq=5_000, n_eval_episodes=10)
        >>> agent = DQNAgent("CartPole-v1", seed=0).learn(50_000, callback=callback)
        >>> callback.best_step, callback.best_mean_return
        >>> agent.save("runs/dqn/agent"); callback.save("runs/dqn/agent")
        >>> callback = EvalCallback.load("runs/dqn/agent")  # resumes the trace
    """

    def __init__(
        self,
        eval_env=None,
        *,
        eval_freq: int = 10_000,
        n_eval_episodes: int = 10,
        seed: int | None = None,
        restore_best: bool = True,
        env_kwargs: dict | None = None,
        verbose: int = 1,
    ):
        import gymnasium

        if eval_env is not None and not isinstance(eval_env, (str, gymnasium.Env)):
            raise ValueError(
                "eval_env must be a gymnasium id (e.g. 'CartPole-v1'), a "
                f"gymnasium.Env or None; received eval_env={eval_env!r}."
            )
        if env_kwargs is not None and not isinstance(env_kwargs, dict):
            raise ValueError(
                "env_kwargs must be a dict of gymnasium.make keyword arguments; "
                f"received env_kwargs={env_kwargs!r}."
            )
        if env_kwargs and isinstance(eval_env, gymnasium.Env):
            raise ValueError(
                "env_kwargs apply only when eval_env is an id; received an "
                f"environment instance and env_kwargs={env_kwargs!r}."
            )
        self.eval_env = eval_env
        self.eval_freq = check_int("eval_freq", eval_freq)
        self.n_eval_episodes = check_int("n_eval_episodes", n_eval_episodes)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.restore_best = check_bool("restore_best", restore_best)
        self.env_kwargs = env_kwargs
        self.verbose = check_int(
            "verbose", int(verbose) if verbose in (0, 1) else verbose, minimum=0
        )
        self.evaluations: list[dict] = []
        self.best_mean_return: float | None = None
        self.best_step: int | None = None
        self.best_weights: dict | None = None
        self.eval_seconds = 0.0
        self._env = None
        self._env_kwargs = None
        self._next_eval: int | None = None

    # -- the callback protocol -------------------------------------------------------

    def on_training_start(self, agent) -> None:
        """Resolve the evaluation environment and seed for `agent`, refuse its
        training environments, and schedule the next evaluation (the next
        multiple of `eval_freq` after the agent's step count)."""
        import gymnasium

        env, kwargs = self.eval_env, self.env_kwargs
        if env is None:
            env = agent.env_id
            if env is None:
                raise ValueError(
                    "EvalCallback needs an environment id to make its evaluation "
                    "environments, and the agent was built on an environment "
                    "instance without a spec; pass eval_env= (an id, or a separate "
                    "environment instance)."
                )
        if isinstance(env, gymnasium.Env):
            training = [e.unwrapped for e in agent.env.envs]
            if env.unwrapped in training:
                raise ValueError(
                    "eval_env must be a separate environment, not one of the "
                    "agent's training environments (its episodes and random "
                    f"state would change); received eval_env={env!r}."
                )
        elif kwargs is None and env == agent.env_id:
            kwargs = agent.config["env_kwargs"]
        if self.seed is None:
            self.seed = int(agent.config["seed"]) + SEED_OFFSET
        self._env, self._env_kwargs = env, kwargs
        self._next_eval = (agent.num_timesteps // self.eval_freq + 1) * self.eval_freq

    def __call__(self, agent, logs=None):
        """Evaluate when the agent's step count has reached the next multiple of
        `eval_freq`. Never stops training (returns None)."""
        if self._next_eval is None:
            self.on_training_start(agent)
        if agent.num_timesteps >= self._next_eval:
            self.evaluate(agent)
            self._next_eval = (
                agent.num_timesteps // self.eval_freq + 1
            ) * self.eval_freq
        return None

    def on_training_end(self, agent) -> None:
        """With `restore_best`, load the best weights into the agent."""
        self._next_eval = None  # a later learn may use another agent or counter
        if self.restore_best and self.best_weights is not None:
            agent.set_weights(self.best_weights)
            if self.verbose:
                print(
                    _after_bar(agent)
                    + f"EvalCallback: restored the best weights, from step "
                    f"{self.best_step} (mean return {self.best_mean_return:.2f})"
                )

    # -- evaluation ------------------------------------------------------------------

    def evaluate(self, agent) -> dict:
        """Evaluate the agent's greedy policy now, record it in `evaluations`, and
        keep its weights if it is the best so far. Returns the record, with
        `"new_best"`."""
        if self._env is None:
            self.on_training_start(agent)
        began = time.perf_counter()
        result = evaluate_policy(
            lambda observations: agent.predict(observations, deterministic=True),
            self._env,
            self.n_eval_episodes,
            seed=self.seed,
            env_kwargs=self._env_kwargs,
        )
        record = {
            "step": int(agent.num_timesteps),
            "mean_return": result["mean_return"],
            "std_return": result["std_return"],
        }
        self.eval_seconds += time.perf_counter() - began
        self.evaluations.append(record)
        new_best = (
            self.best_mean_return is None
            or record["mean_return"] >= self.best_mean_return
        )
        if new_best:
            self.best_mean_return = record["mean_return"]
            self.best_step = record["step"]
            self.best_weights = agent.get_weights()
        if self.verbose:
            print(
                _after_bar(agent) + f"EvalCallback: step {record['step']}: mean return "
                f"{record['mean_return']:.2f} +- {record['std_return']:.2f} over "
                f"{self.n_eval_episodes} episodes"
                + (
                    " (new best)"
                    if new_best
                    else f" (best {self.best_mean_return:.2f} at step {self.best_step})"
                )
            )
        return {**record, "new_best": new_best}

    # -- state -----------------------------------------------------------------------

    def get_state(self) -> dict:
        """The trace and the best checkpoint: `evaluations`, `best_mean_return`,
        `best_step`, `seed`, `eval_seconds` and `best_weights` (copies)."""
        return {
            "evaluations": [dict(e) for e in self.evaluations],
            "best_mean_return": self.best_mean_return,
            "best_step": self.best_step,
            "seed": self.seed,
            "eval_seconds": self.eval_seconds,
            "best_weights": None
            if self.best_weights is None
            else {k: [np.array(w) for w in v] for k, v in self.best_weights.items()},
        }

    def set_state(self, state: dict) -> None:
        """Resume from a `get_state()` dict: later evaluations extend its trace and
        compete with its best checkpoint."""
        keys = ("evaluations", "best_mean_return", "best_step", "seed", "best_weights")
        if not isinstance(state, dict) or any(k not in state for k in keys):
            raise ValueError(
                f"state must be a dict with the keys {keys} (from get_state()); "
                f"received {state!r:.200}."
            )
        self.evaluations = [dict(e) for e in state["evaluations"]]
        self.best_mean_return = state["best_mean_return"]
        self.best_step = state["best_step"]
        self.seed = state["seed"]
        self.eval_seconds = float(state.get("eval_seconds", 0.0))
        weights = state["best_weights"]
        self.best_weights = (
            None
            if weights is None
            else {k: [np.array(w) for w in v] for k, v in weights.items()}
        )

    def save(self, path) -> Path:
        """Write the settings and trace (`eval_callback.json`) and the best weights
        (`eval_callback_weights.npz`) into folder `path`, e.g. the agent's."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = self.get_state()
        weights = state.pop("best_weights")
        config = {
            "eval_env": self.eval_env if isinstance(self.eval_env, str) else None,
            "eval_freq": self.eval_freq,
            "n_eval_episodes": self.n_eval_episodes,
            "restore_best": self.restore_best,
            "env_kwargs": self.env_kwargs,
        }
        (path / STATE_FILE).write_text(
            json.dumps({"config": config, "state": state}, indent=2)
        )
        arrays = {
            f"{name}/{i}": w
            for name, ws in (weights or {}).items()
            for i, w in enumerate(ws)
        }
        np.savez(path / WEIGHTS_FILE, **arrays)
        return path

    @classmethod
    def load(cls, path, **overrides) -> EvalCallback:
        """An `EvalCallback` from a folder `save` wrote, with its trace and best
        weights; keyword arguments override the saved settings (e.g. `eval_env=`
        for an environment instance, which is not saved, or `verbose=`)."""
        path = Path(path)
        if not (path / STATE_FILE).exists():
            raise ValueError(
                f"path must be a folder written by EvalCallback.save; received "
                f"{str(path)!r}, which has no {STATE_FILE}."
            )
        saved = json.loads((path / STATE_FILE).read_text())
        callback = cls(**{**saved["config"], **overrides})
        state = dict(saved["state"])
        weights: dict = {}
        with np.load(path / WEIGHTS_FILE) as arrays:
            for key in arrays.files:
                name, index = key.rsplit("/", 1)
                weights.setdefault(name, {})[int(index)] = arrays[key]
        state["best_weights"] = (
            {name: [ws[i] for i in sorted(ws)] for name, ws in weights.items()}
            if weights
            else None
        )
        if "seed" in overrides:
            state["seed"] = callback.seed
        callback.set_state(state)
        return callback


def _after_bar(agent) -> str:
    """A line break when the agent's progress bar holds the current line."""
    return "\n" if getattr(agent, "verbose", 0) else ""
