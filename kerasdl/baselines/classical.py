"""Classical scikit-learn baselines: pipelines with scaling where the model needs it."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

CLASSICAL_DESCRIPTIONS = {
    "logreg": "logistic regression (L2, C=1) on standardized features",
    "svm": "SVM with RBF kernel (C=1, gamma='scale') on standardized features",
    "random_forest": "random forest, 100 trees (no scaling: trees are scale-free)",
    "knn": "k-nearest neighbours, k=5, on standardized features",
    "gradient_boosting": "histogram gradient boosting, 100 iterations (no scaling)",
}
CLASSICAL_MODELS = tuple(CLASSICAL_DESCRIPTIONS)


def make_classical(name: str, *, random_state: int = 0) -> Pipeline:
    """A scikit-learn pipeline for a classical classifier, with scikit-learn's defaults.

    Args:
        name: One of `CLASSICAL_MODELS`: `logreg`, `svm`, `random_forest`, `knn`,
            `gradient_boosting`.
        random_state: Seed for the models that draw random numbers.

    Returns:
        An unfitted `sklearn.pipeline.Pipeline`.
    """
    if name == "logreg":
        model = LogisticRegression(max_iter=5000, random_state=random_state)
        return make_pipeline(StandardScaler(), model)
    if name == "svm":
        return make_pipeline(
            StandardScaler(), SVC(kernel="rbf", random_state=random_state)
        )
    if name == "random_forest":
        return make_pipeline(RandomForestClassifier(random_state=random_state))
    if name == "knn":
        return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5))
    if name == "gradient_boosting":
        return make_pipeline(HistGradientBoostingClassifier(random_state=random_state))
    raise ValueError(
        f"Unknown classical model {name!r}; "
        f"choose one of: {', '.join(CLASSICAL_MODELS)}."
    )


def count_parameters(estimator) -> int | None:
    """Number of learned numbers in a fitted estimator (pipeline or bare model).

    Keras models: `count_params()`. Linear models: coefficients + intercepts. SVM:
    support-vector entries + dual coefficients + intercepts. k-NN: the stored training
    matrix. Tree ensembles: the number of tree nodes (each holds a split or a value).
    `None` when unknown.
    """
    model = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if hasattr(model, "model_") and hasattr(model.model_, "count_params"):
        return int(model.model_.count_params())
    if hasattr(model, "support_vectors_"):
        return int(
            model.support_vectors_.size + model.dual_coef_.size + model.intercept_.size
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
        return int(np.size(model._fit_X))
    return None
