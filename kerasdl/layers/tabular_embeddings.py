"""Feature embeddings for tables: one vector ("token") per column.

Deep tabular models first turn each column into a vector of its own, so that a
transformer can attend between columns or an MLP sees a richer input than one
number per column:

* `NumericalEmbedding` (the numeric half of FT-Transformer's "Feature
  Tokenizer", Gorishniy et al. 2021, "Revisiting Deep Learning Models for
  Tabular Data"): column `j` of `(batch, n)` numbers becomes
  `T_j = x_j * W_j + b_j`, a `d_token` vector with its own `W_j` and `b_j`.
* `PeriodicEmbedding` (PLR, Gorishniy et al. 2022, "On Embeddings for Numerical
  Features in Tabular Deep Learning"): `v_j = [cos(2 pi c_j x_j), sin(2 pi c_j
  x_j)]` with `k` trainable frequencies `c_j`, then a Linear layer and ReLU,
  `T_j = ReLU(v_j @ W_j + b_j)`. The periodic features let a network fit
  functions of one column that wiggle, which plain MLPs (spectral bias) fit
  badly.
* `CategoricalEmbedding` (the categorical half of the Feature Tokenizer): column
  `j` holding an id in `[0, cardinalities[j])` becomes `E_j[id] + b_j`.

All three return `(batch, n_columns, d_token)`. They are written by hand
because Keras has no per-column embedding; each is a few `keras.ops` calls.
"""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np
from keras import ops

from kerasdl._checks import check_float, check_int

__all__ = ["CategoricalEmbedding", "NumericalEmbedding", "PeriodicEmbedding"]


def _check_table(shape, layer):
    shape = tuple(shape)
    if len(shape) != 2 or shape[-1] is None:
        raise ValueError(
            f"{layer} expects `inputs` of rank 2 (batch, features) with known "
            f"features; received shape {shape}."
        )
    return shape


def _check_width(shape, expected, layer):
    if shape[-1] != expected:
        raise ValueError(
            f"{layer} was built for {expected} features; received `inputs` of "
            f"shape {tuple(shape)}."
        )


def _uniform(limit):
    """rtdl's "uniform" initialisation: U(-limit, limit)."""
    return keras.initializers.RandomUniform(-limit, limit)


def check_cardinalities(cardinalities, name="cardinalities"):
    """`cardinalities` as a list of ints >= 1 (one per categorical column)."""
    if isinstance(cardinalities, (str, bytes)) or not isinstance(
        cardinalities, (list, tuple, np.ndarray)
    ):
        raise ValueError(
            f"`{name}` must be a list of integers >= 1 (one per categorical "
            f"column); received {name}={cardinalities!r}."
        )
    values = list(cardinalities)
    if not all(
        isinstance(c, numbers.Integral) and not isinstance(c, bool) and c >= 1
        for c in values
    ):
        raise ValueError(
            f"`{name}` must be a list of integers >= 1 (one per categorical "
            f"column); received {name}={cardinalities!r}."
        )
    return [int(c) for c in values]


