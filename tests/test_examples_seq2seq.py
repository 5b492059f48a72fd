"""The date-translation example, tiny (the real run is benchmarks/bench_seq2seq.py)."""

from __future__ import annotations

import json

from test_examples import run_example


def test_date_translation(tmp_path, capsys):
    summary = run_example(
        "date_translation",
        *("--train-size", "256", "--test-size", "16", "--epochs", "2"),
        *("--hidden-dim", "16", "--layers", "1", "--heads", "2", "--beam-width", "2"),
        *("--quiet", "--out", str(tmp_path)),
    )
    assert summary["loss"][-1] < summary["loss"][0]
    assert 0.0 <= summary["exact_match_greedy"] <= 1.0
    assert 0.0 <= summary["exact_match_beam2"] <= 1.0
    assert set(summary["showcase"]) >= {"saturday 9 may 1998", "9/5/98"}
    for outputs in summary["showcase"].values():
        assert set(outputs) == {"greedy", "beam"}
        assert all(set(text) <= set("0123456789-") for text in outputs.values())
    for name in ("loss.png", "cross_attention.png", "cross_attention.json"):
        assert (tmp_path / name).stat().st_size > 0
    attention = json.loads((tmp_path / "cross_attention.json").read_text())
    assert attention["key_tokens"] == list("saturday 9 may 1998")
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert "exact match" in capsys.readouterr().out
