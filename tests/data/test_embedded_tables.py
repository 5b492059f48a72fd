"""The real mixed tables bundled with palmerpenguins and vega_datasets."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from kerasdl import data
from kerasdl.data import describe_table, load_table
from kerasdl.data.embedded_tables import _bundled_file


@pytest.mark.usefixtures("no_network")
def test_penguins():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a built-in set loads without warnings
        ds = data.load_penguins()
    assert ds.name == "penguins" and ds.task == "classification"
    assert ds.is_raw_table and ds.x.shape == (344, 7)
    assert ds.feature_types == {
        "island": "categorical",
        "bill_length_mm": "numeric",
        "bill_depth_mm": "numeric",
        "flipper_length_mm": "numeric",
        "body_mass_g": "numeric",
        "sex": "categorical",
        "year": "numeric",
    }
    assert ds.class_names == ["Adelie", "Chinstrap", "Gentoo"]
    assert np.bincount(ds.y).tolist() == [152, 68, 124]
    missing = ds.x.isna().sum()
    assert missing["sex"] == 11 and missing["bill_length_mm"] == 2
    assert missing.sum() == 19
    assert set(ds.x["island"]) == {"Biscoe", "Dream", "Torgersen"}
    assert set(ds.x["sex"].dropna()) == {"female", "male"}
    assert sorted(ds.x["year"].unique()) == [2007, 2008, 2009]
    assert "Gorman" in ds.description and "palmerpenguins" in ds.description


@pytest.mark.usefixtures("no_network")
def test_cars():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = data.load_cars()
    assert ds.name == "cars" and ds.task == "regression"
    assert ds.is_raw_table and ds.x.shape == (398, 8)
    assert ds.extra["dropped_target_rows"] == 8
    assert ds.feature_types == {
        "Name": "text",
        "Cylinders": "numeric",
        "Displacement": "numeric",
        "Horsepower": "numeric",
        "Weight_in_lbs": "numeric",
        "Acceleration": "numeric",
        "Year": "date",
        "Origin": "categorical",
    }
    assert ds.x["Horsepower"].isna().sum() == 6
    assert ds.x["Year"].dt.year.min() == 1970 and ds.x["Year"].dt.year.max() == 1982
    assert set(ds.x["Origin"]) == {"USA", "Europe", "Japan"}
    assert ds.x["Name"].iloc[0] == "chevrolet chevelle malibu"
    assert ds.y.dtype == np.float32
    assert ds.y.min() == pytest.approx(9.0) and ds.y.max() == pytest.approx(46.6)
    assert "Auto MPG" in ds.description and "vega_datasets" in ds.description


def test_cars_name_would_be_a_warned_categorical_without_the_override():
    # Why load_cars passes text=["Name"]: inference alone warns about 300+ levels.
    frame = pd.read_json(_bundled_file("vega_datasets", "_data", "cars.json"))
    with pytest.warns(UserWarning, match="categorical column 'Name' has"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="target")
            ds = load_table(frame, "Miles_per_Gallon")
    assert ds.feature_types["Name"] == "categorical"


@pytest.mark.usefixtures("no_network")
def test_seattle_weather():
    ds = data.load_seattle_weather()
    assert ds.name == "seattle_weather" and ds.task == "classification"
    assert ds.is_raw_table and ds.x.shape == (1461, 5)
    assert ds.feature_types == {
        "date": "date",
        "precipitation": "numeric",
        "temp_max": "numeric",
        "temp_min": "numeric",
        "wind": "numeric",
    }
    assert ds.class_names == ["drizzle", "fog", "rain", "snow", "sun"]
    counts = np.bincount(ds.y)
    assert counts.sum() == 1461 and counts.min() < 0.05 * counts.max()
    dates = ds.x["date"]
    assert dates.iloc[0] == pd.Timestamp("2012-01-01")
    assert dates.iloc[-1] == pd.Timestamp("2015-12-31")
    assert dates.is_monotonic_increasing and dates.notna().all()
    assert "Seattle" in ds.description and "2012-2015" in ds.description


def test_registered_as_embedded_sets():
    for name in ("penguins", "cars", "seattle_weather"):
        assert name in data.EMBEDDED_DATASETS and name in data.list_datasets()
    assert data.load_dataset("penguins").x.shape == (344, 7)


def test_describe_the_embedded_tables():
    text = describe_table(data.load_cars())
    assert "dropped rows: 8 with a missing target" in text
    assert "missing cells (6): Horsepower 6" in text
    text = describe_table(data.load_penguins())
    assert "Adelie 152, Chinstrap 68, Gentoo 124" in text


def test_vega_datasets_is_not_imported():
    sys.modules.pop("vega_datasets", None)
    data.load_seattle_weather()
    assert "vega_datasets" not in sys.modules


def test_missing_package_error():
    with pytest.raises(ValueError, match=r"'no_such_pkg_kerasdl'.*pip install"):
        _bundled_file("no_such_pkg_kerasdl", "data.csv")
    with pytest.raises(ValueError, match=r"lacks its data file 'nope\.csv'"):
        _bundled_file("vega_datasets", "nope.csv")
