"""`kerasdl train` on tables: regression on an embedded raw table, a raw CSV with a
string column and missing cells, and the options a table cannot take."""

import json
import math

import keras
import numpy as np
import pandas as pd
import pytest

from kerasdl.cli import main


def _run(capsys, argv):
    code = main(argv)
    return code, capsys.readouterr()


def _raw_csv(path):
    """40 rows: a string column and a numeric one, both with missing cells; the
    label follows the number."""
    rng = np.random.default_rng(0)
    size = rng.normal(size=40).round(2)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], size=40),
            "size": size,
            "label": np.where(size > 0, "big", "small"),
        }
    )
    frame.loc[[3, 11], "colour"] = np.nan
    frame.loc[[5, 17], "size"] = np.nan
    frame.to_csv(path, index=False)
    return frame


def test_train_regression_table(tmp_path, capsys):
    out = tmp_path / "cars"
    argv = ["train", "--dataset", "cars", "--epochs", "2", "--out", str(out)]
    code, captured = _run(capsys, argv)
    assert code == 0, captured.err
    # The column roles first (as `compare` prints them), then the scores.
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("cars: ") and "  categorical (1): Origin" in lines
    lines = lines[-2:]
    run = json.loads((out / "run.json").read_text())
    assert run["task"] == "regression" and run["architecture"] == "mlp"
    assert lines[0].startswith("mlp on cars (regression): test RMSE ")
    assert f"R² {run['metrics']['test_r2']:.4f}" in lines[0]
    assert lines[1].startswith(f"wrote {out}/model.keras")
    assert run["config"]["epochs"] == 2 and run["epochs_run"] <= 2
    # --test-size and --val-size are fractions of all rows, as for classifiers.
    assert run["sizes"]["test"] == math.ceil(0.15 * 398)
    assert abs(run["sizes"]["val"] - 0.15 * 398) <= 1
    for name in ("model.keras", "model_card.md", "errors/residuals.png"):
        assert (out / name).is_file(), name


def test_train_raw_csv(tmp_path, capsys):
    frame = _raw_csv(tmp_path / "t.csv")
    out = tmp_path / "run"
    argv = ["train", "--csv", str(tmp_path / "t.csv"), "--target", "label"]
    argv += ["--epochs", "2", "--out", str(out)]
    code, captured = _run(capsys, argv)
    assert code == 0, captured.err
    lines = captured.out.strip().splitlines()
    assert lines[0] == "t: 40 rows, 2 feature columns", captured.out
    assert "  categorical (1): colour" in lines and "  numeric (1): size" in lines
    lines = lines[-2:]
    assert lines[0].startswith("mlp on t (classification): test accuracy")
    assert "balanced accuracy" in lines[0] and "ROC-AUC" in lines[0]
    assert lines[-1].startswith(f"wrote {out}/model.keras")
    run = json.loads((out / "run.json").read_text())
    assert run["class_names"] == ["big", "small"]
    assert run["feature_types"] == {"colour": "categorical", "size": "numeric"}
    for name in ("metrics.json", "history.png", "errors/confusion_matrix.png"):
        assert (out / name).is_file(), name
    loaded = keras.saving.load_model(out / "model.keras")
    labels = loaded.predict_labels(frame.drop(columns="label").head(6))
    assert set(labels) <= {"big", "small"} and len(labels) == 6


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dataset", "cars", "--diagnose"], "--diagnose is not supported when"),
        (
            ["--model", "ft_transformer", "--dataset", "cars", "--schedule", "cosine"],
            "trained by the tabular ft_transformer",
        ),
        (["--dataset", "penguins", "--precision", "mixed_bfloat16"], "--precision"),
        (["ft_transformer", "--dataset", "digits"], "ft_transformer trains tables"),
        (["mlp", "--model", "ft_transformer"], "Two models given"),
        (["--dataset", "digits"], "kerasdl train needs a MODEL for 'digits'"),
        (["--dataset", "cars", "--val-size", "0.6"], "--val-size 0.6 is 71%"),
    ],
)
def test_table_option_errors(extra, message, tmp_path, capsys):
    out = tmp_path / "run"
    code, captured = _run(capsys, ["train", *extra, "--out", str(out)])
    assert code == 2, captured
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kerasdl train: error: ")
    assert message in lines[0]
    assert not out.exists()
