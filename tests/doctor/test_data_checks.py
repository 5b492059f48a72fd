"""Data checks: each fires on its planted problem in a copy of an embedded dataset,
and stays silent on the healthy original."""

import numpy as np
import pytest

from kerasdl.data import (
    Dataset,
    load_dataset,
    load_digits,
    load_wine,
)
from kerasdl.doctor import (
    check_data,
    diagnose_dataset,
    format_findings,
)

# --- healthy data: the checks stay quiet ------------------------------------


def test_digits_stratified_split_is_healthy(by_check):
    # Measured: digits has no duplicate images, no NaN and no identical or
    # near-identical images with different labels; 4 border pixels are always 0 in
    # the training part, which is reported as info only.
    ds = load_digits()
    x = ds.x.reshape(len(ds.x), -1)
    assert len(np.unique(x, axis=0)) == len(x)
    found = by_check(diagnose_dataset(ds))
    assert set(found) == {"constant_features"}
    assert found["constant_features"].severity == "info"
    assert "pixel (0, 0, 0)" in found["constant_features"].message


@pytest.mark.parametrize("name", ["wine", "breast_cancer"])
def test_raw_tables_only_report_scale(name, by_check):
    found = by_check(diagnose_dataset(load_dataset(name)))
    assert set(found) == {"feature_scale"}
    assert found["feature_scale"].severity == "warning"


def test_findings_format_as_a_table(wine):
    table = format_findings(diagnose_dataset(wine), title="wine")
    assert table.startswith("wine: 1")
    assert "feature_scale" in table and "proline" in table


def test_unstratifiable_class_falls_back_to_a_random_split(wine, by_check):
    y = wine.y.copy()
    y[0] = 3  # a class with a single member cannot be stratified
    ds = Dataset(x=wine.x, y=y, name="w", task="classification", description="")
    found = by_check(diagnose_dataset(ds))
    assert found["class_balance"].severity == "error"


def test_regression_and_unlabelled_data_skip_label_checks(by_check):
    found = by_check(diagnose_dataset(load_dataset("diabetes")))
    assert not {"class_balance", "label_conflicts", "samples_per_class"} & set(found)
    series = by_check(diagnose_dataset(load_dataset("sunspots")))
    assert "duplicates" not in series  # a single column repeats values by nature


# --- bad input -----------------------------------------------------------------


def test_bad_input_raises_naming_the_argument(wine):
    x, y = wine.x, wine.y
    with pytest.raises(ValueError, match=r"len\(x\)=178 and len\(y\)=177"):
        check_data(x, y[:-1])
    with pytest.raises(ValueError, match=r"x_test must have the same per-sample shape"):
        check_data(x, y, x_test=x[:, :5])
    with pytest.raises(ValueError, match=r"len\(x_test\)=10 and len\(y_test\)=9"):
        check_data(x, y, x_test=x[:10], y_test=y[:9])
    with pytest.raises(ValueError, match=r"task must be one of .*'clustering'"):
        check_data(x, y, task="clustering")
    with pytest.raises(ValueError, match=r"x is empty; received shape \(0, 13\)"):
        check_data(np.zeros((0, 13)))
    with pytest.raises(ValueError, match=r"x_test is empty"):
        check_data(x, x_test=np.zeros((0, 13)))
    with pytest.raises(ValueError, match=r"x must be numeric .*received dtype <U1"):
        check_data(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=r"y_test was given without x_test"):
        check_data(x, y, y_test=y)
    with pytest.raises(ValueError, match=r"y holds non-integer values.*regression"):
        check_data(x, y + 0.5)
    with pytest.raises(ValueError, match=r"feature_names must name each of the 13"):
        check_data(x, y, feature_names=["a", "b"])
    with pytest.raises(ValueError, match=r"class_names has 2 names but y holds"):
        check_data(x, y, class_names=["a", "b"])


def test_diagnose_dataset_bad_input():
    with pytest.raises(TypeError, match=r"received ndarray"):
        diagnose_dataset(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"test_size .* received 1.5"):
        diagnose_dataset(load_wine(), test_size=1.5)
    text = Dataset(
        x=np.array(["a text", "another"]),
        y=None,
        name="t",
        task="text",
        description="two documents",
    )
    with pytest.raises(ValueError, match=r"x of dtype <U7"):
        diagnose_dataset(text)
