"""kerasdl.models.Perceptron: Rosenblatt's learning rule on a perceptron layer."""

import keras
import numpy as np
import pytest

import kerasdl.layers
from kerasdl.models import Perceptron
from kerasdl.models.mlp.perceptron import PerceptronClassifier
from kerasdl.testing import check_model

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
AND = np.array([0, 0, 0, 1])
OR = np.array([0, 1, 1, 1])
XOR = np.array([0, 1, 1, 0])


def _predict(model, x):
    return model.predict(x, verbose=0).ravel()


@pytest.mark.parametrize("y", [AND, OR], ids=["AND", "OR"])
def test_converges_on_linearly_separable_gates(y):
    model = Perceptron(input_dim=2)
    history = model.fit(X, y, epochs=100)
    assert model.converged_ is True
    errors = history.history["errors"]
    assert errors[-1] == 0 and all(e > 0 for e in errors[:-1])
    assert len(errors) < 100  # stopped early
    assert history.history["accuracy"][-1] == 1.0
    np.testing.assert_array_equal(_predict(model, X), y)


def test_never_converges_on_xor():
    model = Perceptron(input_dim=2)
    history = model.fit(X, XOR, epochs=300)
    assert model.converged_ is False
    assert len(history.history["errors"]) == 300
    assert min(history.history["errors"]) > 0
    # No line separates XOR: every epoch's weights get at most 3 of 4 points right.
    assert max(history.history["accuracy"]) <= 0.75
    assert np.mean(_predict(model, X) == XOR) <= 0.75


def test_converges_on_random_separable_data_and_matches_rule():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(400, 3)).astype("float32")
    w, b = np.array([1.0, -2.0, 0.5]), 0.2
    margin = x @ w + b
    keep = np.abs(margin) > 0.1
    x, y = x[keep], (margin[keep] > 0).astype(int)
    model = Perceptron(input_dim=3)
    model.fit(x, y, epochs=200, learning_rate=0.5, seed=3)
    assert model.converged_ is True
    np.testing.assert_array_equal(_predict(model, x), y)


def test_single_update_follows_rosenblatt_rule():
    model = Perceptron(input_dim=2)
    # One sample, target 1, zero weights predict 0: w += lr * x, b += lr.
    history = model.fit(np.array([[2.0, -1.0]]), np.array([1]), learning_rate=0.5)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel.ravel(), [1.0, -0.5])
    np.testing.assert_allclose(bias, [0.5])
    assert history.history["errors"] == [1, 0]


def test_seed_makes_training_reproducible():
    histories = [
        Perceptron(input_dim=2).fit(X, XOR, epochs=20, seed=s).history["errors"]
        for s in (7, 7, 8)
    ]
    assert histories[0] == histories[1]
    assert histories[0] != histories[2]


def test_several_units_learn_several_gates_at_once():
    model = Perceptron(input_dim=2, units=2)
    y = np.stack([AND, OR], axis=1)
    model.fit(X, y, epochs=50)
    assert model.converged_ is True
    np.testing.assert_array_equal(model.predict(X, verbose=0), y)


def test_model_contract_and_save_load_keep_the_layer_class(tmp_path):
    model = Perceptron(input_dim=2, units=2)
    model.fit(X, np.stack([AND, OR], axis=1), epochs=50)
    check_model(model, X, tmp_dir=tmp_path)
    # The layer and the model share the class name: both must survive a reload.
    model.save(tmp_path / "p.keras")
    loaded = keras.saving.load_model(tmp_path / "p.keras")
    assert type(loaded) is Perceptron
    assert isinstance(loaded.perceptron, kerasdl.layers.Perceptron)
    assert loaded.get_config() == model.get_config()


@pytest.mark.parametrize(
    "x, y, match",
    [
        (X, np.array([0, 2, 1, 0]), r"`y` must hold only 0 and 1.*2"),
        (X[:, 0], AND, r"`x` of shape \(samples, 2\).*\(4,\)"),
        (X, AND[:3], r"same number of samples.*len\(y\)=3"),
        (np.ones((4, 3)), AND, r"`x` of shape \(samples, 2\).*\(4, 3\)"),
        (X, AND[:, None, None], r"`y` of shape.*\(4, 1, 1\)"),
        (X * np.nan, AND, r"finite"),
    ],
)
def test_bad_training_data_raises(x, y, match):
    with pytest.raises(ValueError, match=match):
        Perceptron(input_dim=2).fit(x, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"epochs": 0}, r"epochs=0"), ({"learning_rate": -1.0}, r"learning_rate=-1.0")],
)
def test_bad_fit_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Perceptron(input_dim=2).fit(X, AND, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"input_dim": 0}, r"input_dim=0"), ({"input_dim": 2, "units": 0}, r"units=0")],
)
def test_bad_constructor_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Perceptron(**kwargs)


# --------------------------------------------------------------------------------------
# PerceptronClassifier: the model as a scikit-learn estimator (the full contract is
# checked in tests/baselines/test_estimator_checks.py)


def test_classifier_learns_and_with_labels_but_not_xor():
    names = np.array(["no", "yes"])
    clf = PerceptronClassifier().fit(X, names[AND])
    assert clf.converged_ is True and clf.n_iter_ < 100
    np.testing.assert_array_equal(clf.predict(X), names[AND])
    assert isinstance(clf.model_, Perceptron) and clf.model_.units == 1
    # decision_function is the unit's pre-activation: positive means classes_[1].
    np.testing.assert_array_equal(clf.decision_function(X) > 0, AND == 1)
    # The Keras model itself predicts the same.
    np.testing.assert_array_equal(_predict(clf.model_, X), AND)
    xor = PerceptronClassifier(epochs=50).fit(X, XOR)
    assert xor.converged_ is False and xor.n_iter_ == 50
    assert xor.score(X, XOR) <= 0.75


def test_classifier_one_unit_per_class_in_cross_validation():
    from sklearn.datasets import load_iris
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True)
    clf = PerceptronClassifier(epochs=20, random_state=0)
    fitted = clf.fit(x, y)
    assert fitted.model_.units == 3 and fitted.decision_function(x).shape == (150, 3)
    scores = cross_val_score(make_pipeline(StandardScaler(), clf), x, y, cv=3)
    # One-vs-rest perceptrons on iris: setosa is separable, the others nearly;
    # chance is 1/3.
    assert scores.mean() > 0.7, scores


@pytest.mark.parametrize(
    "x, y, match",
    [
        (X, np.ones(4), r"at least 2 classes in y; received 1 class \(1.0\)"),
        (X, np.array([0.1, 0.2, 0.3, 0.4]), "Unknown label type: continuous"),
        (X, AND[:3], "inconsistent numbers of samples"),
        (X * np.nan, AND, "NaN"),
    ],
)
def test_classifier_bad_training_data_raises(x, y, match):
    with pytest.raises(ValueError, match=match):
        PerceptronClassifier().fit(x, y)


def test_classifier_bad_settings_and_unfitted_raise():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PerceptronClassifier().predict(X)
    with pytest.raises(ValueError, match="epochs=0"):
        PerceptronClassifier(epochs=0).fit(X, AND)
    with pytest.raises(ValueError, match="random_state='a'"):
        PerceptronClassifier(random_state="a").fit(X, AND)
    with pytest.raises(ValueError, match="X has 3 features, but PerceptronClassifier"):
        PerceptronClassifier().fit(X, AND).predict(np.ones((2, 3)))
