"""`set_seed`: one call seeds NumPy, Keras and the backend."""

import keras
import numpy as np
import pytest

from kerasdl import backend as kbackend
from kerasdl.training import set_seed


def draws():
    """A NumPy draw and a Keras draw (from Keras's global seed generator)."""
    return (
        np.random.rand(3),
        keras.ops.convert_to_numpy(keras.random.normal((3,))),
    )


def test_same_seed_same_numbers():
    set_seed(5, deterministic=False)
    first = draws()
    set_seed(5, deterministic=False)
    second = draws()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    set_seed(6, deterministic=False)
    other = draws()
    assert not np.array_equal(first[0], other[0])
    assert not np.array_equal(first[1], other[1])


def test_same_seed_same_initial_weights():
    def weights():
        layer = keras.layers.Dense(3)
        layer.build((None, 2))
        return keras.ops.convert_to_numpy(layer.kernel)

    set_seed(1, deterministic=False)
    first = weights()
    set_seed(1, deterministic=False)
    np.testing.assert_array_equal(first, weights())


@pytest.mark.parametrize("deterministic, calls", [(True, 1), (False, 0)])
def test_determinism_goes_through_the_backend_seam(monkeypatch, deterministic, calls):
    seen = []
    monkeypatch.setattr(kbackend, "enable_determinism", lambda: seen.append(1))
    set_seed(0, deterministic=deterministic)
    assert len(seen) == calls


@pytest.mark.parametrize("seed", [-1, 1.5, "1", None, True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        set_seed(seed)


def test_bad_deterministic():
    with pytest.raises(ValueError, match="deterministic"):
        set_seed(0, deterministic="yes")
