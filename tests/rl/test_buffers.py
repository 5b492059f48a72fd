"""ReplayBuffer and NStepAccumulator: wrap-around, sampling, n-step returns."""

import numpy as np
import pytest

from kerasdl.rl import NStepAccumulator, ReplayBatch, ReplayBuffer


def fill(buffer, n, start=0):
    shape = buffer.observation_shape
    for i in range(start, start + n):
        buffer.add(np.full(shape, i), i % 3, float(i), np.full(shape, i + 1), 0.99)


def test_wraps_around_and_keeps_only_the_newest():
    buffer = ReplayBuffer(5, observation_shape=(2,), seed=0)
    fill(buffer, 7)
    assert len(buffer) == 5
    assert buffer.position == 2
    # Slots 0 and 1 were overwritten by transitions 5 and 6.
    assert sorted(buffer.rewards.tolist()) == [2.0, 3.0, 4.0, 5.0, 6.0]
    assert buffer.observations[0, 0] == 5 and buffer.observations[1, 0] == 6
    state = buffer.state_dict()
    assert state["rewards"].tolist() == [2.0, 3.0, 4.0, 5.0, 6.0]  # oldest first


def test_sampling_stays_within_stored_transitions():
    buffer = ReplayBuffer(100, observation_shape=(2,), seed=1)
    fill(buffer, 10)
    batch = buffer.sample(1000)
    assert isinstance(batch, ReplayBatch)
    assert batch.observations.shape == (1000, 2)
    assert batch.actions.dtype == np.int32
    # Only the 10 written slots can come back, never the zeros beyond them.
    assert set(batch.rewards.tolist()) <= set(map(float, range(10)))
    assert len(set(batch.rewards.tolist())) == 10
    np.testing.assert_array_equal(batch.next_observations[:, 0], batch.rewards + 1)


def test_memory_is_fixed_by_capacity():
    buffer = ReplayBuffer(50, observation_shape=(4,), observation_dtype="uint8")
    before = buffer.nbytes
    fill(buffer, 500)
    assert buffer.nbytes == before
    assert buffer.observations.shape == (50, 4)
    assert buffer.observations.dtype == np.uint8


def test_state_dict_round_trip_keeps_order():
    buffer = ReplayBuffer(4, observation_shape=(2,))
    fill(buffer, 6)
    other = ReplayBuffer(4, observation_shape=(2,))
    other.load_state_dict(buffer.state_dict())
    for key, value in buffer.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], value)


def test_bad_input():
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, observation_shape=(2,))
    buffer = ReplayBuffer(4, observation_shape=(2,))
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(2)
    with pytest.raises(ValueError, match=r"`observation` must have shape \(2,\)"):
        buffer.add(np.zeros(3), 0, 0.0, np.zeros(3), 1.0)
    fill(buffer, 2)
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(0)


def test_one_step_terminated_does_not_bootstrap_truncated_does():
    acc = NStepAccumulator(1, gamma=0.9)
    (t,) = acc.push("s0", 1, 1.0, "s1", terminated=False, truncated=False)
    assert t == ("s0", 1, 1.0, "s1", 0.9)
    (t,) = acc.push("s1", 0, 2.0, "end", terminated=True, truncated=False)
    assert t[4] == 0.0
    (t,) = acc.push("s5", 0, 2.0, "final", terminated=False, truncated=True)
    assert t[3] == "final" and t[4] == pytest.approx(0.9)


def test_n_step_returns_and_flush_at_episode_end():
    gamma = 0.5
    acc = NStepAccumulator(3, gamma=gamma)
    assert acc.push("s0", 0, 1.0, "s1", False, False) == []
    assert acc.push("s1", 0, 2.0, "s2", False, False) == []
    (t,) = acc.push("s2", 0, 4.0, "s3", False, False)
    assert t == ("s0", 0, 1.0 + 0.5 * 2.0 + 0.25 * 4.0, "s3", gamma**3)
    # Termination flushes the three pending steps without bootstrapping.
    out = acc.push("s3", 1, 8.0, "s4", terminated=True, truncated=False)
    assert [o[0] for o in out] == ["s1", "s2", "s3"]
    assert [o[2] for o in out] == [
        pytest.approx(2.0 + 0.5 * 4.0 + 0.25 * 8.0),
        pytest.approx(4.0 + 0.5 * 8.0),
        pytest.approx(8.0),
    ]
    assert [o[4] for o in out] == [0.0, 0.0, 0.0]
    # Truncation flushes with the discount of the steps actually taken.
    acc.push("a0", 0, 1.0, "a1", False, False)
    out = acc.push("a1", 0, 1.0, "a2", terminated=False, truncated=True)
    assert [o[4] for o in out] == [pytest.approx(gamma**2), pytest.approx(gamma)]
    assert all(o[3] == "a2" for o in out)
