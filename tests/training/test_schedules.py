"""Schedules give the values their docstring formulas promise."""

import math

import keras
import numpy as np
import pytest

from kerasdl.training import (
    cosine_annealing,
    get_schedule,
    step_decay,
    warmup_cosine,
)


def value(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


@pytest.mark.parametrize(
    "step, expected",
    [(0, 0.1), (9, 0.1), (10, 0.05), (19, 0.05), (25, 0.025), (40, 0.1 * 0.5**4)],
)
def test_step_decay_drops_by_factor_every_drop_every_steps(step, expected):
    schedule = step_decay(0.1, drop_every=10, factor=0.5)
    assert isinstance(schedule, keras.optimizers.schedules.ExponentialDecay)
    assert value(schedule, step) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("step", [0, 25, 50, 75, 100, 150])
def test_cosine_annealing_follows_the_formula(step):
    lr0, decay_steps, alpha = 0.1, 100, 0.1
    s = min(step, decay_steps)
    expected = lr0 * (
        (1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha
    )
    schedule = cosine_annealing(lr0, decay_steps, alpha=alpha)
    assert value(schedule, step) == pytest.approx(expected, abs=1e-6)


def test_cosine_annealing_key_points():
    schedule = cosine_annealing(0.1, 100)
    assert value(schedule, 0) == pytest.approx(0.1, abs=1e-6)
    assert value(schedule, 50) == pytest.approx(0.05, abs=1e-6)
    assert value(schedule, 100) == pytest.approx(0.0, abs=1e-6)


class TestWarmupCosine:
    peak, initial, warmup, decay, alpha = 1e-2, 1e-3, 10, 100, 0.05

    def schedule(self):
        return warmup_cosine(
            self.peak,
            warmup_steps=self.warmup,
            decay_steps=self.decay,
            initial_learning_rate=self.initial,
            alpha=self.alpha,
        )

    def expected(self, step):
        if step < self.warmup:
            return self.initial + (self.peak - self.initial) * step / self.warmup
        s = min(step - self.warmup, self.decay)
        cosine = 0.5 * (1 + math.cos(math.pi * s / self.decay))
        return self.peak * ((1 - self.alpha) * cosine + self.alpha)

    @pytest.mark.parametrize("step", [0, 3, 5, 9, 10, 35, 60, 109, 110, 500])
    def test_matches_the_formula(self, step):
        assert value(self.schedule(), step) == pytest.approx(
            self.expected(step), abs=1e-6
        )

    def test_key_points(self):
        schedule = self.schedule()
        # Start, warm-up midpoint, peak at the end of warm-up.
        assert value(schedule, 0) == pytest.approx(self.initial, abs=1e-6)
        assert value(schedule, 5) == pytest.approx(
            (self.initial + self.peak) / 2, abs=1e-6
        )
        assert value(schedule, 10) == pytest.approx(self.peak, abs=1e-6)
        # Decay midpoint and end: decay_steps counts from the end of the warm-up.
        assert value(schedule, 60) == pytest.approx(
            self.peak * (0.5 * (1 - self.alpha) + self.alpha), abs=1e-6
        )
        assert value(schedule, 110) == pytest.approx(self.alpha * self.peak, abs=1e-6)
        assert value(schedule, 1000) == pytest.approx(self.alpha * self.peak, abs=1e-6)

    def test_no_warmup_is_cosine_from_the_peak(self):
        schedule = warmup_cosine(0.1, warmup_steps=0, decay_steps=100)
        for step in (0, 50, 100):
            assert value(schedule, step) == pytest.approx(
                value(cosine_annealing(0.1, 100), step), abs=1e-6
            )

    def test_integer_rates_are_not_integer_schedules(self):
        # A Python int would make Keras compute the schedule in int32.
        schedule = warmup_cosine(
            1, warmup_steps=4, decay_steps=4, initial_learning_rate=0
        )
        assert value(schedule, 2) == pytest.approx(0.5, abs=1e-6)


def test_get_schedule_by_name_equals_the_function():
    by_name = get_schedule(
        "warmup_cosine", peak_learning_rate=0.1, warmup_steps=4, decay_steps=8
    )
    direct = warmup_cosine(0.1, 4, 8)
    for step in (0, 2, 4, 7, 12, 20):
        assert value(by_name, step) == pytest.approx(value(direct, step), abs=1e-7)
    assert isinstance(
        get_schedule("step", initial_learning_rate=0.1, drop_every=3),
        keras.optimizers.schedules.ExponentialDecay,
    )
    assert isinstance(
        get_schedule("cosine", initial_learning_rate=0.1, decay_steps=3),
        keras.optimizers.schedules.CosineDecay,
    )


def test_schedule_drives_the_optimizer():
    schedule = step_decay(0.1, drop_every=2, factor=0.5)
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    variable = keras.Variable(np.zeros(2, dtype="float32"))
    rates = []
    for _ in range(5):
        rates.append(float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
        optimizer.apply([keras.ops.ones(2)], [variable])
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.05, 0.05, 0.025], atol=1e-7)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: step_decay(0.1, drop_every=0), "drop_every"),
        (lambda: step_decay(0.1, drop_every=2.5), "drop_every"),
        (lambda: step_decay(-0.1, drop_every=2), "initial_learning_rate"),
        (lambda: step_decay(0.1, drop_every=2, factor=0.0), "factor"),
        (lambda: step_decay(0.1, drop_every=2, factor=1.5), "factor"),
        (lambda: cosine_annealing(0.1, decay_steps=0), "decay_steps"),
        (lambda: cosine_annealing(0.0, decay_steps=10), "initial_learning_rate"),
        (lambda: cosine_annealing(0.1, decay_steps=10, alpha=1.5), "alpha"),
        (lambda: warmup_cosine(0.1, warmup_steps=-1, decay_steps=10), "warmup_steps"),
        (
            lambda: warmup_cosine(0.1, 5, 10, initial_learning_rate=0.2),
            "initial_learning_rate",
        ),
        (lambda: warmup_cosine(float("nan"), 5, 10), "peak_learning_rate"),
        (lambda: get_schedule("linear", initial_learning_rate=0.1), "schedule"),
        (
            lambda: get_schedule(
                "cosine", initial_learning_rate=0.1, decay_steps=5, warmup=3
            ),
            "warmup",
        ),
        (lambda: get_schedule("step", initial_learning_rate=0.1), "drop_every"),
    ],
)
def test_impossible_values_raise_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
