"""What every deep RL agent here shares: environments, predict/evaluate, the training
monitor, and save/load of networks, optimizer state, config and counters."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl._checks import check_float, check_int
from kerasdl.rl.callbacks import call_hook
from kerasdl.rl.envs import (
    check_box_observations,
    check_discrete_actions,
    make_vector_env,
)
from kerasdl.rl.monitor import TrainingMonitor, plot_learning_curve
from kerasdl.rl.networks import check_hidden_units

__all__ = [
    "Agent",
    "check_float",
    "check_hidden_units",
    "evaluate_policy",
    "linear_schedule",
    "regression_loss",
]


def regression_loss(residual, kind: str):
    """Elementwise loss of a residual (a TD error, a value-target error): `"mse"`
    squares it; `"huber"` is quadratic within 1 and linear beyond."""
    if kind == "huber":
        a = ops.abs(residual)
        return ops.where(a <= 1.0, 0.5 * ops.square(residual), a - 0.5)
    return ops.square(residual)


def linear_schedule(start: float, end: float, progress: float) -> float:
    """`start` moving linearly to `end` as `progress` goes from 0 to 1 (then `end`)."""
    return start + (end - start) * min(max(progress, 0.0), 1.0)


def evaluate_policy(
    act,
    env,
    n_episodes: int = 100,
    seed: int = 0,
    env_kwargs: dict | None = None,
    max_envs: int = 10,
) -> dict:
    """Run a policy for `n_episodes` complete episodes and report their returns.

    Episodes run in up to `max_envs` environments at once; each environment runs a
    fixed share of the episodes, so short episodes are not over-counted.

    Args:
        act: `act(observations) -> actions` for a batch of observations.
        env: An environment id or a `gymnasium.Env` (then one environment).
        n_episodes: Episodes to run.
        seed: Seed of the first environment's first reset (then seed + i).
        env_kwargs: Keyword arguments of `gymnasium.make`.
        max_envs: Environments stepped in parallel (in one process).

    Returns:
        `{"mean_return", "std_return", "episodes", "returns"}`.
    """
    import gymnasium

    n_episodes = check_int("n_episodes", n_episodes)
    n_envs = 1 if isinstance(env, gymnasium.Env) else min(max_envs, n_episodes)
    venv = make_vector_env(env, n_envs, env_kwargs)
    quota = np.full(n_envs, n_episodes // n_envs)
    quota[: n_episodes % n_envs] += 1
    done_counts = np.zeros(n_envs, int)
    current = np.zeros(n_envs)
    returns: list[float] = []
    obs, _ = venv.reset(seed=seed)
    try:
        while (done_counts < quota).any():
            actions = np.asarray(act(obs))
            obs, rewards, terminated, truncated, _ = venv.step(actions)
            current += rewards
            for i in np.flatnonzero(terminated | truncated):
                if done_counts[i] < quota[i]:
                    returns.append(float(current[i]))
                    done_counts[i] += 1
                current[i] = 0.0
    finally:
        if not isinstance(env, gymnasium.Env):
            venv.close()
    returns_arr = np.asarray(returns)
    return {
        "mean_return": float(returns_arr.mean()),
        "std_return": float(returns_arr.std()),
        "episodes": int(len(returns_arr)),
        "returns": returns_arr.tolist(),
    }


class Agent:
    """Base of the deep agents (`DQNAgent`, `REINFORCEAgent`, `A2CAgent`).

    A subclass sets `self.config` (JSON-able keyword arguments of its constructor,
    including `n_envs`, `env_kwargs` and `seed`), calls `_setup(env, ...)`, builds its
    networks and optimizers, and implements `_networks()`, `_optimizers()`,
    `_act(obs, deterministic)` and `learn`.
    """

    algorithm = ""
    # Constructor arguments that were removed; `load` drops them from older saves.
    removed_arguments: tuple = ()
    # Counters saved with the agent (subclasses add their own).
    counter_names = (
        "num_timesteps",
        "num_updates",
        "num_episodes",
        "train_seconds",
        "horizon",
    )

    def _setup(self, env, verbose, log_dir, tensorboard):
        cfg = self.config
        self.verbose = verbose
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.tensorboard = tensorboard
        self.env = make_vector_env(env, cfg["n_envs"], cfg["env_kwargs"])
        spec = self.env.envs[0].spec
        self.env_id = spec.id if spec is not None else None
        who = type(self).__name__
        self.n_actions = check_discrete_actions(self.env.single_action_space, who)
        self.observation_shape = check_box_observations(
            self.env.single_observation_space, who
        )
        obs_dtype = self.env.single_observation_space.dtype
        self.observation_dtype = np.uint8 if obs_dtype == np.uint8 else np.float32
        self.rng = np.random.default_rng(cfg["seed"])
        self.num_timesteps = 0
        self.num_updates = 0
        self.num_episodes = 0
        self.train_seconds = 0.0
        self.horizon = None
        self.episodes: list = []
        self._observations = None
        backend.set_random_seed(cfg["seed"])

    # -- subclass interface ----------------------------------------------------------

    def _networks(self) -> dict:
        raise NotImplementedError

    def _optimizers(self) -> dict:
        raise NotImplementedError

    def _act(self, observations, deterministic: bool) -> np.ndarray:
        raise NotImplementedError

    def _rngs(self) -> dict:
        return {"rng": self.rng}

    # -- shared pieces of learn ------------------------------------------------------

    def _begin(
        self, total_timesteps, reset_num_timesteps, callback=None
    ) -> TrainingMonitor:
        """Check the budget, set the horizon, reset the environments on the first
        call, and tell the callback that training starts (`on_training_start`)."""
        total_timesteps = check_int("total_timesteps", total_timesteps)
        if reset_num_timesteps:
            self.num_timesteps = 0
        self.horizon = self.num_timesteps + total_timesteps
        if self._observations is None:
            self._observations, _ = self.env.reset(
                seed=self.config["seed"] + self.num_timesteps
            )
            n_envs = self.config["n_envs"]
            self._episode_returns = np.zeros(n_envs)
            self._episode_lengths = np.zeros(n_envs, int)
        call_hook(callback, "on_training_start", self)
        return TrainingMonitor(
            total_timesteps,
            start=self.num_timesteps,
            verbose=self.verbose,
            log_dir=self.log_dir,
            tensorboard=self.tensorboard,
        )

    def _record_step(self, rewards, done, monitor) -> None:
        """Count one vector step and record the episodes it finished."""
        self._episode_returns += rewards
        self._episode_lengths += 1
        self.num_timesteps += len(rewards)
        for i in np.flatnonzero(done):
            self.num_episodes += 1
            row = (
                self.num_episodes,
                self.num_timesteps,
                float(self._episode_returns[i]),
                int(self._episode_lengths[i]),
            )
            self.episodes.append(row)
            monitor.episode(*row)
            self._episode_returns[i] = 0.0
            self._episode_lengths[i] = 0

    def _end(self, monitor, callback=None) -> None:
        """Tell the callback that training ended (`on_training_end`: an
        `EvalCallback` restores its best weights there), then close the monitor.
        `learn` calls it in its `finally`, so it runs however training stops."""
        try:
            call_hook(callback, "on_training_end", self)
        finally:
            monitor.close(self.num_timesteps)
        if self.log_dir is not None:
            plot_learning_curve(
                self.episodes,
                self.log_dir / "learning_curve.png",
                title=f"{type(self).__name__} on {self.env_id or 'env'}",
            )

    def _schedule_learning_rate(self) -> None:
        """Move the optimizer's learning rate along the horizon, from
        `config["learning_rate"]` to `config["final_learning_rate"]` (if not None)."""
        lr0, lr1 = self.config["learning_rate"], self.config["final_learning_rate"]
        if lr1 is not None and self.horizon:
            self.optimizer.learning_rate = linear_schedule(
                lr0, lr1, self.num_timesteps / self.horizon
            )

    # -- acting ----------------------------------------------------------------------

    def _check_observations(self, observation):
        obs = np.asarray(observation)
        single = obs.shape == self.observation_shape
        if not single and obs.shape[1:] != self.observation_shape:
            raise ValueError(
                f"observation must have shape {self.observation_shape} (one) or "
                f"(batch, *{self.observation_shape}); received {obs.shape}."
            )
        if obs.size and not np.isfinite(obs.astype(float)).all():
            raise ValueError("observation contains NaN or infinite values.")
        return (obs[None] if single else obs).astype(self.observation_dtype), single

    def predict(self, observation, deterministic: bool = True):
        """The action for one observation (or the actions for a batch).

        Args:
            observation: One observation, or a batch of them.
            deterministic: The greedy / most probable action; otherwise the agent's
                exploring behaviour (epsilon-greedy, or a sample of the policy).

        Returns:
            An `int` for one observation, else an array of actions.
        """
        obs, single = self._check_observations(observation)
        actions = self._act(obs, deterministic)
        return int(actions[0]) if single else actions

    def evaluate(
        self,
        env=None,
        n_episodes: int = 100,
        deterministic: bool = True,
        seed: int | None = None,
    ) -> dict:
        """Mean and standard deviation of the return over `n_episodes` episodes.

        Args:
            env: An environment id or instance (default: the training id).
            n_episodes: Complete episodes to run.
            deterministic: As in `predict`.
            seed: Seed of the evaluation environments (default: the agent's seed
                plus 10,000, away from the training episodes).

        Returns:
            `{"mean_return", "std_return", "episodes", "returns"}`.
        """
        env = env if env is not None else self.env_id
        if env is None:
            raise ValueError(
                "This agent was built on an environment instance without a spec; "
                "pass env= to evaluate."
            )
        seed = self.config["seed"] + 10_000 if seed is None else seed
        return evaluate_policy(
            lambda o: self.predict(o, deterministic=deterministic),
            env,
            n_episodes,
            seed=seed,
            env_kwargs=self.config["env_kwargs"] if isinstance(env, str) else None,
        )

    # -- weights ---------------------------------------------------------------------

    def get_weights(self) -> dict:
        """Copies of every network's weights: `{network name: [arrays]}` (for DQN
        the online and the target network)."""
        return {
            name: [np.array(w, copy=True) for w in network.get_weights()]
            for name, network in self._networks().items()
        }

    def set_weights(self, weights: dict) -> None:
        """Set every network's weights from a `get_weights()` dict."""
        networks = self._networks()
        if not isinstance(weights, dict) or set(weights) != set(networks):
            got = sorted(weights) if isinstance(weights, dict) else weights
            raise ValueError(
                f"weights must map each of this agent's networks {sorted(networks)} "
                f"to its list of arrays; received {got!r}."
            )
        for name, network in networks.items():
            network.set_weights(weights[name])

    # -- persistence -----------------------------------------------------------------

    def save(self, path) -> Path:
        """Save the agent to folder `path`: its networks (`<name>.keras`), optimizer
        state (`optimizers.npz`), config, counters and random-generator states
        (`agent.json`).

        A loaded agent continues training with the same optimizer state, counters,
        schedules and random streams; its environments start new episodes.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name, network in self._networks().items():
            network.save(path / f"{name}.keras")
        arrays = {
            f"{name}/{i}": ops.convert_to_numpy(v.value)
            for name, opt in self._optimizers().items()
            for i, v in enumerate(opt.variables)
        }
        np.savez(path / "optimizers.npz", **arrays)
        meta = {
            "class": type(self).__name__,
            "algorithm": self.algorithm,
            "env_id": self.env_id,
            "backend": backend.name(),
            "config": self.config,
            "counters": {name: getattr(self, name) for name in self.counter_names},
            "rng_states": {k: g.bit_generator.state for k, g in self._rngs().items()},
        }
        (path / "agent.json").write_text(json.dumps(meta, indent=2))
        return path

    @classmethod
    def load(cls, path, env=None, verbose: int = 1, log_dir=None, tensorboard=False):
        """Load an agent written by `save` (on any backend).

        Args:
            path: The folder `save` wrote.
            env: Environment id or instance (default: the saved id).
            verbose: Progress bar in later `learn` calls.
            log_dir: Where later `learn` calls write their logs.
            tensorboard: TensorBoard scalars in later `learn` calls.
        """
        path = Path(path)
        meta_path = path / "agent.json"
        if not meta_path.exists():
            raise ValueError(
                f"path must be a folder written by {cls.__name__}.save; "
                f"received {str(path)!r}, which has no agent.json."
            )
        meta = json.loads(meta_path.read_text())
        if meta.get("class") != cls.__name__:
            raise ValueError(
                f"{str(path)!r} holds a {meta.get('class')}, not a {cls.__name__}; "
                "load it with that class."
            )
        env = env if env is not None else meta["env_id"]
        for name in cls.removed_arguments:  # older saves may still carry them
            meta["config"].pop(name, None)
        agent = cls(
            env,
            verbose=verbose,
            log_dir=log_dir,
            tensorboard=tensorboard,
            **meta["config"],
        )
        for name, network in agent._networks().items():
            saved = keras.saving.load_model(path / f"{name}.keras")
            network.set_weights(saved.get_weights())
        with np.load(path / "optimizers.npz") as saved:
            for name, opt in agent._optimizers().items():
                keys = sorted(
                    (k for k in saved.files if k.startswith(f"{name}/")),
                    key=lambda k: int(k.split("/")[1]),
                )
                if len(keys) != len(opt.variables):
                    raise ValueError(
                        f"{path / 'optimizers.npz'} holds {len(keys)} variables for "
                        f"optimizer {name!r}; this agent's has {len(opt.variables)}."
                    )
                for key, variable in zip(keys, opt.variables):
                    variable.assign(saved[key])
        for name, value in meta["counters"].items():
            setattr(agent, name, value)
        for name, generator in agent._rngs().items():
            generator.bit_generator.state = meta["rng_states"][name]
        agent._after_load(path)
        return agent

    def _after_load(self, path) -> None:
        """Hook for state beyond networks, optimizers and counters."""
