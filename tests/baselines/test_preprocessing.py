"""Raw-table preprocessing: fitted on the training rows only, every role encoded."""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from kerasdl.baselines.preprocessing import (
    MAX_TREE_CATEGORIES,
    MISSING_CATEGORY,
    TREE_TEXT_FEATURES,
    DateFeatures,
    categorical_columns,
    make_preprocessor,
)

FEATURE_TYPES = {
    "size": "numeric",
    "colour": "categorical",
    "review": "text",
    "day": "date",
}


def _dense(x):
    return x.toarray() if sparse.issparse(x) else np.asarray(x)


@pytest.fixture
def train_rows():
    """20 rows; every colour seen 5+ times (no "infrequent" group), one missing cell
    per role."""
    size = np.arange(1.0, 21.0)
    size[3] = np.nan
    colour = ["red", "green", "blue", None] * 5
    colour[7] = np.nan  # NaN and None are both "missing"
    review = ["good value", "bad fit", "good fit", ""] * 5
    day = pd.to_datetime([f"2021-01-{d:02d}" for d in range(1, 21)])
    day = day.where(np.arange(20) != 5)  # one NaT
    return pd.DataFrame(
        {
            "size": size,
            "colour": pd.Series(colour, dtype=object),
            "review": review,
            "day": day,
            "row_id": np.arange(20.0),  # not in FEATURE_TYPES: dropped
        }
    )


@pytest.fixture
def test_rows():
    """Test-only values: an extreme number, an unseen colour and word, a far date."""
    return pd.DataFrame(
        {
            "size": [1.0e6, np.nan],
            "colour": pd.Series(["purple", "red"], dtype=object),
            "review": ["zebra", "good"],
            "day": pd.to_datetime(["2099-12-31", None]),
            "row_id": [100.0, 101.0],
        }
    )


def _block(preprocessor, x, name):
    """The output columns of transformer `name` for rows `x`."""
    columns = preprocessor.output_indices_[name]
    return _dense(preprocessor.transform(x))[:, columns]


def test_linear_recipe_is_fitted_on_the_training_rows_only(train_rows, test_rows):
    pre = make_preprocessor(FEATURE_TYPES, for_trees=False).fit(train_rows)
    width = _dense(pre.transform(train_rows)).shape[1]
    out = _dense(pre.transform(test_rows))
    assert out.shape == (2, width)  # the test rows do not change the output width

    # Numbers: the median and the mean come from the training rows only.
    imputer, scaler = pre.named_transformers_["numeric"]
    train_size = train_rows["size"].to_numpy()
    assert imputer.statistics_[0] == np.nanmedian(train_size)
    imputed = np.where(np.isnan(train_size), np.nanmedian(train_size), train_size)
    np.testing.assert_allclose(scaler.mean_[0], imputed.mean())
    assert scaler.mean_[0] < 20
    # The test row's 1e6 is scaled with the training statistics (and not clipped).
    size_out = _block(pre, test_rows, "numeric")[:, 0]
    np.testing.assert_allclose(size_out[0], (1.0e6 - imputed.mean()) / scaler.scale_[0])
    # The missing test value becomes the training median, not the test median.
    np.testing.assert_allclose(
        size_out[1], (np.nanmedian(train_size) - imputed.mean()) / scaler.scale_[0]
    )
    # Fitting on all rows would have moved them: the check above can fail.
    leaky = make_preprocessor(FEATURE_TYPES, for_trees=False)
    leaky.fit(pd.concat([train_rows, test_rows]))
    assert leaky.named_transformers_["numeric"][1].mean_[0] > 1000

    # Categories: "purple" was never seen: all zeros; "red" is one-hot.
    encoder = pre.named_transformers_["categorical"][-1]
    assert encoder.infrequent_categories_ == [None]
    assert "purple" not in set(encoder.categories_[0])
    colour_out = _block(pre, test_rows, "categorical")
    np.testing.assert_array_equal(colour_out[0], 0)
    assert colour_out[1].sum() == 1
    red = list(encoder.categories_[0]).index("red")
    assert colour_out[1, red] == 1

    # Words: the vocabulary is the training rows'.
    vocabulary = pre.named_transformers_["text_0"].vocabulary_
    assert set(vocabulary) == {"good", "bad", "value", "fit"}
    np.testing.assert_array_equal(_block(pre, test_rows, "text_0")[0], 0)

    # Dates: NaT imputed with the training median, scaled with the training mean.
    date_imputer, date_scaler = pre.named_transformers_["date"][1:]
    train_days = DateFeatures().fit_transform(train_rows[["day"]])
    np.testing.assert_allclose(date_imputer.statistics_, np.nanmedian(train_days, 0))
    assert date_scaler.mean_[0] == pytest.approx(2021.0)  # the year, not 2099


