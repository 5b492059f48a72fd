"""Real mixed-type tables that ship inside installed dependencies: no network, ever.

The built-in scikit-learn tables are clean (numeric, complete). These three are
tables as they come: text categories, missing cells, dates, a missing target. Each is
read from a file bundled with a dependency (`palmerpenguins`, `vega_datasets`) and
goes through `kerasdl.data.load_table`, so it is a raw table (`Dataset.is_raw_table`)
with `feature_types` set.
"""

from __future__ import annotations

import importlib.util
import json
import os
import warnings

import pandas as pd

from kerasdl.data.dataset import Dataset
from kerasdl.data.table import load_table

__all__ = ["load_cars", "load_penguins", "load_seattle_weather"]


def _bundled_file(package: str, *parts: str) -> str:
    """The path of a data file inside an installed package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"this dataset ships inside the {package!r} package, which is not "
            f"installed; install it with `pip install {package}`."
        )
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, *parts)
        if os.path.isfile(path):
            return path
    raise ValueError(
        f"the {package!r} package is installed but lacks its data file "
        f"{'/'.join(parts)!r}; reinstall it with `pip install --force-reinstall "
        f"{package}`."
    )


def _with_description(ds: Dataset, name: str, description: str, source: str):
    ds.name = name
    ds.description = description
    ds.extra["source"] = source
    return ds


def load_penguins() -> Dataset:
    """Load the Palmer penguins table (344 penguins, 3 species), as it comes.

    Read from the `palmerpenguins` package's bundled `data/penguins.csv`.

    Returns:
        A classification `Dataset` (`species`: Adelie, Chinstrap, Gentoo): `x` a
        `DataFrame` `(344, 7)` with `island` and `sex` categorical and
        `bill_length_mm`, `bill_depth_mm`, `flipper_length_mm`, `body_mass_g` and
        `year` numeric; 2 penguins have no measurements and 11 no sex (missing
        cells, left for the models to impute inside each fold).

    Raises:
        ValueError: `palmerpenguins` is not installed.

    Example:

    ```python
    ds = load_penguins()
    ds.feature_types["island"]  # "categorical"
    ```
    """
    path = _bundled_file("palmerpenguins", "data", "penguins.csv")
    ds = load_table(path, "species", sep=",")
    return _with_description(
        ds,
        "penguins",
        "Palmer penguins (Gorman, Williams and Fraser 2014; Palmer Station Antarctica "
        "LTER), as bundled with the palmerpenguins package "
        "(palmerpenguins/data/penguins.csv): 344 real penguins of "
        "three species (Adelie 152, Chinstrap 68, Gentoo 124) on three islands, "
        "2007-2009, with bill length and depth, flipper length, body mass, sex, "
        "island and year. A real mixed table: two categorical columns, 19 missing "
        "cells (2 penguins without measurements, 11 without sex).",
        "palmerpenguins/data/penguins.csv",
    )


def load_cars() -> Dataset:
    """Load the Auto MPG cars table (406 cars, 1970-1982), as it comes.

    Read from the `vega_datasets` package's bundled `_data/cars.json` (the package
    itself is not imported). The 8 cars whose fuel consumption is missing are
    dropped (`extra["dropped_target_rows"] == 8`). `Name` (the car's model name,
    e.g. "chevrolet chevelle malibu") is passed as `text=`: role inference would
    make it a categorical of 300 mostly unique levels (and warn), while its words
    (the maker, "diesel", "wagon") are what carries information.

    Returns:
        A regression `Dataset` (`Miles_per_Gallon`, 9..46.6): `x` a `DataFrame`
        `(398, 8)` with `Name` text, `Origin` categorical (USA, Europe, Japan),
        `Year` a date (January 1st of the model year), and `Cylinders`,
        `Displacement`, `Horsepower` (6 missing cells), `Weight_in_lbs`,
        `Acceleration` numeric.

    Raises:
        ValueError: `vega_datasets` is not installed.
    """
    path = _bundled_file("vega_datasets", "_data", "cars.json")
    with open(path, encoding="utf-8") as f:
        frame = pd.DataFrame(json.load(f))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="target 'Miles_per_Gallon'")
        ds = load_table(frame, "Miles_per_Gallon", text=["Name"])
    return _with_description(
        ds,
        "cars",
        "Auto MPG (Donoho and Ramos 1982; the StatLib library of Carnegie Mellon "
        "University and the UCI ML repository; used in the 1983 American Statistical "
        "Association Exposition), "
        "as bundled with the vega_datasets package (vega_datasets/_data/cars.json): "
        "406 real car models of 1970-1982 "
        "from the USA, Europe and Japan, with cylinders, displacement, horsepower, "
        "weight, acceleration, model year, origin and name; the target is fuel "
        "consumption in miles per gallon. The 8 cars without it are dropped (398 "
        "left); horsepower is missing for 6 of them.",
        "vega_datasets/_data/cars.json",
    )


def load_seattle_weather() -> Dataset:
    """Load Seattle's daily weather 2012-2015 (1,461 days, 5 kinds of weather).

    Read from the `vega_datasets` package's bundled `_data/seattle-weather.csv`.

    Returns:
        A classification `Dataset` (`weather`: drizzle, fog, rain, snow, sun, very
        imbalanced: 23 snowy days against 714 sunny ones): `x` a `DataFrame`
        `(1461, 5)` with `date` a date and `precipitation`, `temp_max`, `temp_min`,
        `wind` numeric. The rows are consecutive days: split by time, not at random,
        to measure a forecast honestly.

    Raises:
        ValueError: `vega_datasets` is not installed.
    """
    path = _bundled_file("vega_datasets", "_data", "seattle-weather.csv")
    ds = load_table(path, "weather", sep=",")
    return _with_description(
        ds,
        "seattle_weather",
        "Seattle daily weather 2012-2015 (public-domain NOAA records), as bundled "
        "with the vega_datasets package "
        "(vega_datasets/_data/seattle-weather.csv): 1,461 real days with "
        "precipitation (mm), maximum and minimum temperature (C) and wind (m/s); "
        "the target is the day's weather, very imbalanced (sun 714, fog 411, rain "
        "259, drizzle 54, snow 23). Consecutive days are correlated: a random split "
        "is optimistic.",
        "vega_datasets/_data/seattle-weather.csv",
    )
