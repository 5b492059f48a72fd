"""Classical baselines: every named pipeline learns real data, numeric arrays and raw
tables alike, for classification and regression; parameter counts."""

import numpy as np
import palmerpenguins
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from scipy import sparse
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_iris, load_wine
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR
from threadpoolctl import threadpool_limits

from kerasdl.baselines import (
    CLASSICAL_DESCRIPTIONS,
    CLASSICAL_MODELS,
    count_parameters,
    make_classical,
)
from kerasdl.baselines.classical import (
    REGRESSION_DESCRIPTIONS,
    REGRESSION_MODELS,
    classical_descriptions,
    classical_models,
)

RAW_TYPES = {
    "size": "numeric",
    "colour": "categorical",
    "shop": "categorical",
    "review": "text",
    "day": "date",
}
PENGUIN_TYPES = {
    "island": "categorical",
    "bill_length_mm": "numeric",
    "bill_depth_mm": "numeric",
    "flipper_length_mm": "numeric",
    "body_mass_g": "numeric",
    "sex": "categorical",
    "year": "numeric",
}


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
    assert CLASSICAL_MODELS == (
        "dummy",
        "logreg",
        "svm",
        "random_forest",
        "knn",
        "gradient_boosting",
        "lightgbm",
    )
    assert REGRESSION_MODELS == (
        "dummy",
        "ridge",
        "svr",
        "random_forest",
        "knn",
        "gradient_boosting",
        "lightgbm",
    )
    assert tuple(REGRESSION_DESCRIPTIONS) == REGRESSION_MODELS
    for descriptions in (CLASSICAL_DESCRIPTIONS, REGRESSION_DESCRIPTIONS):
        assert all(len(text) > 10 for text in descriptions.values())


def test_models_and_descriptions_by_task():
    assert classical_models() == CLASSICAL_MODELS
    assert classical_models("classification") == CLASSICAL_MODELS
    assert classical_models("regression") == REGRESSION_MODELS
    assert classical_descriptions("regression") == REGRESSION_DESCRIPTIONS
    assert classical_descriptions("classification") == CLASSICAL_DESCRIPTIONS
    classical_descriptions("regression")["ridge"] = "changed"  # a copy
    assert REGRESSION_DESCRIPTIONS["ridge"] != "changed"


@pytest.mark.parametrize("name", [n for n in CLASSICAL_MODELS if n != "dummy"])
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


def test_dummy_predicts_the_majority_class_with_the_priors(wine_split):
    x_train, x_test, y_train, _ = wine_split
    model = make_classical("dummy").fit(x_train, y_train)
    majority = np.bincount(y_train).argmax()
    np.testing.assert_array_equal(model.predict(x_test), majority)
    priors = np.bincount(y_train) / len(y_train)
    np.testing.assert_allclose(model.predict_proba(x_test[:2]), [priors, priors])


@pytest.mark.parametrize("name", ["random_forest", "gradient_boosting", "lightgbm"])
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
    # A classification name is unknown for regression, and the message says so.
    with pytest.raises(ValueError, match="'logreg' for task 'regression'") as info:
        make_classical("logreg", task="regression")
    for name in REGRESSION_MODELS:
        assert name in str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_classical("ridge", task="forecasting"),
        lambda: classical_models("forecasting"),
        lambda: classical_descriptions("forecasting"),
    ],
)
def test_unknown_task_names_the_argument(call):
    with pytest.raises(ValueError, match="task=.forecasting.") as info:
        call()
    assert "classification" in str(info.value) and "regression" in str(info.value)


def test_bad_feature_types_name_the_argument():
    with pytest.raises(ValueError, match=r"roles must be in .*'when': 'time'"):
        make_classical("logreg", feature_types={"size": "numeric", "when": "time"})
    with pytest.raises(ValueError, match="feature_types must be a non-empty dict"):
        make_classical("lightgbm", feature_types={})


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


def test_count_parameters_knn_on_sparse_input_counts_stored_entries():
    x = sparse.random(30, 50, density=0.1, format="csr", random_state=0)
    model = KNeighborsClassifier().fit(x, np.arange(30) % 2)
    assert sparse.issparse(model._fit_X)
    assert count_parameters(model) == x.nnz


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


def test_count_parameters_unknown_estimator_is_none(iris_split):
    x_train, _, y_train, _ = iris_split
    estimator = GaussianNB().fit(x_train, y_train)
    assert count_parameters(estimator) is None
    assert count_parameters(make_pipeline(StandardScaler(), estimator)) is None


