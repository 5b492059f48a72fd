"""Classical scikit-learn baselines for classification and regression.

On a clean numeric array (`feature_types=None`) each model is a pipeline with
scaling where the model needs it. On a raw table (a pandas `DataFrame` plus
`feature_types`) the pipeline starts with `make_preprocessor`, which encodes the
columns inside each training fold: see `kerasdl.baselines.preprocessing`.
"""

from __future__ import annotations

import numpy as np
from lightgbm import LGBMClassifier, LGBMRegressor
from scipy import sparse
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

from kerasdl.baselines.preprocessing import (
    categorical_columns,
    check_feature_types,
    make_preprocessor,
)

#: The tasks classical baselines exist for.
CLASSICAL_TASKS = ("classification", "regression")

_LIGHTGBM = (
    "LightGBM, 200 trees, learning rate 0.05, 31 leaves, >= 10 rows per leaf "
    "and per category group"
)

CLASSICAL_DESCRIPTIONS = {
    "dummy": "majority class, class priors as probabilities (the floor to beat)",
    "logreg": "logistic regression (L2, C=1) on standardized features",
    "svm": "SVM with RBF kernel (C=1, gamma='scale') on standardized features",
    "random_forest": "random forest, 100 trees (no scaling: trees are scale-free)",
    "knn": "k-nearest neighbours, k=5, on standardized features",
    "gradient_boosting": "histogram gradient boosting, 100 iterations (no scaling)",
    "lightgbm": f"{_LIGHTGBM} (no scaling)",
}
CLASSICAL_MODELS = tuple(CLASSICAL_DESCRIPTIONS)

REGRESSION_DESCRIPTIONS = {
    "dummy": "the training mean for every row (the floor to beat)",
    "ridge": "ridge regression (L2, alpha=1) on standardized features",
    "svr": "SVR with RBF kernel (C=1, gamma='scale') on standardized features "
    "and a standardized target",
    "random_forest": "random forest, 100 trees (no scaling: trees are scale-free)",
    "knn": "k-nearest neighbours (mean of k=5) on standardized features",
    "gradient_boosting": "histogram gradient boosting, 100 iterations (no scaling)",
    "lightgbm": f"{_LIGHTGBM} (no scaling)",
}
REGRESSION_MODELS = tuple(REGRESSION_DESCRIPTIONS)

_DESCRIPTIONS = {
    "classification": CLASSICAL_DESCRIPTIONS,
    "regression": REGRESSION_DESCRIPTIONS,
}
#: Models that take the tree preprocessor (NaN kept, categories as codes).
_TREE_MODELS = ("random_forest", "gradient_boosting", "lightgbm")


def _check_task(task) -> str:
    if task not in CLASSICAL_TASKS:
        raise ValueError(
            f"task must be one of {CLASSICAL_TASKS} for classical models; "
            f"received task={task!r}."
        )
    return task


def classical_models(task: str = "classification") -> tuple[str, ...]:
    """The classical model names for `task` (`"classification"` or `"regression"`),
    `"dummy"` first."""
    return tuple(_DESCRIPTIONS[_check_task(task)])


def classical_descriptions(task: str = "classification") -> dict[str, str]:
    """`{name: one-line description}` of the classical models for `task`."""
    return dict(_DESCRIPTIONS[_check_task(task)])


def _lightgbm_params(random_state, categorical):
    """Small-data defaults; one thread and no bagging make a fit deterministic."""
    params = dict(
        n_estimators=200,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=10,
        n_jobs=1,
        deterministic=True,
        random_state=random_state,
        verbose=-1,
    )
    if categorical:
        # `categorical_column` is LightGBM's own name for the Dataset parameter
        # `categorical_feature`; as a constructor parameter it survives `clone`
        # and needs no fit argument (a pipeline's `fit(x, y)` passes none).
        params["categorical_column"] = list(categorical)
        # LightGBM's default of 100 rows per category group kept a 150-row table's
        # strongest column from ever being split on (R^2 0.28 -> 0.71 with 10).
        params["min_data_per_group"] = 10
    return params


def _make_model(name, task, random_state, categorical):
    """The bare estimator; `categorical`: positions of categorical codes (trees)."""
    categorical = list(categorical)
    if task == "classification":
        if name == "dummy":
            return DummyClassifier(strategy="prior")
        if name == "logreg":
            return LogisticRegression(max_iter=5000, random_state=random_state)
        if name == "svm":
            return SVC(kernel="rbf", random_state=random_state)
        if name == "random_forest":
            return RandomForestClassifier(random_state=random_state)
        if name == "knn":
            return KNeighborsClassifier(n_neighbors=5)
        if name == "gradient_boosting":
            if categorical:
                return HistGradientBoostingClassifier(
                    categorical_features=categorical, random_state=random_state
                )
            return HistGradientBoostingClassifier(random_state=random_state)
        if name == "lightgbm":
            return LGBMClassifier(**_lightgbm_params(random_state, categorical))
    else:
        if name == "dummy":
            return DummyRegressor(strategy="mean")
        if name == "ridge":
            return Ridge(alpha=1.0)
        if name == "svr":
            return TransformedTargetRegressor(
                regressor=SVR(kernel="rbf"), transformer=StandardScaler()
            )
        if name == "random_forest":
            return RandomForestRegressor(random_state=random_state)
        if name == "knn":
            return KNeighborsRegressor(n_neighbors=5)
        if name == "gradient_boosting":
            if categorical:
                return HistGradientBoostingRegressor(
                    categorical_features=categorical, random_state=random_state
                )
            return HistGradientBoostingRegressor(random_state=random_state)
        if name == "lightgbm":
            return LGBMRegressor(**_lightgbm_params(random_state, categorical))
    raise AssertionError(f"no constructor for {name!r} ({task})")  # pragma: no cover


