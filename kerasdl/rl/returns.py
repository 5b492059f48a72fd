"""Returns and advantages in NumPy: discounted returns with bootstrapping at
truncations (`discounted_returns`) and generalised advantage estimation
(`gae_advantages`, Schulman et al., 2016).

Episode ends follow gymnasium: a termination has no future (its value is 0), a
truncation (a time limit) does, so its return bootstraps from V(final observation).
"""

from __future__ import annotations

import numpy as np

from kerasdl.rl.base import (
    check_float,
)


def _check_finite(name, array):
    finite = np.isfinite(array)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"`{name}` holds {array.size - int(finite.sum())} NaN or infinite "
            f"value(s), the first at index {first} ({name}[{first}]="
            f"{array.reshape(-1)[first]!r})."
        )


def discounted_returns(
    rewards, gamma: float, terminated: bool = True, final_value: float = 0.0
) -> np.ndarray:
    """The discounted return from every step of one episode.

    `G_t = r_t + gamma * G_{t+1}`, starting from `G_T = 0` when the episode
    terminated, or `G_T = final_value` (the value of the final observation) when it
    was truncated by a time limit.

    Args:
        rewards: The episode's rewards, shape `(T,)`.
        gamma: Discount factor, in [0, 1].
        terminated: Whether the episode ended in a terminal state (no bootstrap).
        final_value: V(final observation), used only when `terminated` is False.

    Returns:
        A float32 array of shape `(T,)`.

    Raises:
        ValueError: `gamma` outside [0, 1] (a factor above 1 makes returns grow
            without bound), or NaN/inf in `rewards`.

    Example:
        >>> discounted_returns([1.0, 1.0, 1.0], 0.5)
        array([1.75, 1.5 , 1.  ], dtype=float32)
    """
    gamma = check_float("gamma", gamma, low=0.0, high=1.0)
    rewards = np.asarray(rewards, dtype=np.float64).reshape(-1)
    _check_finite("rewards", rewards)
    out = np.empty_like(rewards)
    running = 0.0 if terminated else float(final_value)
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out.astype(np.float32)


def gae_advantages(
    rewards,
    values,
    next_values,
    terminated,
    truncated,
    gamma: float,
    gae_lambda: float = 1.0,
):
    """Generalised advantage estimates and value targets of a time-major rollout.

    With `delta_t = r_t + gamma * (1 - terminated_t) * V(s_{t+1}) - V(s_t)`,
    `A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}`: a termination does not
    bootstrap; a truncation bootstraps from `next_values` (which must hold V of the
    final observation there) but, like a termination, cuts the sum. `gae_lambda=1`
    gives the n-step advantage `R_t - V(s_t)` with bootstrapping at the rollout's end.

    Args:
        rewards: Shape `(T,)` or `(T, n_envs)`.
        values: V(s_t), same shape.
        next_values: V of the true next state of each step (the final observation's
            value on truncated steps; the next rollout state's value on the last step).
        terminated: Booleans, same shape.
        truncated: Booleans, same shape.
        gamma: Discount factor, in [0, 1].
        gae_lambda: Bias-variance trade-off, in [0, 1]: 0 is the one-step TD
            error, 1 the Monte-Carlo (n-step) advantage.

    Returns:
        `(advantages, returns)` as float32 arrays of the input shape, with
        `returns = advantages + values` (the value targets).

    Raises:
        ValueError: `gamma` or `gae_lambda` outside [0, 1], or inputs of
            different shapes.
    """
    gamma = check_float("gamma", gamma, low=0.0, high=1.0)
    gae_lambda = check_float("gae_lambda", gae_lambda, low=0.0, high=1.0)
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    next_values = np.asarray(next_values, dtype=np.float64)
    terminated = np.asarray(terminated, dtype=bool)
    truncated = np.asarray(truncated, dtype=bool)
    shapes = {a.shape for a in (rewards, values, next_values, terminated, truncated)}
    if len(shapes) != 1:
        raise ValueError(
            "rewards, values, next_values, terminated and truncated must have one "
            f"shape; received {sorted(shapes)}."
        )
    deltas = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    carry = gamma * gae_lambda * ~(terminated | truncated)
    advantages = np.empty_like(deltas)
    running = np.zeros_like(deltas[0])
    for t in range(len(deltas) - 1, -1, -1):
        running = deltas[t] + carry[t] * running
        advantages[t] = running
    return advantages.astype(np.float32), (advantages + values).astype(np.float32)
