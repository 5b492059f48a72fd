"""Deep tabular models (MLP, FT-Transformer) as scikit-learn estimators on raw tables.

`KerasTabularClassifier` and `KerasTabularRegressor` take a pandas `DataFrame` of raw
columns (numbers, categories, text, dates, with missing cells) or a numeric array,
fit a `TableEncoder` on the training rows only, and train a `TabularMLP` or an
`FTTransformer` with AdamW, early stopping on an inner validation split of the
training rows. `model_` is a `TabularModel`: save it and it predicts on raw rows.

Cross-validation fits the same network shape many times, and compiling it costs more
than training it on a small table. So the compiled network (with its optimizer) is
kept in a module-level cache keyed by everything that shapes its compiled functions;
a new fit with the same key restores the network's initial weights for its
`random_state` and resets the optimizer's state instead of building and compiling
again. Each fit's trained weights are copied out (`weights_`), so fitted estimators
stay independent: predicting with one loads its own weights into the shared network
first. Batches always hold `batch_size` rows, category counts are rounded up to a
power of two, and predictions run in calls of `PREDICT_ROWS` rows (padded), so JAX
and TensorFlow meet the same shapes fold after fold, and a row's prediction does
not depend on the rows predicted with it.

Both estimators pass scikit-learn's estimator checks (inputs are validated as
scikit-learn's own estimators validate them; NaN in a numeric array is a missing
cell), but for the one named in `tests/baselines/test_estimator_checks.py`.
"""

from __future__ import annotations

import copy
import json
import numbers
import warnings

import keras
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array

from kerasdl import backend as kbackend
from kerasdl._checks import check_float, check_int
from kerasdl.baselines.tabular_compile_cache import (
    CACHE_SIZE,
    COMPILED_CACHE,
    FIT_TOKENS,
    CompiledNetwork,
    ValidationLoss,
    bucket_size,
    clear_compiled_cache,
    fixed_size_batches,
)
from kerasdl.models.tabular.encoder import TableEncoder
from kerasdl.models.tabular.ft_transformer import FT_TRANSFORMER_SMALL, FTTransformer
from kerasdl.models.tabular.tabular_mlp import TabularMLP
from kerasdl.models.tabular.tabular_model import (
    TabularModel,
    chunked_logits,
    softmax,
)

__all__ = [
    "TABULAR_ARCHITECTURES",
    "TABULAR_DESCRIPTIONS",
    "KerasTabularClassifier",
    "KerasTabularRegressor",
    "clear_compiled_cache",
    "make_tabular_estimator",
]

#: Architecture names: network class, default network kwargs, default learning rate,
#: default early-stopping patience. The FT-Transformer's one block and patience 8
#: were chosen on tables outside the benchmark's report set (iris, statsmodels'
#: anes96, fair and randhie; seed-1 folds): as accurate as 2 blocks with patience
#: 16 there, in 45% of the time (`benchmarks/bench_tables.py`'s docstring).
_ARCHITECTURES = {
    "mlp": (TabularMLP, {}, 1e-3, 16),
    "ft_transformer": (FTTransformer, FT_TRANSFORMER_SMALL, 3e-4, 8),
}
#: Patience of a custom network class (as the MLP's).
_CUSTOM_PATIENCE = 16


def default_patience(architecture) -> int:
    """The early-stopping patience an architecture trains with when none is given."""
    if isinstance(architecture, str) and architecture in _ARCHITECTURES:
        return _ARCHITECTURES[architecture][3]
    return _CUSTOM_PATIENCE


TABULAR_ARCHITECTURES = tuple(_ARCHITECTURES)
#: One line per architecture, for `kerasdl compare --list`.
TABULAR_DESCRIPTIONS = {
    "mlp": "MLP over embedded categories, numbers and TF-IDF text (TabularMLP: "
    "2 x 256 ReLU, dropout 0.1), AdamW 1e-3, early stopping",
    "ft_transformer": "FT-Transformer, one token per column (FT_TRANSFORMER_SMALL: "
    "d_token 64, 1 block, 4 heads), AdamW 3e-4, early stopping",
}

#: Smallest fall of the validation loss (nats, or squared standardised target units)
#: that counts as progress for early stopping: on nearly separable tables the loss
#: creeps towards 0 by 1e-4 per epoch and would otherwise run every epoch.
MIN_DELTA = 1e-3

