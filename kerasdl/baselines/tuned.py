"""A deep model tuned inside each training fold, as a scikit-learn estimator.

`TunedClassifier.fit(X, y)` runs a Keras Tuner search on `X, y` only (the search's
validation part is split from them), then trains the best configuration on all of
`X, y`. Inside `kerasdl compare --tuned` each fold therefore tunes on its own
training folds: the test fold is never seen by the search (nested cross-validation).
"""

from __future__ import annotations

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from kerasdl import backend as kbackend
from kerasdl._checks import check_int

#: Rows of every prediction batch: one compiled shape, and the same numbers for a
#: row alone or in any batch (scikit-learn's sample-order invariance check).
PREDICT_ROWS = 256


class TunedClassifier(ClassifierMixin, BaseEstimator):
    """Tune a HyperModel family on the training data, then fit the best model.

    Args:
        family: A `kerasdl.hypermodels` family (`"mlp"`, `"cnn"`, ...).
        input_shape: Sample shape when `X` is flat (e.g. `(8, 8, 1)` for digits).
        tuner: `"random"`, `"hyperband"` or `"bayesian"`.
        max_trials: Trials of the search.
        epochs: Epochs of each trial, and of the final fit of the best model.
        seed: Seed of the search's split, the trials and the final model.
        search_space: Overrides of the family's search space, e.g.
            `{"width": (16, 64)}` (as for `kerasdl.hypermodels.run_search`).
        verbose: Print one line per trial.

    Attributes:
        classes_: The labels, in the order of `predict_proba`'s columns.
        best_hyperparameters_: The chosen values (with `batch_size`).
        model_: The fitted Keras model.
        n_features_in_: Number of features seen by `fit`.

    Example:
        >>> clf = TunedClassifier("cnn", input_shape=(8, 8, 1), max_trials=4)
        >>> clf.fit(x_train, y_train).score(x_test, y_test)
    """

    def __init__(
        self,
        family="cnn",
        input_shape=None,
        tuner="random",
        max_trials=5,
        epochs=20,
        seed=0,
        search_space=None,
        verbose=False,
    ):
        self.family = family
        self.input_shape = input_shape
        self.tuner = tuner
        self.max_trials = max_trials
        self.epochs = epochs
        self.seed = seed
        self.search_space = search_space
        self.verbose = verbose

    def fit(self, X, y):
        """Search on `X, y` only, then train the best configuration on all of it.

        Args:
            X: Finite numeric array `(samples, features)` (flat; `input_shape`
                gives the sample shape the family sees).
            y: Class labels `(samples,)`, at least two classes.

        Returns:
            `self`.
        """
        from kerasdl.hypermodels import tune_on_training_data

        epochs = check_int("epochs", self.epochs)
        X, y = validate_data(self, X, y, dtype="float32")
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                "TunedClassifier needs at least 2 classes in y; received 1 class "
                f"({classes[:1].tolist()[0]!r})."
            )
        with kbackend.fresh_models_per_call():
            best, build_fn = tune_on_training_data(
                self.family,
                X,
                codes,
                input_shape=self.input_shape,
                tuner=self.tuner,
                max_trials=self.max_trials,
                epochs=epochs,
                seed=self.seed,
                search_space=self.search_space,
                verbose=self.verbose,
            )
            kbackend.set_random_seed(self.seed)
            model = build_fn()
            model.fit(
                X,
                keras.utils.to_categorical(codes, len(classes)),
                epochs=epochs,
                batch_size=int(best["batch_size"]),
                verbose=0,
            )
        self.classes_ = classes
        self.best_hyperparameters_ = dict(best)
        self.model_ = model
        return self

    def predict_proba(self, X):
        """Class probabilities, columns ordered as `classes_`.

        `X` is checked as in `fit` (finite, numeric, dense, as many features)
        before it reaches the backend, and runs in batches of exactly
        `PREDICT_ROWS` rows (the last one padded), so a row's probabilities do
        not depend on the other rows or their order.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype="float32")
        n = len(X)
        size = -(-n // PREDICT_ROWS) * PREDICT_ROWS
        padded = np.concatenate([X, np.repeat(X[:1], size - n, axis=0)])
        with kbackend.fresh_models_per_call():
            proba = self.model_.predict(padded, batch_size=PREDICT_ROWS, verbose=0)
        return proba[:n]

    def predict(self, X):
        """Class labels (the original labels)."""
        proba = self.predict_proba(X)  # first: NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]
