"""Univariate time-series forecasting: sliding windows, naive baselines, a Keras model.

A forecaster is only worth its training time if it beats the two forecasts that cost
nothing: the *naive* one (every future value equals the last observed value) and the
*seasonal-naive* one (every future value equals the value one season earlier). This
module holds both, a small `Forecaster` model (LSTM or 1-D CNN + Dense head mapping
`input_length` past values to `horizon` future values), and `evaluate_forecasts`,
which trains on everything before a held-out tail and scores all three on the same
tail windows.

Normalisation statistics come from the training part only: the tail is never seen
while fitting, neither by the optimiser nor by the scaler.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import numpy as np

from kerasdl._checks import check_int
from kerasdl.models.base import FunctionalModel

__all__ = [
    "ForecastEvaluation",
    "Forecaster",
    "evaluate_forecasts",
    "fit_normalization",
    "make_windows",
    "naive_forecast",
    "seasonal_naive_forecast",
]

KINDS = ("lstm", "conv")


# --------------------------------------------------------------------------- checks


def _check_series(series, name="series"):
    """`series` as a 1-D float64 array without NaN/inf; else ValueError naming it."""
    try:
        array = np.asarray(series, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`{name}` must be a 1-D array of numbers; received an object of type "
            f"{type(series).__name__}."
        ) from exc
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D (time,); received shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(
            f"`{name}` must not contain NaN or inf; found {array[bad]} at index {bad}."
        )
    return array


# ------------------------------------------------------------------ windows, baselines


def make_windows(series, input_length, horizon):
    """Cuts a series into (past, future) pairs with a sliding window of stride 1.

    Window `i` has inputs `series[i : i + input_length]` and targets
    `series[i + input_length : i + input_length + horizon]`.

    Args:
        series: 1-D array-like of finite numbers, shape `(time,)`.
        input_length: Number of past values per window (>= 1).
        horizon: Number of future values per window (>= 1).

    Returns:
        A tuple `(x, y)` of float32 arrays with shapes
        `(time - input_length - horizon + 1, input_length)` and
        `(time - input_length - horizon + 1, horizon)`.

    Raises:
        ValueError: `series` is not 1-D, holds NaN/inf, or is shorter than
            `input_length + horizon`; or a length is not a positive integer.

    Example:

    ```python
    x, y = make_windows(np.arange(6), input_length=3, horizon=2)
    # x = [[0, 1, 2], [1, 2, 3]], y = [[3, 4], [4, 5]]
    ```
    """
    input_length = check_int("input_length", input_length, 1)
    horizon = check_int("horizon", horizon, 1)
    array = _check_series(series)
    span = input_length + horizon
    if len(array) < span:
        raise ValueError(
            f"`series` must have at least input_length + horizon = {input_length} + "
            f"{horizon} = {span} values; received a series of length {len(array)}."
        )
    windows = np.lib.stride_tricks.sliding_window_view(array, span)
    x = windows[:, :input_length].astype(np.float32)
    y = windows[:, input_length:].astype(np.float32)
    return x, y


def naive_forecast(history, horizon):
    """The naive forecast: every future value equals the last observed one.

    Args:
        history: 1-D array-like of the observed values, oldest first (length >= 1).
        horizon: Number of future values (>= 1).

    Returns:
        A float64 array of shape `(horizon,)`, all equal to `history[-1]`.

    Raises:
        ValueError: `history` is empty, not 1-D or holds NaN/inf; or `horizon` is
            not a positive integer.
    """
    horizon = check_int("horizon", horizon, 1)
    history = _check_series(history, "history")
    if len(history) == 0:
        raise ValueError("`history` must hold at least 1 value; received length 0.")
    return np.full(horizon, history[-1])


def seasonal_naive_forecast(history, horizon, season):
    """The seasonal-naive forecast: each future value equals the one a season earlier.

    Step `h` (0-based) of the forecast is `history[len(history) - season + h % season]`,
    i.e. the last full season is repeated.

    Args:
        history: 1-D array-like of the observed values, oldest first
            (length >= `season`).
        horizon: Number of future values (>= 1).
        season: Season length in time steps (>= 1), e.g. 12 for monthly data with
            a yearly cycle, 11 for yearly sunspot numbers.

    Returns:
        A float64 array of shape `(horizon,)`.

    Raises:
        ValueError: `history` is shorter than `season`, not 1-D or holds NaN/inf;
            or `horizon`/`season` is not a positive integer.
    """
    horizon = check_int("horizon", horizon, 1)
    season = check_int("season", season, 1)
    history = _check_series(history, "history")
    if len(history) < season:
        raise ValueError(
            f"`history` must hold at least `season` = {season} values; received "
            f"length {len(history)}."
        )
    last_season = history[len(history) - season :]
    return last_season[np.arange(horizon) % season]


def fit_normalization(train_series):
    """Mean and standard deviation of the training part, for input normalisation.

    Args:
        train_series: 1-D array-like, the part of the series the model trains on
            (never the held-out tail).

    Returns:
        A tuple `(mean, std)` of Python floats; `std` is 1.0 for a constant series.
    """
    array = _check_series(train_series, "train_series")
    if len(array) == 0:
        raise ValueError("`train_series` must not be empty; received length 0.")
    std = float(array.std())
    return float(array.mean()), std if std > 0 else 1.0


# ---------------------------------------------------------------------------- model


@keras.saving.register_keras_serializable(package="kerasdl")
class Forecaster(FunctionalModel):
    """Maps `input_length` past values of a series to its next `horizon` values.

    The graph is: Rescaling to `(x - mean) / std` -> Reshape to
    `(input_length, 1)` -> an encoder -> Dense(`horizon`) -> Rescaling back to
    `y * std + mean`. The encoder is `keras.layers.LSTM(units)` (`kind="lstm"`) or
    two causal `Conv1D(units, kernel_size, relu)` layers and a flatten
    (`kind="conv"`). `mean` and `std` are fixed numbers stored in the config: fit
    them on the training part only (`fit_normalization`), so the held-out tail is
    never peeked at; the loss is then computed on the original scale.

    Args:
        input_length: Number of past values per input window (>= 1).
        horizon: Number of future values predicted (>= 1).
        units: LSTM units or Conv1D filters (>= 1).
        kind: `"lstm"` or `"conv"`.
        kernel_size: Conv1D kernel size (>= 1; `kind="conv"` only).
        mean: Mean of the training series (normalisation offset).
        std: Standard deviation of the training series (> 0).
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Tensor of shape `(batch, input_length)`, on the original scale.
        training: Python bool (no layer behaves differently; kept for the API).

    Returns:
        A tensor of shape `(batch, horizon)`, on the original scale.

    Example:

    ```python
    mean, std = fit_normalization(train)
    model = Forecaster(input_length=22, horizon=3, mean=mean, std=std)
    model.compile("adam", "mae")
    model.fit(*make_windows(train, 22, 3), epochs=100, verbose=0)
    ```
    """

    def __init__(
        self,
        input_length,
        horizon,
        *,
        units=32,
        kind="lstm",
        kernel_size=3,
        mean=0.0,
        std=1.0,
        name="forecaster",
        **kwargs,
    ):
        input_length = check_int("input_length", input_length, 1)
        horizon = check_int("horizon", horizon, 1)
        units = check_int("units", units, 1)
        kernel_size = check_int("kernel_size", kernel_size, 1)
        if kind not in KINDS:
            raise ValueError(f"`kind` must be one of {KINDS}; received kind={kind!r}.")
        for arg, value in (("mean", mean), ("std", std)):
            if isinstance(value, bool) or not np.isfinite(float(value)):
                raise ValueError(
                    f"`{arg}` must be a finite number; received {arg}={value!r}."
                )
        if float(std) <= 0:
            raise ValueError(f"`std` must be > 0; received std={std!r}.")
        mean, std = float(mean), float(std)

        # === Layers + functional model ===
        inputs = keras.Input(shape=(input_length,), name="history")
        x = keras.layers.Rescaling(
            scale=1.0 / std, offset=-mean / std, name="normalize"
        )(inputs)
        x = keras.layers.Reshape((input_length, 1), name="to_sequence")(x)
        if kind == "lstm":
            x = keras.layers.LSTM(units, name="lstm")(x)
        else:
            for i in (1, 2):
                x = keras.layers.Conv1D(
                    units,
                    kernel_size,
                    padding="causal",
                    activation="relu",
                    name=f"conv_{i}",
                )(x)
            x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(horizon, name="head")(x)
        outputs = keras.layers.Rescaling(scale=std, offset=mean, name="denormalize")(x)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.input_length = input_length
        self.horizon = horizon
        self.units = units
        self.kind = kind
        self.kernel_size = kernel_size
        self.mean = mean
        self.std = std

    def get_config(self):
        return {
            **super().get_config(),
            "input_length": self.input_length,
            "horizon": self.horizon,
            "units": self.units,
            "kind": self.kind,
            "kernel_size": self.kernel_size,
            "mean": self.mean,
            "std": self.std,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


# ------------------------------------------------------------------------ evaluation


@dataclass
class ForecastEvaluation:
    """What `evaluate_forecasts` measured on the held-out tail.

    Attributes:
        mae: Mean absolute error over every tail window and step, keyed
            `"model"`, `"naive"`, `"seasonal_naive"`.
        origins: `(n_windows,)` index of the first forecast value of each tail
            window; window `i` forecasts `series[origins[i] : origins[i] + horizon]`.
        targets: `(n_windows, horizon)` true values.
        forecasts: `(n_windows, horizon)` forecasts, keyed like `mae`.
        mean: Normalisation mean (from the training part only).
        std: Normalisation standard deviation (from the training part only).
        train_size: Length of the training part (`len(series) - test_size`).
        train_seconds: Wall time of `model.fit`.
        losses: Training loss per epoch.
        model: The trained `Forecaster`.
    """

    mae: dict
    origins: np.ndarray
    targets: np.ndarray
    forecasts: dict
    mean: float
    std: float
    train_size: int
    train_seconds: float
    losses: list = field(default_factory=list)
    model: Forecaster | None = None


def evaluate_forecasts(
    series,
    test_size,
    input_length,
    horizon,
    season,
    *,
    units=32,
    kind="conv",
    epochs=100,
    batch_size=32,
    learning_rate=3e-3,
    loss="mae",
    seed=0,
    verbose=0,
):
    """Trains a `Forecaster` before a held-out tail; scores it and both baselines.

    The last `test_size` values are the tail. The model and its normalisation see
    only `series[: len(series) - test_size]`. The tail windows have origins
    `t = len(series) - test_size, ..., len(series) - horizon` (every window whose
    targets lie entirely in the tail); each forecasts `series[t : t + horizon]`
    from what was observed before `t`: the model from the last `input_length`
    values, the naive and seasonal-naive forecasts from all of `series[:t]`.
    (Inputs of later windows include earlier tail values, as when a forecast is
    re-issued each step; no target is ever an input.)

    Args:
        series: 1-D array-like of finite numbers, oldest first.
        test_size: Length of the held-out tail (>= `horizon`).
        input_length: Past values the model sees per forecast (>= 1).
        horizon: Values forecast at once (>= 1).
        season: Season length for the seasonal-naive forecast (>= 1).
        units: `Forecaster` units.
        kind: `Forecaster` encoder, `"conv"` (the default: it beat both baselines
            on every seed of `benchmarks/bench_forecast.py`) or `"lstm"` (lost to
            the seasonal-naive forecast on one of three seeds there).
        epochs: Training epochs (>= 0; 0 leaves the model untrained).
        batch_size: Training batch size (>= 1).
        learning_rate: Adam learning rate.
        loss: Training loss (`"mae"` matches the score).
        seed: Seed for weights and batch order (`keras.utils.set_random_seed`).
        verbose: Passed to `fit`.

    Returns:
        A `ForecastEvaluation`.

    Raises:
        ValueError: bad `series` (see `make_windows`), or a training part too short
            for one window or one season.
    """
    array = _check_series(series)
    test_size = check_int("test_size", test_size, 1)
    input_length = check_int("input_length", input_length, 1)
    horizon = check_int("horizon", horizon, 1)
    season = check_int("season", season, 1)
    epochs = check_int("epochs", epochs, 0)
    if test_size < horizon:
        raise ValueError(
            f"`test_size` must be >= horizon = {horizon}; received "
            f"test_size={test_size}."
        )
    train_size = len(array) - test_size
    needed = max(input_length + horizon, season)
    if train_size < needed:
        raise ValueError(
            f"The training part (len(series) - test_size = {len(array)} - "
            f"{test_size} = {train_size}) must hold at least max(input_length + "
            f"horizon, season) = {needed} values."
        )
    train = array[:train_size]

    keras.utils.set_random_seed(seed)
    mean, std = fit_normalization(train)
    model = Forecaster(
        input_length, horizon, units=units, kind=kind, mean=mean, std=std
    )
    model.compile(keras.optimizers.Adam(learning_rate), loss=loss)
    x_train, y_train = make_windows(train, input_length, horizon)
    start = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=verbose,
    )
    train_seconds = time.perf_counter() - start

    origins = np.arange(train_size, len(array) - horizon + 1)
    x_tail = np.stack([array[t - input_length : t] for t in origins]).astype("float32")
    targets = np.stack([array[t : t + horizon] for t in origins])
    forecasts = {
        "model": np.asarray(model.predict(x_tail, verbose=0), dtype=np.float64),
        "naive": np.stack([naive_forecast(array[:t], horizon) for t in origins]),
        "seasonal_naive": np.stack(
            [seasonal_naive_forecast(array[:t], horizon, season) for t in origins]
        ),
    }
    mae = {k: float(np.mean(np.abs(v - targets))) for k, v in forecasts.items()}
    return ForecastEvaluation(
        mae=mae,
        origins=origins,
        targets=targets,
        forecasts=forecasts,
        mean=mean,
        std=std,
        train_size=train_size,
        train_seconds=train_seconds,
        losses=[float(v) for v in history.history.get("loss", [])],
        model=model,
    )
