"""What REINFORCE and A2C share: one compiled forward pass per vector step that
returns the policy's logits and the state value; actions sampled from the logits in
NumPy with the agent's random generator (Gumbel-max), so the compiled code draws no
random numbers; the policy and value loss terms written with `keras.ops` and
compiled once through `backend.compile_update`.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl._checks import check_choice, check_int
from kerasdl.rl.base import (
    Agent,
    check_float,
    check_hidden_units,
)
from kerasdl.rl.networks import build_actor_critic

VALUE_LOSSES = ("mse", "huber")


def sample_actions(logits, rng: np.random.Generator) -> np.ndarray:
    """One action per row of `logits`, drawn from their softmax (Gumbel-max trick)."""
    logits = np.asarray(logits, dtype=np.float64)
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=-1)


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

    def _common_config(self, arguments) -> dict:
        """The checked config entries of the constructor arguments both agents
        take, read by name from `arguments`: the `locals()` of the subclass's
        `__init__`, whose explicit signature and docstring stay the public ones."""
        a = arguments
        return {
            "hidden_units": check_hidden_units(a["hidden_units"]),
            "shared": bool(a["shared"]),
            "architecture": a["architecture"],
            "activation": a["activation"],
            "learning_rate": check_float(
                "learning_rate", a["learning_rate"], 0, low_open=True
            ),
            "final_learning_rate": None
            if a["final_learning_rate"] is None
            else check_float("final_learning_rate", a["final_learning_rate"], 0),
            "gamma": check_float("gamma", a["gamma"], 0, 1, low_open=True),
            "ent_coef": check_float("ent_coef", a["ent_coef"], 0),
            "vf_coef": check_float("vf_coef", a["vf_coef"], 0, low_open=True),
            "value_loss": check_choice("value_loss", a["value_loss"], VALUE_LOSSES),
            "normalize_advantage": bool(a["normalize_advantage"]),
            "max_grad_norm": check_float(
                "max_grad_norm", a["max_grad_norm"], 0, low_open=True
            ),
            "n_envs": check_int("n_envs", a["n_envs"]),
            "env_kwargs": dict(a["env_kwargs"] or {}),
            "seed": check_int("seed", a["seed"], minimum=0),
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
            lambda x: model(x, training=False), model.weights, hot_loop=True
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
