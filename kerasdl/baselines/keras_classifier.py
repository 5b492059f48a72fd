"""Deep models as scikit-learn estimators (via `keras.wrappers.SKLearnClassifier`)."""

from __future__ import annotations

import contextlib
import itertools
from collections import OrderedDict

import keras
import numpy as np
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from kerasdl import backend as kbackend
from kerasdl.models.registry import get_model_spec

#: Training steps per compiled call. On TensorFlow 16 steps run inside one graph
#: call instead of 16 Python round trips (digits, 2 folds: MLP 13.4 -> 9.4 s and CNN
#: 20.9 -> 17.5 s per fold); on JAX Keras loops in Python either way. The steps, and
#: so the trained weights, are the same.
STEPS_PER_EXECUTION = 16

#: Compiled models kept by `reuse_compiled_models` (least recently used dropped).
REUSE_CACHE_SIZE = 4
_REUSE_CACHE: OrderedDict | None = None  # a dict only inside reuse_compiled_models()
_FIT_TOKENS = itertools.count(1)


@contextlib.contextmanager
def reuse_compiled_models():
    """Compile each deep model configuration once, however many folds fit it.

    Inside the context, `build_compiled_model` called again with the same arguments
    (same model, input shape, classes, epochs, batch size, learning rate, seed and
    number of training steps) returns the model it built before, with its initial
    weights, its optimizer state and the random seed restored, instead of building
    and compiling a new one: the fit that follows trains the same weights as on a
    fresh model, without tracing and compiling its functions again.

    The estimators fitted inside the context share that model, so it is meant for
    loops that are done with one fitted estimator before fitting the next (the
    fold loops of `kerasdl compare`). An estimator whose model was trained again by
    a later fit refuses to predict (`RuntimeError`) rather than answer with another
    fold's weights. The cache is emptied when the context ends.
    """
    global _REUSE_CACHE
    outer, _REUSE_CACHE = _REUSE_CACHE, OrderedDict()
    try:
        yield
    finally:
        _REUSE_CACHE = outer


class _CompiledModel:
    """A model kept by `reuse_compiled_models`, and the state a fit starts from."""

    def __init__(self, model):
        self.model = model
        self.weights = _values(model.variables)
        self.optimizer_state = _values(model.optimizer.variables)
        # Python's and NumPy's random state when its first fit began training
        # (set by `_SameShufflingAsAFreshModel`).
        self.train_begin_random_state = None


class _SameShufflingAsAFreshModel(keras.callbacks.Callback):
    """Starts training a reused model from the random state a fresh one had.

    On JAX, Keras shuffles with NumPy's global generator (torch: torch's, which
    also draws its dropout masks), and the first `fit` of a model draws one
    permutation more than later fits (it reads a batch to build the metrics).
    Restoring the states captured when the first fit began training makes a reused
    model see the batches a fresh one would.
    """

    def on_train_begin(self, logs=None):
        for compiled in (_REUSE_CACHE or {}).values():
            if compiled.model is self.model:
                if compiled.train_begin_random_state is None:
                    state = kbackend.global_random_state()
                    compiled.train_begin_random_state = state
                else:
                    kbackend.set_global_random_state(compiled.train_begin_random_state)
                return


def _values(variables):
    return [np.array(keras.ops.convert_to_numpy(v.value)) for v in variables]


def _restore(variables, values):
    for variable, value in zip(variables, values):
        variable.assign(value)


class KerasClassifier(keras.wrappers.SKLearnClassifier):
    """`keras.wrappers.SKLearnClassifier` made safe for cross-validation.

    Fixes over the Keras 3.15 wrapper, needed by `cross_val_score`, `GridSearchCV`
    and `kerasdl compare`:

    - `sklearn.base.clone` keeps `fit_kwargs` (the Keras wrapper's `__sklearn_clone__`
      drops them, so a cloned estimator trains for one epoch), and `fit(**kwargs)`
      no longer changes `fit_kwargs` for good;
    - `predict` and `predict_proba` run silently (no progress bar per call), and
      validate `X` as `fit` does (`n_features_in_`, finite, dense, numeric) before
      it reaches the backend: on JAX one call with the wrong width would break
      the fitted model for good;
    - a continuous `y` is refused as in scikit-learn ("Unknown label type"), and
      `decision_function` follows scikit-learn's shapes (log-odds for two classes).

    It passes scikit-learn's estimator checks except those the Keras wrapper's
    own tests expect to fail (see `tests/baselines/test_estimator_checks.py`).

    Targets are one-hot encoded by the wrapper, so the model must end in a softmax over
    the classes and be compiled with a categorical loss (see `build_compiled_model`).
    """

    def fit(self, X, y, **kwargs):
        """Fit the model; keyword arguments apply to this call only.

        (The Keras wrapper merges them into `self.fit_kwargs` in place, so one
        `fit(..., epochs=1)` would change the estimator's parameters for good.)

        Raises:
            ValueError: `X` is not a finite numeric 2-D array, or `y` does not
                hold class labels (e.g. continuous values), or holds one class.
            TypeError: `X` is sparse.
        """
        if y is not None:
            check_classification_targets(y)
        configured = self.fit_kwargs
        self.fit_kwargs = dict(configured or {})
        if _REUSE_CACHE is not None:
            self.fit_kwargs["callbacks"] = [
                *(self.fit_kwargs.get("callbacks") or ()),
                _SameShufflingAsAFreshModel(),
            ]
        try:
            with kbackend.fresh_models_per_call():
                super().fit(X, y, **kwargs)
        finally:
            self.fit_kwargs = configured
        self._fit_token = next(_FIT_TOKENS)
        self.model_._kerasdl_fit_token = self._fit_token
        return self

    def __sklearn_clone__(self):
        clone = super().__sklearn_clone__()
        clone.fit_kwargs = dict(self.fit_kwargs) if self.fit_kwargs else self.fit_kwargs
        return clone

    def _checked_input(self, X):
        """`X` validated like `fit`'s (finite, numeric, dense, as many features)
        before it reaches the backend: on JAX one call with the wrong width would
        leave the model's compiled predict function unusable."""
        check_is_fitted(self)
        token = getattr(self.model_, "_kerasdl_fit_token", None)
        if token is not None and token != getattr(self, "_fit_token", token):
            raise RuntimeError(
                "this estimator's model was trained again by a later fit inside "
                "kerasdl.baselines.reuse_compiled_models(); fit it again, or fit "
                "outside that context to keep every fitted estimator."
            )
        return validate_data(self, X, reset=False, dtype="float32")

    def predict_proba(self, X):
        """Class probabilities, columns ordered as `classes_`.

        Raises:
            NotFittedError: before `fit`.
            ValueError: `X` has another number of features than in `fit`, or
                holds NaN, inf or non-numbers.
            TypeError: `X` is sparse.
        """
        X = self._checked_input(X)
        with kbackend.fresh_models_per_call():
            return self.model_.predict(X, verbose=0)

    def decision_function(self, X):
        """Log-probabilities: `(n,)` log-odds of `classes_[1]` for two classes,
        `(n, n_classes)` otherwise (scikit-learn's convention; the Keras wrapper
        returned the raw `(n, 2)` outputs for two classes)."""
        log_proba = np.log(np.clip(self.predict_proba(X), 1e-30, 1.0))
        if log_proba.shape[1] == 2:
            return log_proba[:, 1] - log_proba[:, 0]
        return log_proba

    def predict(self, X):
        """Class labels (the original labels, not indices)."""
        proba = self.predict_proba(X)  # first: NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]


