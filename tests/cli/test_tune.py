"""`kerasdl tune`: a real tiny search, its resumption, and one-line errors."""

from __future__ import annotations

import json

import pytest

from kerasdl.cli import main

TINY = ["--set", "width=8", "--set", "depth=1", "--set", "batch_size=32"]
TINY += ["--epochs", "1", "--quiet"]


def _tune(tmp_path, *extra):
    return main(
        [
            "tune",
            "--family",
            "mlp",
            "--dataset",
            "iris",
            "--tuner",
            "random",
            "--out",
            str(tmp_path),
            *TINY,
            *extra,
        ]
    )


def test_tune_writes_tune_json_and_reloads_a_finished_search(tmp_path, capsys):
    assert _tune(tmp_path, "--max-trials", "1") == 0
    out = capsys.readouterr().out
    assert "mlp on iris (random, 1 trial): best val_accuracy" in out
    assert "test accuracy" in out and "wrote" in out
    result = json.loads((tmp_path / "tune.json").read_text())
    assert result["completed_trials"] == 1 and not result["resumed"]
    data = result["data"]
    assert data["train_samples"] + data["val_samples"] + data["test_samples"] == 150
    assert data["test_samples"] == 30 and data["standardized"] is True
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert (tmp_path / "mlp_random" / "trial_0" / "trial.json").is_file()
    assert (tmp_path / "best_model.keras").is_file()
    # Resuming is tested in tests/hypermodels/test_search.py; here only that a
    # finished search is recognised and not run again.
    assert _tune(tmp_path, "--max-trials", "1") == 0
    result = json.loads((tmp_path / "tune.json").read_text())
    assert result["resumed"] and result["completed_before"] == 1
    assert result["completed_trials"] == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--family", "gan"], "Unknown family 'gan'; choose one of: mlp, cnn"),
        (["--family", "mlp", "--tuner", "grid"], "Unknown tuner 'grid'"),
        (["--family", "mlp", "--set", "width=512:32"], "`width` range must be"),
        (["--family", "cnn", "--dataset", "iris"], "The cnn family needs images"),
    ],
)
def test_tune_reports_bad_names_in_one_line(argv, message, tmp_path, capsys):
    assert main(["tune", *argv, "--out", str(tmp_path), "--max-trials", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kerasdl tune: error: ") and message in err
    assert "\n" not in err