def test_tree_recipe_is_fitted_on_the_training_rows_only(train_rows, test_rows):
    pre = make_preprocessor(FEATURE_TYPES, for_trees=True).fit(train_rows)
    out = pre.transform(test_rows)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64  # dense
    assert out.shape[1] == pre.transform(train_rows).shape[1]
    names = list(pre.get_feature_names_out())

    # Categories: codes from the training rows; unseen -> -1 (missing for boosting).
    encoder = pre.named_transformers_["categorical"][-1]
    assert list(encoder.categories_[0]) == sorted(
        ["red", "green", "blue", MISSING_CATEGORY]
    )
    assert categorical_columns(FEATURE_TYPES) == [0]
    assert names[0] == "categorical__colour"
    assert out[0, 0] == -1
    assert out[1, 0] == list(encoder.categories_[0]).index("red")

    # Numbers pass through untouched, NaN included: trees split on order.
    size = names.index("numeric__size")
    assert out[0, size] == 1.0e6
    assert np.isnan(out[1, size])

    # Dates: calendar numbers with NaN for NaT; words: the training vocabulary.
    year = names.index("date__day_year")
    assert out[0, year] == 2099 and np.isnan(out[1, year])
    assert not any(name.endswith("zebra") for name in names)
    assert "row_id" not in " ".join(names)


def test_missing_category_is_one_category_whatever_its_spelling():
    # None, NaN and pd.NA in an object column, and NaN in pandas' string dtype.
    x = pd.DataFrame(
        {
            "a": pd.Series(["x", None, "y", np.nan, pd.NA, "x"], dtype=object),
            "b": pd.Series(["p", None, "q", None, "p", "q"], dtype="str"),
        }
    )
    types = {"a": "categorical", "b": "categorical"}
    for for_trees in (False, True):
        pre = make_preprocessor(types, for_trees=for_trees).fit(x)
        encoder = pre.named_transformers_["categorical"][-1]
        for categories in encoder.categories_:
            assert list(categories).count(MISSING_CATEGORY) == 1
            assert len(categories) == 3  # two values + "(missing)"


def test_rare_and_unseen_categories_share_the_infrequent_column():
    x = pd.DataFrame({"c": pd.Series(["a"] * 10 + ["b"] * 10 + ["rare"] * 2)})
    pre = make_preprocessor({"c": "categorical"}, for_trees=False).fit(x)
    names = list(pre.get_feature_names_out())
    assert names == [
        "categorical__c_a",
        "categorical__c_b",
        "categorical__c_infrequent_sklearn",
    ]
    out = _dense(pre.transform(pd.DataFrame({"c": ["rare", "never-seen"]})))
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 0, 1]])


def test_tree_codes_stay_within_histogram_boosting_limit():
    x = pd.DataFrame({"c": [f"v{i}" for i in range(400)]})
    pre = make_preprocessor({"c": "categorical"}, for_trees=True)
    codes = pre.fit_transform(x)
    assert codes.max() == MAX_TREE_CATEGORIES - 1
    assert len(np.unique(codes)) == MAX_TREE_CATEGORIES


def test_text_vocabulary_is_capped_and_dense_for_trees():
    words = [f"w{i}" for i in range(500)]
    x = pd.DataFrame({"t": [" ".join(words[i : i + 5]) for i in range(0, 495)]})
    linear = make_preprocessor({"t": "text"}, for_trees=False, max_text_features=50)
    assert linear.fit_transform(x).shape == (495, 50)
    assert sparse.issparse(linear.transform(x))  # sparse is fine for linear models
    trees = make_preprocessor({"t": "text"}, for_trees=True).fit(x)
    out = trees.transform(x)
    assert isinstance(out, np.ndarray) and out.shape == (495, TREE_TEXT_FEATURES)


