"""Classical baselines: every named pipeline learns real data; parameter counts."""

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from kerasdl.baselines import (
    CLASSICAL_DESCRIPTIONS,
    CLASSICAL_MODELS,
    count_parameters,
    make_classical,
)


@pytest.fixture(autouse=True)
def one_openmp_thread():
    """Gradient boosting's OpenMP threads spin-wait on a busy 2-core machine: one
    fit on wine took 4-9 s with 2 threads under load and 0.2-0.3 s with one."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def wine_split():
    x, y = load_wine(return_X_y=True)
    return train_test_split(x, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def iris_split():
    x, y = load_iris(return_X_y=True)
    return train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)


def test_every_model_has_a_description():
    assert set(CLASSICAL_MODELS) == set(CLASSICAL_DESCRIPTIONS)
    assert set(CLASSICAL_MODELS) == {
        "logreg",
        "svm",
        "random_forest",
        "knn",
        "gradient_boosting",
    }
    assert all(len(text) > 10 for text in CLASSICAL_DESCRIPTIONS.values())


@pytest.mark.parametrize("name", CLASSICAL_MODELS)
def test_every_classical_model_learns_wine(name, wine_split):
    x_train, x_test, y_train, y_test = wine_split
    model = make_classical(name)
    assert isinstance(model, Pipeline)
    assert model.fit(x_train, y_train) is model
    accuracy = model.score(x_test, y_test)
    assert accuracy > 0.85, f"{name}: held-out accuracy {accuracy:.3f}"


@pytest.mark.parametrize("name", ["logreg", "svm", "knn"])
def test_distance_and_linear_models_are_standardized(name):
    # Wine's proline (~1000) would swamp the other features without scaling.
    assert isinstance(make_classical(name).steps[0][1], StandardScaler)


@pytest.mark.parametrize("name", ["random_forest", "gradient_boosting"])
def test_tree_models_are_not_scaled_and_are_seeded(name, wine_split):
    x_train, x_test, y_train, _ = wine_split
    model = make_classical(name, random_state=3)
    assert len(model.steps) == 1
    assert model.steps[-1][1].get_params()["random_state"] == 3
    again = make_classical(name, random_state=3).fit(x_train, y_train)
    np.testing.assert_array_equal(
        model.fit(x_train, y_train).predict_proba(x_test), again.predict_proba(x_test)
    )


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="'xgboost'") as info:
        make_classical("xgboost")
    for name in CLASSICAL_MODELS:
        assert name in str(info.value)


def test_count_parameters_logreg_on_iris(iris_split):
    x_train, _, y_train, _ = iris_split
    model = make_classical("logreg").fit(x_train, y_train)
    assert count_parameters(model) == 3 * 4 + 3  # coef (3, 4) + 3 intercepts


def test_count_parameters_bare_binary_linear_model(iris_split):
    x_train, _, y_train, _ = iris_split
    binary = LogisticRegression().fit(x_train, y_train == 0)
    assert count_parameters(binary) == 4 + 1


def test_count_parameters_knn_stores_the_training_matrix(iris_split):
    x_train, _, y_train, _ = iris_split
    model = make_classical("knn").fit(x_train, y_train)
    assert count_parameters(model) == len(x_train) * 4 == 120 * 4


def test_count_parameters_svm_formula(iris_split):
    x_train, _, y_train, _ = iris_split
    model = make_classical("svm").fit(x_train, y_train)
    n_sv = int(model[-1].n_support_.sum())
    n_classes, n_features = 3, 4
    # support vectors + one-vs-one dual coefficients + one intercept per class pair
    expected = n_sv * n_features + (n_classes - 1) * n_sv + 3
    assert 0 < n_sv < len(x_train)
    assert count_parameters(model) == expected


def test_count_parameters_forest_counts_tree_nodes(iris_split):
    x_train, _, y_train, _ = iris_split
    stumps = RandomForestClassifier(n_estimators=4, max_depth=1, random_state=0)
    stumps.fit(x_train, y_train)
    assert count_parameters(stumps) == 4 * 3  # 4 stumps: root + 2 leaves each
    forest = make_classical("random_forest").fit(x_train, y_train)
    assert count_parameters(forest) > 100 * 3


def test_count_parameters_hist_gradient_boosting_counts_nodes(iris_split):
    x_train, _, y_train, _ = iris_split
    model = HistGradientBoostingClassifier(max_iter=2, max_depth=1, random_state=0)
    model = make_pipeline(model).fit(x_train, y_train)
    # 2 iterations x 3 classes (one tree each) x (root + 2 leaves)
    assert count_parameters(model) == 2 * 3 * 3
    default = make_classical("gradient_boosting").fit(x_train, y_train)
    assert count_parameters(default) > 2 * 3 * 3


@pytest.mark.parametrize("estimator", [DummyClassifier(), GaussianNB()])
def test_count_parameters_unknown_estimator_is_none(estimator, iris_split):
    x_train, _, y_train, _ = iris_split
    estimator.fit(x_train, y_train)
    assert count_parameters(estimator) is None
    assert count_parameters(make_pipeline(StandardScaler(), estimator)) is None