def test_count_parameters_dummy_models_store_priors_or_a_mean(iris_split):
    x_train, _, y_train, _ = iris_split
    assert count_parameters(make_classical("dummy").fit(x_train, y_train)) == 3
    assert count_parameters(DummyClassifier().fit(x_train, y_train)) == 3
    model = make_classical("dummy", task="regression").fit(x_train, x_train[:, 0])
    assert isinstance(model[-1], DummyRegressor)
    assert count_parameters(model) == 1


def test_count_parameters_lightgbm_counts_tree_nodes(iris_split):
    x_train, _, y_train, _ = iris_split
    stumps = LGBMClassifier(
        n_estimators=2, num_leaves=2, min_child_samples=5, verbose=-1
    )
    stumps.fit(x_train, y_train == 0)
    assert stumps.booster_.num_trees() == 2
    assert count_parameters(stumps) == 2 * 3  # 2 trees: a split + 2 leaves each
    model = make_classical("lightgbm").set_params(lgbmclassifier__n_estimators=20)
    model.fit(x_train, y_train)
    leaves = [t["num_leaves"] for t in model[-1].booster_.dump_model()["tree_info"]]
    assert len(leaves) == 20 * 3  # one tree per class and round
    assert count_parameters(model) == sum(2 * n - 1 for n in leaves)


def test_count_parameters_svr_counts_the_inner_regressor():
    x, y = load_diabetes(return_X_y=True)
    model = make_classical("svr", task="regression").fit(x[:200], y[:200])
    wrapper = model[-1]
    assert isinstance(wrapper, TransformedTargetRegressor)
    assert isinstance(wrapper.regressor_, SVR)
    n_sv = len(wrapper.regressor_.support_)
    assert count_parameters(model) == n_sv * 10 + n_sv + 1


# Raw tables: a DataFrame of mixed columns plus feature_types ------------------


def _raw_table(n, seed):
    """Numbers, categories, free text and dates, each with missing cells; a binary
    class and a numeric target that depend on all four kinds of column."""
    rng = np.random.default_rng(seed)
    size = rng.normal(10, 3, n)
    colour = rng.choice(["red", "green", "blue"], n).astype(object)
    shop = rng.choice(["north", "south"], n).astype(object)
    words = rng.choice(["great", "awful", "fine"], n)
    review = [f"{w} product arrived {rng.choice(['today', 'late'])}" for w in words]
    day = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D")
    score = (
        (size - 10) / 3
        + np.select([colour == "red", colour == "blue"], [1.5, -1.5], 0.0)
        + np.select([words == "great", words == "awful"], [1.0, -1.0], 0.0)
        + (day.month > 6)
    )
    x = pd.DataFrame(
        {
            "size": np.where(rng.random(n) < 0.1, np.nan, size),
            "colour": np.where(rng.random(n) < 0.1, None, colour),
            "shop": np.where(rng.random(n) < 0.1, np.nan, shop),
            "review": np.where(rng.random(n) < 0.1, "", review),
            "day": pd.Series(day).where(rng.random(n) > 0.1),
            "note": "not a feature",
        }
    ).astype({"colour": object, "shop": object, "review": object})
    return x, (score > np.median(score)).astype(int), score


@pytest.fixture(scope="module")
def raw_table():
    x_train, y_train, t_train = _raw_table(150, seed=0)
    x_test, y_test, t_test = _raw_table(60, seed=1)
    # Values the training rows never had: a colour, a shop, words, a whole row of
    # missing cells.
    x_test.loc[0, "colour"] = "purple"
    x_test.loc[1, "shop"] = "east"
    x_test.loc[2, "review"] = "completely unseen vocabulary"
    x_test.loc[3, ["size", "colour", "shop", "day"]] = [np.nan, None, None, pd.NaT]
    x_test.loc[3, "review"] = ""
    return x_train, x_test, y_train, y_test, t_train, t_test


@pytest.mark.parametrize("name", CLASSICAL_MODELS)
def test_every_classifier_fits_a_raw_table(name, raw_table):
    x_train, x_test, y_train, y_test, _, _ = raw_table
    model = make_classical(name, feature_types=RAW_TYPES)
    assert isinstance(model, Pipeline)
    assert [step for step, _ in model.steps] == ["preprocess", "model"]
    assert isinstance(model.named_steps["preprocess"], ColumnTransformer)
    assert model.fit(x_train, y_train) is model
    pred = model.predict(x_test)
    assert pred.shape == (len(x_test),) and set(pred) <= {0, 1}
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(x_test)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    params = count_parameters(model)
    assert isinstance(params, int) and params > 0
    if name != "dummy":  # the signal in the mixed columns reaches every real model
        assert model.score(x_test, y_test) > 0.6, name  # balanced classes


