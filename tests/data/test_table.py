"""Real tables as they come: role inference, dropped rows and columns, errors."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from kerasdl import data
from kerasdl.data import describe_table, infer_feature_types, load_table

N = 30


def _mixed_frame(n=N):
    """One column of every kind a real table holds, and a string target."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "weight": rng.normal(70, 10, n).round(1),
            "children": rng.integers(0, 3, n),
            "member": rng.integers(0, 2, n).astype(bool),
            "color": rng.choice(["red", "green", "blue"], n),
            "review": [
                f"the product was {w} and I would tell my friends number {i}"
                for i, w in enumerate(rng.choice(["good", "bad"], n))
            ],
            "signed_up": [f"2021-03-{i + 1:02d}" for i in range(n)],
            "price": [f"{v:.2f}" for v in rng.uniform(1, 100, n)],
            "ticket": [f"T{i:05d}" for i in range(n)],
            "country": "NZ",
            "notes": [None] * n,
            "label": rng.choice(["yes", "no"], n),
        }
    )
    frame.loc[2, "price"] = "?"
    frame.loc[[4, 5], "color"] = None
    frame.loc[7, "review"] = None
    frame.loc[9, "weight"] = np.nan
    return frame


# --------------------------------------------------------------------------------------
# infer_feature_types


def test_every_role_and_every_drop_reason():
    roles, dropped = infer_feature_types(_mixed_frame(), target="label")
    assert roles == {
        "weight": "numeric",
        "children": "numeric",  # few distinct integers stay numeric
        "member": "categorical",
        "color": "categorical",
        "review": "text",
        "signed_up": "date",
        "price": "numeric",  # numbers stored as text, "?" for missing
    }
    assert list(roles) == [c for c in _mixed_frame().columns if c in roles]
    assert dropped == {
        "id": "ID-like: a distinct value in every row",
        "ticket": "ID-like: a distinct value in every row",
        "country": "constant",
        "notes": "all empty",
    }


def test_without_target_every_column_gets_a_role_or_a_reason():
    frame = _mixed_frame()
    roles, dropped = infer_feature_types(frame)
    assert roles["label"] == "categorical"
    assert set(roles) | set(dropped) == set(frame.columns)


def test_integers_with_a_distinct_value_per_row_are_kept_unless_named_like_ids():
    n = N
    frame = pd.DataFrame(
        {
            "sqft": np.arange(500, 500 + n),  # a measurement, all distinct
            "PassengerId": np.arange(n),
            "customerID": np.arange(n) + 100,
            "user_id": np.arange(n) * 3,
            "Unnamed: 0": np.arange(n),
            "paid": np.arange(n),  # "id" inside a word is not an identifier
            "score": np.linspace(0, 1, n),  # floats are never ID-like
        }
    )
    roles, dropped = infer_feature_types(frame)
    assert roles == {"sqft": "numeric", "paid": "numeric", "score": "numeric"}
    assert set(dropped) == {"PassengerId", "customerID", "user_id", "Unnamed: 0"}
    # Fewer than 20 rows: nothing is ID-like.
    roles, dropped = infer_feature_types(frame.head(19))
    assert dropped == {} and len(roles) == 7


