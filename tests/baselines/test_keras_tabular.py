"""KerasTabularClassifier and KerasTabularRegressor: estimators on raw tables."""

import pickle

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from kerasdl.baselines.keras_tabular import (
    TABULAR_ARCHITECTURES,
    KerasTabularClassifier,
    KerasTabularRegressor,
    clear_compiled_cache,
    make_tabular_estimator,
)
from kerasdl.models.tabular import TabularMLP
from kerasdl.models.tabular.tabular_model import TabularModel

ROLES = {"size": "numeric", "colour": "categorical", "note": "text", "day": "date"}
TINY = {"depth": 1, "width": 8}


def _table(n=48, seed=0):
    """A small mixed table whose label follows `size` and `colour`."""
    rng = np.random.default_rng(seed)
    size = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n).astype(object)
    frame = pd.DataFrame(
        {
            "size": size,
            "colour": colour,
            "note": rng.choice(["big box", "small box", "", "box"], size=n),
            "day": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(rng.integers(0, 400, size=n), unit="D"),
        }
    )
    frame.loc[::7, "size"] = np.nan
    frame.loc[3::11, "colour"] = None
    frame.loc[5::13, "day"] = pd.NaT
    score = np.nan_to_num(size) + (colour == "red")
    labels = np.where(score > 0.5, "yes", "no")
    return frame, labels, score


def _classifier(**kwargs):
    params = dict(
        architecture="mlp",
        feature_types=ROLES,
        network_kwargs=TINY,
        epochs=6,
        patience=3,
        max_tokens=8,
        random_state=0,
    )
    params.update(kwargs)
    return KerasTabularClassifier(**params)


def test_classifier_fits_and_predicts_raw_rows_with_string_labels():
    frame, labels, _ = _table()
    model = _classifier().fit(frame.iloc[:40], labels[:40])
    assert list(model.classes_) == ["no", "yes"]
    test = frame.iloc[40:].copy()
    test.loc[test.index[0], "colour"] = "purple"  # never seen in training
    proba = model.predict_proba(test)
    assert proba.shape == (8, 2) and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    pred = model.predict(test)
    assert pred.dtype.kind == "U" and set(pred) <= {"no", "yes"}
    np.testing.assert_array_equal(pred, model.classes_[np.argmax(proba, axis=1)])
    assert 0.0 <= model.score(test, labels[40:]) <= 1.0
    assert 1 <= model.n_epochs_ <= 6 and len(model.history_["val_loss"]) >= 1
    # The fitted TabularModel predicts the same from raw rows, and counts weights.
    assert isinstance(model.model_, TabularModel)
    np.testing.assert_allclose(model.model_.predict(test), proba, atol=1e-6)
    np.testing.assert_array_equal(model.model_.predict_labels(test), pred)
    assert model.model_.count_params() > 0


def test_integer_labels_come_back_as_given():
    frame, labels, _ = _table()
    y = np.where(labels == "yes", 7, 3)
    model = _classifier(epochs=2).fit(frame, y)
    assert list(model.classes_) == [3, 7]
    assert set(model.predict(frame)) <= {3, 7}


def test_regressor_predicts_on_the_target_scale():
    frame, _, score = _table()
    y = 1000.0 + 50.0 * score
    model = KerasTabularRegressor(
        "mlp",
        feature_types=ROLES,
        network_kwargs=TINY,
        epochs=30,
        max_tokens=8,
        random_state=0,
    ).fit(frame, y)
    assert model.target_mean_ == pytest.approx(y.mean())
    pred = model.predict(frame)
    assert pred.shape == (48,) and np.all(np.isfinite(pred))
    # On the target's scale (not standardized): around 1000, spread like y.
    assert abs(pred.mean() - 1000.0) < 60 and pred.std() > 5
    assert np.isfinite(model.score(frame, y))
    np.testing.assert_allclose(model.model_.predict(frame), pred, rtol=1e-5)