def build_compiled_model(
    X,
    y,
    *,
    name: str,
    input_shape: tuple,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int = 0,
    steps_per_execution: int = STEPS_PER_EXECUTION,
    **builder_kwargs,
):
    """Build and compile a registered model for `KerasClassifier` (`model=` callable).

    `y` arrives one-hot encoded, so `num_classes = y.shape[1]`. Optimizer: Adam with
    cosine decay over the whole run; loss: categorical cross-entropy with label
    smoothing 0.1. Seeds Keras first, so a fold's model is the same on every run.
    `steps_per_execution` is Keras `compile`'s (`STEPS_PER_EXECUTION`).
    """
    steps = epochs * int(np.ceil(len(X) / batch_size))
    key = None
    if _REUSE_CACHE is not None:
        key = (
            keras.backend.backend(),
            keras.config.dtype_policy().name,
            name,
            tuple(int(d) for d in input_shape),
            int(y.shape[1]),
            int(epochs),
            int(batch_size),
            float(learning_rate),
            seed,
            int(steps),
            int(steps_per_execution),
            repr(sorted(builder_kwargs.items())),
        )
        cached = _REUSE_CACHE.get(key)
        if cached is not None:
            _REUSE_CACHE.move_to_end(key)
            _restore(cached.model.variables, cached.weights)
            _restore(cached.model.optimizer.variables, cached.optimizer_state)
            kbackend.set_random_seed(seed)
            return cached.model
    kbackend.set_random_seed(seed)
    spec = get_model_spec(name)
    kwargs = {**spec.builder_kwargs, **builder_kwargs}
    model = spec.builder(tuple(input_shape), int(y.shape[1]), **kwargs)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(steps, 1))
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy"],
        steps_per_execution=kbackend.steps_per_execution(steps_per_execution),
    )
    if key is not None:
        # Built here rather than by the first fit, so its initial state is known.
        model.optimizer.build(model.trainable_variables)
        _REUSE_CACHE[key] = _CompiledModel(model)
        while len(_REUSE_CACHE) > REUSE_CACHE_SIZE:
            _REUSE_CACHE.popitem(last=False)
    return model


def make_deep_estimator(
    name: str,
    input_shape: tuple,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    seed: int = 0,
    verbose: int = 0,
) -> Pipeline:
    """A scikit-learn pipeline around a registered deep model.

    Args:
        name: A registered model (`kerasdl.models.list_models()`), e.g. `"mlp"`.
        input_shape: Shape of one sample before flattening, e.g. `(8, 8, 1)`; the
            pipeline itself takes flat `(n, prod(input_shape))` arrays.
        epochs, batch_size, learning_rate: Override the registry's defaults.
        seed: Seed for weights and shuffling.
        verbose: Keras `fit` verbosity.

    Returns:
        `Pipeline([StandardScaler?, KerasClassifier])`, usable with `cross_val_score`.

    Example:
        >>> est = make_deep_estimator("mlp", (30,), epochs=20)
        >>> cross_val_score(est, X, y, cv=5)
    """
    spec = get_model_spec(name)
    epochs = spec.epochs if epochs is None else int(epochs)
    batch_size = spec.batch_size if batch_size is None else int(batch_size)
    learning_rate = (
        spec.learning_rate if learning_rate is None else float(learning_rate)
    )
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1; received {epochs}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; received {batch_size}.")
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be > 0; received {learning_rate}.")
    classifier = KerasClassifier(
        model=build_compiled_model,
        model_kwargs={
            "name": name,
            "input_shape": tuple(input_shape),
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "seed": seed,
        },
        fit_kwargs={"epochs": epochs, "batch_size": batch_size, "verbose": verbose},
    )
    steps = [StandardScaler(), classifier] if spec.standardize else [classifier]
    return make_pipeline(*steps)
