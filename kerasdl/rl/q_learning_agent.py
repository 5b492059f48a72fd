"""The tabular Q-learning agent for gymnasium environments with discrete states and
actions (FrozenLake-v1, Taxi-v4): epsilon-greedy, pure NumPy.

Learning rate: each state-action pair (s, a) has its own step size, decaying with the
number n(s, a) of earlier updates of that pair,

    lr(s, a) = max(min_lr, lr0 / (1 + decay * n(s, a)))

(`learning_rate`, `learning_rate_decay`, `min_learning_rate`): a Robbins-Monro
schedule, large steps while a pair is new, then nearly an average of its many noisy
targets; a constant step never settles on slippery FrozenLake, and a per-episode
schedule shrinks the steps of a rarely visited pair as fast as those of a frequent
one. The small floor keeps a long run from freezing.

Example:
    >>> agent = QLearningAgent("FrozenLake-v1", seed=0)
    >>> agent.learn(total_episodes=5_000, progress=False)
    >>> agent.evaluate(n_episodes=1000)["success_rate"]  # optimal policy: ~0.74
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kerasdl._checks import check_float, check_int
from kerasdl.rl.q_learning import (
    _FORMAT_VERSION,
    _make_env,
    evaluate_tabular_policy,
)

__all__ = ["QLearningAgent"]

# ---------------------------------------------------------------------------------
# Progress line (no Keras here, so no keras.utils.Progbar)
# ---------------------------------------------------------------------------------


class _ProgressLine:
    """A one-line progress report on stderr, redrawn at each whole percent."""

    def __init__(self, total: int, unit: str, enabled: bool, stream=None):
        self.total, self.unit, self.enabled = total, unit, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self.shown = -1
        self.width = 0

    def update(self, done: int, returns: list[float]) -> None:
        """Redraw if `done` reached a new percent; `returns` are the episode returns."""
        percent = 100 * done // self.total
        if not self.enabled or percent == self.shown:
            return
        self.shown = percent
        line = f"Q-learning {percent:3d}%  {done}/{self.total} {self.unit}"
        if returns:
            line += f"  mean return (last 100 episodes) {np.mean(returns[-100:]):.3f}"
        line += f"  {time.perf_counter() - self.start:.1f}s"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------------------
# The agent
# ---------------------------------------------------------------------------------


class QLearningAgent:
    """Epsilon-greedy tabular Q-learning with per-state-action step sizes.

    Training (`learn`): epsilon falls linearly from `epsilon_start` to `epsilon_end`
    over the first `exploration_fraction` of the budget (episodes or steps, whichever
    budget is given) and then stays at `epsilon_end`. Greedy choices break ties at
    random, so an all-zero table (FrozenLake before its first success) is explored
    evenly instead of always pushing "left". The step size of pair (s, a) is
    `max(min_learning_rate, learning_rate / (1 + learning_rate_decay * n(s, a)))`
    with `n(s, a)` the number of earlier updates of that pair (see the module
    docstring for why). Terminations stop the bootstrap; truncations do not.

    Each call to `learn` starts from a zero table (like scikit-learn's `fit`).
    `__init__` only stores and checks its arguments; checking `env` means making it
    (for an id) and looking at its spaces, so mistakes surface at construction.

    Args:
        env: A gymnasium env id (str) or a `gymnasium.Env` with `Discrete`
            observation and action spaces. An id is made once, here, with
            `gymnasium.make(env, **env_kwargs)`.
        env_kwargs: Keyword arguments for `gymnasium.make` (only with an id), e.g.
            `{"is_slippery": False}`.
        gamma: Discount factor in (0, 1].
        learning_rate: Initial step size in (0, 1].
        learning_rate_decay: How fast each pair's step size decays with its visit
            count (>= 0; 0 keeps it constant).
        min_learning_rate: Floor of the step size, in [0, learning_rate].
        epsilon_start: Exploration rate at the start, in [0, 1].
        epsilon_end: Exploration rate after the decay, in [0, 1]; also the rate of
            `predict(..., deterministic=False)`.
        exploration_fraction: Fraction of the budget over which epsilon decays,
            in [0, 1] (0: `epsilon_end` from the start).
        seed: Seeds the agent's generator (exploration, tie-breaking), the env's
            first reset and its action space; None for fresh entropy.

    Attributes (after `learn` or `load`):
        q_table_: Float64 array (n_states, n_actions), the learned action values.
        visits_: Int array (n_states, n_actions), updates per pair.
        episode_returns_: Float array, the return of each finished training episode.
        episode_lengths_: Int array, the steps of each finished training episode.
        n_timesteps_: Environment steps taken in training.
        n_episodes_: Training episodes finished.
        train_seconds_: Wall time of the last `learn`.

    Example:
        >>> agent = QLearningAgent("FrozenLake-v1", seed=0)
        >>> agent.learn(total_episodes=5_000, progress=False)
        >>> agent.evaluate(n_episodes=1000)["success_rate"]  # optimal policy: ~0.74
    """

    def __init__(
        self,
        env,
        *,
        env_kwargs: dict | None = None,
        gamma: float = 0.99,
        learning_rate: float = 0.8,
        learning_rate_decay: float = 0.05,
        min_learning_rate: float = 0.005,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.01,
        exploration_fraction: float = 0.5,
        seed: int | None = 0,
    ):
        if env_kwargs is not None and not isinstance(env_kwargs, dict):
            raise ValueError(
                "`env_kwargs` must be a dict or None; received "
                f"env_kwargs={env_kwargs!r}."
            )
        self.env = env
        self.env_kwargs = env_kwargs
        self.gamma = check_float("gamma", gamma, 0.0, 1.0, low_open=True)
        self.learning_rate = check_float(
            "learning_rate", learning_rate, 0.0, 1.0, low_open=True
        )
        self.learning_rate_decay = check_float(
            "learning_rate_decay", learning_rate_decay, 0.0, math.inf, high_open=True
        )
        self.min_learning_rate = check_float(
            "min_learning_rate", min_learning_rate, 0.0, self.learning_rate
        )
        self.epsilon_start = check_float("epsilon_start", epsilon_start, 0.0, 1.0)
        self.epsilon_end = check_float("epsilon_end", epsilon_end, 0.0, 1.0)
        self.exploration_fraction = check_float(
            "exploration_fraction", exploration_fraction, 0.0, 1.0
        )
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self._env = _make_env(env, env_kwargs)

    # -- sizes and config --------------------------------------------------------

    @property
    def n_states(self) -> int:
        return int(self._env.observation_space.n)

    @property
    def n_actions(self) -> int:
        return int(self._env.action_space.n)

    def get_config(self) -> dict:
        """Every `__init__` argument except `env` (see `save` for how it is kept)."""
        return {
            "env_kwargs": self.env_kwargs,
            "gamma": self.gamma,
            "learning_rate": self.learning_rate,
            "learning_rate_decay": self.learning_rate_decay,
            "min_learning_rate": self.min_learning_rate,
            "epsilon_start": self.epsilon_start,
            "epsilon_end": self.epsilon_end,
            "exploration_fraction": self.exploration_fraction,
            "seed": self.seed,
        }

    def epsilon(self, progress: float) -> float:
        """The exploration rate after `progress` (in [0, 1]) of the budget."""
        if self.exploration_fraction == 0 or progress >= self.exploration_fraction:
            return self.epsilon_end
        fraction = progress / self.exploration_fraction
        return self.epsilon_start + fraction * (self.epsilon_end - self.epsilon_start)

    # -- training ----------------------------------------------------------------

    def learn(
        self,
        total_episodes: int | None = None,
        total_timesteps: int | None = None,
        callback: Callable[[QLearningAgent, dict], bool | None] | None = None,
        progress: bool = True,
    ) -> QLearningAgent:
        """Train from a zero Q-table for a budget of episodes or of steps.

        Args:
            total_episodes: Number of training episodes (give this or
                `total_timesteps`, not both).
            total_timesteps: Number of environment steps; the last episode is cut
                off when the budget runs out (and not counted in
                `episode_returns_`).
            callback: Called after each finished episode as
                `callback(agent, info)` with `info` a dict of `episode`,
                `timesteps`, `episode_return`, `episode_length`, `epsilon`.
                Returning False stops training.
            progress: Print a progress line on stderr.

        Returns:
            self.
        """
        if (total_episodes is None) == (total_timesteps is None):
            raise ValueError(
                "Give exactly one budget, `total_episodes` or `total_timesteps`; "
                f"received total_episodes={total_episodes!r}, "
                f"total_timesteps={total_timesteps!r}."
            )
        by_episode = total_episodes is not None
        if by_episode:
            budget = check_int("total_episodes", total_episodes, minimum=1)
        else:
            budget = check_int("total_timesteps", total_timesteps, minimum=1)
        if callback is not None and not callable(callback):
            raise ValueError(
                f"`callback` must be callable or None; received callback={callback!r}."
            )

        env, n_actions = self._env, self.n_actions
        gamma, lr0, lr_min = self.gamma, self.learning_rate, self.min_learning_rate
        decay = self.learning_rate_decay
        rng = np.random.default_rng(self.seed)
        env.action_space.seed(self.seed)
        # Python lists in the inner loop: a step of FrozenLake costs ~8 us, and NumPy
        # scalar indexing would add as much again. The update is `q_update`'s.
        q = [[0.0] * n_actions for _ in range(self.n_states)]
        visits = [[0] * n_actions for _ in range(self.n_states)]
        returns, lengths = [], []
        bar = _ProgressLine(budget, "episodes" if by_episode else "steps", progress)
        start = time.perf_counter()

        steps = 0
        state = int(env.reset(seed=self.seed)[0])
        try:
            while (len(returns) if by_episode else steps) < budget:
                epsilon = self.epsilon((len(returns) if by_episode else steps) / budget)
                episode_return, episode_length, done = 0.0, 0, False
                while not done and (by_episode or steps < budget):
                    if rng.random() < epsilon:
                        action = int(rng.integers(n_actions))
                    else:
                        action = _argmax_random_ties(q[state], rng)
                    next_state, reward, terminated, truncated, _ = env.step(action)
                    next_state = int(next_state)
                    # Bellman update; only a termination stops the bootstrap.
                    target = (
                        reward if terminated else reward + gamma * max(q[next_state])
                    )
                    lr = max(lr_min, lr0 / (1.0 + decay * visits[state][action]))
                    q[state][action] += lr * (target - q[state][action])
                    visits[state][action] += 1
                    episode_return += reward
                    episode_length += 1
                    steps += 1
                    if not by_episode:
                        epsilon = self.epsilon(steps / budget)
                    state, done = next_state, terminated or truncated
                if not done:  # the step budget ran out mid-episode
                    break
                returns.append(episode_return)
                lengths.append(episode_length)
                state = int(env.reset()[0])
                bar.update(len(returns) if by_episode else steps, returns)
                if callback is not None:
                    self.q_table_ = np.array(q)  # current values, for the callback
                    info = {
                        "episode": len(returns),
                        "timesteps": steps,
                        "episode_return": episode_return,
                        "episode_length": episode_length,
                        "epsilon": epsilon,
                    }
                    if callback(self, info) is False:
                        break
        finally:  # also on Ctrl-C: what was learned so far is kept
            bar.close()
            self.q_table_ = np.array(q, dtype=np.float64)
            self.visits_ = np.array(visits, dtype=np.int64)
            self.episode_returns_ = np.asarray(returns, dtype=float)
            self.episode_lengths_ = np.asarray(lengths, dtype=np.int64)
            self.n_timesteps_ = steps
            self.n_episodes_ = len(returns)
            self.train_seconds_ = time.perf_counter() - start
            self.rng_ = rng
        return self

    # -- acting --------------------------------------------------------------------

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "q_table_"):
            raise RuntimeError(
                f"This QLearningAgent has no Q-table yet; call learn() or "
                f"QLearningAgent.load() before {method}()."
            )

    def predict(self, obs, deterministic: bool = True):
        """The action for a state (or an array of actions for an array of states).

        Args:
            obs: A state index, or an int array of them.
            deterministic: True: the greedy action (first of any ties). False: a
                uniformly random action with probability `epsilon_end`, else greedy.

        Returns:
            An int for a scalar `obs`, else an int array of the same shape.
        """
        self._check_fitted("predict")
        states = np.asarray(obs)
        if (
            states.dtype.kind not in "iu"
            or states.size == 0
            or states.min() < 0
            or states.max() >= self.n_states
        ):
            raise ValueError(
                f"`obs` must be a state index (or an array of them) in [0, "
                f"{self.n_states}); received obs={obs!r}."
            )
        actions = np.argmax(self.q_table_[states], axis=-1)
        if not deterministic:
            if not hasattr(self, "rng_"):
                self.rng_ = np.random.default_rng(self.seed)
            rng = self.rng_
            explore = rng.random(actions.shape) < self.epsilon_end
            random_actions = rng.integers(self.n_actions, size=actions.shape)
            actions = np.where(explore, random_actions, actions)
        return int(actions) if actions.ndim == 0 else actions

    def evaluate(self, env=None, n_episodes: int = 1000, seed: int | None = None):
        """Run the greedy policy for `n_episodes` and summarise the returns.

        Args:
            env: An env id or instance to evaluate in; None: a fresh copy of the
                training env when it was given as an id, else the training env
                itself.
            n_episodes: Number of episodes (>= 1).
            seed: Seed of the first reset; None uses the agent's `seed`.

        Returns:
            The dict of `evaluate_tabular_policy`: `mean_return`, `std_return`,
            `success_rate` (fraction of episodes with a return > 0), `mean_length`,
            `episodes` (the number of episodes run).
        """
        self._check_fitted("evaluate")
        if env is None:
            env = (
                _make_env(self.env, self.env_kwargs)
                if isinstance(self.env, str)
                else self._env
            )
        else:
            env = _make_env(env)
            if (env.observation_space.n, env.action_space.n) != self.q_table_.shape:
                raise ValueError(
                    f"`env` must have {self.q_table_.shape[0]} states and "
                    f"{self.q_table_.shape[1]} actions like the Q-table; received "
                    f"observation_space={env.observation_space!r}, "
                    f"action_space={env.action_space!r}."
                )
        policy = np.argmax(self.q_table_, axis=1)
        return evaluate_tabular_policy(
            env, policy, n_episodes, seed=self.seed if seed is None else seed
        )

    # -- saving ----------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write the Q-table, visit counts, training curve and config to one `.npz`.

        The env is kept as its id (`env` if it was a string, else `env.spec.id`)
        with `env_kwargs` (or the spec's kwargs), so `load` can remake it.

        Args:
            path: File path; `.npz` is appended if missing.

        Returns:
            The path written.
        """
        self._check_fitted("save")
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        if isinstance(self.env, str):
            env_id, env_kwargs = self.env, self.env_kwargs
        else:
            spec = self._env.spec
            env_id = spec.id if spec is not None else None
            env_kwargs = dict(spec.kwargs) if spec is not None else None
        config = self.get_config() | {"env_id": env_id, "env_kwargs": env_kwargs}
        try:
            config_json = json.dumps({"format_version": _FORMAT_VERSION, **config})
        except TypeError:  # kwargs that JSON cannot hold: keep the id only
            config["env_kwargs"] = None
            config_json = json.dumps({"format_version": _FORMAT_VERSION, **config})
        np.savez(
            path,
            q_table=self.q_table_,
            visits=self.visits_,
            episode_returns=self.episode_returns_,
            episode_lengths=self.episode_lengths_,
            counters=np.array([self.n_timesteps_, self.n_episodes_]),
            config=np.array(config_json),
        )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, env=None) -> QLearningAgent:
        """Rebuild an agent written by `save`.

        Args:
            path: The `.npz` file.
            env: The env to attach (id or instance); None remakes the saved id.

        Returns:
            A QLearningAgent with `q_table_` and the other learned attributes set.
        """
        with np.load(Path(path), allow_pickle=False) as data:
            config = json.loads(str(data["config"]))
            arrays = {key: data[key] for key in data.files if key != "config"}
        config.pop("format_version", None)
        env_id = config.pop("env_id")
        if env is None:
            if env_id is None:
                raise ValueError(
                    f"{os.fspath(path)!r} was saved from an env without a registered "
                    "id; pass it as load(path, env=...)."
                )
            env = env_id
        else:
            config["env_kwargs"] = None
        agent = cls(env, **config)
        if (agent.n_states, agent.n_actions) != arrays["q_table"].shape:
            raise ValueError(
                f"`env` has {agent.n_states} states and {agent.n_actions} actions but "
                f"the saved Q-table has shape {arrays['q_table'].shape}."
            )
        agent.q_table_ = arrays["q_table"]
        agent.visits_ = arrays["visits"]
        agent.episode_returns_ = arrays["episode_returns"]
        agent.episode_lengths_ = arrays["episode_lengths"]
        agent.n_timesteps_, agent.n_episodes_ = (int(n) for n in arrays["counters"])
        agent.rng_ = np.random.default_rng(agent.seed)
        return agent


def _argmax_random_ties(row: list[float], rng: np.random.Generator) -> int:
    """Index of the largest value; a uniformly random one among ties."""
    best = max(row)
    ties = [i for i, v in enumerate(row) if v == best]
    return ties[0] if len(ties) == 1 else ties[int(rng.integers(len(ties)))]