def test_numeric_array_needs_no_feature_types():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 5)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    model = KerasTabularClassifier(network_kwargs=TINY, epochs=3, random_state=0).fit(
        x, y
    )
    assert model.encoder_.n_numeric == 5 and model.predict_proba(x).shape == (40, 2)
    with pytest.raises(ValueError, match=r"5 columns.*\(3, 4\)"):
        model.predict(np.zeros((3, 4), "float32"))


def test_clone_keeps_the_parameters():
    model = _classifier(batch_size=8, learning_rate=0.01, validation_fraction=0.25)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert copy.network_kwargs == TINY and copy.feature_types == ROLES
    frame, labels, _ = _table()
    model.fit(frame, labels)
    fresh = clone(model)
    assert not hasattr(fresh, "weights_") and not hasattr(fresh, "model_")


def test_cached_networks_give_independent_deterministic_fits():
    """Fold A, then B, then A again: A's second fit equals its first, and the
    first fitted estimator still predicts as before (no weights carried over)."""
    frame, labels, _ = _table(n=60)
    fold_a, fold_b = np.arange(0, 45), np.arange(15, 60)
    test = frame.iloc[:20]
    clear_compiled_cache()
    first_a = _classifier().fit(frame.iloc[fold_a], labels[fold_a])
    proba_a = first_a.predict_proba(test)
    b = _classifier().fit(frame.iloc[fold_b], labels[fold_b])
    proba_b = b.predict_proba(test)
    second_a = _classifier().fit(frame.iloc[fold_a], labels[fold_a])
    assert second_a._compiled is first_a._compiled is b._compiled  # one compile
    np.testing.assert_array_equal(second_a.predict_proba(test), proba_a)
    np.testing.assert_array_equal(first_a.predict_proba(test), proba_a)
    np.testing.assert_array_equal(b.predict_proba(test), proba_b)
    assert not np.array_equal(proba_a, proba_b)
    # Without the cache (a fresh compile) the result is the same.
    uncached = _classifier(reuse_compiled=False)
    uncached.fit(frame.iloc[fold_a], labels[fold_a])
    assert uncached._compiled is not first_a._compiled
    np.testing.assert_allclose(uncached.predict_proba(test), proba_a, atol=1e-6)


def test_random_state_changes_the_initial_weights():
    frame, labels, _ = _table()
    a = _classifier(epochs=1, random_state=1).fit(frame, labels)
    b = _classifier(epochs=1, random_state=2).fit(frame, labels)
    c = _classifier(epochs=1, random_state=1).fit(frame, labels)
    assert not np.array_equal(a.predict_proba(frame), b.predict_proba(frame))
    np.testing.assert_array_equal(a.predict_proba(frame), c.predict_proba(frame))


@pytest.mark.torch_skip("Keras on torch predicts eagerly: no compiled function")
def test_second_prediction_does_not_compile_again():
    frame, labels, _ = _table()
    model = _classifier(epochs=2).fit(frame.iloc[:40], labels[:40])
    traces = []
    network = model._compiled.network
    call = network.call

    def counting_call(*args, **kwargs):
        traces.append(1)
        return call(*args, **kwargs)

    network.call = counting_call
    try:
        model.predict_proba(frame.iloc[40:])  # 8 rows: padded to 16, compiled
        model.predict_proba(frame.iloc[40:])
        model.predict_proba(frame.iloc[38:])  # 10 rows: also padded to 16
    finally:
        del network.call
    assert traces == []  # the validation rows (8) already compiled 16 rows


def test_pickled_estimator_predicts_the_same():
    frame, labels, _ = _table()
    model = _classifier(epochs=2).fit(frame, labels)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(
        restored.predict_proba(frame), model.predict_proba(frame), atol=1e-6
    )


def test_saved_model_of_a_fit_predicts_raw_rows(tmp_path):
    frame, labels, _ = _table()
    model = _classifier(epochs=2).fit(frame.iloc[:40], labels[:40])
    path = tmp_path / "table.keras"
    model.model_.save(path)
    loaded = keras.saving.load_model(path)
    rows = frame.iloc[40:].to_dict("records")
    rows[0]["colour"] = "never-seen"
    rows[1]["size"] = None
    np.testing.assert_array_equal(loaded.predict(rows), model.model_.predict(rows))
    np.testing.assert_array_equal(
        loaded.predict_labels(rows), model.predict(pd.DataFrame(rows))
    )


