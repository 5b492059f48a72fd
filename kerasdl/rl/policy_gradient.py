"""Policy-gradient agents: REINFORCE with a learned baseline (Williams, 1992) and
synchronous advantage actor-critic, A2C (Mnih et al., 2016), with generalised
advantage estimation (Schulman et al., 2016) as an option.

Both act with one compiled forward pass per vector step (`backend.compile_function`)
that returns the policy's logits and the state value; actions are sampled from the
logits in NumPy with the agent's random generator (Gumbel-max), so the compiled code
draws no random numbers. Returns and advantages are computed in NumPy; the losses
are written with `keras.ops` and compiled once through `backend.compile_update`.

Episode ends follow gymnasium: a termination has no future (its value is 0), a
truncation (a time limit) does, so its return bootstraps from V(final observation).
"""

from __future__ import annotations

import time

import keras
import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl._checks import check_int
from kerasdl.rl.base import (
    Agent,
    check_float,
    check_hidden_units,
    regression_loss,
)
from kerasdl.rl.envs import final_observations
from kerasdl.rl.networks import build_actor_critic

VALUE_LOSSES = ("mse", "huber")


# -- NumPy helpers ---------------------------------------------------------------------


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


def sample_actions(logits, rng: np.random.Generator) -> np.ndarray:
    """One action per row of `logits`, drawn from their softmax (Gumbel-max trick)."""
    logits = np.asarray(logits, dtype=np.float64)
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=-1)


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; received {value!r}.")
    return value


def _policy_terms(model, observations, actions):
    """Log-probability of the taken actions, policy entropy and state values."""
    out = model(observations, training=True)
    log_probs = ops.log_softmax(out["logits"], axis=-1)
    taken = ops.take_along_axis(
        log_probs, ops.expand_dims(ops.cast(actions, "int32"), -1), axis=-1
    )
    entropy = -ops.sum(ops.exp(log_probs) * log_probs, axis=-1)
    return ops.squeeze(taken, -1), entropy, out["value"]


# -- shared base -----------------------------------------------------------------------


