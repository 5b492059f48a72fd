"""REINFORCE with a learned baseline (Williams, 1992): whole episodes, Monte Carlo
returns, the baseline as a variance-reducing value head.
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
    Agent,
    regression_loss,
)
from kerasdl.rl.callbacks import as_callback
from kerasdl.rl.envs import final_observations
from kerasdl.rl.returns import discounted_returns

# -- REINFORCE -------------------------------------------------------------------------


class REINFORCEAgent(_ActorCriticAgent):
    """Monte-Carlo policy gradient with a learned state-value baseline.

    The agent plays complete episodes in `n_envs` environments and, after every
    `episodes_per_update` finished episodes, takes one gradient step on all their
    steps: the policy loss `-mean(log pi(a_t|s_t) * (G_t - V(s_t)))` (the advantage
    is held constant), plus `vf_coef` times the value regression of `V(s_t)` on the
    discounted return `G_t`, minus `ent_coef` times the policy's entropy. Returns are
    computed in NumPy when an episode ends; a truncated episode (time limit)
    bootstraps from V(final observation), a terminated one does not.

    Environments keep running across updates, so an episode in progress at an update
    finishes under the new policy (a lag of at most one update).

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
        episodes_per_update: Finished episodes per gradient step.
        ent_coef: Weight of the entropy bonus.
        vf_coef: Weight of the value loss.
        value_loss: `"mse"` (squared error) or `"huber"` (delta 1) for the value
            regression.
        normalize_returns: Divide returns by a running standard deviation of the
            returns seen so far; the value head then predicts scaled returns, which
            keeps the value loss near 1 whatever the reward scale.
        normalize_advantage: Standardise the advantages of each update.
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
        >>> agent = REINFORCEAgent("CartPole-v1", seed=0)
        >>> agent.learn(300_000)
        >>> agent.evaluate(n_episodes=100)["mean_return"]
    """

    algorithm = "reinforce"
    counter_names = (*Agent.counter_names, "return_count", "return_mean", "return_m2")

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
        episodes_per_update: int = 8,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        value_loss: str = "mse",
        normalize_returns: bool = True,
        normalize_advantage: bool = True,
        max_grad_norm: float = 0.5,
        n_envs: int = 4,
        env_kwargs: dict | None = None,
        seed: int = 0,
        verbose: int = 1,
        log_dir=None,
        tensorboard: bool = False,
    ):
        self.config = self._common_config(locals())
        self.config["episodes_per_update"] = check_int(
            "episodes_per_update", episodes_per_update
        )
        self.config["normalize_returns"] = bool(normalize_returns)
        self._setup(env, verbose, log_dir, tensorboard)
        # Running mean / sum of squared deviations of the returns (Chan et al.).
        self.return_count = 0
        self.return_mean = 0.0
        self.return_m2 = 0.0
        self._build(self._make_loss())
        self._in_progress = None
        self._finished = []

    def _make_loss(self):
        cfg = self.config
        ent_coef, vf_coef = cfg["ent_coef"], cfg["vf_coef"]
        normalize, kind = cfg["normalize_advantage"], cfg["value_loss"]

        def loss_fn(observations, actions, targets, mask):
            log_prob, entropy, values = _policy_terms(self.model, observations, actions)
            n = ops.maximum(ops.sum(mask), 1.0)
            advantages = ops.stop_gradient(targets - values)
            if normalize:
                mean = ops.sum(mask * advantages) / n
                std = ops.sqrt(ops.sum(mask * ops.square(advantages - mean)) / n)
                advantages = (advantages - mean) / (std + 1e-8)
            policy_loss = -ops.sum(mask * log_prob * advantages) / n
            value_loss = ops.sum(mask * regression_loss(targets - values, kind)) / n
            entropy = ops.sum(mask * entropy) / n
            loss = policy_loss + vf_coef * value_loss - ent_coef * entropy
            return loss, {
                "policy_loss": policy_loss,
                "value_loss": value_loss,
                "entropy": entropy,
            }

        return loss_fn

    # -- return scale ----------------------------------------------------------------

    def _value_scale(self) -> float:
        if not self.config["normalize_returns"] or self.return_count < 2:
            return 1.0
        return float(max(np.sqrt(self.return_m2 / self.return_count), 1e-4))

    def _observe_returns(self, returns):
        n = len(returns)
        if not n:
            return
        mean, m2 = float(returns.mean()), float(((returns - returns.mean()) ** 2).sum())
        total = self.return_count + n
        delta = mean - self.return_mean
        self.return_mean += delta * n / total
        self.return_m2 += m2 + delta**2 * self.return_count * n / total
        self.return_count = total

    # -- updates ---------------------------------------------------------------------

    def train_on_batch(self, observations, actions, returns) -> dict:
        """One gradient step on steps of finished episodes.

        Args:
            observations: Shape `(batch, *observation_shape)`.
            actions: The actions taken, shape `(batch,)`.
            returns: Their discounted returns (`discounted_returns`), shape
                `(batch,)`, in units of the environment's reward.

        Returns:
            `{"loss", "policy_loss", "value_loss", "entropy"}` as floats.
        """
        obs, actions, returns = self._check_batch(
            observations, actions, returns=returns
        )
        if self.config["normalize_returns"]:
            self._observe_returns(returns)
        targets = returns / self._value_scale()
        # Pad to 256 * 4**k steps, so that batches of any size compile a handful
        # of shapes (a compile costs ~1 s; padded rows cost little); the padding is
        # masked out of every mean.
        n = len(obs)
        size = 256
        while size < n:
            size *= 4
        pad = size - n

        def padded(a):
            return np.concatenate([a, np.zeros((pad, *a.shape[1:]), a.dtype)])

        mask = padded(np.ones(n, np.float32))
        return self._run_update(padded(obs), padded(actions), padded(targets), mask)

    def _reset_episodes(self):
        n_envs = self.config["n_envs"]
        self._in_progress = [([], [], []) for _ in range(n_envs)]
        self._finished = []

    def _update_on_finished(self) -> dict:
        episodes, self._finished = self._finished, []
        obs = np.concatenate([e[0] for e in episodes])
        actions = np.concatenate([e[1] for e in episodes])
        returns = np.concatenate([e[2] for e in episodes])
        self._schedule_learning_rate()
        return self.train_on_batch(obs, actions, returns)

    def learn(
        self, total_timesteps: int, callback=None, reset_num_timesteps: bool = False
    ):
        """Train for `total_timesteps` more environment steps (summed over envs).

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
        fresh = self._observations is None or self._in_progress is None
        monitor = self._begin(total_timesteps, reset_num_timesteps, callback)
        if fresh:
            self._reset_episodes()
        gamma, needed = cfg["gamma"], cfg["episodes_per_update"]
        obs = self._observations
        began = time.perf_counter()
        try:
            while self.num_timesteps < self.horizon:
                logits, _ = self._forward(obs)
                actions = sample_actions(logits, self.rng)
                next_obs, rewards, terminated, truncated, info = self.env.step(actions)
                done = terminated | truncated
                for i, (ep_obs, ep_actions, ep_rewards) in enumerate(self._in_progress):
                    ep_obs.append(obs[i])
                    ep_actions.append(actions[i])
                    ep_rewards.append(rewards[i])
                if done.any():
                    final_values = np.zeros(len(done))
                    if truncated.any():
                        real_next = final_observations(next_obs, info, truncated)
                        _, v = self._forward(real_next)
                        final_values = v * self._value_scale()
                    for i in np.flatnonzero(done):
                        ep_obs, ep_actions, ep_rewards = self._in_progress[i]
                        self._finished.append(
                            (
                                np.stack(ep_obs),
                                np.asarray(ep_actions),
                                discounted_returns(
                                    ep_rewards,
                                    gamma,
                                    bool(terminated[i]),
                                    final_values[i],
                                ),
                            )
                        )
                        self._in_progress[i] = ([], [], [])
                self._record_step(rewards, done, monitor)
                obs = self._observations = next_obs
                if len(self._finished) >= needed:
                    logs = self._update_on_finished()
                    monitor.step(self.num_timesteps, logs)
                    if callback is not None and callback(self, logs) is False:
                        break
                else:
                    monitor.step(self.num_timesteps)
        finally:
            self.train_seconds += time.perf_counter() - began
            self._end(monitor, callback)
        return self

    def _after_load(self, path) -> None:
        self._in_progress = None