def test_string_rules_codes_dates_and_text():
    n = 40
    frame = pd.DataFrame(
        {
            "zip": [f"0{2100 + i % 7}" for i in range(n)],  # leading zero: codes
            "day": [f"{i % 28 + 1}/03/2014" for i in range(n)],  # not ISO
            "month": [["Jan", "Feb", "Mar"][i % 3] for i in range(n)],
            "title": [f"Chapter {i}: the long and winding road" for i in range(n)],
            "level": [
                ["Some college, no degree", "Bachelor degree or higher"][i % 2]
                for i in range(n)
            ],
            "stamp": pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC"),
            "flag": [True, False, None, True] * (n // 4),
        }
    )
    roles, dropped = infer_feature_types(frame)
    assert roles == {
        "zip": "categorical",
        "day": "date",
        "month": "categorical",  # a month name alone is not a date
        "title": "text",
        "level": "categorical",  # long values but few levels
        "stamp": "date",
        "flag": "categorical",
    }
    assert dropped == {}


def test_overrides_win_over_inference():
    frame = _mixed_frame()
    roles, dropped = infer_feature_types(
        frame,
        categorical=["children", "id"],
        text="color",
        ignore=("weight", "review"),
        target="label",
    )
    assert roles["children"] == "categorical"
    assert roles["id"] == "categorical"  # kept although ID-like
    assert roles["color"] == "text"
    assert dropped["weight"] == dropped["review"] == "--ignore"
    # An empty column stays dropped whatever the lists say.
    roles, dropped = infer_feature_types(frame, categorical=["notes"])
    assert "notes" not in roles and dropped["notes"] == "all empty"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"categorical": ["colour"]},
            r"categorical= names unknown column\(s\) 'colour'; available columns: "
            r"'id', 'weight'",
        ),
        ({"ignore": "nope"}, r"ignore= names unknown column\(s\) 'nope'"),
        (
            {"categorical": ["color"], "text": ["color"]},
            r"column 'color' is listed in both categorical= and text=",
        ),
        (
            {"categorical": ["label"]},
            r"target 'label' is also listed in categorical=\['label'\]",
        ),
        ({"target": "species"}, r"target 'species' is not a column.*'label'"),
    ],
)
def test_infer_feature_types_errors_name_argument_and_value(kwargs, match):
    kwargs = {"target": "label", **kwargs}
    with pytest.raises(ValueError, match=match):
        infer_feature_types(_mixed_frame(), **kwargs)


def test_infer_feature_types_type_errors():
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame.*ndarray"):
        infer_feature_types(np.zeros((3, 2)))
    with pytest.raises(TypeError, match=r"categorical must hold column names.*\b3\b"):
        infer_feature_types(_mixed_frame(), categorical=[3])
    with pytest.raises(TypeError, match=r"text must be a column name.*\b5\b"):
        infer_feature_types(_mixed_frame(), text=5)


def test_high_cardinality_categorical_warns():
    n = 300
    frame = pd.DataFrame(
        {
            "model": [f"maker{i % 200 % 7} model {i % 200}" for i in range(n)],
            "y": np.arange(n) % 2,
        }
    )
    with pytest.warns(UserWarning, match=r"'model' has 200 distinct values.*text="):
        roles, _ = infer_feature_types(frame, target="y")
    assert roles == {"model": "categorical"}
    # No warning once the user has said what the column is.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert infer_feature_types(frame, target="y", categorical="model")[0] == {
            "model": "categorical"
        }


# --------------------------------------------------------------------------------------
# load_table: the raw table


def test_load_table_normalises_every_role():
    frame = _mixed_frame()
    before = frame.copy()
    ds = load_table(frame, "label")
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is untouched
    assert ds.is_raw_table and ds.name == "table"
    x = ds.x
    assert list(x.columns) == ds.feature_names == list(ds.feature_types)
    assert isinstance(x.index, pd.RangeIndex) and x.index[-1] == N - 1
    assert x["weight"].dtype == np.float64 and np.isnan(x["weight"].iloc[9])
    assert x["children"].dtype == np.float64
    assert x["member"].dtype == object
    assert set(x["member"]) == {"True", "False"}
    assert x["color"].dtype == object
    assert x["color"].isna().sum() == 2
    assert set(x["color"].dropna()) == {"red", "green", "blue"}
    assert x["review"].dtype == object and x["review"].iloc[7] == ""
    assert x["signed_up"].dtype == "datetime64[ns]"
    assert x["signed_up"].iloc[3] == pd.Timestamp("2021-03-04")
    assert x["price"].dtype == np.float64 and np.isnan(x["price"].iloc[2])
    assert x["price"].iloc[0] == pytest.approx(float(frame["price"].iloc[0]))
    assert ds.extra["converted_columns"] == ["price"]
    assert ds.extra["source"] == "DataFrame" and ds.extra["target"] == "label"
    assert ds.extra["dropped_columns"]["country"] == "constant"
    assert ds.extra["dropped_target_rows"] == 0 and ds.extra["groups"] is None
    assert ds.class_names == ["no", "yes"] and ds.y.dtype == np.int64
    np.testing.assert_array_equal(
        ds.y, (frame["label"] == "yes").to_numpy().astype(int)
    )
    assert "30 rows" in ds.description and "1 text" in ds.description