def make_classical(
    name: str,
    *,
    task: str = "classification",
    feature_types: dict | None = None,
    random_state: int = 0,
) -> Pipeline:
    """A scikit-learn pipeline for a classical model, with scikit-learn's defaults.

    Args:
        name: One of `classical_models(task)`. Classification: `dummy`, `logreg`,
            `svm`, `random_forest`, `knn`, `gradient_boosting`, `lightgbm`.
            Regression: `dummy`, `ridge`, `svr`, `random_forest`, `knn`,
            `gradient_boosting`, `lightgbm`.
        task: `"classification"` or `"regression"`.
        feature_types: `None` for a clean numeric array: the pipeline standardizes
            where the model needs it. For a raw table (a pandas `DataFrame`), its
            `{column: role}`: the pipeline is `[("preprocess", make_preprocessor(
            feature_types, ...)), ("model", model)]`, the tree recipe for
            `random_forest`, `gradient_boosting` and `lightgbm` (gradient boosting
            and LightGBM split the categorical columns natively), the
            linear recipe for the others.
        random_state: Seed for the models that draw random numbers.

    Returns:
        An unfitted `sklearn.pipeline.Pipeline`.

    Example:
        >>> from sklearn.datasets import load_diabetes
        >>> x, y = load_diabetes(return_X_y=True)
        >>> model = make_classical("ridge", task="regression").fit(x, y)
    """
    names = classical_models(task)
    if name not in names:
        raise ValueError(
            f"Unknown classical model {name!r} for task {task!r}; "
            f"choose one of: {', '.join(names)}."
        )
    if feature_types is None:
        model = _make_model(name, task, random_state, categorical=())
        if name in ("logreg", "svm", "knn", "ridge", "svr"):
            return make_pipeline(StandardScaler(), model)
        return make_pipeline(model)
    feature_types = check_feature_types(feature_types)
    for_trees = name in _TREE_MODELS
    categorical = categorical_columns(feature_types) if for_trees else ()
    return Pipeline(
        [
            ("preprocess", make_preprocessor(feature_types, for_trees=for_trees)),
            ("model", _make_model(name, task, random_state, categorical)),
        ]
    )


def count_parameters(estimator) -> int | None:
    """Number of learned numbers in a fitted estimator (pipeline or bare model).

    Keras models: `count_params()`. Linear models: coefficients + intercepts. SVM:
    support-vector entries + dual coefficients + intercepts. k-NN: the stored training
    matrix (its stored entries when sparse). Tree ensembles: the number of tree nodes
    (each holds a split or a value); LightGBM: `2 * leaves - 1` per tree. Dummy
    models: the stored class priors or mean. A target-transforming wrapper counts
    its inner regressor. A pipeline counts its final model only (not what the
    preprocessing learned). `None` when unknown.
    """
    model = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if isinstance(model, TransformedTargetRegressor):
        return count_parameters(model.regressor_)
    if hasattr(model, "model_") and hasattr(model.model_, "count_params"):
        return int(model.model_.count_params())
    if isinstance(model, DummyClassifier):
        return int(np.size(model.class_prior_))
    if isinstance(model, DummyRegressor):
        return int(np.size(model.constant_))
    if isinstance(model, (LGBMClassifier, LGBMRegressor)):
        trees = model.booster_.dump_model()["tree_info"]
        return int(sum(2 * tree["num_leaves"] - 1 for tree in trees))
    if hasattr(model, "support_vectors_"):
        return int(
            _size(model.support_vectors_)
            + _size(model.dual_coef_)
            + np.size(model.intercept_)
        )
    if hasattr(model, "coef_"):
        return int(np.size(model.coef_) + np.size(model.intercept_))
    if hasattr(model, "estimators_"):
        trees = np.ravel(model.estimators_)  # GradientBoosting holds a 2-D array
        if len(trees) and hasattr(trees[0], "tree_"):
            return int(sum(tree.tree_.node_count for tree in trees))
    if hasattr(model, "_predictors"):
        return int(sum(p.nodes.size for it in model._predictors for p in it))
    if hasattr(model, "_fit_X"):
        return int(_size(model._fit_X))
    return None


def _size(matrix) -> int:
    """Entries of a dense array; stored entries of a sparse matrix."""
    return matrix.nnz if sparse.issparse(matrix) else np.size(matrix)
