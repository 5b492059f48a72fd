"""The array data checks (`kerasdl.doctor.array_checks`): each fires on its planted
problem in a copy of an embedded dataset, naming the numbers."""

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from kerasdl.data import load_digits
from kerasdl.doctor import array_checks, check_data

# --- planted problems ----------------------------------------------------------


def test_planted_leak_is_found_with_its_count(cancer, by_check, split):
    x_train, x_test, y_train, y_test = split(cancer)
    clean = by_check(check_data(x_train, y_train, x_test=x_test, y_test=y_test))
    assert "train_test_leak" not in clean
    leaky_x = np.concatenate([x_train, x_test[:10]])
    leaky_y = np.concatenate([y_train, y_test[:10]])
    found = by_check(check_data(leaky_x, leaky_y, x_test=x_test, y_test=y_test))
    leak = found["train_test_leak"]
    assert leak.severity == "error"
    assert leak.message.startswith(f"10 of {len(x_test)} test rows")
    assert f"test 0 = train {len(x_train)}" in leak.message


def test_leak_found_across_dtypes_and_signed_zero(by_check):
    x = np.array([[0.0, 1.5], [2.0, 3.0], [4.0, 5.0]], dtype=np.float32)
    x_test = np.array([[-0.0, 1.5], [9.0, 9.0]], dtype=np.float64)
    leak = by_check(check_data(x, x_test=x_test))["train_test_leak"]
    assert leak.message.startswith("1 of 2 test rows")


def test_planted_nans_are_counted_and_located(cancer, by_check):
    x = cancer.x.copy()
    rows, cols = [3, 50, 51, 200, 400], [0, 0, 7, 12, 29]
    x[rows, cols] = np.nan
    found = by_check(check_data(x, cancer.y, feature_names=cancer.feature_names))
    bad = found["non_finite"]
    assert bad.severity == "error"
    assert bad.message.startswith("5 non-finite values (x: 5 NaN and 0 inf in 5 of")
    for j in sorted(set(cols)):
        assert repr(cancer.feature_names[j]) in bad.message
    # the other checks still run on the finite values
    assert "feature_scale" in found and "label_conflicts" not in found


def test_inf_in_test_part_is_reported(cancer, by_check, split):
    x_train, x_test, y_train, _ = split(cancer)
    x_test = x_test.copy()
    x_test[1, 2] = np.inf
    bad = by_check(check_data(x_train, y_train, x_test=x_test))["non_finite"]
    assert "x_test: 0 NaN and 1 inf in 1 of" in bad.message


def test_nan_regression_targets_are_reported(wine, by_check):
    y = wine.x[:, 0].copy()
    y[[4, 9]] = np.nan
    bad = by_check(check_data(wine.x[:, 1:], y, task="regression"))["non_finite"]
    assert bad.message == "2 non-finite values (y: 2 NaN/inf targets of 178)."


def test_planted_duplicates_are_counted(wine, by_check):
    x = np.concatenate([wine.x, wine.x[:20]])
    y = np.concatenate([wine.y, wine.y[:20]])
    found = by_check(check_data(x, y))
    dup = found["duplicates"]
    assert dup.severity == "warning"
    assert dup.message.startswith(f"20 duplicate rows in x (10.1% of {len(x)})")
    assert "(0, 178)" in dup.message
    assert "label_conflicts" not in found  # same labels: no conflict
    assert "duplicates" not in by_check(check_data(wine.x, wine.y))


def test_planted_constant_column_is_named(wine, by_check):
    x = wine.x.copy()
    ash = wine.feature_names.index("ash")
    x[:, ash] = 2.5
    found = by_check(check_data(x, wine.y, feature_names=wine.feature_names))
    const = found["constant_features"]
    assert const.severity == "warning"
    assert const.message == "1 of 13 features are constant in x: 'ash'."
    assert "constant_features" not in by_check(check_data(wine.x, wine.y))


@pytest.mark.parametrize("keep, severity", [(15, "error"), (60, "warning")])
def test_planted_imbalance(cancer, keep, severity, by_check):
    malignant = np.flatnonzero(cancer.y == 0)  # 212 malignant, 357 benign
    rows = np.concatenate([malignant[:keep], np.flatnonzero(cancer.y == 1)])
    found = by_check(
        check_data(cancer.x[rows], cancer.y[rows], class_names=cancer.class_names)
    )
    balance = found["class_balance"]
    assert balance.severity == severity
    assert balance.message.startswith(f"imbalance ratio {357 / keep:.1f}")
    assert f"smallest 'malignant' has {keep}" in balance.message
    assert "macro-F1" in balance.fix
    assert "class_balance" not in by_check(check_data(cancer.x, cancer.y))


