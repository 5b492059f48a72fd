"""Bad input to the RL building blocks fails at once, naming the argument and the
value received, instead of being stored or computed silently wrong."""

from __future__ import annotations

import numpy as np
import pytest

from kerasdl.rl import NStepAccumulator, ReplayBuffer
from kerasdl.rl.returns import discounted_returns, gae_advantages

OBS = np.zeros(3, "float32")


def buffer(**kwargs):
    return ReplayBuffer(4, observation_shape=(3,), **kwargs)


# -- ReplayBuffer.add: silent before (scalar next_observation was broadcast into
# every feature; a float action was truncated to an int) -------------------------


def test_scalar_next_observation_is_refused_not_broadcast():
    with pytest.raises(ValueError, match=r"next_observation.*\(3,\).*received \(\)"):
        buffer().add(OBS, 0, 1.0, 5.0, 0.99)


def test_non_integral_float_action_is_refused_not_truncated():
    with pytest.raises(ValueError, match=r"action.*integer.*received action=1\.5"):
        buffer().add(OBS, 1.5, 1.0, OBS, 0.99)


def test_integral_actions_of_any_integer_kind_are_stored_exactly():
    b = buffer()
    for action in (2, np.int64(1), 3.0, np.float32(0.0), np.array(2)):
        b.add(OBS, action, 1.0, OBS, 0.99)
    assert b.actions[:5].tolist() == [2, 1, 3, 0]
    assert b.actions[0] == 2  # the fifth add wrapped around onto slot 0


BAD_ADDS = [
    # (argument, transition, message fragment)
    ("observation", (np.zeros(4), 0, 1.0, OBS, 0.99), r"observation.*\(4,\)"),
    ("observation", (np.zeros((3, 1)), 0, 1.0, OBS, 0.99), r"observation.*\(3, 1\)"),
    ("next_observation", (OBS, 0, 1.0, np.zeros(2), 0.99), r"next_observation.*\(2,\)"),
    ("action", (OBS, np.array([0, 1]), 1.0, OBS, 0.99), r"action.*received action="),
    ("action", (OBS, "left", 1.0, OBS, 0.99), r"action.*received action='left'"),
    ("action", (OBS, True, 1.0, OBS, 0.99), r"action.*received action=True"),
    ("action", (OBS, np.nan, 1.0, OBS, 0.99), r"action.*received action=nan"),
    ("reward", (OBS, 0, float("nan"), OBS, 0.99), r"reward.*received reward=nan"),
    ("reward", (OBS, 0, float("inf"), OBS, 0.99), r"reward.*received reward=inf"),
    ("discount", (OBS, 0, 1.0, OBS, 1.5), r"discount.*\[0.*1.*received discount=1\.5"),
    ("discount", (OBS, 0, 1.0, OBS, -0.1), r"discount.*received discount=-0\.1"),
]


@pytest.mark.parametrize(
    "argument,transition,message",
    BAD_ADDS,
    ids=[f"{a}-{i}" for i, (a, *_) in enumerate(BAD_ADDS)],
)
def test_bad_transition_is_refused_and_nothing_stored(argument, transition, message):
    b = buffer()
    with pytest.raises(ValueError, match=message):
        b.add(*transition)
    assert len(b) == 0 and b.position == 0


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"capacity": 0}, r"capacity.*received capacity=0"),
        ({"capacity": 2.5}, r"capacity.*received capacity=2\.5"),
        ({"observation_shape": (3, -1)}, r"observation_shape.*\(3, -1\)"),
        ({"observation_shape": "3"}, r"observation_shape.*'3'"),
        ({"observation_dtype": "banana"}, r"observation_dtype.*'banana'"),
    ],
)
def test_bad_buffer_construction(kwargs, message):
    args = {"capacity": 4, "observation_shape": (3,), **kwargs}
    with pytest.raises(ValueError, match=message):
        ReplayBuffer(**args)


def test_sampling_checks_batch_size_and_emptiness():
    with pytest.raises(ValueError, match=r"batch_size.*received batch_size=0"):
        buffer().sample(0)
    with pytest.raises(ValueError, match=r"empty ReplayBuffer.*holds 0 transitions"):
        buffer().sample(2)


# -- discount factors: silent before (gamma=1.5 made returns grow without bound) --


@pytest.mark.parametrize("gamma", [1.5, -0.1, float("nan"), "0.9"])
def test_discounted_returns_refuses_gamma_outside_0_1(gamma):
    with pytest.raises(ValueError, match=rf"gamma.*\[0.*1.*received gamma={gamma!r}"):
        discounted_returns([1.0, 1.0], gamma)


def test_discounted_returns_refuses_non_finite_rewards():
    with pytest.raises(ValueError, match=r"rewards.*1 NaN or infinite.*index 1"):
        discounted_returns([1.0, np.nan, 1.0], 0.9)


def gae_inputs(n=3):
    return dict(
        rewards=np.ones(n),
        values=np.zeros(n),
        next_values=np.zeros(n),
        terminated=np.zeros(n, bool),
        truncated=np.zeros(n, bool),
    )


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"gamma": 1.5}, r"gamma.*received gamma=1\.5"),
        ({"gamma": -1.0}, r"gamma.*received gamma=-1\.0"),
        ({"gamma": 0.9, "gae_lambda": 2.0}, r"gae_lambda.*received gae_lambda=2\.0"),
        ({"gamma": 0.9, "gae_lambda": -0.5}, r"gae_lambda.*received gae_lambda=-0\.5"),
    ],
)
def test_gae_refuses_factors_outside_0_1(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gae_advantages(**gae_inputs(), **kwargs)


def test_gae_refuses_mismatched_shapes():
    inputs = gae_inputs()
    inputs["values"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"one shape; received.*\(3,\).*\(4,\)"):
        gae_advantages(**inputs, gamma=0.9)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n_steps": 0, "gamma": 0.9}, r"n_steps.*received n_steps=0"),
        ({"n_steps": 3, "gamma": 1.5}, r"gamma.*received gamma=1\.5"),
    ],
)
def test_n_step_accumulator_checks_its_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NStepAccumulator(**kwargs)


def test_valid_factors_still_work():
    # The edges of [0, 1] are legitimate (gamma=1: undiscounted; lambda=0: TD(0)).
    np.testing.assert_allclose(discounted_returns([1.0, 1.0], 1.0), [2.0, 1.0])
    advantages, _ = gae_advantages(**gae_inputs(), gamma=0.0, gae_lambda=0.0)
    np.testing.assert_allclose(advantages, np.ones(3))
