"""Gymnasium environments for the agents: creation, seeding and space checks."""

from __future__ import annotations

import numpy as np


def make_env(env, env_kwargs: dict | None = None):
    """A `gymnasium.Env` from an id (`"CartPole-v1"`) or an existing environment.

    An unknown id raises a one-line `ValueError` carrying gymnasium's own message.
    """
    import gymnasium

    if isinstance(env, gymnasium.Env):
        if env_kwargs:
            raise ValueError(
                "env_kwargs apply only when env is an id; received an environment "
                f"instance and env_kwargs={env_kwargs!r}."
            )
        return env
    if not isinstance(env, str):
        raise ValueError(
            "env must be a gymnasium environment id (e.g. 'CartPole-v1') or a "
            f"gymnasium.Env; received {env!r}."
        )
    try:
        return gymnasium.make(env, **(env_kwargs or {}))
    except gymnasium.error.Error as exc:
        message = " ".join(str(exc).split())
        raise ValueError(f"Cannot make env {env!r}: {message}") from None


def make_vector_env(env, n_envs: int = 1, env_kwargs: dict | None = None):
    """`n_envs` copies of `env` stepped in lockstep (`gymnasium.vector.SyncVectorEnv`).

    Finished episodes reset in the same step (`AutoresetMode.SAME_STEP`), so a step's
    final observation is in `info["final_obs"]` and the returned one starts the next
    episode. An environment instance can be vectorised only with `n_envs=1`.
    """
    import gymnasium
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    if isinstance(env, gymnasium.Env) and n_envs != 1:
        raise ValueError(
            "n_envs > 1 needs an environment id to make copies from; received an "
            f"environment instance and n_envs={n_envs} (pass n_envs=1)."
        )
    first = make_env(env, env_kwargs)
    fns = [lambda: first] + [
        lambda: make_env(env, env_kwargs) for _ in range(n_envs - 1)
    ]
    return SyncVectorEnv(fns, autoreset_mode=AutoresetMode.SAME_STEP)


def check_discrete_actions(space, who: str) -> int:
    """The number of actions of a `Discrete` space; a clear error for any other."""
    import gymnasium

    if not isinstance(space, gymnasium.spaces.Discrete):
        raise ValueError(
            f"{who} needs a discrete action space (gymnasium.spaces.Discrete); "
            f"received action_space={space}."
        )
    return int(space.n)


def check_box_observations(space, who: str) -> tuple:
    """The observation shape of a `Box` space; a clear error for any other."""
    import gymnasium

    if not isinstance(space, gymnasium.spaces.Box):
        raise ValueError(
            f"{who} needs array observations (gymnasium.spaces.Box); received "
            f"observation_space={space}. For Discrete observations use "
            "kerasdl.rl.QLearningAgent, or one-hot encode them in a wrapper."
        )
    return tuple(space.shape)


def final_observations(next_obs: np.ndarray, info: dict, done: np.ndarray):
    """The true next observations of a vector step: for finished environments the
    final one from `info["final_obs"]`, not the first of the next episode."""
    if not done.any():
        return next_obs
    real = next_obs.copy()
    for i in np.flatnonzero(done):
        real[i] = info["final_obs"][i]
    return real
