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

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import type_of_target

from kerasdl.baselines.keras_tabular_base import _KerasTabular
from kerasdl.baselines.tabular_architectures import (
    _ARCHITECTURES,
    TABULAR_ARCHITECTURES,
    TABULAR_DESCRIPTIONS,
)
from kerasdl.baselines.tabular_compile_cache import (
    clear_compiled_cache,
)
from kerasdl.baselines.tabular_inputs import _one_column, _plain
from kerasdl.models.tabular.tabular_model import (
    TabularModel,
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
