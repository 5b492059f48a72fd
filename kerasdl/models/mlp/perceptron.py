"""A perceptron model trained by Rosenblatt's learning rule instead of backprop."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from kerasdl.layers.perceptron import Perceptron as PerceptronLayer
from kerasdl.models.base import FunctionalModel


# Registered as "kerasdl>PerceptronModel": the layer already owns "kerasdl>Perceptron".
@keras.saving.register_keras_serializable(package="kerasdl", name="PerceptronModel")
class Perceptron(FunctionalModel):
    """Rosenblatt's perceptron: one `kerasdl.layers.Perceptron`, trained by its rule.

    `fit` runs the perceptron learning rule, one sample at a time, in an order
    shuffled with `seed` each epoch: for a sample `x` with target `y` and
    prediction `y_hat` (0 or 1 per unit),

        w += learning_rate * (y - y_hat) * x
        b += learning_rate * (y - y_hat)

    Training stops early after the first epoch with no mistake. The perceptron
    convergence theorem (Rosenblatt 1958; Novikoff 1962) says the rule reaches
    such an epoch after finitely many mistakes (at most `(R / margin) ** 2`) if
    and only if the data is linearly separable; otherwise, as on XOR, it never
    does, and the weights keep cycling. `converged_` records which happened.

    The model is an ordinary functional Keras model (`Input -> Perceptron`), so
    `predict`, `save` and `keras.saving.load_model` work as usual. Because the
    step has zero gradient, Keras' gradient-based training would not move it:
    `fit` is overridden with the rule above.

    For scikit-learn (`Pipeline`, `cross_val_score`, `GridSearchCV`), use
    `PerceptronClassifier`, which builds and trains this model inside an
    estimator's `fit(X, y)`.

    Args:
        input_dim: Number of input features (>= 1).
        units: Number of independent threshold units (outputs), >= 1.
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Tensor of shape `(batch, input_dim)`.

    Returns:
        0.0/1.0 predictions of shape `(batch, units)`.

    Example:

    ```python
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
    model = kerasdl.models.Perceptron(input_dim=2)
    history = model.fit(x, np.array([0, 0, 0, 1]))   # logical AND
    model.converged_, history.history["errors"]     # True, [1, 2, 2, 2, 0]
    model.predict(x).ravel()                        # [0., 0., 0., 1.]
    ```
    """

    def __init__(self, input_dim, units=1, name="perceptron", **kwargs):
        for arg, value in (("input_dim", input_dim), ("units", units)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{arg}` must be a positive integer; received {arg}={value!r}."
                )

        # === Layers ===
        self.perceptron = PerceptronLayer(units, name="perceptron_units")

        # === Functional model ===
        inputs = keras.Input(shape=(input_dim,), name="inputs")
        outputs = self.perceptron(inputs)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.input_dim = input_dim
        self.units = units
        self.converged_ = None

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "units": self.units,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _check_xy(self, x, y):
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(
                f"Expected `x` of shape (samples, {self.input_dim}); received "
                f"x with shape {x.shape}."
            )
        x = x.astype("float32")
        if not np.all(np.isfinite(x)):
            raise ValueError("`x` must hold finite numbers; received NaN or inf.")
        y = np.asarray(y)
        if y.ndim == 1 and self.units == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != self.units:
            raise ValueError(
                f"Expected `y` of shape (samples, {self.units})"
                + (" or (samples,)" if self.units == 1 else "")
                + f"; received y with shape {y.shape}."
            )
        if len(y) != len(x):
            raise ValueError(
                "`x` and `y` must have the same number of samples; received "
                f"len(x)={len(x)} and len(y)={len(y)}."
            )
        values = np.unique(y)
        if not np.all(np.isin(values, (0, 1))):
            raise ValueError(
                "`y` must hold only 0 and 1 (the perceptron's two outputs); "
                f"received values {values[:10].tolist()}."
            )
        return x, y.astype("float32")

    def fit(self, x, y, epochs=100, learning_rate=1.0, seed=0, verbose=0):
        """Trains the weights with the perceptron learning rule.

        Args:
            x: Array of shape `(samples, input_dim)`.
            y: 0/1 targets of shape `(samples,)` (when `units == 1`) or
                `(samples, units)`.
            epochs: Maximum number of passes over the data.
            learning_rate: Step size of the rule (> 0). With zero initial weights
                it only rescales them, so it does not change the predictions.
            seed: Seed of the per-epoch shuffling.
            verbose: 1 prints one line per epoch.

        Returns:
            A `keras.callbacks.History` whose `history` dict holds, per epoch,
            `"errors"` (samples misclassified while the epoch ran, i.e. the
            number of updates) and `"accuracy"` (of the weights at the end of the
            epoch, on all of `x`). Sets `self.converged_`: True when an epoch made
            no mistake (then training stopped), False otherwise.
        """
        x, y = self._check_xy(x, y)
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(
                f"`epochs` must be a positive integer; received epochs={epochs!r}."
            )
        if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
            raise ValueError(
                "`learning_rate` must be a positive number; received "
                f"learning_rate={learning_rate!r}."
            )
        lr = np.float32(learning_rate)
        kernel = keras.ops.convert_to_numpy(self.perceptron.kernel).astype("float32")
        bias = keras.ops.convert_to_numpy(self.perceptron.bias).astype("float32")
        rng = np.random.default_rng(seed)
        errors, accuracy = [], []
        self.converged_ = False
        for epoch in range(epochs):
            mistakes = 0
            for i in rng.permutation(len(x)):
                delta = y[i] - (x[i] @ kernel + bias > 0)
                if delta.any():
                    mistakes += 1
                    kernel += lr * np.outer(x[i], delta)
                    bias += lr * delta
            predictions = (x @ kernel + bias > 0).astype("float32")
            errors.append(mistakes)
            accuracy.append(float(np.mean(np.all(predictions == y, axis=1))))
            if verbose:
                print(
                    f"Epoch {epoch + 1}/{epochs} - errors: {mistakes} - "
                    f"accuracy: {accuracy[-1]:.4f}"
                )
            if mistakes == 0:
                self.converged_ = True
                break
        self.perceptron.kernel.assign(kernel)
        self.perceptron.bias.assign(bias)

        history = keras.callbacks.History()
        history.set_model(self)
        history.epoch = list(range(len(errors)))
        history.history = {"errors": errors, "accuracy": accuracy}
        self.history = history
        return history


class PerceptronClassifier(ClassifierMixin, BaseEstimator):
    """`Perceptron` (Rosenblatt's rule) as a scikit-learn classifier.

    `kerasdl.models.Perceptron` is a `keras.Model`, so it cannot also be a
    scikit-learn estimator (its `fit` returns a `History`, its constructor needs
    `input_dim`). This wrapper builds one for the data `fit` sees and trains it by
    the perceptron rule: with two classes, one threshold unit; with more, one unit
    per class (one-vs-rest), and the class whose unit has the largest
    pre-activation wins. It works with `clone`, `Pipeline`, `GridSearchCV` and
    `cross_val_score`, and passes scikit-learn's estimator checks.

    Args:
        epochs: Maximum passes over the data (training stops after the first
            epoch without a mistake).
        learning_rate: Step size of the rule (> 0).
        random_state: Seed of the per-epoch shuffling.

    Attributes:
        classes_: The sorted class labels.
        model_: The trained `kerasdl.models.Perceptron`.
        converged_: True when an epoch made no mistake (the data, or each
            one-vs-rest split, was separated).
        n_iter_: Epochs run.
        n_features_in_: Number of features seen by `fit`.

    Example:

    ```python
    clf = PerceptronClassifier(random_state=0).fit(x_train, y_train)
    clf.score(x_test, y_test), clf.converged_
    ```
    """

    def __init__(self, epochs=100, learning_rate=1.0, random_state=0):
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.random_state = random_state

    def fit(self, X, y):
        """Train a `Perceptron` on `X`, `y` with the perceptron rule.

        Args:
            X: Numeric array `(samples, features)`, finite.
            y: Class labels `(samples,)`, at least two classes.

        Returns:
            `self`.
        """
        X, y = validate_data(self, X, y, dtype="float32")
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                "PerceptronClassifier needs at least 2 classes in y; received 1 "
                f"class ({classes[:1].tolist()[0]!r})."
            )
        seed = self.random_state
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(
                f"random_state must be an integer; received random_state={seed!r}."
            )
        epochs = self.epochs
        if isinstance(epochs, np.integer):
            epochs = int(epochs)
        units = 1 if len(classes) == 2 else len(classes)
        targets = codes if units == 1 else np.eye(units)[codes]
        model = Perceptron(input_dim=int(X.shape[1]), units=units)
        history = model.fit(
            X,
            targets,
            epochs=epochs,
            learning_rate=self.learning_rate,
            seed=int(seed),
        )
        self.classes_ = classes
        self.model_ = model
        self.converged_ = bool(model.converged_)
        self.n_iter_ = len(history.history["errors"])
        return self

    def decision_function(self, X):
        """The units' pre-activations `x @ kernel + bias`: `(samples,)` for two
        classes (positive means `classes_[1]`), `(samples, n_classes)` for more."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype="float32")
        scores = keras.ops.convert_to_numpy(self.model_.perceptron.pre_activation(X))
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Class labels: the unit that fires (two classes) or fires most."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]
