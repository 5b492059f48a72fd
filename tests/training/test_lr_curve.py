"""The range test's curve: its schedule, the smoothing and the suggestion rule."""

import keras
import numpy as np
import pytest

from kerasdl.training.lr_curve import (
    ExponentialRangeSchedule,
    smooth_losses,
    suggest_learning_rate,
)


def test_schedule_matches_recorded_rates():
    schedule = ExponentialRangeSchedule(1e-6, 10.0, steps=200)
    steps = np.array([0, 1, 57, 199, 250])
    values = [float(keras.ops.convert_to_numpy(schedule(s))) for s in steps]
    expected = 1e-6 * 1e7 ** (np.minimum(steps, 199) / 199)
    np.testing.assert_allclose(values, expected, rtol=1e-5)
    np.testing.assert_allclose(schedule.rates(251)[steps], expected, rtol=1e-12)
    clone = ExponentialRangeSchedule.from_config(schedule.get_config())
    assert clone.get_config() == schedule.get_config()


def test_smoothing_is_bias_corrected():
    np.testing.assert_allclose(smooth_losses([3.0, 3.0, 3.0], 0.9), [3.0, 3.0, 3.0])
    # avg_1 = 0.1 * 1 * 0.9 + 0.1 * 2 = 0.29, / (1 - 0.81) = 1.526...
    assert smooth_losses([1.0, 2.0], 0.9)[1] == pytest.approx(0.29 / 0.19)


def test_suggestion_rule_on_a_known_curve():
    """A sigmoid drop centred at 1e-2 (steepest there), then a rise."""
    lrs = np.logspace(-6, 1, 200)
    t = np.log10(lrs)
    curve = 3.0 - 2.0 / (1.0 + np.exp(-3.0 * (t + 2.0))) + np.maximum(0, t) ** 2
    suggestion, min_loss_lr, steepest_lr = suggest_learning_rate(lrs, curve, 0.98)
    assert suggestion == steepest_lr
    assert suggestion == pytest.approx(1e-2, rel=0.1)
    assert min_loss_lr == pytest.approx(1.0, rel=0.1)
    # The minimum before the warm-up has ended: fall back to min_loss_lr / 10.
    rising = np.linspace(1.0, 2.0, 200)
    assert suggest_learning_rate(lrs, rising, 0.98) == (1e-7, 1e-6, None)
