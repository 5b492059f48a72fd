"""Table checks: each fires on its problem planted in a clean synthetic table (or
in the real palmerpenguins table) and names the column; the clean table yields no
finding at all."""

import json
import os
import re

import numpy as np
import palmerpenguins
import pandas as pd
import pytest

from kerasdl.data import Dataset, load_wine
from kerasdl.doctor import (
    SEVERITIES,
    TABLE_CHECKS,
    check_table,
    data_checks,
    diagnose_dataset,
    format_findings,
    table_checks,
)

WORDS = "the a cat dog runs sleeps quickly slowly under over red big old new".split()
CLASSES = ["low", "mid", "high"]


def by_check(findings):
    """{check: Finding}; at most one finding per check, each complete."""
    checks = [f.check for f in findings]
    assert len(checks) == len(set(checks)), checks
    assert set(checks) <= set(TABLE_CHECKS)
    assert all(f.severity in SEVERITIES and f.message and f.fix for f in findings)
    return {f.check: f for f in findings}


def clean_table(n=600, seed=0, task="classification"):
    """A healthy mixed table: two numbers, two categoricals, a text and a date column,
    a target that depends on them noisily (no column predicts it alone)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n).round(4)
    frame = pd.DataFrame(
        {
            "age": age,
            "income": rng.lognormal(10, 0.5, n).round(2),
            "colour": pd.Series(rng.choice(["red", "green", "blue"], n), dtype=object),
            "size": pd.Series(rng.choice(["S", "M", "L", "XL"], n), dtype=object),
            "note": pd.Series(
                [" ".join(rng.choice(WORDS, 4)) for _ in range(n)], dtype=object
            ),
            "signup": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
        }
    )
    types = {
        "age": "numeric",
        "income": "numeric",
        "colour": "categorical",
        "size": "categorical",
        "note": "text",
        "signup": "date",
    }
    score = (age - 40) / 12 + (frame["colour"] == "red") + rng.normal(0, 1.0, n)
    if task == "regression":
        return frame, (10 * score).astype(np.float32), types
    y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(np.int64)
    return frame, y, types


def run(frame, y, types, **kwargs):
    kwargs.setdefault(
        "class_names", CLASSES if kwargs.get("task") != "regression" else None
    )
    return by_check(check_table(frame, y, feature_types=types, **kwargs))


def as_dataset(frame, y, types, task="classification", extra=None):
    return Dataset(
        x=frame,
        y=y,
        name="t",
        task=task,
        description="",
        class_names=CLASSES if task == "classification" else None,
        feature_names=list(frame.columns),
        feature_types=types,
        extra=extra or {},
    )


@pytest.fixture(scope="module")
def table():
    return clean_table()


@pytest.fixture(scope="module")
def penguins():
    path = os.path.join(
        os.path.dirname(palmerpenguins.__file__), "data", "penguins.csv"
    )
    frame = pd.read_csv(path)
    species = frame.pop("species")
    names = sorted(species.unique())
    y = np.array([names.index(s) for s in species], dtype=np.int64)
    types = {c: "numeric" for c in frame.columns}
    types.update(island="categorical", sex="categorical")
    return frame, y, types, names


# --- healthy data: nothing to report -------------------------------------------


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_clean_table_yields_no_finding(task):
    frame, y, types = clean_table(task=task)
    assert run(frame, y, types, task=task) == {}
    assert by_check(diagnose_dataset(as_dataset(frame, y, types, task))) == {}


# --- column problems -----------------------------------------------------------


def test_missing_cells_are_counted_per_column(table):
    frame, y, types = table
    frame = frame.copy()
    frame.loc[:29, "colour"] = None
    frame.loc[20:24, "age"] = np.nan
    frame.loc[590:, "note"] = ""  # blank text counts as missing
    missing = run(frame, y, types)["missing_cells"]
    assert missing.severity == "warning"  # 'colour' misses 5.0% of the rows
    assert missing.message.startswith("missing cells in 3 of 6 columns: 'colour' 30")
    assert "'colour' 30 (5.0%), 'note' 10 (1.7%), 'age' 5 (0.8%)" in missing.message
    assert "40 rows (6.7% of 600) have at least one missing cell" in missing.message
    assert "SimpleImputer" in missing.fix


def test_empty_columns_are_named(table):
    frame, y, types = table
    frame = frame.assign(comment=pd.Series([None] * len(frame), dtype=object))
    found = run(frame, y, dict(types, comment="categorical"))
    empty = found["empty_columns"]
    assert empty.message == (
        "1 of 7 columns are empty (all 600 cells missing): 'comment'."
    )
    assert "missing_cells" not in found  # reported once, as empty


def test_constant_columns_are_named(table):
    frame, y, types = table
    frame = frame.assign(country="NL", version=2.0)
    frame.loc[:9, "country"] = None
    types = dict(types, country="categorical", version="numeric")
    constant = run(frame, y, types)["constant_columns"]
    assert constant.message == (
        "2 of 8 columns hold a single value: 'country' (always 'NL', 10 missing), "
        "'version' (always 2)."
    )
    assert "missing-indicator" in constant.fix


def test_id_like_columns_are_named(table):
    frame, y, types = table
    n = len(frame)
    rng = np.random.default_rng(1)
    frame = frame.assign(
        customer=pd.Series([f"C{i:05d}" for i in range(n)], dtype=object),
        row=rng.permutation(n).astype(np.float64),  # a shuffled row number
        code=pd.Series([f"X-{i}" for i in range(n)], dtype=object),
    )
    types = dict(types, customer="categorical", row="numeric", code="text")
    ids = run(frame, y, types)["id_columns"]
    assert ids.severity == "warning"
    assert ids.message.startswith("3 columns distinct in every row: 'customer'")
    assert "'row' (numeric, 600 distinct in 600 rows)" in ids.message
    assert "'code' (text" in ids.message
    # distinct free text, continuous numbers: not IDs (the clean table has both)
    assert "'note'" not in ids.message and "'age'" not in ids.message


def test_what_the_loader_dropped_is_reported(table):
    frame, y, types = table
    extra = {
        "dropped_columns": {"id": "distinct in every row", "notes": "empty"},
        "dropped_target_rows": 40,
        "target": "grade",
    }
    found = run(frame, y, types, extra=extra)
    dropped = found["dropped_columns"]
    assert dropped.severity == "info"
    assert dropped.message == (
        "the loader dropped 2 columns before these checks: 'id' (distinct in every "
        "row), 'notes' (empty)."
    )
    target = found["missing_target"]
    assert target.severity == "warning"  # 40 of 640 = 6.2%
    assert target.message == (
        "the loader dropped 40 rows whose target 'grade' was missing (6.2% of 640)."
    )


def test_nan_regression_targets_are_an_error():
    frame, y, types = clean_table(task="regression")
    y = y.astype(np.float64)
    y[[3, 7]] = np.nan
    target = run(frame, y, types, task="regression")["missing_target"]
    assert target.severity == "error"
    assert target.message == "y holds 2 NaN/inf targets of 600."


def test_infinite_numbers_are_an_error(table):
    frame, y, types = table
    frame = frame.copy()
    frame.loc[[1, 2], "income"] = np.inf
    bad = run(frame, y, types)["non_finite"]
    assert bad.severity == "error"
    assert bad.message == "2 infinite values in numeric columns: 'income' (2)."


def test_high_cardinality_categoricals(table):
    frame, y, types = table
    rng = np.random.default_rng(2)
    n = len(frame)
    frame = frame.assign(
        city=pd.Series([f"c{i}" for i in rng.permutation(n) % 150], dtype=object),
        shop=pd.Series(
            [f"s{i}" for i in range(30)] + ["main"] * (n - 30), dtype=object
        ),  # 31 levels, 30 of them seen once
        region=pd.Series([f"r{i % 30}" for i in range(n)], dtype=object),  # fine
    )
    types = dict(types, city="categorical", shop="categorical", region="categorical")
    wide = run(frame, y, types)["high_cardinality"]
    assert wide.severity == "warning"
    assert wide.message.startswith("2 categorical columns with many or mostly rare")
    assert "'city' (150 levels in 600 rows, 0.0% of them seen once)" in wide.message
    assert "'shop' (31 levels in 600 rows, 96.8% of them seen once)" in wide.message
    assert "'region'" not in wide.message
    assert "--text" in wide.fix and "Hashing" in wide.fix


def test_numbers_stored_as_text(table):
    frame, y, types = table
    rng = np.random.default_rng(3)
    n = len(frame)
    price = [f"{v:,.2f}" for v in rng.uniform(100, 5000, n)]  # "1,234.50"
    price[:6] = ["?"] * 6
    frame = frame.assign(
        price=pd.Series(price, dtype=object),
        grade=pd.Series([f"0{i % 5 + 1}" for i in range(n)], dtype=object),  # codes
        stars=pd.Series([str(i % 5 + 1) for i in range(n)], dtype=object),  # codes
    )
    types = dict(types, price="categorical", grade="categorical", stars="categorical")
    found = run(frame, y, types, extra={"converted_columns": ["weight"]})
    text = found["numeric_as_text"]
    assert text.severity == "warning"
    assert text.message == (
        "1 categorical column holds numbers stored as text: 'price' (99.0% of its "
        "cells are numbers; not: '?'); the loader parsed 1 column stored as text into "
        "numbers: 'weight'."
    )
    assert "na_values" in text.fix
    # a numbers column is not reported again as an ID or as high-cardinality
    assert "id_columns" not in found and "high_cardinality" not in found
    only_converted = run(*table, extra={"converted_columns": ["weight"]})
    assert only_converted["numeric_as_text"].severity == "info"


# --- target problems -------------------------------------------------------------


def noisy_copy(y, share=0.01, seed=0):
    """`y` with exactly `share` of the rows moved to another class."""
    rng = np.random.default_rng(seed)
    out = y.copy()
    rows = rng.choice(len(y), int(round(share * len(y))), replace=False)
    out[rows] = (out[rows] + rng.integers(1, 3, len(rows))) % 3
    return out


def test_a_categorical_copy_of_the_target_is_a_leak(table):
    frame, y, types = table
    frame = frame.assign(
        status=pd.Series(np.array(CLASSES, dtype=object)[noisy_copy(y)], dtype=object)
    )
    leak = run(frame, y, dict(types, status="categorical"))["target_leak"]
    assert leak.severity == "error"
    assert leak.message.startswith(
        "1 column alone predicts the target almost perfectly: 'status' (accuracy "
        "0.990, per-value majority)"
    )
    assert "largest class scores 0.333" in leak.message
    assert "(5-fold cross-validation on 600 rows)" in leak.message
    # 3% noise is no longer "almost perfect"
    frame["status"] = np.array(CLASSES, dtype=object)[noisy_copy(y, 0.03)]
    assert "target_leak" not in run(frame, y, dict(types, status="categorical"))


def test_a_numeric_copy_of_the_target_is_a_leak(table):
    frame, y, types = table
    rng = np.random.default_rng(4)
    frame = frame.assign(score=noisy_copy(y) * 10.0 + rng.normal(0, 1, len(y)))
    leak = run(frame, y, dict(types, score="numeric"))["target_leak"]
    assert "'score' (accuracy 0.99" in leak.message
    assert "one-column decision tree" in leak.message


def test_regression_leak_by_rank():
    frame, y, types = clean_table(task="regression")
    rng = np.random.default_rng(5)
    frame = frame.assign(copy=y * (1 + 0.01 * rng.normal(size=len(y))))
    leak = run(frame, y, dict(types, copy="numeric"), task="regression")["target_leak"]
    assert leak.message.startswith("1 column alone predicts the target almost")
    assert re.search(r"'copy' \(Spearman rho (0\.99\d|1\.000), R\^2", leak.message)
    assert "predicting the mean scores R^2 0" in leak.message


def test_regression_leak_by_tree_when_not_monotone(table):
    frame, _, types = table
    x = np.random.default_rng(6).uniform(-3, 3, len(frame))
    frame = frame.assign(x=x)  # the target is x**2: Spearman ~0, a tree sees it
    leak = run(frame, x**2, dict(types, x="numeric"), task="regression")
    assert "'x' (R^2 0.99" in leak["target_leak"].message
    assert "one-column decision tree, depth 8" in leak["target_leak"].message


def test_class_imbalance_reuses_the_array_check(table):
    frame, y, types = table
    keep = np.concatenate([np.flatnonzero(y != 0), np.flatnonzero(y == 0)[:15]])
    found = run(frame.iloc[keep].reset_index(drop=True), y[keep], types)
    balance = found["class_balance"]
    assert balance.severity == "warning"  # 200 / 15 = 13.3
    assert balance.message.startswith("imbalance ratio 13.3")
    assert "smallest 'low' has 15" in balance.message


def test_too_few_rows_per_class(table):
    frame, y, types = table
    keep = np.concatenate([np.flatnonzero(y != 0), np.flatnonzero(y == 0)[:4]])
    found = run(frame.iloc[keep].reset_index(drop=True), y[keep], types)
    few = found["samples_per_class"]
    assert few.severity == "warning"
    assert few.message.startswith("1 class with fewer than 10 rows: 'low' (4)")
    assert found["class_balance"].severity == "error"  # 200 / 4


def test_skewed_regression_target(table):
    frame, _, types = table
    rng = np.random.default_rng(6)
    y = rng.lognormal(3, 1.2, len(frame))
    skew = run(frame, y, types, task="regression")["target_distribution"]
    assert skew.severity == "warning"
    assert skew.message.startswith("regression target skewness ")
    assert float(skew.message.split()[3]) > 2
    assert "log(y)" in skew.fix
    constant = run(frame, np.full(len(frame), 5.0), types, task="regression")
    assert constant["target_distribution"].severity == "error"


# --- row problems ----------------------------------------------------------------


def test_duplicated_rows_are_counted(table):
    frame, y, types = table
    rows = np.concatenate([np.arange(len(y)), np.arange(12)])
    found = run(frame.iloc[rows].reset_index(drop=True), y[rows], types)
    dup = found["duplicates"]
    assert dup.severity == "warning"
    assert dup.message.startswith(
        "12 duplicate rows (whole rows, target included; 2.0% of 612) in 12 groups, "
        "e.g. rows (0, 600), (1, 601)"
    )
    assert "label_conflicts" not in found  # same targets


def test_identical_rows_with_different_labels(table):
    frame, y, types = table
    rows = np.concatenate([np.arange(len(y)), np.arange(8)])
    labels = np.concatenate([y, (y[:8] + 1) % 3])
    found = run(frame.iloc[rows].reset_index(drop=True), labels, types)
    conflict = found["label_conflicts"]
    assert conflict.severity == "warning"  # 16 of 608 rows = 2.6%
    assert conflict.message.startswith(
        "identical feature rows with different labels: 8 groups involving 16 rows "
        "(2.6%), e.g. rows 0 & 600"
    )
    assert "duplicates" not in found  # the whole rows differ by their target


def test_conflicts_in_a_discrete_table_give_the_accuracy_ceiling():
    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame(
        {
            "sex": pd.Series(rng.choice(["f", "m"], n), dtype=object),
            "class": pd.Series(rng.choice(["1st", "2nd", "3rd"], n), dtype=object),
        }
    )
    y = (rng.random(n) < np.where(frame["sex"] == "f", 0.8, 0.2)).astype(np.int64)
    types = {"sex": "categorical", "class": "categorical"}
    found = run(frame, y, types, class_names=["died", "survived"])
    conflict = found["label_conflicts"]
    assert conflict.severity == "info"
    assert "only 6 distinct combinations, so no model can exceed" in conflict.message
    assert found["duplicates"].severity == "info"
    # every test row has training twins here by nature: not reported as a leak
    ds = as_dataset(frame, y, types)
    ds.class_names = ["died", "survived"]
    assert set(by_check(diagnose_dataset(ds))) == {"label_conflicts", "duplicates"}


def test_train_test_leak_on_a_split(table):
    frame, y, types = table
    rows = np.concatenate([np.arange(len(y)), np.arange(60)])
    ds = as_dataset(frame.iloc[rows].reset_index(drop=True), y[rows], types)
    found = by_check(diagnose_dataset(ds, test_size=0.25, seed=1))
    leak = found["train_test_leak"]
    assert "test rows" in leak.message and "have the same features" in leak.message
    assert "row " in leak.message and "(test) = row " in leak.message
    count = int(leak.message.split()[0])
    assert 0 < count <= 60
    assert "duplicates" in found


# --- real data, scale, routing -----------------------------------------------------


def test_penguins_table_reports_missing_sex(penguins):
    frame, y, types, names = penguins
    for x in (frame, frame.astype({"island": object, "sex": object})):
        ds = Dataset(
            x=x,
            y=y,
            name="penguins",
            task="classification",
            description="",
            class_names=names,
            feature_names=list(x.columns),
            feature_types=types,
        )
        found = by_check(diagnose_dataset(ds))
        assert set(found) == {"missing_cells"}
        assert "'sex' 11 (3.2%)" in found["missing_cells"].message
        assert "11 rows (3.2% of 344)" in found["missing_cells"].message
        table = format_findings(list(found.values()), title="penguins: data findings")
        assert table.startswith("penguins: data findings: 1 finding(s)")


def test_penguins_leak_column_is_found(penguins):
    frame, y, types, names = penguins
    leak = np.array(names, dtype=object)[y]
    rows = np.random.default_rng(8).choice(len(y), 3, replace=False)  # 0.9%
    leak[rows] = np.array(names, dtype=object)[(y[rows] + 1) % 3]
    frame = frame.assign(status=leak)
    found = run(frame, y, dict(types, status="categorical"), class_names=names)
    assert "'status' (accuracy 0.991" in found["target_leak"].message


def test_twenty_thousand_rows_are_diagnosed_healthy():
    # Speed on a table this size is a benchmark (benchmarks/), not a test.
    frame, y, types = clean_table(n=20_000, seed=9)
    findings = diagnose_dataset(as_dataset(frame, y, types))
    # 20k rows: dates and sizes repeat, but the table is still healthy
    assert by_check(findings) == {}


def test_table_without_target_runs_the_column_and_row_checks(table):
    frame, _, types = table
    frame = frame.assign(flag="yes")
    ds = as_dataset(frame, None, dict(types, flag="categorical"), task="regression")
    assert set(by_check(diagnose_dataset(ds))) == {"constant_columns"}


def test_cli_doctor_data_on_a_raw_table(penguins, monkeypatch, tmp_path, capsys):
    from kerasdl import cli
    from kerasdl.cli import doctor as doctor_command

    frame, y, types, names = penguins
    ds = Dataset(
        x=frame,
        y=y,
        name="penguins",
        task="classification",
        description="",
        class_names=names,
        feature_names=list(frame.columns),
        feature_types=types,
        extra={"dropped_target_rows": 2},
    )
    monkeypatch.setattr(doctor_command, "load_dataset_arg", lambda args: ds)
    out = tmp_path / "findings.json"
    argv = ["doctor", "data", "--dataset", "penguins", "--json", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("penguins: data findings: 2 finding(s)")
    assert "missing_cells" in printed and "'sex' 11 (3.2%)" in printed
    saved = json.loads(out.read_text())
    assert {f["check"] for f in saved} == {"missing_cells", "missing_target"}


def test_arrays_keep_the_array_checks():
    wine = load_wine()
    assert diagnose_dataset(wine) == data_checks.diagnose_dataset(wine)
    with pytest.raises(TypeError, match=r"received ndarray"):
        diagnose_dataset(np.zeros((3, 2)))


def test_raw_table_without_feature_types_is_inferred(table):
    frame, y, types = table
    ds = as_dataset(frame, y, types)
    ds.feature_types = None  # roles from dtypes: the free text becomes a category
    found = by_check(diagnose_dataset(ds))
    assert set(found) == {"high_cardinality"}
    assert "'note' (595 levels in 600 rows" in found["high_cardinality"].message


def test_bad_input_raises_naming_the_argument(table):
    frame, y, types = table
    with pytest.raises(TypeError, match=r"frame must be a pandas DataFrame"):
        check_table(np.zeros((3, 2)), feature_types={})
    with pytest.raises(ValueError, match=r"missing roles for \['note'\]"):
        check_table(
            frame, y, feature_types={k: v for k, v in types.items() if k != "note"}
        )
    with pytest.raises(ValueError, match=r"bad roles \{'age': 'number'\}"):
        check_table(frame, y, feature_types=dict(types, age="number"))
    with pytest.raises(ValueError, match=r"len\(frame\)=600 and len\(y\)=599"):
        check_table(frame, y[:-1], feature_types=types)
    with pytest.raises(ValueError, match=r"frame is empty"):
        check_table(frame.iloc[:0], feature_types=types)
    with pytest.raises(ValueError, match=r"task must be one of"):
        check_table(frame, y, feature_types=types, task="clustering")
    with pytest.raises(ValueError, match=r"class_names has 2 names"):
        check_table(frame, y, feature_types=types, class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"test_size .* received 0"):
        diagnose_dataset(as_dataset(frame, y, types), test_size=0)
    with pytest.raises(ValueError, match=r"is a raw table"):
        data_checks.diagnose_dataset(as_dataset(frame, y, types))
    assert table_checks.check_table is check_table
