"""Experience replay in NumPy: a circular buffer and an n-step return accumulator."""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np

from kerasdl._checks import check_int


class ReplayBatch(NamedTuple):
    """A batch of transitions, each field an array with the batch on axis 0.

    `discounts` is the factor in front of the bootstrapped value of
    `next_observations`: `gamma ** n` for an n-step transition, and 0 when the episode
    terminated inside it (gymnasium's `terminated`; a truncated episode still
    bootstraps).
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    discounts: np.ndarray


class ReplayBuffer:
    """Fixed-capacity circular replay buffer with uniform sampling.

    Memory is allocated once, for `capacity` transitions; when full, the oldest
    transition is overwritten.

    Args:
        capacity: Maximum number of transitions kept.
        observation_shape: Shape of one observation.
        observation_dtype: Stored dtype of observations (e.g. `uint8` for images).
        seed: Seed of the sampling generator.

    Example:
        >>> buffer = ReplayBuffer(10_000, observation_shape=(4,))
        >>> buffer.add(obs, action, reward, next_obs, discount)
        >>> batch = buffer.sample(64)   # a ReplayBatch of arrays
    """

    def __init__(
        self,
        capacity: int,
        observation_shape: tuple,
        observation_dtype="float32",
        seed: int | None = 0,
    ):
        self.capacity = check_int("capacity", capacity)
        self.observation_shape = tuple(int(d) for d in observation_shape)
        self.observation_dtype = np.dtype(observation_dtype)
        shape = (self.capacity, *self.observation_shape)
        self.observations = np.zeros(shape, self.observation_dtype)
        self.next_observations = np.zeros(shape, self.observation_dtype)
        self.actions = np.zeros(self.capacity, np.int32)
        self.rewards = np.zeros(self.capacity, np.float32)
        self.discounts = np.zeros(self.capacity, np.float32)
        self.position = 0
        self.size = 0
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the storage arrays (fixed by `capacity`)."""
        return sum(
            a.nbytes
            for a in (
                self.observations,
                self.next_observations,
                self.actions,
                self.rewards,
                self.discounts,
            )
        )

    def add(self, observation, action, reward, next_observation, discount) -> None:
        """Store one transition (overwriting the oldest when full)."""
        observation = np.asarray(observation)
        if observation.shape != self.observation_shape:
            raise ValueError(
                f"observation must have shape {self.observation_shape}; "
                f"received {observation.shape}."
            )
        i = self.position
        self.observations[i] = observation
        self.next_observations[i] = next_observation
        self.actions[i] = action
        self.rewards[i] = reward
        self.discounts[i] = discount
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> ReplayBatch:
        """Draw `batch_size` stored transitions uniformly (with replacement)."""
        batch_size = check_int("batch_size", batch_size)
        if self.size == 0:
            raise ValueError("Cannot sample from an empty ReplayBuffer; add first.")
        idx = self.rng.integers(0, self.size, size=batch_size)
        return ReplayBatch(
            self.observations[idx],
            self.actions[idx],
            self.rewards[idx],
            self.next_observations[idx],
            self.discounts[idx],
        )

    def state_dict(self) -> dict:
        """The stored transitions and counters, as arrays (for `np.savez`)."""
        n = self.size
        order = (np.arange(n) + (self.position if n == self.capacity else 0)) % (
            self.capacity
        )
        return {
            "observations": self.observations[order],
            "actions": self.actions[order],
            "rewards": self.rewards[order],
            "next_observations": self.next_observations[order],
            "discounts": self.discounts[order],
        }

    def load_state_dict(self, state: dict) -> None:
        """Refill from `state_dict()` output (oldest first; the newest are kept)."""
        n = len(state["actions"])
        for i in range(max(0, n - self.capacity), n):
            self.add(
                state["observations"][i],
                state["actions"][i],
                state["rewards"][i],
                state["next_observations"][i],
                state["discounts"][i],
            )


class NStepAccumulator:
    """Turns one-step transitions of one environment into n-step transitions.

    Each emitted transition starts at an observation `s_t`, sums the next n rewards
    discounted by `gamma`, and bootstraps from `s_{t+n}` with discount `gamma ** n`.
    At the end of an episode the pending transitions are flushed with fewer steps:
    with discount 0 when the episode *terminated*, with `gamma ** k` from the final
    observation when it was *truncated* (the time limit is not part of the task).

    Args:
        n_steps: n (1 gives ordinary transitions).
        gamma: Discount factor.
    """

    def __init__(self, n_steps: int, gamma: float):
        self.n_steps = check_int("n_steps", n_steps)
        self.gamma = float(gamma)
        self.pending: deque = deque()

    def push(
        self, observation, action, reward, next_observation, terminated, truncated
    ):
        """Add one step; returns the list of completed `(obs, action, return,
        next_obs, discount)` transitions (empty until n steps are pending)."""
        self.pending.append((observation, action, float(reward)))
        out = []
        if terminated or truncated:
            while self.pending:
                out.append(self._pop(next_observation, terminated))
        elif len(self.pending) == self.n_steps:
            out.append(self._pop(next_observation, False))
        return out

    def _pop(self, next_observation, terminated):
        total = 0.0
        for k, (_, _, reward) in enumerate(self.pending):
            total += self.gamma**k * reward
        discount = 0.0 if terminated else self.gamma ** len(self.pending)
        observation, action, _ = self.pending.popleft()
        return observation, action, total, next_observation, discount

    def reset(self) -> None:
        """Drop pending steps (when an episode is abandoned, e.g. on load)."""
        self.pending.clear()