#: Rows of every compiled prediction call: fewer rows (and the last chunk) are
#: padded to it, so a row's prediction is computed by the same kernel whether it
#: comes alone or in a batch, and is the same bit for bit (scikit-learn's
#: `check_methods_subset_invariance`); one compiled shape serves every size.
PREDICT_ROWS = 256


class _KerasTabular(BaseEstimator):
    """Shared fit/predict of the tabular classifier and regressor."""

    _task = None

    def __init__(
        self,
        architecture="mlp",
        *,
        feature_types=None,
        network_kwargs=None,
        epochs=200,
        batch_size=None,
        learning_rate=None,
        weight_decay=1e-4,
        patience=None,
        validation_fraction=0.2,
        min_frequency=2,
        max_tokens=500,
        steps_per_execution=8,
        reuse_compiled=True,
        random_state=None,
        verbose=0,
    ):
        self.architecture = architecture
        self.feature_types = feature_types
        self.network_kwargs = network_kwargs
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.min_frequency = min_frequency
        self.max_tokens = max_tokens
        self.steps_per_execution = steps_per_execution
        self.reuse_compiled = reuse_compiled
        self.random_state = random_state
        self.verbose = verbose

    # === Parameters ===

    def _network_class(self):
        """`(class, default kwargs, default learning rate, cache name)`."""
        arch = self.architecture
        if isinstance(arch, str):
            if arch not in _ARCHITECTURES:
                raise ValueError(
                    f"architecture must be one of {TABULAR_ARCHITECTURES} or a "
                    f"network class; received architecture={arch!r}."
                )
            cls, defaults, lr, _ = _ARCHITECTURES[arch]
            return cls, dict(defaults), lr, arch
        if isinstance(arch, type) and issubclass(arch, keras.Model):
            return arch, {}, 1e-3, f"{arch.__module__}.{arch.__qualname__}"
        raise ValueError(
            f"architecture must be one of {TABULAR_ARCHITECTURES} or a keras.Model "
            "subclass taking (n_numeric, cardinalities, output_units, n_dense=...); "
            f"received architecture={arch!r}."
        )

    def _checked_params(self):
        cls, defaults, default_lr, arch_name = self._network_class()
        if self.network_kwargs is not None and not isinstance(
            self.network_kwargs, dict
        ):
            raise ValueError(
                "network_kwargs must be a dict or None; received "
                f"network_kwargs={self.network_kwargs!r}."
            )
        kwargs = {**defaults, **(self.network_kwargs or {})}
        for reserved in ("n_numeric", "cardinalities", "output_units", "n_dense"):
            if reserved in kwargs:
                raise ValueError(
                    f"network_kwargs must not set {reserved!r} (the encoder and the "
                    f"task set it); received {reserved}={kwargs[reserved]!r}."
                )
        try:
            kwargs_key = json.dumps(kwargs, sort_keys=True)
        except TypeError as error:
            raise ValueError(
                "network_kwargs must hold JSON-able values (numbers, strings, "
                f"lists); received {kwargs!r}."
            ) from error
        random_state = self.random_state
        if random_state is None:
            random_state = int(np.random.randint(0, 2**31 - 1))
        elif (
            isinstance(random_state, bool)
            or not isinstance(random_state, numbers.Integral)
            or random_state < 0
        ):
            raise ValueError(
                "random_state must be None or an integer >= 0; received "
                f"random_state={random_state!r}."
            )
        params = {
            "network_class": cls,
            "network_kwargs": kwargs,
            "kwargs_key": kwargs_key,
            "arch_name": arch_name,
            "epochs": check_int("epochs", self.epochs),
            "batch_size": check_int("batch_size", self.batch_size, allow_none=True),
            "learning_rate": check_float(
                "learning_rate",
                default_lr if self.learning_rate is None else self.learning_rate,
                0.0,
                low_open=True,
            ),
            "weight_decay": check_float("weight_decay", self.weight_decay, 0.0),
            "patience": check_int(
                "patience",
                default_patience(self.architecture)
                if self.patience is None
                else self.patience,
            ),
            "validation_fraction": check_float(
                "validation_fraction",
                self.validation_fraction,
                0.0,
                1.0,
                high_open=True,
            ),
            "steps_per_execution": check_int(
                "steps_per_execution", self.steps_per_execution
            ),
            "random_state": int(random_state),
        }
        if params["validation_fraction"] > 0.5:
            raise ValueError(
                "validation_fraction must be at most 0.5 (it is taken from the "
                "training rows); received "
                f"validation_fraction={self.validation_fraction!r}."
            )
        return params

    # === Fitting ===

    def _check_y(self, y, n):
        raise NotImplementedError

    def fit(self, X, y):
        """Fit the encoder and the network on the training rows `X`, `y`.

        Args:
            X: A pandas `DataFrame` of raw columns (roles from `feature_types`) or a
                2-D numeric array.
            y: Class labels of any type (classifier) or numbers (regressor).

        Returns:
            `self`.
        """
        params = self._checked_params()
        X = self._check_X(X, reset=True)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        n = _num_rows(X)
        y = self._check_y(y, n)
        # A raw table gets an indicator for every numeric column: the encoded width
        # is then the same in every fold (one compiled network serves them all).
        encoder = TableEncoder(
            min_frequency=self.min_frequency,
            max_tokens=self.max_tokens,
            missing_indicators="all" if hasattr(X, "columns") else "seen",
        ).fit(X, self.feature_types)
        encoded = encoder.transform(X)
        target, output_units, learned = self._encode_target(y)
        train_rows, val_rows = self._split(n, target, params)
        batch_size = params["batch_size"] or _auto_batch_size(len(train_rows))

        cards = [bucket_size(c) for c in encoder.cardinalities]
        shape_key = (
            keras.backend.backend(),
            keras.config.dtype_policy().name,
            params["arch_name"],
            params["kwargs_key"],
            encoder.n_numeric,
            tuple(cards),
            encoder.n_dense,
            output_units,
            self._task,
            batch_size,
            params["steps_per_execution"],
            params["learning_rate"],
            params["weight_decay"],
        )

        def build(seed):
            kbackend.set_random_seed(seed)
            return params["network_class"](
                encoder.n_numeric,
                cards,
                output_units,
                n_dense=encoder.n_dense,
                **params["network_kwargs"],
            )

        compiled = COMPILED_CACHE.get(shape_key) if self.reuse_compiled else None
        if compiled is None:
            compiled = self._compile(build, params, encoder)
            if self.reuse_compiled:
                COMPILED_CACHE[shape_key] = compiled
                while len(COMPILED_CACHE) > CACHE_SIZE:
                    COMPILED_CACHE.popitem(last=False)
        else:
            COMPILED_CACHE.move_to_end(shape_key)
        compiled.reset(params["random_state"], build)

        history = self._train(
            compiled, encoded, target, train_rows, val_rows, batch_size, params
        )

        token = next(FIT_TOKENS)
        compiled.owner = token
        self._token = token
        self._compiled = compiled
        self._model = None
        for name, value in learned.items():
            setattr(self, name, value)
        self.encoder_ = encoder
        self.weights_ = [np.array(w) for w in compiled.network.get_weights()]
        # get_config, not keras.saving.serialize_keras_object: the latter imports
        # TensorFlow (seconds) on every backend, for a table that may not need it.
        self._network_type = type(compiled.network)
        self.network_config_ = compiled.network.get_config()
        self.batch_size_ = batch_size
        self.history_ = history
        self.n_epochs_ = len(history.get("loss", []))
        self.n_features_in_ = len(encoder.feature_types)
        self.__dict__.pop("feature_names_in_", None)
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(
                list(encoder.feature_types), dtype=object
            )
        return self

    def _compile(self, build, params, encoder):
        network = build(params["random_state"])
        if self._task == "classification":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        else:
            loss = keras.losses.MeanSquaredError()
        network.compile(
            optimizer=keras.optimizers.AdamW(
                learning_rate=params["learning_rate"],
                weight_decay=params["weight_decay"],
            ),
            loss=loss,
            steps_per_execution=params["steps_per_execution"],
        )
        network.optimizer.build(network.trainable_variables)
        compiled = CompiledNetwork(network, encoder.input_shapes())
        compiled.initial[params["random_state"]] = compiled.values()
        return compiled

    def _split(self, n, target, params):
        rows = np.arange(n)
        fraction = params["validation_fraction"]
        n_val = int(round(n * fraction))
        if fraction == 0 or n_val < 2 or n - n_val < 2:
            return rows, None
        stratify = None
        if self._task == "classification":
            counts = np.bincount(target)
            if counts[counts > 0].min() >= 2 and n_val >= np.count_nonzero(counts):
                stratify = target
        train_rows, val_rows = train_test_split(
            rows,
            test_size=n_val,
            random_state=params["random_state"],
            stratify=stratify,
        )
        return np.sort(train_rows), np.sort(val_rows)

    def _train(
        self, compiled, encoded, target, train_rows, val_rows, batch_size, params
    ):
        rng = np.random.default_rng(params["random_state"])
        callbacks = []
        if val_rows is not None:
            val_encoded = {k: v[val_rows] for k, v in encoded.items()}
            callbacks = [
                ValidationLoss(compiled, val_encoded, target[val_rows], self._task),
                keras.callbacks.EarlyStopping(
                    monitor="val_loss",
                    patience=params["patience"],
                    min_delta=MIN_DELTA,
                    restore_best_weights=True,
                ),
            ]
        steps = -(-len(train_rows) // batch_size)
        with kbackend.fresh_models_per_call():
            history = compiled.network.fit(
                fixed_size_batches(encoded, target, train_rows, batch_size, rng),
                steps_per_epoch=steps,
                epochs=params["epochs"],
                callbacks=callbacks,
                shuffle=False,  # fixed_size_batches shuffles
                verbose=self.verbose,
            )
        return {k: [float(v) for v in vals] for k, vals in history.history.items()}

    # === Predicting ===

    def _check_X(self, X, reset: bool):
        """A raw table (DataFrame, dict of columns, list of row dicts) as it is, for
        the encoder; anything else as a dense 2-D numeric array (NaN allowed: a
        missing cell) and, after `fit` on an array, as wide as in `fit`."""
        if _is_raw_table(X):
            if hasattr(X, "columns"):
                return X
            try:  # as TableEncoder reads a dict of columns or a list of row dicts
                if isinstance(X, dict):
                    return pd.DataFrame(X)
                return pd.DataFrame.from_records(list(X))
            except (TypeError, ValueError):
                return X  # the encoder says what is wrong with it
        X = check_array(
            X,
            dtype="numeric",
            ensure_all_finite="allow-nan",
            estimator=self,
            input_name="X",
        )
        encoder = None if reset else getattr(self, "encoder_", None)
        if encoder is not None and encoder.input_kind == "array":
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is "
                    f"expecting {self.n_features_in_} features as input (fit saw "
                    f"{self.n_features_in_} columns); received X of shape {X.shape}."
                )
        return X

    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, y) first."
            )

    def _logits(self, X):
        self._check_fitted()
        X = self._check_X(X, reset=False)
        n = _num_rows(X)
        # Rows are padded (the first row repeats) to a multiple of PREDICT_ROWS for
        # the encoder, and the network sees calls of exactly PREDICT_ROWS rows: a
        # row's prediction is then the same, bit for bit, alone or in any batch.
        size = -(-n // PREDICT_ROWS) * PREDICT_ROWS
        encoded = self.encoder_.transform(_pad_rows(X, n, size))
        compiled = getattr(self, "_compiled", None)
        if compiled is None:  # e.g. after unpickling: the estimator's own model
            logits = self.model_.encoded_logits(encoded, batch_size=PREDICT_ROWS)
        else:
            compiled.load(self.weights_, self._token)
            logits = chunked_logits(
                compiled.logits_fn, encoded, compiled.keys, PREDICT_ROWS
            )
        return logits[:n]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing cell, encoded as such
        return tags

    @property
    def model_(self) -> TabularModel:
        """The fitted `TabularModel` (its own copy of the network; built on first use).

        Its `predict` takes raw rows; `model_.save("m.keras")` keeps the encoder.
        Category counts of its network are rounded up to a power of two (shared
        compiled shapes), so `count_params()` includes those unused embedding rows.
        """
        self._check_fitted()
        if getattr(self, "_model", None) is None:
            network = self._network_type.from_config(
                copy.deepcopy(self.network_config_)
            )
            network.set_weights(self.weights_)
            self._model = self._wrap(network)
        return self._model

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_compiled", None)
        state.pop("_model", None)
        return state


def _is_raw_table(X) -> bool:
    """A DataFrame, a dict of columns or a list of row dicts (`TableEncoder`'s)."""
    if sparse.issparse(X):  # (a DOK matrix is a dict)
        return False
    if hasattr(X, "columns") or isinstance(X, dict):
        return True
    return (
        isinstance(X, (list, tuple))
        and len(X) > 0
        and all(isinstance(row, dict) for row in X)
    )


def _pad_rows(X, n: int, size: int):
    """`X` (an array or a DataFrame) with its first row repeated up to `size`
    rows; as it is when empty or already `size` rows long."""
    if n == 0 or n == size or not hasattr(X, "shape"):
        return X
    rows = np.concatenate([np.arange(n), np.zeros(size - n, dtype=int)])
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _num_rows(X) -> int:
    if hasattr(X, "shape") and len(getattr(X, "shape", ())) >= 1:
        return int(X.shape[0])
    try:
        return len(X)
    except TypeError as error:
        raise ValueError(
            f"X must be a DataFrame or a 2-D array; received {type(X).__name__}."
        ) from error


def _plain(value):
    """A NumPy scalar as the Python value (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _one_column(y, n: int, what: str) -> np.ndarray:
    """`y` as a 1-D array of `n` values (a `(n, 1)` column is flattened)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            f"A column-vector y was passed when a 1d array was expected; received "
            f"shape {y.shape}, used as ({y.shape[0]},).",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of {what}; received shape {y.shape}.")
    if len(y) != n:
        raise ValueError(
            "X and y must have the same number of rows; received "
            f"{n} rows in X and len(y)={len(y)}."
        )
    return y


def _auto_batch_size(n: int) -> int:
    """About 8 batches per epoch, a power of two in [16, 256]."""
    size = 16
    while size * 2 <= n / 8 and size < 256:
        size *= 2
    return size


class KerasTabularClassifier(ClassifierMixin, _KerasTabular):
    """A deep tabular classifier on raw tables, as a scikit-learn estimator.

    Fits a `TableEncoder` on the training rows, then a `TabularMLP` or an
    `FTTransformer` with AdamW (sparse cross-entropy on logits), early stopping on
    a stratified validation split of the training rows (best weights restored).

    Args:
        architecture: `"mlp"` (`TabularMLP`), `"ft_transformer"` (`FTTransformer`
            with `FT_TRANSFORMER_SMALL`), or a network class with the same
            signature `(n_numeric, cardinalities, output_units, *, n_dense=0, ...)`.
        feature_types: `{column: role}` for a DataFrame (roles `"numeric"`,
            `"categorical"`, `"text"`, `"date"`); `None`: roles from the dtypes
            (an array is all numeric).
        network_kwargs: Extra keyword arguments of the network (override the
            architecture's defaults), e.g. `{"depth": 1, "width": 64}`.
        epochs: Maximum number of epochs (passes over the training rows).
        batch_size: Rows per step; `None`: about 8 steps per epoch (16 to 256).
        learning_rate: AdamW learning rate; `None`: 1e-3 (MLP), 3e-4
            (FT-Transformer).
        weight_decay: AdamW decoupled weight decay.
        patience: Epochs without the validation loss falling by `MIN_DELTA`
            before stopping (the best epoch's weights are restored); `None`:
            16 (MLP), 8 (FT-Transformer).
        validation_fraction: Share of the training rows held out for early
            stopping (0: no early stopping, train `epochs` epochs).
        min_frequency: Categories seen fewer times map to the "unseen" index 0.
        max_tokens: TF-IDF vocabulary (and width) per text column.
        steps_per_execution: Training steps per compiled call (Keras `compile`).
        reuse_compiled: Reuse a cached compiled network of the same shape
            (results are the same either way; only the time differs).
        random_state: Seed of the weights, the split and the batch order.
        verbose: Keras `fit` verbosity.

    Attributes:
        classes_: The sorted class labels (as given).
        encoder_: The fitted `TableEncoder`.
        model_: The fitted `TabularModel` (predicts on raw rows; `.save`-able).
        weights_: The trained network's weights.
        history_: Per-epoch `loss` and `val_loss`.
        n_epochs_: Epochs run (early stopping included).

    Example:
        >>> clf = KerasTabularClassifier("ft_transformer", feature_types=roles,
        ...                              random_state=0).fit(frame, labels)
        >>> clf.predict_proba(new_rows)
    """

    _task = "classification"

    def _check_y(self, y, n):
        y = _one_column(y, n, "class labels")
        missing = np.array(
            [v is None or (isinstance(v, float) and np.isnan(v)) for v in y.tolist()]
        )
        if missing.any():
            raise ValueError(
                f"y holds {int(missing.sum())} missing label(s) (None or NaN), the "
                f"first at row {int(np.argmax(missing))}; drop those rows first."
            )
        try:
            classes = np.unique(y)
        except TypeError as error:
            raise ValueError(
                f"y mixes label types that cannot be sorted: {error}"
            ) from error
        if len(classes) < 2:
            raise ValueError(
                "y must hold at least 2 classes; received 1 class "
                f"({_plain(classes[0])!r})."
            )
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: {kind}. y must hold class labels (integers, "
                f"strings); received {kind} values such as {_plain(y[0])!r} (for a "
                "continuous target use KerasTabularRegressor)."
            )
        return y

    def _encode_target(self, y):
        classes, target = np.unique(y, return_inverse=True)
        return target.astype("int32"), len(classes), {"classes_": classes}

    def _wrap(self, network):
        return TabularModel(
            network,
            self.encoder_,
            task="classification",
            class_names=list(self.classes_),
        )

    def predict_proba(self, X):
        """Class probabilities, columns ordered as `classes_`."""
        return softmax(self._logits(X))

    def predict(self, X):
        """The most probable class of each row (labels as given to `fit`)."""
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]


