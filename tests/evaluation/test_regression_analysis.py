"""Regression error analysis on hand-made numbers: per-range errors computed by
hand, the largest errors, the files, bad input, and the regression model card."""

import csv
import json
import re

import numpy as np
import pandas as pd
import pytest

from kerasdl.evaluation import (
    format_per_range,
    model_card_from_run,
    per_range_report,
    regression_analysis,
    write_model_card,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Eight targets 1..8; quantile edges for 2 bins are 1, 4.5, 8.
Y_TRUE = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
Y_PRED = np.array([2.0, 2.0, 1.0, 4.0, 5.0, 9.0, 7.0, 4.0])
# Residuals (true - pred): -1, 0, 2, 0 | 0, -3, 0, 4.


def test_per_range_numbers_by_hand():
    report = per_range_report(Y_TRUE, Y_PRED, bins=2)
    low, high = report["bins"]
    assert (low["low"], low["high"], high["low"], high["high"]) == (1, 4.5, 4.5, 8)
    assert low["count"] == high["count"] == 4
    # Low bin residuals -1, 0, 2, 0: squares 1 + 0 + 4 + 0 = 5.
    assert low["rmse"] == pytest.approx(np.sqrt(5 / 4))
    assert low["mae"] == pytest.approx(3 / 4)
    assert low["mean_residual"] == pytest.approx(1 / 4)
    # High bin residuals 0, -3, 0, 4: squares 9 + 16 = 25.
    assert high["rmse"] == pytest.approx(np.sqrt(25 / 4))
    assert high["mae"] == pytest.approx(7 / 4)
    assert high["mean_residual"] == pytest.approx(1 / 4)
    overall = report["overall"]
    assert overall["count"] == 8
    assert overall["rmse"] == pytest.approx(np.sqrt(30 / 8))
    # R² = 1 - SSE / SST; SST of 1..8 around 4.5 is 42.
    assert overall["r2"] == pytest.approx(1 - 30 / 42)
    assert report["notes"] == []
    text = format_per_range(report)
    assert "[1, 4.5)" in text and "[4.5, 8]" in text and "all" in text


def test_repeated_targets_give_fewer_bins_that_cover_every_row():
    y_true = np.array([0.0] * 6 + [1.0, 2.0])
    report = per_range_report(y_true, y_true + 0.5, bins=4)
    assert sum(row["count"] for row in report["bins"]) == len(y_true)
    assert len(report["bins"]) < 4 and report["notes"]
    constant = per_range_report(np.ones(3), np.array([1.0, 2.0, 0.0]), bins=3)
    assert [row["count"] for row in constant["bins"]] == [3]
    assert constant["overall"]["r2"] is None


def test_regression_analysis_writes_the_files(tmp_path):
    rows = pd.DataFrame(
        {
            "name": [f"car {i}" for i in range(8)],
            "hp": [1.0, 2, 3, 4, 5, 6, 7, np.nan],
            "day": pd.to_datetime([f"2020-01-0{i + 1}" for i in range(8)]),
        }
    )
    index = np.arange(100, 108)
    result = regression_analysis(
        Y_TRUE, Y_PRED, tmp_path / "errors", bins=2, top_k=3, index=index, rows=rows
    )
    out = tmp_path / "errors"
    for name in ("residuals.png", "predicted_vs_true.png"):
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE, name
    assert result["metrics"]["rmse"] == pytest.approx(np.sqrt(30 / 8))
    assert result["metrics"]["n_samples"] == 8
    # The largest absolute errors, largest first, with their index and row.
    largest = result["largest_errors"]
    assert [e["index"] for e in largest] == [107, 105, 102]
    assert [e["residual"] for e in largest] == [4.0, -3.0, 2.0]
    assert largest[0]["row"] == {
        "name": "car 7",
        "hp": None,  # a missing cell
        "day": "2020-01-08T00:00:00",
    }
    assert json.loads((out / "largest_errors.json").read_text()) == largest
    assert json.loads((out / "per_range.json").read_text()) == result["per_range"]
    with open(out / "per_range.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [int(r["count"]) for r in table] == [4, 4]
    assert float(table[1]["rmse"]) == pytest.approx(2.5)
    with open(out / "predictions.csv", newline="") as f:
        predictions = list(csv.DictReader(f))
    assert len(predictions) == 8 and predictions[0]["index"] == "100"
    assert float(predictions[5]["residual"]) == -3.0
    assert (out / "per_range.txt").read_text().strip() == result["table"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y_true": []}, "`y_true` must be a non-empty 1-D array"),
        ({"y_pred": Y_PRED[:3]}, "same length; received len(y_true)=8"),
        ({"y_pred": np.where(Y_PRED > 8, np.nan, Y_PRED)}, "`y_pred` holds 1 NaN"),
        ({"y_true": ["a"] * 8}, "`y_true` must hold numbers"),
        ({"bins": 0}, "`bins` must be an integer >= 1; received 0"),
        ({"top_k": 1.5}, "`top_k` must be an integer >= 1"),
        ({"index": [1, 2]}, "`index` must give one label per sample"),
        ({"rows": pd.DataFrame({"a": [1]})}, "`rows` must have one row per sample"),
    ],
)
def test_bad_input_names_the_argument(kwargs, message, tmp_path):
    args = {"y_true": Y_TRUE, "y_pred": Y_PRED, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        regression_analysis(out_dir=tmp_path / "errors", **args)
    assert not (tmp_path / "errors").exists()


def test_regression_model_card(tmp_path):
    data = {"name": "cars", "n_train": 80, "n_val": 20, "n_test": 30, "target": "mpg"}
    metrics = {"test_rmse": 3.25, "test_mae": 2.5, "test_r2": 0.8}
    text = write_model_card(
        tmp_path / "card.md",
        model_name="mlp",
        data=data,
        metrics=metrics,
        training={"epochs": 3},
        limitations=[],
        task="regression",
    ).read_text()
    assert "| test_rmse | 3.2500 | held-out test split (30 samples) |" in text
    assert "RMSE (root mean squared error)" in text and "`mpg`" in text
    assert "Task: regression" in text
    assert "no prediction interval" in text and "calibration" not in text
    with pytest.raises(ValueError, match="`task` must be one of"):
        write_model_card(
            tmp_path / "x.md",
            model_name="m",
            data=data,
            metrics=metrics,
            training={},
            limitations=[],
            task="forecasting",
        )


def test_card_from_a_regression_run(tmp_path):
    regression_analysis(Y_TRUE, Y_PRED, tmp_path / "errors", bins=2)
    run = {
        "model": "mlp",
        "architecture": "mlp",
        "task": "regression",
        "dataset": {"name": "toy", "n_train": 10, "n_test": 8},
        "metrics": {"test_rmse": float(np.sqrt(30 / 8))},
        "feature_types": {"hp": "numeric", "origin": "categorical"},
        "error_analysis": {"dir": "errors"},
    }
    (tmp_path / "run.json").write_text(json.dumps(run))
    text = model_card_from_run(tmp_path).read_text()
    assert "| test_rmse | 1.9365 |" in text and "RMSE (root mean squared" in text
    assert "![Residuals vs predicted](errors/residuals.png)" in text
    assert "![Predicted vs true](errors/predicted_vs_true.png)" in text
    assert "| [1.0000, 4.5000) | 4 | 1.1180 | 0.7500 | 0.2500 |" in text
    assert "[largest_errors.json](errors/largest_errors.json)" in text
    assert "| origin | categorical |" in text
    assert "Architecture:" not in text  # only the model's name again
