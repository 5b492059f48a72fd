"""Splits, folds and the standardiser: no leaks, no lost samples, clear errors."""

import numpy as np
import pytest
import scipy.sparse
from sklearn.exceptions import NotFittedError

from kerasdl import data
from kerasdl.data import Split, Standardizer, stratified_kfold, train_val_test_split


@pytest.fixture(scope="module")
def digits():
    return data.load_digits()


# --------------------------------------------------------------------------------------
# train_val_test_split


def test_split_sizes_and_no_overlap(digits):
    ids = np.arange(len(digits))
    parts = train_val_test_split(ids, digits.y, val_size=0.15, test_size=0.2, seed=3)
    assert isinstance(parts, Split)
    train, val, test = parts.x_train, parts.x_val, parts.x_test
    assert len(train) + len(val) + len(test) == len(ids)
    assert len(test) == pytest.approx(0.2 * len(ids), abs=1)
    assert len(val) == pytest.approx(0.15 * len(ids), abs=1)
    assert not set(train) & set(val) and not set(train) & set(test)
    assert not set(val) & set(test)
    # y travels with x.
    np.testing.assert_array_equal(parts.y_val, digits.y[val])


def test_split_is_stratified(digits):
    parts = train_val_test_split(digits.x, digits.y, seed=0)
    overall = np.bincount(digits.y) / len(digits.y)
    for y in (parts.y_train, parts.y_val, parts.y_test):
        np.testing.assert_allclose(
            np.bincount(y, minlength=10) / len(y), overall, atol=0.01
        )
    assert parts.x_train.shape[1:] == (8, 8, 1)


def test_split_is_seeded(digits):
    ids = np.arange(len(digits))
    a = train_val_test_split(ids, digits.y, seed=1)
    b = train_val_test_split(ids, digits.y, seed=1)
    c = train_val_test_split(ids, digits.y, seed=2)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, c.x_test)


def test_split_string_labels_regression_and_no_target():
    y = np.array(["a"] * 60 + ["b"] * 40)
    parts = train_val_test_split(np.arange(100), y, val_size=0.2, test_size=0.2)
    assert (parts.y_test == "a").sum() == 12 and (parts.y_val == "b").sum() == 8
    y_float = np.linspace(0, 1, 50, dtype=np.float32)
    parts = train_val_test_split(np.arange(50), y_float, val_size=0.2, test_size=0.2)
    assert len(parts.y_train) == 30 and parts.y_train.dtype == np.float32
    parts = train_val_test_split(np.arange(20), None, val_size=0.25, test_size=0.25)
    assert parts.y_train is None and len(parts.x_train) == 10


def test_split_ragged_sequences():
    tokens = [[1, 2, 3], [4], [5, 6], [7, 8, 9, 10]] * 5
    parts = train_val_test_split(tokens, [0, 1] * 10, val_size=0.2, test_size=0.2)
    assert parts.x_train.dtype == object
    assert sum(len(p) for p in (parts.x_train, parts.x_val, parts.x_test)) == 20


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"val_size": 0}, r"val_size must be a fraction .*received 0"),
        ({"test_size": 1.0}, r"test_size must be a fraction .*received 1.0"),
        ({"val_size": -0.1}, "val_size must be a fraction"),
        ({"test_size": "0.2"}, "test_size must be a fraction"),
        ({"val_size": 0.5, "test_size": 0.5}, r"val_size \+ test_size must be below 1"),
    ],
)
def test_split_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_val_test_split(np.arange(10), np.arange(10) % 2, **kwargs)


def test_split_length_mismatch():
    with pytest.raises(ValueError, match=r"len\(x\)=10 and len\(y\)=9"):
        train_val_test_split(np.arange(10), np.arange(9))


def test_split_class_too_small_to_stratify():
    y = np.array([0] * 20 + [1])
    with pytest.raises(ValueError, match="stratified on y.*stratify=False"):
        train_val_test_split(np.arange(21), y)
    parts = train_val_test_split(np.arange(21), y, stratify=False)
    assert len(parts.x_train) + len(parts.x_val) + len(parts.x_test) == 21


# --------------------------------------------------------------------------------------
# stratified_kfold


def test_kfold_uses_every_index_once(digits):
    folds = stratified_kfold(digits.y, n_splits=5, seed=0)
    assert len(folds) == 5
    all_test = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(all_test), np.arange(len(digits.y)))
    overall = np.bincount(digits.y) / len(digits.y)
    for train, test in folds:
        assert not set(train) & set(test)
        assert len(train) + len(test) == len(digits.y)
        share = np.bincount(digits.y[test], minlength=10) / len(test)
        np.testing.assert_allclose(share, overall, atol=0.01)


def test_kfold_seed_and_shuffle():
    y = np.array([0, 1] * 20)
    a = stratified_kfold(y, 4, seed=0)
    b = stratified_kfold(y, 4, seed=0)
    c = stratified_kfold(y, 4, seed=1)
    np.testing.assert_array_equal(a[0][1], b[0][1])
    assert any(not np.array_equal(x[1], z[1]) for x, z in zip(a, c))
    plain = stratified_kfold(y, 4, shuffle=False)
    np.testing.assert_array_equal(plain[0][1], np.arange(10))


