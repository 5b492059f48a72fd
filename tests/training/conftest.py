"""Shared fixtures for the training tests: tiny data, a tiny model, a clean policy."""

import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def float32_policy():
    """Every test starts and ends under the default float32 dtype policy.

    Tests here call `TrainingConfig.setup()`, which sets the global policy; restoring
    it keeps other tests (and other folders) unaffected.
    """
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def regression_data():
    """64 samples of a noisy linear function of 4 features (float32, synthetic)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    w = np.array([[1.0], [-2.0], [0.5], [3.0]], dtype="float32")
    y = (x @ w + 0.1 * rng.normal(size=(64, 1))).astype("float32")
    return x, y


@pytest.fixture
def make_model():
    """Factory for a tiny MLP (4 -> 8 -> 1), optionally with dropout."""

    def build(dropout: float = 0.0) -> keras.Model:
        inputs = keras.Input((4,))
        h = keras.layers.Dense(8, activation="tanh")(inputs)
        if dropout:
            h = keras.layers.Dropout(dropout)(h)
        outputs = keras.layers.Dense(1)(h)
        return keras.Model(inputs, outputs)

    return build