class KerasTabularRegressor(RegressorMixin, _KerasTabular):
    """A deep tabular regressor on raw tables, as a scikit-learn estimator.

    As `KerasTabularClassifier` (same parameters), with one output trained by mean
    squared error on the target standardized with the training rows' mean and
    standard deviation; `predict` returns values on the target's own scale.

    Attributes:
        target_mean_, target_std_: The training target's mean and standard
            deviation.
        encoder_, model_, weights_, history_, n_epochs_: As for the classifier.
    """

    _task = "regression"

    def _check_y(self, y, n):
        y = _one_column(y, n, "numbers")
        try:
            y = y.astype("float64")
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"y must hold numbers for regression; received dtype {y.dtype} "
                f"(first value {y.flat[0]!r})."
            ) from error
        bad = ~np.isfinite(y)
        if bad.any():
            raise ValueError(
                f"y holds {int(bad.sum())} NaN or infinite value(s), the first at "
                f"row {int(np.argmax(bad))} ({y[np.argmax(bad)]!r}); drop those rows "
                "first."
            )
        return y

    def _encode_target(self, y):
        mean, std = float(np.mean(y)), float(np.std(y))
        std = std if std > 1e-12 else 1.0
        target = ((y - mean) / std).astype("float32")
        return target, 1, {"target_mean_": mean, "target_std_": std}

    def _wrap(self, network):
        return TabularModel(
            network,
            self.encoder_,
            task="regression",
            target_mean=self.target_mean_,
            target_std=self.target_std_,
        )

    def predict(self, X):
        """Predicted values on the target's scale, `(n,)`."""
        values = self._logits(X)[:, 0].astype("float64")
        return values * self.target_std_ + self.target_mean_


def make_tabular_estimator(
    name: str,
    *,
    task: str = "classification",
    feature_types: dict | None = None,
    epochs: int | None = None,
    random_state: int | None = 0,
    **kwargs,
):
    """A `KerasTabularClassifier` or `KerasTabularRegressor` for `kerasdl compare`.

    Args:
        name: One of `TABULAR_ARCHITECTURES` (`"mlp"`, `"ft_transformer"`).
        task: `"classification"` or `"regression"`.
        feature_types: The table's column roles (`None` for a numeric array).
        epochs: Maximum epochs (`None`: the estimator's default, 200).
        random_state: Seed.
        **kwargs: Other estimator parameters.
    """
    if name not in _ARCHITECTURES:
        raise ValueError(
            f"name must be one of {TABULAR_ARCHITECTURES}; received {name!r}."
        )
    classes = {
        "classification": KerasTabularClassifier,
        "regression": KerasTabularRegressor,
    }
    if task not in classes:
        raise ValueError(
            f"task must be 'classification' or 'regression'; received {task!r}."
        )
    if epochs is not None:
        kwargs["epochs"] = epochs
    return classes[task](
        name, feature_types=feature_types, random_state=random_state, **kwargs
    )
