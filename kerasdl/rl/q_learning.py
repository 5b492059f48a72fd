"""Tabular Q-learning, the maths: the update (`q_update`), value iteration on an
environment's own transition table (`value_iteration`, `optimal_policy`) and the
exact evaluation of a greedy policy (`evaluate_tabular_policy`). Pure NumPy.

The agent that learns with them is `kerasdl.rl.q_learning_agent.QLearningAgent`.
"""

from __future__ import annotations

import math

import gymnasium
import numpy as np

from kerasdl._checks import check_float, check_int
from kerasdl.rl.envs import make_env

__all__ = [
    "evaluate_tabular_policy",
    "optimal_policy",
    "q_update",
    "value_iteration",
]

_FORMAT_VERSION = 1


# ---------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------


def _make_env(env, env_kwargs=None):
    """A gymnasium env from an id string or an `Env` instance, with discrete spaces.

    Raises:
        ValueError: For an unknown env id (with gymnasium's message), an argument of
            the wrong type, or spaces that are not `gymnasium.spaces.Discrete`.
    """
    env = make_env(env, env_kwargs)
    obs_space, act_space = env.observation_space, env.action_space
    for space_name, space in (
        ("observation_space", obs_space),
        ("action_space", act_space),
    ):
        if not isinstance(space, gymnasium.spaces.Discrete):
            raise ValueError(
                "QLearningAgent needs Discrete observation and action spaces; "
                f"received {space_name}={space!r}."
            )
    return env


def _transition_table(env):
    """`env.unwrapped.P` (the toy-text transition table), or a ValueError."""
    env = _make_env(env)
    table = getattr(env.unwrapped, "P", None)
    if not isinstance(table, dict):
        raise ValueError(
            "Value iteration needs the transition table `env.unwrapped.P` "
            "({state: {action: [(prob, next_state, reward, terminated), ...]}}), "
            f"as the toy-text environments have; received env={env!r} without one."
        )
    return env, table


# ---------------------------------------------------------------------------------
# The update rule and exact solutions
# ---------------------------------------------------------------------------------


def q_update(
    q_table: np.ndarray,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    terminated: bool,
    *,
    gamma: float,
    learning_rate: float,
) -> float:
    """One Q-learning (Bellman) update of `q_table[state, action]`, in place.

        Q[s, a] += lr * (r + gamma * (1 - terminated) * max_a' Q[s', a'] - Q[s, a])

    Only a termination (the episode reached a terminal state) stops the bootstrap. A
    truncation (a time limit) is not a property of the state, so the caller passes
    `terminated=False` and the value of `next_state` is still used.

    Args:
        q_table: Float array of shape (n_states, n_actions), updated in place.
        state: The state the action was taken in.
        action: The action taken.
        reward: The reward received.
        next_state: The state reached.
        terminated: Whether `next_state` is terminal.
        gamma: Discount factor.
        learning_rate: Step size for this update.

    Returns:
        The temporal-difference error (the target minus the old value).
    """
    bootstrap = 0.0 if terminated else gamma * float(np.max(q_table[next_state]))
    td_error = reward + bootstrap - float(q_table[state, action])
    q_table[state, action] += learning_rate * td_error
    return td_error


def value_iteration(
    env, gamma: float = 0.99, tol: float = 1e-10, max_iterations: int = 100_000
) -> np.ndarray:
    """The optimal action values of a toy-text environment, by value iteration.

    Sweeps `Q[s, a] = sum_s' p(s' | s, a) * (r + gamma * (1 - terminated) * max Q[s'])`
    over the transition table `env.unwrapped.P` until no value moves more than `tol`.
    Time limits are ignored (the discounted, infinite-horizon problem is solved).

    Args:
        env: A gymnasium env id or instance whose unwrapped env has a table `P`
            (FrozenLake-v1, Taxi-v3, CliffWalking-v1, ...).
        gamma: Discount factor in (0, 1]. With gamma = 1 the sweep converges only
            where every policy eventually terminates.
        tol: Stop when the largest change of one sweep is below this.
        max_iterations: Upper bound on sweeps.

    Returns:
        Float64 array of shape (n_states, n_actions).
    """
    gamma = check_float("gamma", gamma, 0.0, 1.0, low_open=True)
    tol = check_float("tol", tol, 0.0, math.inf, low_open=True, high_open=True)
    max_iterations = check_int("max_iterations", max_iterations, minimum=1)
    env, table = _transition_table(env)
    n_states, n_actions = env.observation_space.n, env.action_space.n

    # The table as flat arrays: one row per (state, action, outcome).
    rows = [
        (s, a, p, s_next, r, t)
        for s in range(n_states)
        for a in range(n_actions)
        for p, s_next, r, t in table[s][a]
    ]
    s_idx, a_idx, prob, s_next, reward, terminated = (np.array(c) for c in zip(*rows))
    prob, reward = prob.astype(float), reward.astype(float)
    not_done = 1.0 - terminated.astype(float)
    s_next = s_next.astype(int)

    q = np.zeros((n_states, n_actions))
    for _ in range(max_iterations):
        targets = prob * (reward + gamma * not_done * q.max(axis=1)[s_next])
        new_q = np.zeros_like(q)
        np.add.at(new_q, (s_idx, a_idx), targets)
        delta = np.max(np.abs(new_q - q))
        q = new_q
        if delta < tol:
            break
    return q


def optimal_policy(env, gamma: float = 0.99) -> np.ndarray:
    """The greedy policy of `value_iteration(env, gamma)`: one action per state.

    Returns:
        Int array of shape (n_states,).
    """
    return np.argmax(value_iteration(env, gamma=gamma), axis=1)


def evaluate_tabular_policy(
    env, policy, n_episodes: int = 1000, seed: int | None = 0
) -> dict:
    """Run a fixed policy for `n_episodes` and summarise the returns.

    The env is reset with `seed` before the first episode only, so the episodes
    differ from each other but the whole run is reproducible.

    Args:
        env: A gymnasium env id or instance (discrete spaces).
        policy: An int array of shape (n_states,) (one action per state), or a
            callable mapping a state to an action.
        n_episodes: Number of episodes (>= 1).
        seed: Seed for the env's first reset and its action space; None for fresh
            entropy.

    Returns:
        A dict with `mean_return`, `std_return`, `success_rate` (fraction of
        episodes with a return > 0), `mean_length` (steps per episode) and
        `episodes` (the number of episodes run).
    """
    n_episodes = check_int("n_episodes", n_episodes, minimum=1)
    seed = check_int("seed", seed, minimum=0, allow_none=True)
    env = _make_env(env)
    if not callable(policy):
        table = np.asarray(policy)
        if table.shape != (env.observation_space.n,):
            raise ValueError(
                f"`policy` must have shape ({env.observation_space.n},) (one action "
                f"per state) for this env; received shape {table.shape}."
            )
        table = table.astype(int).tolist()
        policy = table.__getitem__
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=int)
    env.action_space.seed(seed)
    for episode in range(n_episodes):
        state, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            state, reward, terminated, truncated, _ = env.step(policy(int(state)))
            returns[episode] += reward
            lengths[episode] += 1
            done = terminated or truncated
    return {
        "mean_return": float(returns.mean()),
        "std_return": float(returns.std()),
        "success_rate": float(np.mean(returns > 0)),
        "mean_length": float(lengths.mean()),
        "episodes": n_episodes,
    }