def test_categories_from_numbers_keep_integer_names():
    frame = pd.DataFrame(
        {"code": [1.0, 2.0, np.nan, 1.0], "size": [0.5, 1.5, 2.5, 3.5], "y": [0, 1] * 2}
    )
    ds = load_table(frame, "y", categorical=["code"])
    assert ds.x["code"].tolist()[:2] == ["1", "2"] and ds.x["code"].isna().sum() == 1


def test_timezones_become_utc_and_infinities_become_missing():
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime(["2020-01-01 12:00+02:00", "2020-01-02 00:00+02:00"])
            .tz_convert("Europe/Berlin")
            .tolist()
            * 2,
            "v": [1.0, np.inf, 2.0, 3.0],
            "y": ["a", "b", "a", "b"],
        }
    )
    with pytest.warns(UserWarning, match=r"'v' has 1 infinite value"):
        ds = load_table(frame, "y")
    assert ds.x["when"].dtype == "datetime64[ns]"
    assert ds.x["when"].iloc[0] == pd.Timestamp("2020-01-01 10:00")
    assert np.isnan(ds.x["v"].iloc[1])


def test_clean_numeric_table_is_a_float32_array(tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text("a,b,c,y\n1,2.5,3,0\n4,5,6,1\n7,8,9.5,0\n")
    ds = load_table(path, "y")
    assert isinstance(ds.x, np.ndarray) and ds.x.dtype == np.float32
    assert ds.x.shape == (3, 3) and not ds.is_raw_table
    assert ds.feature_types == {"a": "numeric", "b": "numeric", "c": "numeric"}
    np.testing.assert_array_equal(ds.x[2], [7, 8, 9.5])
    # One missing cell, or one non-numeric column, makes it a raw table.
    path.write_text("a,b,c,y\n1,2.5,3,0\n4,,6,1\n7,8,9.5,0\n")
    assert load_table(path, "y").is_raw_table
    path.write_text("a,b,c,y\n1,2.5,x,0\n4,5,z,1\n7,8,x,0\n")
    assert load_table(path, "y").is_raw_table


def test_rows_with_a_missing_target_are_dropped_and_counted():
    frame = _mixed_frame()
    frame.loc[[0, 10, 11], "label"] = None
    frame["site"] = np.arange(N) % 4
    with pytest.warns(UserWarning, match=r"target 'label' is missing in 3 row\(s\)"):
        ds = load_table(frame, "label", groups="site")
    assert len(ds) == len(ds.y) == N - 3
    assert ds.extra["dropped_target_rows"] == 3
    assert list(ds.x.index) == list(range(N - 3))
    kept = frame.drop(index=[0, 10, 11])
    np.testing.assert_array_equal(ds.extra["groups"], kept["site"].to_numpy())
    assert "site" not in ds.feature_types
    np.testing.assert_allclose(ds.x["weight"], kept["weight"])


def test_target_rules():
    n = 30
    base = {"x": np.linspace(0, 1, n)}
    # Integer labels read from a float column (missing cells) keep "1", not "1.0".
    labels = np.array([1, 2, 3] * 10, dtype=float)
    labels[4] = np.nan
    with pytest.warns(UserWarning, match="missing in 1 row"):
        ds = load_table(pd.DataFrame({**base, "y": labels}), "y")
    assert ds.task == "classification" and ds.class_names == ["1", "2", "3"]
    # Many distinct integers: a regression, y float32.
    ds = load_table(pd.DataFrame({**base, "y": np.arange(n) * 7}), "y")
    assert ds.task == "regression" and ds.y.dtype == np.float32
    # Numbers stored as text, "?" for missing: read as numbers.
    text = [f"{v:.2f}" for v in np.linspace(10, 50, n)]
    text[3] = "?"
    with pytest.warns(UserWarning, match="missing in 1 row"):
        ds = load_table(pd.DataFrame({**base, "y": text}), "y")
    assert ds.task == "regression" and ds.extra["converted_columns"] == ["y"]
    # Booleans are classes.
    flags = pd.DataFrame({**base, "y": [True, False] * 15})
    assert load_table(flags, "y").class_names == ["False", "True"]
    assert load_table(flags, "y", task="classification").num_classes == 2


# --------------------------------------------------------------------------------------
# load_table: errors


def _frame():
    return pd.DataFrame(
        {
            "a": [1.0, 2.0, 3.0, 4.0],
            "b": ["x", "y", "x", "y"],
            "species": ["cat", "dog", "cat", "dog"],
        }
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": "label"}, r"target 'label' is not a column.*'a', 'b', 'species'"),
        (
            {"categorical": ["species"]},
            r"target 'species' is also listed in categorical=\['species'\]",
        ),
        ({"text": ["bb"]}, r"text= names unknown column\(s\) 'bb'.*'a', 'b'"),
        (
            {"categorical": "b", "ignore": ["b"]},
            "column 'b' is listed in both categorical= and ignore=",
        ),
        (
            {"task": "regression"},
            r"task='regression' needs a numeric target; column 'species'.*'cat'",
        ),
        ({"groups": "site"}, r"groups 'site' is not a column.*'a', 'b', 'species'"),
        ({"groups": "species"}, "groups 'species' is the target column"),
        ({"groups": "b", "ignore": "b"}, r"groups 'b' is also listed in ignore="),
        ({"task": "clustering"}, "task must be .*'clustering'"),
        ({"sep": ""}, "sep must be a non-empty string or None; received ''"),
    ],
)
def test_load_table_errors_name_argument_and_value(kwargs, match):
    kwargs = {"target": "species", **kwargs}
    with pytest.raises(ValueError, match=match):
        load_table(_frame(), **kwargs)


