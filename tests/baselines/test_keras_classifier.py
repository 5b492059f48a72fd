"""Deep models as scikit-learn estimators: cross-validation, clone, labels, seeds."""

import contextlib

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from kerasdl.baselines import (
    KerasClassifier,
    build_compiled_model,
    count_parameters,
    make_deep_estimator,
    reuse_compiled_models,
)
from kerasdl.models.registry import get_model_spec

IRIS_NAMES = np.array(["setosa", "versicolor", "virginica"])


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def string_label_fit(iris):
    """A *clone* of an mlp estimator configured for 2 epochs, fitted on iris with
    string labels (one fit shared by the tests below)."""
    x, y = iris
    configured = make_deep_estimator(
        "mlp", (4,), epochs=2, batch_size=50, learning_rate=1e-2, seed=0
    )
    estimator = clone(configured)
    assert estimator.fit(x, IRIS_NAMES[y]) is estimator
    return estimator, x, IRIS_NAMES[y]


def test_cross_val_in_sklearn_trains_configured_epochs():
    """`cross_val_score` clones the pipeline per fold: every fold's clone must keep
    the configured epochs (the Keras 3.15 wrapper's clone drops them) and score well
    on wine."""
    x, y = load_wine(return_X_y=True)
    # One batch per epoch (one compiled step per fold on JAX), so a larger rate.
    estimator = make_deep_estimator(
        "mlp", (13,), epochs=5, batch_size=128, learning_rate=1e-2, seed=0
    )
    out = cross_validate(estimator, x, y, cv=3, return_estimator=True)
    scores = out["test_score"]
    assert scores.shape == (3,)
    assert np.all((scores >= 0) & (scores <= 1))
    assert scores.mean() > 0.8, scores
    for fitted in out["estimator"]:
        assert fitted is not estimator
        assert len(fitted[-1].history_.history["loss"]) == 5
    # The original is left unfitted (scikit-learn's contract).
    assert not hasattr(estimator[-1], "model_")


def test_pipeline_structure_follows_the_registry():
    mlp = make_deep_estimator("mlp", (13,))
    assert isinstance(mlp, Pipeline)
    assert isinstance(mlp.steps[0][1], StandardScaler)
    assert isinstance(mlp[-1], KerasClassifier)
    assert isinstance(mlp[-1], keras.wrappers.SKLearnClassifier)
    spec = get_model_spec("mlp")
    # Registry defaults when nothing is overridden.
    assert mlp[-1].fit_kwargs == {
        "epochs": spec.epochs,
        "batch_size": spec.batch_size,
        "verbose": 0,
    }
    assert mlp[-1].model_kwargs["learning_rate"] == spec.learning_rate
    cnn = make_deep_estimator("cnn", (8, 8, 1), epochs=3, batch_size=8)
    assert len(cnn.steps) == 1  # the cnn takes raw pixels, no scaler
    assert cnn[-1].fit_kwargs["epochs"] == 3
    assert cnn[-1].fit_kwargs["batch_size"] == 8
    assert cnn[-1].model_kwargs["input_shape"] == (8, 8, 1)


def test_clone_keeps_fit_kwargs_without_sharing_them():
    estimator = make_deep_estimator("mlp", (4,), epochs=7, batch_size=5)
    copy = clone(estimator)
    assert copy[-1].fit_kwargs == {"epochs": 7, "batch_size": 5, "verbose": 0}
    assert copy[-1].model_kwargs == estimator[-1].model_kwargs
    copy[-1].fit_kwargs["epochs"] = 1
    assert estimator[-1].fit_kwargs["epochs"] == 7


def test_nested_in_a_user_pipeline(iris):
    x, y = iris
    outer = make_pipeline(MinMaxScaler(), make_deep_estimator("mlp", (4,), epochs=4))
    copy = clone(outer)
    assert copy[-1][-1].fit_kwargs["epochs"] == 4
    assert copy.get_params()["pipeline__kerasclassifier__fit_kwargs"]["epochs"] == 4


def test_clone_then_fit_trains_the_configured_epochs(string_label_fit):
    estimator, _, _ = string_label_fit
    assert len(estimator[-1].history_.history["loss"]) == 2