def test_output_order_puts_categorical_codes_first():
    types = {"n": "numeric", "t": "text", "c1": "categorical", "d": "date"}
    types["c2"] = "categorical"
    x = pd.DataFrame(
        {
            "n": [1.0, 2.0, 3.0],
            "t": ["ant bee", "bee cat", "cat dog"],
            "c1": ["x", "y", "x"],
            "d": pd.to_datetime(["2020-01-01", "2020-06-01", None]),
            "c2": ["u", "u", None],
        }
    )
    names = list(
        make_preprocessor(types, for_trees=True).fit(x).get_feature_names_out()
    )
    assert categorical_columns(types) == [0, 1]
    assert names[:3] == ["categorical__c1", "categorical__c2", "numeric__n"]


def test_date_features_values_names_and_missing():
    x = pd.DataFrame(
        {
            "when": pd.to_datetime(["2024-02-29 12:00", None, "1970-01-01 00:00"]),
            "utc": pd.to_datetime(["2024-02-29 23:30"] * 3).tz_localize("UTC"),
        }
    )
    dates = DateFeatures()
    assert dates.fit(x) is dates
    out = dates.transform(x)
    assert out.shape == (3, 10) and out.dtype == np.float64
    # 2024-02-29 is a Thursday (Monday = 0), the 60th day, 19782 days after 1970.
    np.testing.assert_allclose(out[0, :5], [2024, 2, 3, 60, 19782.5])
    assert np.isnan(out[1, :5]).all()
    np.testing.assert_allclose(out[2, :5], [1970, 1, 3, 1, 0])
    np.testing.assert_allclose(out[0, 5:], [2024, 2, 3, 60, 19782 + 23.5 / 24])
    assert list(dates.get_feature_names_out()[:5]) == [
        "when_year",
        "when_month",
        "when_day_of_week",
        "when_day_of_year",
        "when_days_since_epoch",
    ]
    # Any datetime resolution (pandas 3 reads some dates as microseconds).
    micro = pd.DataFrame({"when": x["when"].astype("datetime64[us]")})
    np.testing.assert_allclose(DateFeatures().fit_transform(micro), out[:, :5])


def test_date_features_follows_the_sklearn_contract():
    x = pd.DataFrame({"d": pd.to_datetime(["2020-01-01", "2021-01-01"])})
    dates = DateFeatures()
    assert dates.get_params() == {}
    with pytest.raises(NotFittedError):
        dates.transform(x)
    fitted = dates.fit(x)
    assert fitted.n_features_in_ == 1 and list(fitted.feature_names_in_) == ["d"]
    assert not hasattr(clone(fitted), "n_features_in_")
    with pytest.raises(ValueError, match="feature names should match"):
        fitted.transform(pd.DataFrame({"d": x["d"], "e": x["d"]}))
    # A NumPy datetime array works too; names default to x0, x1, ...
    array = DateFeatures().fit(x.to_numpy())
    assert list(array.get_feature_names_out()[:1]) == ["x0_year"]
    np.testing.assert_array_equal(array.transform(x.to_numpy()), fitted.transform(x))
    with pytest.raises(ValueError, match=r"2-D input .* received shape \(2,\)"):
        DateFeatures().fit(x["d"])


@pytest.mark.parametrize(
    "feature_types, match",
    [
        (None, "feature_types must be a non-empty dict"),
        ({}, "feature_types must be a non-empty dict"),
        ({"a": "numeric", "b": "image"}, r"roles must be in .*\{'b': 'image'\}"),
    ],
)
def test_bad_feature_types_name_the_argument(feature_types, match):
    with pytest.raises(ValueError, match=match):
        make_preprocessor(feature_types, for_trees=False)


def test_bad_options_name_the_argument():
    with pytest.raises(ValueError, match="for_trees must be True or False; received 1"):
        make_preprocessor({"a": "numeric"}, for_trees=1)
    with pytest.raises(ValueError, match="max_text_features .* received 0"):
        make_preprocessor({"a": "text"}, for_trees=False, max_text_features=0)
