"""What the two Keras tabular estimators share (`_KerasTabular`): encoding the table
inside the fit, an inner validation split with early stopping, the compiled-network
cache, fixed-size prediction batches, and the input checks scikit-learn expects.
"""

from __future__ import annotations

import copy
import json
import numbers

import keras
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array

from kerasdl import backend as kbackend
from kerasdl._checks import check_float, check_int
from kerasdl.baselines.tabular_architectures import (
    _ARCHITECTURES,
    MIN_DELTA,
    TABULAR_ARCHITECTURES,
    default_patience,
)
from kerasdl.baselines.tabular_compile_cache import (
    CACHE_SIZE,
    COMPILED_CACHE,
    FIT_TOKENS,
    CompiledNetwork,
    ValidationLoss,
    bucket_size,
    fixed_size_batches,
)
from kerasdl.baselines.tabular_inputs import (
    _auto_batch_size,
    _is_raw_table,
    _num_rows,
    _pad_rows,
)
from kerasdl.models.tabular.encoder import TableEncoder
from kerasdl.models.tabular.tabular_model import (
    TabularModel,
    chunked_logits,
)

#: Rows of every compiled prediction call: fewer rows (and the last chunk) are
#: padded to it, so a row's prediction is computed by the same kernel whether it
#: comes alone or in a batch, and is the same bit for bit (scikit-learn's
#: `check_methods_subset_invariance`); one compiled shape serves every size.
PREDICT_ROWS = 256


class _SeededFromTrainBegin(keras.callbacks.Callback):
    """Seeds the backend's global generator when training begins, restores it
    when the `with` block ends.

    On torch an unseeded dropout draws its masks from torch's global generator,
    and a network's first `fit` draws from it before training begins (it builds
    the metrics); seeding at `on_train_begin` makes a reused network's fit draw
    the masks a fresh one's does. A no-op on TensorFlow and JAX.
    """

    def __init__(self, seed):
        super().__init__()
        self._context = kbackend.seeded_global_generator(seed)
        self._entered = False

    def on_train_begin(self, logs=None):
        self._context.__enter__()
        self._entered = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._entered:
            self._entered = False
            self._context.__exit__(*exc_info)
        return False


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
            steps_per_execution=kbackend.steps_per_execution(
                params["steps_per_execution"]
            ),
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
        seeded = _SeededFromTrainBegin(params["random_state"])
        with kbackend.fresh_models_per_call(), seeded:
            history = compiled.network.fit(
                fixed_size_batches(encoded, target, train_rows, batch_size, rng),
                steps_per_epoch=steps,
                epochs=params["epochs"],
                callbacks=[seeded, *callbacks],
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
