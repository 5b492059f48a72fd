"""`kerasdl tune` on tables: an FT-Transformer search on the raw regression table
cars (its printed line reports the test RMSE), and families given the wrong kind
of data refused in one line."""

from __future__ import annotations

import json

import keras
import pytest

from kerasdl.cli import main
from kerasdl.data import load_dataset


def test_tune_ft_transformer_on_a_regression_table(tmp_path, capsys):
    argv = ["tune", "--family", "ft_transformer", "--dataset", "cars"]
    argv += ["--max-trials", "2", "--epochs", "2", "--out", str(tmp_path)]
    # One small block in every trial: each trial's network is compiled, and the
    # compilation grows with the blocks (up to 4 of up to 128 in the full space).
    argv += ["--set", "n_blocks=1", "--set", "d_token=32"]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.strip().splitlines()
    assert len(lines) == 3, captured.out
    result = json.loads((tmp_path / "tune.json").read_text())
    assert result["task"] == "regression" and result["tuner"] == "hyperband"
    assert result["objective"] == {"name": "val_loss", "direction": "min"}
    assert lines[0].startswith("ft_transformer on cars (hyperband, 2 trials): ")
    assert f"best val_loss {result['best_score']:.4f}" in lines[0]
    assert f"test RMSE {result['test_rmse']:.4g}" in lines[0]
    assert "accuracy" not in lines[0]
    assert lines[1].startswith("best: ") and "d_token=" in lines[1]
    assert lines[2] == f"wrote {tmp_path}/tune.json, trials.csv, trials.png, " + (
        "best_model.keras"
    )
    model = keras.saving.load_model(tmp_path / "best_model.keras")
    rows = load_dataset("cars").x.iloc[:5]
    assert model.predict(rows).shape == (5,)


@pytest.mark.parametrize(
    "argv, words",
    [
        (
            ["--family", "tabular_mlp", "--dataset", "digits"],
            ["The tabular_mlp family tunes tables", "'digits' holds images"],
        ),
        (
            ["--family", "cnn", "--dataset", "cars"],
            ["The cnn family", "'cars' holds a raw regression table"],
        ),
        (
            ["--family", "mlp", "--dataset", "penguins"],
            ["The mlp family", "tabular_mlp or ft_transformer"],
        ),
        (
            ["--family", "ft_transformer", "--dataset", "cars", "--set", "depth=2"],
            ["Unknown hyperparameter 'depth' for the ft_transformer family"],
        ),
    ],
)
def test_tune_refuses_the_wrong_data_in_one_line(argv, words, tmp_path, capsys):
    assert main(["tune", *argv, "--out", str(tmp_path), "--max-trials", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kerasdl tune: error: ") and "\n" not in err
    for word in words:
        assert word in err
    assert not any(tmp_path.iterdir())
