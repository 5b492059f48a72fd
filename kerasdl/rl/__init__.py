"""Reinforcement learning on gymnasium, on every Keras backend.

- `QLearningAgent`: tabular Q-learning (FrozenLake, Taxi), NumPy only.
- `DQNAgent`: deep Q-learning with replay, a target network, Double DQN, dueling
  heads and n-step returns as options.
- `REINFORCEAgent` (with a learned baseline) and `A2CAgent` (advantage actor-critic).
- `EvalCallback`: periodic greedy evaluation on separate environments; keeps and
  restores the best weights (`CallbackList` to pass several callbacks).
- `ReplayBuffer`, `NStepAccumulator`, network builders, `evaluate_policy`,
  `plot_learning_curve`.

Names load on first use, so `from kerasdl.rl import QLearningAgent` does not import
Keras.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "QLearningAgent": "kerasdl.rl.q_learning_agent",
    "DQNAgent": "kerasdl.rl.dqn",
    "REINFORCEAgent": "kerasdl.rl.reinforce",
    "A2CAgent": "kerasdl.rl.a2c",
    "discounted_returns": "kerasdl.rl.returns",
    "gae_advantages": "kerasdl.rl.returns",
    "Agent": "kerasdl.rl.base",
    "EvalCallback": "kerasdl.rl.eval_callback",
    "CallbackList": "kerasdl.rl.callbacks",
    "evaluate_policy": "kerasdl.rl.base",
    "ReplayBuffer": "kerasdl.rl.buffers",
    "ReplayBatch": "kerasdl.rl.buffers",
    "NStepAccumulator": "kerasdl.rl.buffers",
    "build_q_network": "kerasdl.rl.networks",
    "build_actor_critic": "kerasdl.rl.networks",
    "DuelingCombine": "kerasdl.rl.networks",
    "make_env": "kerasdl.rl.envs",
    "make_vector_env": "kerasdl.rl.envs",
    "TrainingMonitor": "kerasdl.rl.monitor",
    "plot_learning_curve": "kerasdl.rl.monitor",
    "read_episodes": "kerasdl.rl.monitor",
}

# Command-line names of the agents (`kerasdl rl NAME`).
AGENTS = {
    "dqn": "DQNAgent",
    "reinforce": "REINFORCEAgent",
    "a2c": "A2CAgent",
    "qlearning": "QLearningAgent",
}

__all__ = [*_EXPORTS, "AGENTS"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kerasdl.rl' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