@pytest.mark.parametrize("n_splits", [1, 0, 2.0])
def test_kfold_bad_n_splits(n_splits):
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        stratified_kfold([0, 1] * 10, n_splits)


def test_kfold_smallest_class_too_small():
    y = np.array([0] * 10 + [1] * 10 + [2] * 3)
    with pytest.raises(ValueError, match=r"n_splits=5 .*class 2 has only 3 member"):
        stratified_kfold(y, 5)
    assert len(stratified_kfold(y, 3)) == 3


def test_kfold_rejects_continuous_targets():
    with pytest.raises(ValueError, match="y must hold class labels"):
        stratified_kfold(np.linspace(0, 1, 20), 5)


# --------------------------------------------------------------------------------------
# Standardizer


def test_standardizer_fitted_on_train_only(digits):
    bc = data.load_breast_cancer()
    parts = train_val_test_split(bc.x, bc.y, seed=0)
    scaler = Standardizer().fit(parts.x_train)
    train = scaler.transform(parts.x_train)
    test = scaler.transform(parts.x_test)
    assert train.dtype == np.float32 and train.shape == parts.x_train.shape
    np.testing.assert_allclose(train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(train.std(0), 1, atol=1e-4)
    # The test part uses the training statistics, so it is not exactly centred.
    mean_train = parts.x_train.astype(np.float64).mean(0)
    std_train = parts.x_train.astype(np.float64).std(0)
    np.testing.assert_allclose(test, (parts.x_test - mean_train) / std_train, rtol=1e-4)
    assert np.abs(test.mean(0)).max() > 1e-3
    assert scaler.mean_.shape == (30,) and scaler.n_features_in_ == 30


def test_standardizer_matches_sklearn():
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(0).normal(3, 2, (50, 4))
    np.testing.assert_allclose(
        Standardizer().fit_transform(x), StandardScaler().fit_transform(x), atol=1e-10
    )


def test_standardizer_images_per_channel():
    rng = np.random.default_rng(0)
    x = rng.normal([0, 10, -5], [1, 3, 0.5], size=(20, 6, 6, 3)).astype(np.float32)
    scaler = Standardizer()
    z = scaler.fit_transform(x)
    assert scaler.mean_.shape == (3,) and scaler.scale_.shape == (3,)
    np.testing.assert_allclose(scaler.mean_, x.mean(axis=(0, 1, 2)), rtol=1e-4)
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 1, 2)), 1, atol=1e-4)
    np.testing.assert_allclose(scaler.inverse_transform(z), x, rtol=1e-5, atol=1e-5)


def test_standardizer_constant_feature_and_series():
    x = np.column_stack([np.arange(10.0), np.full(10, 0.1)])
    scaler = Standardizer().fit(x)
    assert scaler.scale_[1] == 1.0
    np.testing.assert_allclose(scaler.transform(x)[:, 1], 0, atol=1e-12)
    series = data.load_sunspots().x
    scaler = Standardizer().fit(series[:250])
    z = scaler.transform(series)
    assert z.shape == series.shape and z.dtype == np.float32
    assert z[:250].mean() == pytest.approx(0, abs=1e-5)
    np.testing.assert_allclose(scaler.inverse_transform(z), series, atol=1e-4)


def test_standardizer_errors():
    with pytest.raises(NotFittedError, match=r"not fitted yet; call fit\(x_train\)"):
        Standardizer().transform(np.ones((3, 2)))
    scaler = Standardizer().fit(np.random.default_rng(0).normal(size=(5, 3)))
    with pytest.raises(
        ValueError, match=r"X has 4 features, but Standardizer is expecting 3"
    ):
        scaler.transform(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"x has shape \(3,\) \(rank 1\).*rank-2"):
        scaler.inverse_transform(np.ones(3))
    with pytest.raises(TypeError, match="x must be a dense array.*sparse"):
        scaler.transform(scipy.sparse.csr_matrix(np.ones((2, 3))))
    with pytest.raises(ValueError, match="bytes/strings"):
        scaler.transform(np.array([["a", "b", "c"]]))
    with pytest.raises(ValueError, match=r"x contains 1 NaN"):
        Standardizer().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="x is empty"):
        Standardizer().fit(np.zeros((0, 3)))


def test_standardizer_is_a_scikit_learn_transformer():
    """clone, Pipeline, get_params, DataFrame column names and set_output work as
    for any scikit-learn transformer (the full contract is checked in
    tests/baselines/test_estimator_checks.py)."""
    import pandas as pd
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    bc = data.load_breast_cancer()
    frame = pd.DataFrame(bc.x[:, :3], columns=["a", "b", "c"])
    scaler = Standardizer().fit(frame)
    np.testing.assert_array_equal(scaler.feature_names_in_, ["a", "b", "c"])
    np.testing.assert_array_equal(scaler.get_feature_names_out(), ["a", "b", "c"])
    with pytest.raises(ValueError, match="feature names should match"):
        scaler.transform(frame.rename(columns={"a": "z"}))
    out = clone(scaler).set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == ["a", "b", "c"]
    assert not hasattr(clone(scaler), "mean_") and scaler.get_params() == {}
    pipe = make_pipeline(Standardizer(), LogisticRegression(max_iter=500))
    assert pipe.fit(bc.x, bc.y).score(bc.x, bc.y) > 0.95
