"""Experience replay in NumPy: a circular buffer and an n-step return accumulator."""

from __future__ import annotations

import math
import numbers
from collections import deque
from typing import NamedTuple

import numpy as np

from kerasdl._checks import check_float, check_int


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


def _check_shape(shape) -> tuple:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1
        for d in shape
    ):
        raise ValueError(
            "`observation_shape` must be a tuple of positive integers; received "
            f"observation_shape={shape!r}."
        )
    return tuple(int(d) for d in shape)


_INT32 = np.iinfo(np.int32)


def _check_action(action) -> int:
    """A discrete action as an int: integers, or floats with an integral value."""
    value = action
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok and not isinstance(value, numbers.Integral):
        ok = math.isfinite(value) and float(value).is_integer()
    if not ok or not _INT32.min <= value <= _INT32.max:
        raise ValueError(
            "`action` must be one discrete action, an integer (a float only with an "
            f"integral value, e.g. 2.0); received action={action!r}."
        )
    return int(value)


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
        self.observation_shape = _check_shape(observation_shape)
        try:
            self.observation_dtype = np.dtype(observation_dtype)
        except TypeError as exc:
            raise ValueError(
                "`observation_dtype` must be a NumPy dtype; received "
                f"observation_dtype={observation_dtype!r}."
            ) from exc
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
        """Store one transition (overwriting the oldest when full).

        Args:
            observation: An array of `observation_shape`.
            action: A discrete action: an integer, or a float with an integral
                value (`2.0`); `1.5` is refused rather than truncated.
            reward: A finite number.
            next_observation: An array of `observation_shape` (a scalar is
                refused rather than broadcast into every feature).
            discount: The bootstrap factor in [0, 1].

        Raises:
            ValueError: naming the argument and the value received; nothing is
                stored then.
        """
        observation = self._check_observation("observation", observation)
        next_observation = self._check_observation("next_observation", next_observation)
        action = _check_action(action)
        if (
            isinstance(reward, bool)
            or not isinstance(reward, numbers.Real)
            or not math.isfinite(reward)
        ):
            raise ValueError(
                f"`reward` must be a finite number; received reward={reward!r}."
            )
        check_float("discount", discount, low=0.0, high=1.0)
        i = self.position
        self.observations[i] = observation
        self.next_observations[i] = next_observation
        self.actions[i] = action
        self.rewards[i] = reward
        self.discounts[i] = discount
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def _check_observation(self, name, value):
        array = np.asarray(value)
        if array.shape != self.observation_shape:
            raise ValueError(
                f"`{name}` must have shape {self.observation_shape} (the buffer's "
                f"observation_shape); received {array.shape}."
            )
        return array

    def sample(self, batch_size: int) -> ReplayBatch:
        """Draw `batch_size` stored transitions uniformly (with replacement)."""
        batch_size = check_int("batch_size", batch_size)
        if self.size == 0:
            raise ValueError(
                "Cannot sample from an empty ReplayBuffer (it holds 0 transitions; "
                f"received batch_size={batch_size}); add first."
            )
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
        self.gamma = check_float("gamma", gamma, low=0.0, high=1.0)
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
