"""Synchronous advantage actor-critic, A2C (Mnih et al., 2016): n-step rollouts of
vectorised environments, bootstrapped returns or generalised advantage estimation.
"""

from __future__ import annotations

import time

import numpy as np
from keras import ops

from kerasdl._checks import check_int
from kerasdl.rl.actor_critic_base import (
    _ActorCriticAgent,
    _policy_terms,
    sample_actions,
)
from kerasdl.rl.base import (
    check_float,
    regression_loss,
)
from kerasdl.rl.callbacks import as_callback
from kerasdl.rl.envs import final_observations
from kerasdl.rl.returns import gae_advantages

# -- A2C -------------------------------------------------------------------------------


class A2CAgent(_ActorCriticAgent):
    """Synchronous advantage actor-critic (A2C).

    `n_envs` environments run `n_steps` steps with the current policy; the rollout's
    advantages are GAE(lambda) estimates bootstrapped from V(next observation) (from
    V(final observation) on truncation, nothing on termination), and one gradient
    step follows on `policy_loss + vf_coef * value_loss - ent_coef * entropy`.

    Args:
        env: A gymnasium id (`"CartPole-v1"`) or a `gymnasium.Env`, with a discrete
            action space.
        hidden_units: Dense widths of the network (of each torso when not shared).
        shared: One torso for the policy and value heads, or one each.
        architecture: `"auto"`, `"mlp"` or `"cnn"` (see `build_actor_critic`).
        activation: Hidden activation.
        learning_rate: Adam's learning rate.
        final_learning_rate: When given (default 0), the learning rate moves
            linearly to it over the training horizon, which settles the policy that
            `evaluate` sees; `None` keeps it constant.
        gamma: Discount factor.
        n_steps: Steps per environment in each rollout.
        gae_lambda: GAE's lambda; 1 gives plain n-step advantages.
        ent_coef: Weight of the entropy bonus.
        vf_coef: Weight of the value loss.
        value_loss: `"mse"` or `"huber"` (delta 1).
        normalize_advantage: Standardise the advantages of each rollout.
        max_grad_norm: Global gradient-norm clipping (the optimizer's
            `global_clipnorm`).
        n_envs: Environments stepped together.
        env_kwargs: Keyword arguments of `gymnasium.make`.
        seed: Seeds the initial weights, the action sampling and the environments.
        verbose: 1 shows a progress bar with the recent mean return.
        log_dir: When given, `learn` writes `episodes.csv` and `learning_curve.png`
            there (and TensorBoard scalars with `tensorboard=True`).
        tensorboard: Also write TensorBoard event files to `log_dir/tensorboard`.

    Example:
        >>> agent = A2CAgent("CartPole-v1", seed=0)
        >>> agent.learn(300_000)
        >>> agent.evaluate(n_episodes=100)["mean_return"]
    """

    algorithm = "a2c"

    def __init__(
        self,
        env="CartPole-v1",
        *,
        hidden_units=(64, 64),
        shared: bool = False,
        architecture: str = "auto",
        activation: str = "tanh",
        learning_rate: float = 1e-3,
        final_learning_rate: float | None = 0.0,
        gamma: float = 0.99,
        n_steps: int = 8,
        gae_lambda: float = 1.0,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        value_loss: str = "mse",
        normalize_advantage: bool = False,
        max_grad_norm: float = 0.5,
        n_envs: int = 8,
        env_kwargs: dict | None = None,
        seed: int = 0,
        verbose: int = 1,
        log_dir=None,
        tensorboard: bool = False,
    ):
        self.config = self._common_config(locals())
        self.config["n_steps"] = check_int("n_steps", n_steps)
        self.config["gae_lambda"] = check_float("gae_lambda", gae_lambda, 0, 1)
        if normalize_advantage and self.config["n_steps"] * self.config["n_envs"] < 2:
            raise ValueError(
                "normalize_advantage needs at least 2 steps per rollout "
                f"(n_steps * n_envs); received n_steps={n_steps}, n_envs={n_envs}."
            )
        self._setup(env, verbose, log_dir, tensorboard)
        self._build(self._make_loss())

    def _make_loss(self):
        cfg = self.config
        ent_coef, vf_coef = cfg["ent_coef"], cfg["vf_coef"]
        normalize, kind = cfg["normalize_advantage"], cfg["value_loss"]

        def loss_fn(observations, actions, advantages, returns):
            log_prob, entropy, values = _policy_terms(self.model, observations, actions)
            if normalize:
                advantages = (advantages - ops.mean(advantages)) / (
                    ops.std(advantages) + 1e-8
                )
            policy_loss = -ops.mean(log_prob * advantages)
            value_loss = ops.mean(regression_loss(returns - values, kind))
            entropy = ops.mean(entropy)
            loss = policy_loss + vf_coef * value_loss - ent_coef * entropy
            return loss, {
                "policy_loss": policy_loss,
                "value_loss": value_loss,
                "entropy": entropy,
            }

        return loss_fn

    def train_on_batch(self, observations, actions, advantages, returns) -> dict:
        """One gradient step on a flattened rollout.

        Args:
            observations: Shape `(batch, *observation_shape)`.
            actions: The actions taken, shape `(batch,)`.
            advantages: Their advantage estimates (`gae_advantages`), `(batch,)`.
            returns: The value targets, `(batch,)`.

        Returns:
            `{"loss", "policy_loss", "value_loss", "entropy"}` as floats.
        """
        arrays = self._check_batch(
            observations, actions, advantages=advantages, returns=returns
        )
        return self._run_update(*arrays)

    def learn(
        self, total_timesteps: int, callback=None, reset_num_timesteps: bool = False
    ):
        """Train for `total_timesteps` more environment steps (summed over envs).

        Training runs whole rollouts, so it may overshoot by less than
        `n_steps * n_envs` steps.

        Args:
            total_timesteps: Environment steps to add.
            callback: Optional `callback(agent, logs) -> bool | None` (or a list of
                them), called after every update with its logs; returning `False`
                stops training. Its `on_training_start` / `on_training_end(agent)`
                methods, if any, run at the start and in any case at the end
                (`EvalCallback` restores its best weights).
            reset_num_timesteps: Start the counters (and the learning-rate schedule)
                from zero. By default a later call continues them.

        Returns:
            self.
        """
        cfg = self.config
        callback = as_callback(callback)
        monitor = self._begin(total_timesteps, reset_num_timesteps, callback)
        n_steps, n_envs = cfg["n_steps"], cfg["n_envs"]
        shape = (n_steps, n_envs)
        buf_obs = np.empty(shape + self.observation_shape, self.observation_dtype)
        buf_actions = np.empty(shape, np.int32)
        buf_rewards = np.empty(shape, np.float32)
        buf_values = np.empty(shape, np.float32)
        buf_final_values = np.zeros(shape, np.float32)
        buf_terminated = np.empty(shape, bool)
        buf_truncated = np.empty(shape, bool)
        obs = self._observations
        began = time.perf_counter()
        try:
            while self.num_timesteps < self.horizon:
                for t in range(n_steps):
                    logits, values = self._forward(obs)
                    actions = sample_actions(logits, self.rng)
                    next_obs, rewards, terminated, truncated, info = self.env.step(
                        actions
                    )
                    buf_obs[t] = obs
                    buf_actions[t] = actions
                    buf_rewards[t] = rewards
                    buf_values[t] = values
                    buf_terminated[t] = terminated
                    buf_truncated[t] = truncated
                    if truncated.any():
                        _, buf_final_values[t] = self._forward(
                            final_observations(next_obs, info, truncated)
                        )
                    self._record_step(rewards, terminated | truncated, monitor)
                    obs = self._observations = next_obs
                _, last_values = self._forward(obs)
                next_values = np.concatenate([buf_values[1:], last_values[None]])
                # On truncated steps the next value is V(final observation).
                np.copyto(next_values, buf_final_values, where=buf_truncated)
                advantages, returns = gae_advantages(
                    buf_rewards,
                    buf_values,
                    next_values,
                    buf_terminated,
                    buf_truncated,
                    cfg["gamma"],
                    cfg["gae_lambda"],
                )
                self._schedule_learning_rate()
                logs = self._run_update(
                    buf_obs.reshape(-1, *self.observation_shape),
                    buf_actions.reshape(-1),
                    advantages.reshape(-1),
                    returns.reshape(-1),
                )
                monitor.step(self.num_timesteps, logs)
                if callback is not None and callback(self, logs) is False:
                    break
        finally:
            self.train_seconds += time.perf_counter() - began
            self._end(monitor, callback)
        return self
