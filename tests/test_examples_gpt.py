"""The GPT example script, tiny (the real run is benchmarks/bench_gpt.py)."""

from __future__ import annotations

import json

from test_examples import run_example


def test_gpt_char_lm(tmp_path):
    summary = run_example(
        "gpt_char_lm",
        *("--epochs", "1", "--max-len", "16", "--layers", "1", "--hidden-dim", "16"),
        *("--chars", "6000", "--quiet", "--out", str(tmp_path)),
    )
    assert summary["cached_equals_uncached"]
    assert set(summary["samples"]) == {
        "greedy",
        "temperature 0.8",
        "top-k 5",
        "top-p 0.9",
    }
    assert all(
        s.startswith("The ") and len(s) == 16 for s in summary["samples"].values()
    )
    assert summary["val_nats_per_char"] > 0 and summary["bigram_nats_per_char"] > 0
    for name in ("loss.png", "model.keras", "tokenizer.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert (
        json.loads((tmp_path / "summary.json").read_text())["samples"]
        == summary["samples"]
    )
