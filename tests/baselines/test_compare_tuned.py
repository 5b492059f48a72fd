"""`compare(..., tuned=...)`: a model tuned inside each training fold only."""

import numpy as np
import pytest

from kerasdl import data
from kerasdl.baselines import compare
from kerasdl.baselines.tuned import TunedClassifier


def test_tuned_classifier_searches_on_the_data_it_is_fitted_on(monkeypatch):
    """The search receives exactly the fit data: a test fold cannot leak into it."""
    import kerasdl.hypermodels as hypermodels

    seen = []
    real = hypermodels.tune_on_training_data

    def spy(family, x, y, **kwargs):
        seen.append((family, np.array(x), np.array(y)))
        return real(family, x, y, **kwargs)

    monkeypatch.setattr(hypermodels, "tune_on_training_data", spy)
    iris = data.load_iris()
    x, y = iris.x.astype("float32"), iris.y
    train = np.arange(len(y)) % 3 != 0
    small = {"depth": 1, "width": 8, "batch_size": 32}  # one small compiled shape
    clf = TunedClassifier("mlp", max_trials=2, epochs=2, seed=0, search_space=small)
    clf.fit(x[train], y[train])
    assert len(seen) == 1
    family, x_seen, y_seen = seen[0]
    assert family == "mlp"
    np.testing.assert_array_equal(x_seen, x[train])
    np.testing.assert_array_equal(y_seen, np.unique(y, return_inverse=True)[1][train])
    proba = clf.predict_proba(x[~train])
    assert proba.shape == (int((~train).sum()), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    assert set(clf.predict(x[~train])) <= set(np.unique(y))
    assert "batch_size" in clf.best_hyperparameters_


def test_compare_adds_the_tuned_row_with_budget_and_fold_choices(tmp_path):
    report = compare(
        data.load_iris(),
        classical=["logreg"],
        deep=[],
        tuned=["mlp"],
        tuned_trials=2,
        tuned_epochs=2,
        folds=2,
        out_dir=tmp_path,
        verbose=False,
    )
    names = [row["model"] for row in report["results"]]
    assert names == ["logreg", "mlp-tuned"]
    row = report["results"][1]
    assert row["kind"] == "deep"
    assert len(row["fold_accuracies"]) == 2
    assert len(row["fold_best_hyperparameters"]) == 2
    assert report["tuning_budget"]["trials_per_fold"] == 2
    assert 0.0 <= row["accuracy_mean"] <= 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tuned": ["resnet9000"]}, "resnet9000"),
        ({"tuned": ["mlp"], "tuner": "grid"}, "Unknown tuner 'grid'"),
        ({"tuned": ["mlp"], "tuned_trials": 0}, "tuned_trials"),
    ],
)
def test_bad_tuning_arguments_fail_before_any_training(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare(
            data.load_iris(), classical=["logreg"], deep=[], verbose=False, **kwargs
        )