class _ActorCriticAgent(Agent):
    """Network, optimizer, compiled forward pass and acting of the two agents."""

    def _common_config(
        self,
        *,
        hidden_units,
        shared,
        architecture,
        activation,
        learning_rate,
        final_learning_rate,
        gamma,
        ent_coef,
        vf_coef,
        value_loss,
        normalize_advantage,
        max_grad_norm,
        n_envs,
        env_kwargs,
        seed,
    ) -> dict:
        return {
            "hidden_units": check_hidden_units(hidden_units),
            "shared": bool(shared),
            "architecture": architecture,
            "activation": activation,
            "learning_rate": check_float(
                "learning_rate", learning_rate, 0, low_open=True
            ),
            "final_learning_rate": None
            if final_learning_rate is None
            else check_float("final_learning_rate", final_learning_rate, 0),
            "gamma": check_float("gamma", gamma, 0, 1, low_open=True),
            "ent_coef": check_float("ent_coef", ent_coef, 0),
            "vf_coef": check_float("vf_coef", vf_coef, 0, low_open=True),
            "value_loss": _check_choice("value_loss", value_loss, VALUE_LOSSES),
            "normalize_advantage": bool(normalize_advantage),
            "max_grad_norm": check_float(
                "max_grad_norm", max_grad_norm, 0, low_open=True
            ),
            "n_envs": check_int("n_envs", n_envs),
            "env_kwargs": dict(env_kwargs or {}),
            "seed": check_int("seed", seed, minimum=0),
        }

    def _build(self, loss_fn):
        cfg = self.config
        self.model = build_actor_critic(
            self.observation_shape,
            self.n_actions,
            cfg["hidden_units"],
            shared=cfg["shared"],
            architecture=cfg["architecture"],
            activation=cfg["activation"],
            name="actor_critic",
        )
        self.optimizer = keras.optimizers.Adam(
            cfg["learning_rate"], global_clipnorm=cfg["max_grad_norm"]
        )
        model = self.model
        self._update = backend.compile_update(
            loss_fn,
            self.optimizer,
            model.trainable_weights,
            state_variables=model.non_trainable_weights,
        )
        self._forward_fn = backend.compile_function(
            lambda x: model(x, training=False), model.weights
        )

    # -- network outputs -------------------------------------------------------------

    def _forward(self, observations):
        out = self._forward_fn(observations)
        return ops.convert_to_numpy(out["logits"]), ops.convert_to_numpy(out["value"])

    def _value_scale(self) -> float:
        return 1.0

    def policy_and_value(self, observations):
        """Action probabilities and state values of a batch of observations.

        Returns:
            `(probabilities, values)`: NumPy arrays of shapes `(batch, n_actions)` and
            `(batch,)`, the values in units of the environment's return.
        """
        log_probs, values = self._log_policy_and_value(observations)
        return np.exp(log_probs), values

    def log_probabilities(self, observations, actions) -> np.ndarray:
        """log pi(action | observation) for a batch of pairs, as a NumPy array."""
        log_probs, _ = self._log_policy_and_value(observations)
        actions = self._check_actions(actions, len(log_probs))
        return log_probs[np.arange(len(log_probs)), actions]

    def _log_policy_and_value(self, observations):
        obs, _ = self._check_observations(observations)
        logits, values = self._forward(obs)
        logits = logits.astype(np.float64)
        logits -= logits.max(axis=-1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        return log_probs, values * self._value_scale()

    def _act(self, observations, deterministic):
        logits, _ = self._forward(observations)
        if deterministic:
            return np.argmax(logits, axis=-1)
        return sample_actions(logits, self.rng)

    # -- training helpers ------------------------------------------------------------

    def _run_update(self, *arrays) -> dict:
        logs = self._update(*arrays)
        self.num_updates += 1
        return {k: float(ops.convert_to_numpy(v)) for k, v in logs.items()}

    def _check_actions(self, actions, n):
        actions = np.asarray(actions)
        if actions.shape != (n,) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(
                f"actions must be {n} integers (one per observation); received an "
                f"array of shape {actions.shape} and dtype {actions.dtype}."
            )
        if n and (actions.min() < 0 or actions.max() >= self.n_actions):
            raise ValueError(
                f"actions must be in [0, {self.n_actions}); received values from "
                f"{actions.min()} to {actions.max()}."
            )
        return actions.astype(np.int32)

    def _check_batch(self, observations, actions, **columns):
        obs = np.asarray(observations)
        if obs.shape[1:] != self.observation_shape or obs.ndim < 2:
            raise ValueError(
                f"observations must have shape (batch, *{self.observation_shape}); "
                f"received {obs.shape}."
            )
        n = len(obs)
        out = [obs.astype(self.observation_dtype), self._check_actions(actions, n)]
        for name, value in columns.items():
            value = np.asarray(value, dtype=np.float32)
            if value.shape != (n,):
                raise ValueError(
                    f"{name} must have shape ({n},) (one per observation); received "
                    f"{value.shape}."
                )
            out.append(value)
        return out

    # -- persistence -----------------------------------------------------------------

    def _networks(self) -> dict:
        return {"actor_critic": self.model}

    def _optimizers(self) -> dict:
        return {"optimizer": self.optimizer}


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
        self.config = self._common_config(
            hidden_units=hidden_units,
            shared=shared,
            architecture=architecture,
            activation=activation,
            learning_rate=learning_rate,
            final_learning_rate=final_learning_rate,
            gamma=gamma,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            value_loss=value_loss,
            normalize_advantage=normalize_advantage,
            max_grad_norm=max_grad_norm,
            n_envs=n_envs,
            env_kwargs=env_kwargs,
            seed=seed,
        )
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
            callback: Optional `callback(agent, logs) -> bool | None`, called after
                every update with its logs; returning `False` stops training.
            reset_num_timesteps: Start the counters (and the learning-rate schedule)
                from zero. By default a later call continues them.

        Returns:
            self.
        """
        cfg = self.config
        fresh = self._observations is None or self._in_progress is None
        monitor = self._begin(total_timesteps, reset_num_timesteps)
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
            self._end(monitor)
        return self

    def _after_load(self, path) -> None:
        self._in_progress = None


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
        self.config = self._common_config(
            hidden_units=hidden_units,
            shared=shared,
            architecture=architecture,
            activation=activation,
            learning_rate=learning_rate,
            final_learning_rate=final_learning_rate,
            gamma=gamma,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            value_loss=value_loss,
            normalize_advantage=normalize_advantage,
            max_grad_norm=max_grad_norm,
            n_envs=n_envs,
            env_kwargs=env_kwargs,
            seed=seed,
        )
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
            callback: Optional `callback(agent, logs) -> bool | None`, called after
                every update with its logs; returning `False` stops training.
            reset_num_timesteps: Start the counters (and the learning-rate schedule)
                from zero. By default a later call continues them.

        Returns:
            self.
        """
        cfg = self.config
        monitor = self._begin(total_timesteps, reset_num_timesteps)
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
            self._end(monitor)
        return self
