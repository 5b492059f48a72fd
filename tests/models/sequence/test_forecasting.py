"""models/sequence/forecasting: windows, baselines, the Forecaster, its scoring."""

import keras
import numpy as np
import pytest

from kerasdl.models.sequence.forecasting import (
    Forecaster,
    ForecastEvaluation,
    evaluate_forecasts,
    fit_normalization,
    make_windows,
    naive_forecast,
    seasonal_naive_forecast,
)
from kerasdl.testing import check_model


def _sine(n=120, period=12, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (
        10 + 5 * np.sin(2 * np.pi * t / period) + 0.1 * rng.standard_normal(n)
    ).astype("float32")


# ------------------------------------------------------------------------- windows


def test_make_windows_shapes_and_values():
    x, y = make_windows(np.arange(7), input_length=3, horizon=2)
    assert x.shape == (3, 3) and y.shape == (3, 2)
    assert x.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(x, [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(y, [[3, 4], [4, 5], [5, 6]])
    # Exactly input_length + horizon values give one window.
    x1, y1 = make_windows([1.0, 2.0, 3.0], 2, 1)
    np.testing.assert_array_equal(x1, [[1, 2]])
    np.testing.assert_array_equal(y1, [[3]])


@pytest.mark.parametrize(
    "series, match",
    [
        (np.arange(4), "at least input_length \\+ horizon = 3 \\+ 2 = 5"),
        ([1.0, np.nan, 3.0, 4.0, 5.0, 6.0], "NaN or inf; found nan at index 1"),
        (np.zeros((6, 2)), "1-D \\(time,\\); received shape \\(6, 2\\)"),
    ],
)
def test_make_windows_bad_series(series, match):
    with pytest.raises(ValueError, match=match):
        make_windows(series, input_length=3, horizon=2)


def test_make_windows_bad_lengths():
    with pytest.raises(ValueError, match="input_length=0"):
        make_windows(np.arange(10), 0, 2)
    with pytest.raises(ValueError, match="horizon=1.5"):
        make_windows(np.arange(10), 3, 1.5)


# ------------------------------------------------------------------------ baselines


def test_naive_forecast_by_hand():
    np.testing.assert_array_equal(naive_forecast([3.0, 1.0, 7.0], 3), [7.0, 7.0, 7.0])
    with pytest.raises(ValueError, match="`history` must hold at least 1"):
        naive_forecast([], 2)


def test_seasonal_naive_forecast_by_hand():
    history = [1.0, 2.0, 3.0, 4.0, 5.0]
    # Last season (2 values) is [4, 5], repeated.
    np.testing.assert_array_equal(
        seasonal_naive_forecast(history, 5, season=2), [4, 5, 4, 5, 4]
    )
    # Season 3: [3, 4, 5]; horizon shorter than the season.
    np.testing.assert_array_equal(seasonal_naive_forecast(history, 2, 3), [3, 4])
    # Season 1 is the naive forecast.
    np.testing.assert_array_equal(
        seasonal_naive_forecast(history, 3, 1), naive_forecast(history, 3)
    )
    with pytest.raises(ValueError, match="at least `season` = 6 values"):
        seasonal_naive_forecast(history, 2, season=6)
    with pytest.raises(ValueError, match="`history` must not contain NaN"):
        seasonal_naive_forecast([1.0, np.inf, 2.0], 1, 1)


# --------------------------------------------------------------------------- model


@pytest.mark.parametrize("kind", ["lstm", "conv"])
def test_forecaster_contract(kind, tmp_path):
    series = _sine(60)
    x, y = make_windows(series, 12, 3)
    mean, std = fit_normalization(series)
    model = Forecaster(12, 3, units=8, kind=kind, mean=mean, std=std)
    output = check_model(model, x[:16], y[:16], tmp_dir=tmp_path)
    assert output.shape == (16, 3)
    config = model.get_config()
    assert config["mean"] == pytest.approx(mean) and config["kind"] == kind
    restored = Forecaster.from_config(config)
    assert restored.get_config() == config


def test_forecaster_works_on_the_original_scale():
    # With a zero head, the output is the normalisation mean: denormalise inverts
    # normalise, so the model predicts on the series' own scale.
    model = Forecaster(5, 2, units=4, mean=100.0, std=20.0)
    head = model.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    out = keras.ops.convert_to_numpy(model(np.full((2, 5), 140.0, "float32")))
    np.testing.assert_allclose(out, 100.0, atol=1e-4)
    normalize = keras.Model(model.input, model.get_layer("normalize").output)
    z = keras.ops.convert_to_numpy(normalize(np.array([[80.0, 100, 120, 140, 60]])))
    np.testing.assert_allclose(z, [[-1.0, 0.0, 1.0, 2.0, -2.0]], atol=1e-5)


def test_forecaster_bad_arguments():
    with pytest.raises(ValueError, match="kind='gru'"):
        Forecaster(5, 2, kind="gru")
    with pytest.raises(ValueError, match="std=0"):
        Forecaster(5, 2, std=0)
    with pytest.raises(ValueError, match="horizon=0"):
        Forecaster(5, 0)


def test_a_few_epochs_lower_the_loss_on_a_sine():
    series = _sine(120)
    x, y = make_windows(series, 12, 3)
    mean, std = fit_normalization(series)
    keras.utils.set_random_seed(0)
    model = Forecaster(12, 3, units=16, kind="conv", mean=mean, std=std)
    model.compile(keras.optimizers.Adam(1e-2), loss="mae")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert np.isfinite(after) and after < 0.5 * before


# ----------------------------------------------------------------------- evaluation


def test_normalisation_uses_only_the_training_part():
    series = _sine(100)
    changed = series.copy()
    changed[-20:] = 1000.0  # a wildly different tail
    kwargs = dict(test_size=20, input_length=12, horizon=3, season=12, units=4)
    a = evaluate_forecasts(series, epochs=2, **kwargs)
    b = evaluate_forecasts(changed, epochs=2, **kwargs)
    assert a.train_size == b.train_size == 80
    assert (a.mean, a.std) == (b.mean, b.std)
    assert a.mean == pytest.approx(float(series[:80].mean()), rel=1e-6)
    assert a.mean != pytest.approx(float(changed.mean()), rel=1e-3)
    assert a.losses == pytest.approx(b.losses, rel=1e-5)
    # The first tail window's input lies wholly in the training part: same forecast.
    np.testing.assert_allclose(
        a.forecasts["model"][0], b.forecasts["model"][0], rtol=1e-5
    )


def test_evaluate_forecasts_scores_the_same_tail_windows():
    series = _sine(100)
    result = evaluate_forecasts(
        series, test_size=20, input_length=12, horizon=3, season=12, epochs=0, units=4
    )
    assert isinstance(result, ForecastEvaluation)
    assert result.train_size == 80 and set(result.mae) == set(result.forecasts)
    n_windows = 20 - 3 + 1
    np.testing.assert_array_equal(result.origins, np.arange(80, 98))
    assert result.targets.shape == (n_windows, 3)
    for forecast in result.forecasts.values():
        assert forecast.shape == (n_windows, 3)
    t = result.origins[5]
    np.testing.assert_allclose(result.targets[5], series[t : t + 3])
    np.testing.assert_allclose(result.forecasts["naive"][5], series[t - 1])
    np.testing.assert_allclose(
        result.forecasts["seasonal_naive"][5], series[t - 12 : t - 9]
    )
    expected = np.mean(np.abs(result.forecasts["naive"] - result.targets))
    assert result.mae["naive"] == pytest.approx(expected)
    # A pure sine with an integer period: seasonal-naive is near perfect.
    assert result.mae["seasonal_naive"] < 0.5 < result.mae["naive"]


def test_evaluate_forecasts_bad_arguments():
    series = _sine(40)
    with pytest.raises(ValueError, match="`test_size` must be >= horizon = 3"):
        evaluate_forecasts(series, 2, 12, 3, 12, epochs=0)
    with pytest.raises(ValueError, match="training part .* = 10\\) must hold"):
        evaluate_forecasts(series, 30, 12, 3, 12, epochs=0)