def test_predict_returns_original_string_labels(string_label_fit):
    estimator, x, labels = string_label_fit
    np.testing.assert_array_equal(estimator.classes_, IRIS_NAMES)
    pred = estimator.predict(x)
    assert pred.shape == (len(x),)
    assert set(pred) <= set(IRIS_NAMES)
    # Four steps already beat chance (1/3), measured 0.67-0.69 on both backends; a
    # wrong label mapping would fall to chance or below.
    assert np.mean(pred == labels) > 0.5


def test_predict_proba_rows_are_distributions(string_label_fit):
    estimator, x, _ = string_label_fit
    proba = estimator.predict_proba(x[:20])
    assert proba.shape == (20, 3)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    # predict is the argmax of predict_proba, in classes_ order.
    np.testing.assert_array_equal(
        estimator.predict(x[:20]), estimator.classes_[np.argmax(proba, axis=1)]
    )


def test_predict_is_silent(string_label_fit, capsys):
    estimator, x, _ = string_label_fit
    estimator.predict(x[:5])
    estimator.predict_proba(x[:5])
    captured = capsys.readouterr()
    assert captured.out == ""


def test_count_parameters_of_the_fitted_keras_model(string_label_fit):
    estimator, _, _ = string_label_fit
    # mlp: 2 x (Dense without bias, BatchNorm with 4 vectors) of width 512, head 3.
    expected = (4 * 512 + 4 * 512) + (512 * 512 + 4 * 512) + (512 * 3 + 3)
    assert count_parameters(estimator) == expected
    assert count_parameters(estimator) == estimator[-1].model_.count_params()


def test_same_seed_same_model_and_non_contiguous_labels(string_label_fit):
    """Refitting the same configuration (seed 0) on the same samples, with labels
    [3, 7, 9] in place of the sorted names, gives the same model: same
    probabilities, same predictions mapped back to 3/7/9."""
    first, x, names = string_label_fit
    labels = np.array([3, 7, 9])[np.searchsorted(IRIS_NAMES, names)]

    def fit(seed):
        est = make_deep_estimator(
            "mlp", (4,), epochs=2, batch_size=50, learning_rate=1e-2, seed=seed
        )
        return est.fit(x, labels)

    second = fit(0)
    np.testing.assert_array_equal(second.classes_, [3, 7, 9])
    pred = second.predict(x)
    assert pred.dtype.kind == "i"
    assert set(np.unique(pred)) <= {3, 7, 9}
    proba = first.predict_proba(x)
    np.testing.assert_allclose(second.predict_proba(x), proba, rtol=1e-5, atol=1e-6)
    # Same model, so the same decisions, expressed in each fit's own labels.
    mapping = dict(zip(IRIS_NAMES, [3, 7, 9]))
    np.testing.assert_array_equal(pred, [mapping[p] for p in first.predict(x)])
    # ... and the seed is actually used: another seed gives other weights.
    assert not np.allclose(fit(1).predict_proba(x), proba, atol=1e-4)


def test_fit_keyword_arguments_do_not_change_parameters(iris):
    x, y = iris
    classifier = make_deep_estimator("mlp", (4,), epochs=3, batch_size=64)[-1]
    classifier.fit(x[:60], y[:60], epochs=1)
    assert len(classifier.history_.history["loss"]) == 1
    assert classifier.fit_kwargs["epochs"] == 3
    assert clone(classifier).fit_kwargs["epochs"] == 3


def test_predict_proba_before_fit_raises_not_fitted(iris):
    x, _ = iris
    with pytest.raises(NotFittedError):
        make_deep_estimator("mlp", (4,), epochs=1)[-1].predict_proba(x)
    with pytest.raises(NotFittedError):  # the scaler of the pipeline says so first
        make_deep_estimator("mlp", (4,), epochs=1).predict(x)


def test_predict_before_fit_raises_not_fitted(iris):
    x, _ = iris
    with pytest.raises(NotFittedError):
        make_deep_estimator("mlp", (4,), epochs=1)[-1].predict(x)