def test_single_class_target():
    frame = _frame().assign(species="cat")
    with pytest.raises(ValueError, match=r"target 'species'.*single class 'cat'"):
        load_table(frame, "species")
    frame = _frame().assign(species=[1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"target 'species'.*single class '1'"):
        load_table(frame, "species")


def test_no_rows_no_features_and_bad_sources():
    with pytest.raises(ValueError, match=r"source DataFrame has no rows.*'a'"):
        load_table(_frame().head(0), "species")
    with pytest.raises(ValueError, match=r"no feature column .*'a' \(--ignore\)"):
        load_table(_frame(), "species", ignore=["a", "b"])
    with pytest.raises(ValueError, match="target 'species' is the only column"):
        load_table(_frame()[["species"]], "species")
    with pytest.raises(ValueError, match="has no non-missing value"):
        load_table(_frame().assign(species=None), "species")
    with pytest.raises(TypeError, match="source must be a path .* received ndarray"):
        load_table(np.zeros((4, 3)), "species")
    duplicated = pd.DataFrame([[1, 2, 0], [3, 4, 1]], columns=["a", "a", "y"])
    with pytest.raises(ValueError, match=r"must be unique; received duplicates 'a'"):
        load_table(duplicated, "y")


# --------------------------------------------------------------------------------------
# Files: delimiters and errors


@pytest.mark.parametrize(
    "sep, name", [(";", "semicolon.csv"), ("\t", "tabs.tsv"), ("|", "pipes.txt")]
)
def test_delimiter_is_detected(tmp_path, sep, name):
    rows = [["height", "note", "kind"]] + [
        [f"{1.5 + i}", f"seen at {i}, {i + 1} o'clock", ["cat", "dog"][i % 2]]
        for i in range(6)
    ]
    path = tmp_path / name
    path.write_text("\n".join(sep.join(r) for r in rows) + "\n")
    ds = load_table(path, "kind")
    assert ds.extra["sep"] == sep
    assert ds.feature_names == ["height", "note"]
    assert ds.x["height"].tolist() == [1.5 + i for i in range(6)]
    assert ds.x["note"].iloc[0] == "seen at 0, 1 o'clock"
    assert ds.class_names == ["cat", "dog"]
    assert ds.name == name.split(".")[0]


def test_decimal_commas_in_a_semicolon_file(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("Gewicht;Farbe;y\n1,5;rot;0\n2,25;blau;1\n3;rot;0\n")
    ds = load_table(path, "y")
    assert ds.extra["decimal"] == ","
    assert ds.x["Gewicht"].tolist() == [1.5, 2.25, 3.0]


def test_explicit_sep_and_comma_fallback(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b,y\n1;2,0\n3;4,1\n")
    ds = load_table(path, "y", sep=",")
    assert ds.feature_names == ["a;b"] and ds.extra["sep"] == ","
    one_column = tmp_path / "one.csv"
    one_column.write_text("y\n1\n2\n")
    with pytest.raises(ValueError, match="target 'y' is the only column"):
        load_table(one_column, "y")


def test_file_errors_are_kept(tmp_path):
    with pytest.raises(ValueError, match=r"path must be an existing CSV file.*nope"):
        load_table(tmp_path / "nope.csv", "y")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"empty\.csv' is an empty file"):
        load_table(empty, "y")
    header = tmp_path / "header.csv"
    header.write_text("a,y\n")
    with pytest.raises(ValueError, match=r"header but no data rows.*'a', 'y'"):
        load_table(header, "y")
    broken = tmp_path / "broken.csv"
    broken.write_text('a,y\n1,2\n"3,4\n5,6,7,8\n')
    with pytest.raises(ValueError, match=r"broken\.csv' could not be parsed as CSV"):
        load_table(broken, "y")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,y\ncafé,1\nthé,0\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.csv' could not be parsed"):
        load_table(latin, "y")


def test_leading_spaces_after_delimiters_are_ignored(tmp_path):
    path = tmp_path / "spaces.csv"
    path.write_text("age, work, y\n39, State-gov, <=50K\n50, Private, >50K\n")
    ds = load_table(path, "y")
    assert ds.feature_names == ["age", "work"]
    assert ds.x["work"].tolist() == ["State-gov", "Private"]


# --------------------------------------------------------------------------------------
# describe_table


def test_describe_table_lists_roles_drops_and_target():
    frame = _mixed_frame()
    frame.loc[0, "label"] = None
    with pytest.warns(UserWarning):
        ds = load_table(frame, "label")
    text = describe_table(ds)
    lines = text.splitlines()
    assert lines[0] == f"table: {N - 1} rows, 7 feature columns"
    assert "  numeric (3): weight, children, price" in lines
    assert "  date (1): signed_up" in lines
    assert re.search(r"missing cells \(\d+\): .*color 2", text)
    assert "country (constant)" in text and "notes (all empty)" in text
    assert "id (ID-like: a distinct value in every row)" in text
    assert "read as numbers" in text and "price" in text
    assert "dropped rows: 1 with a missing target" in text
    counts = np.bincount(ds.y)
    assert lines[-1] == (
        f"target 'label': classification, 2 classes: no {counts[0]}, yes {counts[1]}"
    )


def test_describe_table_regression_and_long_lists():
    frame = pd.DataFrame({f"f{i}": np.arange(12.0) * (i + 1) for i in range(12)})
    frame["price"] = np.linspace(9, 46.6, 12)
    text = describe_table(load_table(frame, "price"))
    assert "numeric (12): f0, f1, f2, f3, f4, f5, f6, f7, ... (4 more)" in text
    assert text.splitlines()[-1].startswith("target 'price': regression, 9 .. 46.6")
    # Built-in tables (no feature_types) are described too; images are not.
    assert "numeric (4)" in describe_table(data.load_iris())
    with pytest.raises(ValueError, match=r"describe_table needs a table.*digits"):
        describe_table(data.load_digits())