@pytest.mark.parametrize("name", REGRESSION_MODELS)
def test_every_regressor_fits_a_raw_table(name, raw_table):
    x_train, x_test, _, _, t_train, t_test = raw_table
    model = make_classical(name, task="regression", feature_types=RAW_TYPES)
    assert model.fit(x_train, t_train) is model
    pred = model.predict(x_test)
    assert pred.shape == (len(x_test),) and np.isfinite(pred).all()
    params = count_parameters(model)
    assert isinstance(params, int) and params > 0
    if name != "dummy":
        assert model.score(x_test, t_test) > 0.2, name  # R^2


def test_raw_pipelines_use_the_recipe_their_model_needs(raw_table):
    x_train, _, y_train, _, _, _ = raw_table
    # Linear/kernel/k-NN: one-hot columns; trees: one code per categorical column.
    linear = make_classical("logreg", feature_types=RAW_TYPES).fit(x_train, y_train)
    assert "categorical__colour_red" in linear[0].get_feature_names_out()
    boosting = make_classical("gradient_boosting", feature_types=RAW_TYPES)
    boosting.fit(x_train, y_train)
    names = list(boosting[0].get_feature_names_out())
    assert names[:2] == ["categorical__colour", "categorical__shop"]
    # Native categorical splits on exactly those columns.
    np.testing.assert_array_equal(
        boosting[-1].is_categorical_, [True, True] + [False] * (len(names) - 2)
    )
    lightgbm = make_classical("lightgbm", feature_types=RAW_TYPES).fit(x_train, y_train)
    splits = set()
    stack = [
        t["tree_structure"] for t in lightgbm[-1].booster_.dump_model()["tree_info"]
    ]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            splits.add((node["split_feature"], node["decision_type"]))
            stack += [node["left_child"], node["right_child"]]
    assert (0, "==") in splits  # colour split as a category ...
    assert all(feature in (0, 1) for feature, kind in splits if kind == "==")


def test_lightgbm_is_deterministic(raw_table):
    x_train, x_test, y_train, _, _, _ = raw_table
    first = make_classical("lightgbm", feature_types=RAW_TYPES, random_state=5)
    again = make_classical("lightgbm", feature_types=RAW_TYPES, random_state=5)
    np.testing.assert_array_equal(
        first.fit(x_train, y_train).predict_proba(x_test),
        again.fit(x_train, y_train).predict_proba(x_test),
    )


@pytest.fixture(scope="module")
def penguins_split():
    x = palmerpenguins.load_penguins()
    y = x.pop("species").to_numpy()
    return train_test_split(x, y, test_size=0.3, stratify=y, random_state=0)


def test_classifiers_beat_dummy_on_penguins(penguins_split):
    # A real table: two categorical columns with missing cells, NaN in numbers.
    x_train, x_test, y_train, y_test = penguins_split
    assert x_train["sex"].isna().any() and x_train["bill_length_mm"].isna().any()
    scores = {
        name: make_classical(name, feature_types=PENGUIN_TYPES)
        .fit(x_train, y_train)
        .score(x_test, y_test)
        for name in CLASSICAL_MODELS
    }
    assert scores["dummy"] < 0.5  # the majority class, Adelie
    for name, score in scores.items():
        if name != "dummy":
            assert score > 0.95, f"{name}: {score:.3f}"


@pytest.fixture(scope="module")
def diabetes_split():
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    x["sex"] = np.where(x["sex"] > 0, "one", "two").astype(object)
    return train_test_split(x, y, test_size=0.3, random_state=0)


@pytest.mark.parametrize("raw", [False, True], ids=["array", "raw_table"])
def test_regressors_beat_dummy_on_diabetes(raw, diabetes_split):
    x_train, x_test, y_train, y_test = diabetes_split
    types = {c: "numeric" for c in x_train.columns} | {"sex": "categorical"}
    if not raw:  # the clean numeric path: a float array, no feature_types
        x_train, x_test = (
            x.assign(sex=(x["sex"] == "one").astype(float)).to_numpy("float32")
            for x in (x_train, x_test)
        )
        types = None
    rmse = {}
    for name in REGRESSION_MODELS:
        model = make_classical(name, task="regression", feature_types=types)
        pred = model.fit(x_train, y_train).predict(x_test)
        rmse[name] = float(np.sqrt(np.mean((pred - y_test) ** 2)))
        assert isinstance(count_parameters(model), int)
    for name, value in rmse.items():
        if name != "dummy":
            assert value < 0.9 * rmse["dummy"], f"{name}: {rmse}"