def test_build_compiled_model_reads_classes_from_one_hot_targets():
    x = np.zeros((10, 4), dtype="float32")
    y = np.eye(3, dtype="float32")[np.arange(10) % 3]
    model = build_compiled_model(
        x,
        y,
        name="mlp",
        input_shape=(2, 2, 1),
        epochs=2,
        batch_size=4,
        learning_rate=1e-3,
        depth=1,  # overrides the registry's builder kwargs
    )
    assert model.input_shape == (None, 4)
    assert model.output_shape == (None, 3)
    assert model.compiled
    assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)
    assert model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    # depth=1 was used, not the registry's 2: Dense (no bias) + BatchNorm + head.
    assert model.count_params() == 4 * 512 + 4 * 512 + 512 * 3 + 3
    assert model.layers[-1].get_config()["activation"] == "softmax"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs must be >= 1; received 0"),
        ({"epochs": -3}, "epochs"),
        ({"batch_size": 0}, "batch_size must be >= 1; received 0"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0; received 0.0"),
        ({"learning_rate": -1e-3}, "learning_rate"),
        pytest.param(
            {"learning_rate": float("nan")},
            "learning_rate",
        ),
    ],
)
def test_invalid_training_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_deep_estimator("mlp", (4,), **kwargs)


def test_unknown_model_name_lists_registered_models():
    with pytest.raises(ValueError, match="'resnet9000'") as info:
        make_deep_estimator("resnet9000", (4,))
    assert "mlp" in str(info.value) and "cnn" in str(info.value)


def test_steps_per_execution_trains_the_same_weights():
    """Several steps per compiled call are the same steps: same weights as one."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=40)]
    weights = []
    for steps in (1, 4):
        model = build_compiled_model(
            x,
            y,
            name="mlp",
            input_shape=(4,),
            epochs=3,
            batch_size=8,
            learning_rate=1e-2,
            depth=1,
            steps_per_execution=steps,
        )
        model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-5)


def _fold_fits(name, x, y, shape, folds, reuse):
    """Fit one clone per fold (inside `reuse_compiled_models()` when `reuse`);
    returns each fold's test probabilities, taken right after its fit."""
    configured = make_deep_estimator(
        name, shape, epochs=2, batch_size=16, learning_rate=1e-2, seed=3
    )
    context = reuse_compiled_models() if reuse else contextlib.nullcontext()
    probabilities, estimators = [], []
    with context:
        for train, test in folds:
            estimator = clone(configured).fit(x[train], y[train])
            probabilities.append(estimator.predict_proba(x[test]))
            estimators.append(estimator)
    return probabilities, estimators


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_reused_compiled_model_trains_the_same_weights_as_a_fresh_one(name):
    """Inside `reuse_compiled_models()` every fold after the first reuses the first
    fold's compiled model (reset weights, optimizer state and seed) and ends with the
    same predictions as a model built and compiled for that fold."""
    x, y = load_digits(return_X_y=True)
    x, y = x[:240].astype("float32"), y[:240]
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(x, y))
    fresh, fresh_estimators = _fold_fits(name, x, y, (8, 8, 1), folds, reuse=False)
    reused, estimators = _fold_fits(name, x, y, (8, 8, 1), folds, reuse=True)
    models = {id(e.steps[-1][1].model_) for e in estimators}
    assert len(models) == 1  # compiled once
    assert len({id(e.steps[-1][1].model_) for e in fresh_estimators}) == 3
    for a, b in zip(fresh, reused):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_an_estimator_whose_reused_model_was_trained_again_refuses_to_predict(iris):
    """The fold estimators share the model: the first one may not answer with the
    second one's weights."""
    x, y = iris
    configured = make_deep_estimator("mlp", (4,), epochs=1, batch_size=50, seed=0)
    with reuse_compiled_models():
        first = clone(configured).fit(x, y)
        second = clone(configured).fit(x, y)
    assert second.predict(x[:3]).shape == (3,)
    with pytest.raises(RuntimeError, match="trained again by a later fit"):
        first.predict(x[:3])
    # Outside the context every fit has a model of its own.
    assert clone(configured).fit(x, y)[-1].model_ is not second[-1].model_