@keras.saving.register_keras_serializable(package="kerasdl")
class NumericalEmbedding(keras.layers.Layer):
    """A linear embedding per numeric column: `T_j = x_j * W_j + b_j`.

    Every column `j` has its own `d_token` weight vector `W_j` and bias `b_j`,
    so the same value in two columns gives two different tokens. Weights and
    biases start as `U(-1/sqrt(d_token), 1/sqrt(d_token))`, as in the
    FT-Transformer reference code.

    Args:
        d_token: Size of each column's token.
        use_bias: Whether each column has a bias `b_j`.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`, `dtype`).

    Call arguments:
        inputs: `(batch, n_features)` float numbers (standardised).

    Returns:
        `(batch, n_features, d_token)`.

    Example:

    ```python
    tokens = NumericalEmbedding(16)(x)  # x: (batch, 5) -> (batch, 5, 16)
    ```
    """

    def __init__(self, d_token, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.d_token = check_int("d_token", d_token)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        n = _check_table(input_shape, type(self).__name__)[-1]
        init = _uniform(1.0 / math.sqrt(self.d_token))
        self.kernel = self.add_weight(
            name="kernel", shape=(n, self.d_token), initializer=init
        )
        self.bias = (
            self.add_weight(name="bias", shape=(n, self.d_token), initializer=init)
            if self.use_bias
            else None
        )

    def call(self, inputs):
        _check_width(inputs.shape, self.kernel.shape[0], type(self).__name__)
        x = ops.expand_dims(inputs, -1)  # (batch, n, 1)
        tokens = x * ops.cast(self.kernel, x.dtype)
        if self.bias is not None:
            tokens = tokens + ops.cast(self.bias, x.dtype)
        return tokens

    def compute_output_shape(self, input_shape):
        batch, n = _check_table(input_shape, type(self).__name__)
        return (batch, n, self.d_token)

    def get_config(self):
        config = super().get_config()
        config.update({"d_token": self.d_token, "use_bias": self.use_bias})
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class PeriodicEmbedding(keras.layers.Layer):
    """PLR embedding of numeric columns (Gorishniy et al., 2022).

    For column `j` with value `x_j` and `k = n_frequencies` trainable
    frequencies `c_j = (c_j1 .. c_jk)`:

        v_j = concat(cos(2 pi c_j x_j), sin(2 pi c_j x_j))      # (2k,)
        T_j = ReLU(v_j @ W_j + b_j)                              # (d_token,)

    The frequencies start as `c_ji ~ N(0, sigma)`; `W_j` `(2k, d_token)` and
    `b_j` start as `U(-1/sqrt(2k), 1/sqrt(2k))`. With `lite=True` one `W, b`
    is shared by all columns (the paper's "PLR(lite)", fewer weights); the
    frequencies stay per column.

    `sigma` is the paper's most important hyperparameter: small `sigma`
    (0.01, the default of the reference package `rtdl_num_embeddings`) gives
    near-linear, smooth embeddings; large `sigma` (1-10) lets each column's
    embedding wiggle quickly and can overfit small tables. The reference
    package defaults to `n_frequencies=48`; 16 is cheaper on a CPU.

    Args:
        d_token: Size of each column's output vector.
        n_frequencies: Number of frequencies `k` per column.
        sigma: Standard deviation of the initial frequencies (> 0).
        lite: Share the Linear layer across columns.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: `(batch, n_features)` float numbers (standardised).

    Returns:
        `(batch, n_features, d_token)`, non-negative (after the ReLU).

    Example:

    ```python
    tokens = PeriodicEmbedding(8, n_frequencies=16, sigma=0.1)(x)  # (b, n, 8)
    ```
    """

    def __init__(self, d_token, n_frequencies=16, sigma=0.01, lite=False, **kwargs):
        super().__init__(**kwargs)
        self.d_token = check_int("d_token", d_token)
        self.n_frequencies = check_int("n_frequencies", n_frequencies)
        self.sigma = check_float("sigma", sigma, low=0.0, low_open=True)
        self.lite = bool(lite)

    def build(self, input_shape):
        n = _check_table(input_shape, type(self).__name__)[-1]
        k2 = 2 * self.n_frequencies
        self.frequencies = self.add_weight(
            name="frequencies",
            shape=(n, self.n_frequencies),
            initializer=keras.initializers.RandomNormal(0.0, self.sigma),
        )
        init = _uniform(1.0 / math.sqrt(k2))
        kernel_shape = (k2, self.d_token) if self.lite else (n, k2, self.d_token)
        bias_shape = (self.d_token,) if self.lite else (n, self.d_token)
        self.kernel = self.add_weight(
            name="kernel", shape=kernel_shape, initializer=init
        )
        self.bias = self.add_weight(name="bias", shape=bias_shape, initializer=init)

    def periodic(self, inputs):
        """The periodic features `(batch, n_features, 2 * n_frequencies)`."""
        x = ops.expand_dims(inputs, -1)  # (batch, n, 1)
        angles = (2.0 * math.pi) * x * ops.cast(self.frequencies, x.dtype)
        return ops.concatenate([ops.cos(angles), ops.sin(angles)], axis=-1)

    def call(self, inputs):
        _check_width(inputs.shape, self.frequencies.shape[0], type(self).__name__)
        v = self.periodic(inputs)
        kernel = ops.cast(self.kernel, v.dtype)
        if self.lite:
            y = ops.matmul(v, kernel)
        else:
            y = ops.einsum("bnk,nkd->bnd", v, kernel)
        return ops.relu(y + ops.cast(self.bias, v.dtype))

    def compute_output_shape(self, input_shape):
        batch, n = _check_table(input_shape, type(self).__name__)
        return (batch, n, self.d_token)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "d_token": self.d_token,
                "n_frequencies": self.n_frequencies,
                "sigma": self.sigma,
                "lite": self.lite,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class CategoricalEmbedding(keras.layers.Layer):
    """A lookup table per categorical column, plus a per-column bias.

    Column `j` holds ids in `[0, cardinalities[j])` (by this library's
    preprocessing, id 0 means missing or unseen, so it has its own learned
    vector). The token is `E_j[id] + b_j`. All tables live in one
    `(sum(cardinalities), d_token)` matrix; column `j`'s rows start at
    `offsets[j] = cardinalities[0] + ... + cardinalities[j - 1]`, so the whole
    lookup is one gather. Weights start as `U(-1/sqrt(d_token), 1/sqrt(d_token))`.

    Out-of-range ids (negative, or `>= cardinalities[j]`) are never clipped or
    wrapped into another column's rows: that column's token becomes NaN, on
    every backend, so the model's output and loss turn NaN instead of silently
    wrong. (It costs one comparison per id. The tabular models also reject
    such ids with a `ValueError` before a NumPy batch reaches the backend.)

    Args:
        cardinalities: One integer >= 1 per column: its number of ids,
            including id 0.
        d_token: Size of each token.
        use_bias: Whether each column has a bias `b_j` (FT-Transformer: yes; an
            MLP, whose next Dense has a bias anyway: no).
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: `(batch, len(cardinalities))` integer ids.

    Returns:
        `(batch, len(cardinalities), d_token)`.

    Example:

    ```python
    tokens = CategoricalEmbedding([3, 5], 16)(ids)  # ids: (b, 2) int32
    ```
    """

    def __init__(self, cardinalities, d_token, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.cardinalities = check_cardinalities(cardinalities)
        if not self.cardinalities:
            raise ValueError(
                "`cardinalities` must name at least one column; received "
                "cardinalities=[]."
            )
        self.d_token = check_int("d_token", d_token)
        self.use_bias = bool(use_bias)
        self.offsets = [int(o) for o in np.cumsum([0] + self.cardinalities[:-1])]

    def _check(self, shape, dtype=None):
        shape = _check_table(shape, type(self).__name__)
        _check_width(shape, len(self.cardinalities), type(self).__name__)
        if dtype is not None and "int" not in keras.backend.standardize_dtype(dtype):
            raise TypeError(
                "CategoricalEmbedding expects integer ids; received `inputs` of "
                f"dtype {keras.backend.standardize_dtype(dtype)}."
            )
        return shape

    def build(self, input_shape):
        self._check(input_shape)
        init = _uniform(1.0 / math.sqrt(self.d_token))
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(sum(self.cardinalities), self.d_token),
            initializer=init,
        )
        self.bias = (
            self.add_weight(
                name="bias",
                shape=(len(self.cardinalities), self.d_token),
                initializer=init,
            )
            if self.use_bias
            else None
        )

    def call(self, inputs):
        self._check(inputs.shape, inputs.dtype)
        ids = ops.cast(inputs, "int32")
        cardinalities = ops.convert_to_tensor(self.cardinalities, dtype="int32")
        valid = ops.logical_and(ids >= 0, ids < cardinalities)  # (batch, n)
        rows = ops.where(valid, ids, 0) + ops.convert_to_tensor(
            self.offsets, dtype="int32"
        )
        tokens = ops.take(ops.cast(self.embeddings, self.compute_dtype), rows, axis=0)
        if self.bias is not None:
            tokens = tokens + ops.cast(self.bias, tokens.dtype)
        nan = ops.cast(float("nan"), tokens.dtype)
        return ops.where(ops.expand_dims(valid, -1), tokens, nan)

    def compute_output_shape(self, input_shape):
        batch, n = self._check(input_shape)
        return (batch, n, self.d_token)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cardinalities": list(self.cardinalities),
                "d_token": self.d_token,
                "use_bias": self.use_bias,
            }
        )
        return config