@pytest.mark.slow  # compiling even a tiny FT-Transformer takes ~5-10 s on JAX
def test_ft_transformer_and_network_classes_are_architectures():
    frame, labels, _ = _table()
    ft = KerasTabularClassifier(
        "ft_transformer",
        feature_types=ROLES,
        network_kwargs={"d_token": 8, "n_blocks": 1, "n_heads": 2},
        epochs=2,
        max_tokens=8,
        random_state=0,
    ).fit(frame, labels)
    assert ft.model_.network.__class__.__name__ == "FTTransformer"
    assert ft.predict_proba(frame).shape == (48, 2)
    custom = _classifier(epochs=1)
    custom.set_params(architecture=TabularMLP)
    custom.fit(frame, labels)
    assert isinstance(custom.model_.network, TabularMLP)


def test_table_without_numeric_columns():
    frame, labels, _ = _table()
    model = _classifier(feature_types={"colour": "categorical", "note": "text"})
    model.fit(frame, labels)
    assert sorted(model.encoder_.input_shapes()) == ["categorical", "dense"]
    assert model.predict_proba(frame).shape == (48, 2)


def test_make_tabular_estimator():
    assert TABULAR_ARCHITECTURES == ("mlp", "ft_transformer")
    est = make_tabular_estimator(
        "ft_transformer", task="regression", feature_types=ROLES, epochs=7
    )
    assert isinstance(est, KerasTabularRegressor)
    assert est.architecture == "ft_transformer" and est.epochs == 7
    assert est.feature_types == ROLES and est.random_state == 0
    assert isinstance(make_tabular_estimator("mlp"), KerasTabularClassifier)
    with pytest.raises(ValueError, match="name must be one of"):
        make_tabular_estimator("resnet")
    with pytest.raises(ValueError, match="task must be"):
        make_tabular_estimator("mlp", task="ranking")


def test_bad_input_names_the_argument_and_value():
    frame, labels, score = _table()
    model = _classifier(epochs=1).fit(frame, labels)
    with pytest.raises(ValueError, match=r"lacks the feature column\(s\) \['colour'\]"):
        model.predict(frame.drop(columns="colour"))
    with pytest.raises(ValueError, match=r"Column 'size' is numeric.*'big'"):
        model.predict(frame.assign(size="big"))
    bad_y = score.copy()
    bad_y[4] = np.nan
    regressor = KerasTabularRegressor(feature_types=ROLES, network_kwargs=TINY)
    with pytest.raises(ValueError, match=r"y holds 1 NaN.*row 4"):
        regressor.fit(frame, bad_y)
    with pytest.raises(ValueError, match=r"y holds 1 missing label.*row 2"):
        _classifier().fit(frame, np.where(np.arange(48) == 2, None, labels))
    with pytest.raises(
        ValueError, match=r"at least 2 classes; received 1 class \('no'"
    ):
        _classifier().fit(frame, np.full(48, "no"))
    with pytest.raises(ValueError, match=r"same number of rows.*len\(y\)=47"):
        _classifier().fit(frame, labels[:47])
    with pytest.raises(ValueError, match="architecture must be one of"):
        _classifier(architecture="resnet").fit(frame, labels)
    with pytest.raises(ValueError, match=r"epochs. must be an integer >= 1.*epochs=0"):
        _classifier(epochs=0).fit(frame, labels)
    with pytest.raises(ValueError, match=r"network_kwargs must not set 'n_dense'"):
        _classifier(network_kwargs={"n_dense": 3}).fit(frame, labels)
    with pytest.raises(ValueError, match=r"validation_fraction must be at most 0.5"):
        _classifier(validation_fraction=0.7).fit(frame, labels)
    with pytest.raises(ValueError, match="not fitted yet"):
        _classifier().predict(frame)
