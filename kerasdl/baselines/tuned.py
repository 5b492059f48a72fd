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
from sklearn.utils.validation import check_is_fitted

from kerasdl import backend as kbackend
from kerasdl._checks import check_int


class TunedClassifier(ClassifierMixin, BaseEstimator):
    """Tune a HyperModel family on the training data, then fit the best model.

    Args:
        family: A `kerasdl.hypermodels` family (`"mlp"`, `"cnn"`, ...).
        input_shape: Sample shape when `X` is flat (e.g. `(8, 8, 1)` for digits).
        tuner: `"random"`, `"hyperband"` or `"bayesian"`.
        max_trials: Trials of the search.
        epochs: Epochs of each trial, and of the final fit of the best model.
        seed: Seed of the search's split, the trials and the final model.
        verbose: Print one line per trial.

    Attributes:
        classes_: The labels, in the order of `predict_proba`'s columns.
        best_hyperparameters_: The chosen values (with `batch_size`).
        model_: The fitted Keras model.

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
        verbose=False,
    ):
        self.family = family
        self.input_shape = input_shape
        self.tuner = tuner
        self.max_trials = max_trials
        self.epochs = epochs
        self.seed = seed
        self.verbose = verbose

    def fit(self, X, y):
        """Search on `X, y` only, then train the best configuration on all of it."""
        from kerasdl.hypermodels import tune_on_training_data

        epochs = check_int("epochs", self.epochs)
        X = np.asarray(X, dtype="float32")
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
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
                verbose=self.verbose,
            )
            kbackend.set_random_seed(self.seed)
            model = build_fn()
            model.fit(
                X,
                keras.utils.to_categorical(codes, len(self.classes_)),
                epochs=epochs,
                batch_size=int(best["batch_size"]),
                verbose=0,
            )
        self.best_hyperparameters_ = dict(best)
        self.model_ = model
        return self

    def predict_proba(self, X):
        """Class probabilities, columns ordered as `classes_`."""
        check_is_fitted(self)
        with kbackend.fresh_models_per_call():
            return self.model_.predict(np.asarray(X, dtype="float32"), verbose=0)

    def predict(self, X):
        """Class labels (the original labels)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
