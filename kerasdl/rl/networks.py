"""Networks for the agents: Q-networks (MLP or CNN, optional dueling head), policies
and value functions. All are functional Keras models built from a few options."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers, ops

from kerasdl._checks import check_int

ARCHITECTURES = ("auto", "mlp", "cnn")


@keras.saving.register_keras_serializable(package="kerasdl")
class DuelingCombine(layers.Layer):
    """Q(s, a) = V(s) + A(s, a) - mean_a A(s, a) (Wang et al., 2016).

    Takes `[value, advantages]` with shapes `(batch, 1)` and `(batch, n_actions)`.
    Subtracting the mean advantage makes the split into V and A identifiable.
    """

    def call(self, inputs):
        value, advantages = inputs
        return value + advantages - ops.mean(advantages, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return input_shape[1]


def check_hidden_units(hidden_units) -> list[int]:
    """Dense widths as a list of positive ints; else ValueError."""
    if isinstance(hidden_units, int | str) or not hasattr(hidden_units, "__iter__"):
        raise ValueError(
            "hidden_units must be a sequence of layer widths, e.g. (64, 64); "
            f"received {hidden_units!r}."
        )
    return [check_int("hidden_units", u) for u in hidden_units]


def _torso(inputs, hidden_units, architecture, activation, prefix):
    """The shared body: a Nature-DQN conv stack for images, then dense layers."""
    rank = len(inputs.shape) - 1
    if architecture == "auto":
        architecture = "cnn" if rank == 3 else "mlp"
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"architecture must be one of {ARCHITECTURES}; received {architecture!r}."
        )
    x = inputs
    if architecture == "cnn":
        if rank != 3:
            raise ValueError(
                "architecture='cnn' needs image observations (height, width, "
                f"channels); received observation shape {tuple(inputs.shape[1:])}."
            )
        if min(inputs.shape[1:3]) < 36:
            raise ValueError(
                "architecture='cnn' (8x8/4, 4x4/2, 3x3/1 convolutions) needs images "
                f"of at least 36x36; received {tuple(inputs.shape[1:3])}."
            )
        x = layers.Rescaling(1.0 / 255.0, name=f"{prefix}_rescale")(x)
        for i, (filters, kernel, stride) in enumerate(
            ((32, 8, 4), (64, 4, 2), (64, 3, 1))
        ):
            x = layers.Conv2D(
                filters,
                kernel,
                strides=stride,
                activation=activation,
                name=f"{prefix}_conv{i + 1}",
            )(x)
    if rank != 1:
        x = layers.Flatten(name=f"{prefix}_flatten")(x)
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"{prefix}_dense{i + 1}")(x)
    return x


def _input(observation_shape, name):
    shape = tuple(check_int("observation_shape", d) for d in observation_shape)
    if not shape:
        raise ValueError(
            "observation_shape must have at least one dimension; received ()."
        )
    return keras.Input(shape=shape, name=name)


def build_q_network(
    observation_shape: Sequence[int],
    n_actions: int,
    hidden_units: Sequence[int] = (64, 64),
    dueling: bool = False,
    architecture: str = "auto",
    activation: str = "relu",
    name: str = "q_network",
) -> keras.Model:
    """A network mapping observations to one Q-value per action.

    Args:
        observation_shape: Shape of one observation (`(4,)` for CartPole).
        n_actions: Number of discrete actions.
        hidden_units: Widths of the dense layers.
        dueling: Split the head into a state value and action advantages
            (`DuelingCombine`).
        architecture: `"mlp"`, `"cnn"` (Nature-DQN convolutions for image
            observations, 0-255 pixels) or `"auto"` (`"cnn"` for rank-3 observations).
        activation: Hidden activation.
        name: Model name.

    Returns:
        A functional `keras.Model` with output shape `(batch, n_actions)`.
    """
    n_actions = check_int("n_actions", n_actions)
    hidden_units = tuple(check_hidden_units(hidden_units))
    inputs = _input(observation_shape, "observations")
    x = _torso(inputs, hidden_units, architecture, activation, "q")
    if dueling:
        value = layers.Dense(1, name="value")(x)
        advantages = layers.Dense(n_actions, name="advantages")(x)
        outputs = DuelingCombine(name="q_values")([value, advantages])
    else:
        outputs = layers.Dense(n_actions, name="q_values")(x)
    return keras.Model(inputs, outputs, name=name)


def build_actor_critic(
    observation_shape: Sequence[int],
    n_actions: int,
    hidden_units: Sequence[int] = (64, 64),
    shared: bool = True,
    architecture: str = "auto",
    activation: str = "tanh",
    name: str = "actor_critic",
) -> keras.Model:
    """A policy (action logits) and a state-value function in one model.

    Args:
        observation_shape: Shape of one observation.
        n_actions: Number of discrete actions.
        hidden_units: Widths of the dense layers (of each torso when not shared).
        shared: One torso feeding both heads, or a separate torso per head.
        architecture: As in `build_q_network`.
        activation: Hidden activation.
        name: Model name.

    Returns:
        A functional `keras.Model` returning `{"logits": (batch, n_actions),
        "value": (batch,)}`.
    """
    n_actions = check_int("n_actions", n_actions)
    hidden_units = tuple(check_hidden_units(hidden_units))
    inputs = _input(observation_shape, "observations")
    policy_torso = _torso(inputs, hidden_units, architecture, activation, "policy")
    value_torso = (
        policy_torso
        if shared
        else _torso(inputs, hidden_units, architecture, activation, "value")
    )
    logits = layers.Dense(
        n_actions,
        kernel_initializer=keras.initializers.Orthogonal(0.01),
        name="logits",
    )(policy_torso)
    value = layers.Dense(1, name="value_head")(value_torso)
    value = layers.Reshape((), name="value")(value)
    return keras.Model(inputs, {"logits": logits, "value": value}, name=name)