def test_single_class_is_an_error(wine, by_check):
    balance = by_check(check_data(wine.x[:50], wine.y[:50]))["class_balance"]
    assert balance.severity == "error" and "single class" in balance.message


def test_flipped_labels_on_identical_rows(wine, by_check):
    x = np.concatenate([wine.x, wine.x[:8]])
    y = np.concatenate([wine.y, (wine.y[:8] + 1) % 3])
    noise = by_check(check_data(x, y))["label_conflicts"]
    assert noise.message.startswith("different labels on 8 pairs of identical")
    assert "0 & 178" in noise.message and "identical)" in noise.message
    assert "involving 16 rows (8.6%)" in noise.message
    assert noise.severity == "error"  # >= 5% of the rows
    assert "label_conflicts" not in by_check(check_data(wine.x, wine.y))
    one = by_check(check_data(x[:179], y[:179]))["label_conflicts"]
    assert one.message.startswith("different labels on 1 pair of identical")
    assert one.severity == "warning"


def test_flipped_labels_on_near_duplicates(wine, by_check):
    rng = np.random.default_rng(0)
    copies = wine.x[:6] + 1e-3 * wine.x.std(axis=0) * rng.normal(size=(6, 13))
    x = np.concatenate([wine.x, copies.astype(np.float32)])
    y = np.concatenate([wine.y, (wine.y[:6] + 1) % 3])
    assert len(np.unique(x, axis=0)) == len(x)  # no exact duplicates
    noise = by_check(check_data(x, y))["label_conflicts"]
    assert noise.message.startswith("different labels on 6 pairs")
    assert "near)" in noise.message


def test_label_conflicts_on_a_sample_when_large(wine, monkeypatch, by_check):
    # force the sampled nearest-neighbour search; identical rows are still all
    # found by hashing
    monkeypatch.setattr(array_checks, "_NN_BUDGET", 1.0)
    monkeypatch.setattr(array_checks, "_MIN_NN_QUERIES", 20)
    x = np.concatenate([wine.x, wine.x[:8]])
    y = np.concatenate([wine.y, (wine.y[:8] + 1) % 3])
    noise = by_check(check_data(x, y))["label_conflicts"]
    assert noise.message.startswith("different labels on 8 pairs")
    assert "searched for 20 sampled rows" in noise.message


def test_unstandardised_wine_fires_and_scaled_wine_is_silent(wine, by_check, split):
    x_train, x_test, y_train, y_test = split(wine)
    raw = by_check(check_data(x_train, y_train, feature_names=wine.feature_names))
    scale = raw["feature_scale"]
    assert scale.message.startswith("13 of 13 features are not standardised")
    assert "'proline'" in scale.message
    assert "training part only" in scale.fix
    scaler = StandardScaler().fit(x_train)
    found = by_check(
        check_data(
            scaler.transform(x_train),
            y_train,
            x_test=scaler.transform(x_test),
            y_test=y_test,
        )
    )
    assert found == {}


def test_one_hot_columns_are_not_flagged_for_scale(by_check):
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(size=200), rng.random(200) < 0.05])
    assert "feature_scale" not in by_check(check_data(x.astype(np.float32)))


def test_unscaled_images_fire_and_unit_images_do_not(by_check):
    ds = load_digits()
    x = ds.x[:300]
    assert "feature_scale" not in by_check(check_data(x, ds.y[:300]))
    scale = by_check(check_data(x * 16, ds.y[:300]))["feature_scale"]
    assert scale.message.startswith("pixel values range 0..16")
    assert "255" in scale.fix


def test_few_samples_per_class_is_info(cancer, by_check):
    rows = np.concatenate([np.arange(20), np.flatnonzero(cancer.y == 0)[:12]])
    rows = np.unique(rows)
    few = by_check(check_data(cancer.x[rows], cancer.y[rows]))["samples_per_class"]
    assert few.severity == "info" and "for 30 features" in few.message
