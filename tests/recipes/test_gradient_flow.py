"""kerasdl.recipes.gradient_flow: vanishing gradients, clipping exploding ones."""

import numpy as np
import pytest

from kerasdl.layers.recurrent import LSTMCell
from kerasdl.recipes.gradient_flow import (
    clipping_experiment,
    digits_as_sequences,
    gradient_norm_by_distance,
    plot_clipping,
    plot_gradient_norms,
)


@pytest.fixture(scope="module")
def curves():
    settings = dict(time_steps=30, units=16, batch_size=8, repeats=2, seed=0)
    return {
        "rnn": gradient_norm_by_distance("rnn", **settings),
        "lstm": gradient_norm_by_distance("lstm", **settings),
    }


def test_simple_rnn_gradient_vanishes_and_lstm_keeps_more(curves):
    rnn, lstm = curves["rnn"], curves["lstm"]
    assert rnn.shape == lstm.shape == (30,)
    assert np.all(np.isfinite(rnn)) and np.all(rnn > 0)
    # SimpleRNN: 20 steps back the gradient is < 1% of the last step's.
    assert rnn[20] < 1e-2 * rnn[0] and rnn[29] < rnn[20]
    # The LSTM's cell path (forget bias 1) loses much less over the same distance.
    assert lstm[20] / lstm[0] > 5 * (rnn[20] / rnn[0])


def test_gradient_norm_is_deterministic_and_takes_a_cell_instance():
    settings = dict(time_steps=6, units=4, batch_size=2, repeats=1, seed=3)
    a = gradient_norm_by_distance("lstm", **settings)
    b = gradient_norm_by_distance(LSTMCell(4), **settings)
    np.testing.assert_allclose(a, b, rtol=1e-5)
    c = gradient_norm_by_distance(LSTMCell(4, unit_forget_bias=False), **settings)
    assert np.abs(a - c).max() > 1e-6


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cell="transformer"), r"\['gru', 'lstm', 'rnn'\].*transformer"),
        (dict(time_steps=1), "time_steps=1"),
        (dict(repeats=0), "repeats=0"),
    ],
)
def test_gradient_norm_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gradient_norm_by_distance(**kwargs)


def test_clipping_bounds_the_step_and_saves_the_run(tmp_path):
    x, y = digits_as_sequences()
    assert x.shape == (1797, 8, 8) and y.shape == (1797,)
    results = clipping_experiment(
        clipnorm=1.0, steps=10, batch_size=32, data=(x[:300], y[:300]), seed=0
    )
    clipped, unclipped = results["clipped"], results["unclipped"]
    lr = results["learning_rate"]
    # Unclipped, the exploding gradients (norms >> 1) blow the loss up.
    assert unclipped["grad_norm"][0] > 10
    assert unclipped["diverged_at"] is not None or (
        unclipped["loss"][-1] > 10 * unclipped["loss"][0]
    )
    # Clipped: the same gradients exceed the threshold, but every step is
    # lr * clipnorm long, finite, and the loss goes down.
    assert clipped["diverged_at"] is None
    assert min(clipped["grad_norm"]) > 1.0
    np.testing.assert_allclose(clipped["update_norm"], lr * 1.0, rtol=1e-3)
    assert np.all(np.isfinite(clipped["loss"]))
    assert np.mean(clipped["loss"][-3:]) < 0.8 * clipped["loss"][0]
    assert unclipped["update_norm"][0] > 100 * clipped["update_norm"][0]
    # Same start: identical first loss and gradient.
    assert clipped["loss"][0] == pytest.approx(unclipped["loss"][0], rel=1e-5)
    png = plot_clipping(results, tmp_path / "clipping.png")
    assert png.stat().st_size > 0


def test_plot_gradient_norms_writes_a_png(tmp_path, curves):
    png = plot_gradient_norms(curves, tmp_path / "norms.png")
    assert png.stat().st_size > 0


def test_clipping_bad_arguments():
    with pytest.raises(ValueError, match="clipnorm=0"):
        clipping_experiment(clipnorm=0)
    with pytest.raises(ValueError, match="\\(n, time, features\\)"):
        clipping_experiment(data=(np.zeros((4, 8)), np.zeros(4, int)))
