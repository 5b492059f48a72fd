"""The sequence example scripts, with tiny settings (the full runs are in their
docstrings)."""

from __future__ import annotations

import json

import numpy as np
from test_examples import run_example


def test_sequence_models(tmp_path, capsys):
    results = run_example(
        "sequence_models",
        *("--epochs", "3", "--units", "16"),
        *("--seq2seq-train", "256", "--seq2seq-test", "16", "--seq2seq-epochs", "1"),
        *("--seq2seq-units", "16", "--max-length", "4", "--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    digits = results["digits_classifier"]
    assert digits["epochs_run"] == 3 and digits["test_samples"] == 270
    assert 0.0 <= digits["test_accuracy"] <= 1.0
    reversal = results["seq2seq_reversal"]
    assert reversal["train_pairs"] == 256 and reversal["test_pairs"] == 16
    assert 0.0 <= reversal["exact_match"] <= 1.0
    assert np.isfinite(reversal["final_train_loss"])
    assert len(reversal["examples"]) == 3
    for row in reversal["examples"]:  # digits of the held-out source, reversed
        assert row["target"] == row["source"][::-1] and 3 <= len(row["source"]) <= 4
    assert "(a) digits as sequences" in printed and "(b) seq2seq reversal" in printed
    assert json.loads((tmp_path / "results.json").read_text()) == results


def test_vanishing_gradients(tmp_path, capsys):
    results = run_example(
        "vanishing_gradients",
        *("--time-steps", "25", "--units", "8", "--repeats", "1", "--steps", "6"),
        *("--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    ratios = results["vanishing"]["ratio_to_distance_0"]
    assert set(ratios) == {
        "SimpleRNN",
        "LSTM (forget bias 1)",
        "LSTM (forget bias 0)",
        "GRU",
    }
    assert ratios["SimpleRNN"]["20"] < 1e-1
    assert ratios["LSTM (forget bias 1)"]["20"] > ratios["SimpleRNN"]["20"]
    clipping = results["clipping"]
    assert clipping["clipped"]["diverged_at"] is None
    assert np.isfinite(clipping["clipped"]["loss"]).all()
    unclipped = clipping["unclipped"]
    assert unclipped["grad_norm"][0] > clipping["clipnorm"]
    for png in ("gradient_norms.png", "clipping.png"):
        assert (tmp_path / png).stat().st_size > 0
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["vanishing"]["ratio_to_distance_0"] == ratios
    assert "(a)" in printed and "(b)" in printed
