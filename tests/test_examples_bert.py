"""The BERT masked-LM example, tiny (the real run is benchmarks/bench_bert.py)."""

from __future__ import annotations

import json

from test_examples import run_example


def test_bert_mlm(tmp_path, capsys):
    summary = run_example(
        "bert_mlm",
        *("--epochs", "1", "--documents", "3", "--max-len", "32"),
        *("--hidden-dim", "16", "--layers", "1", "--batch-size", "64"),
        *("--quiet", "--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    assert "held-out masked-token accuracy" in printed
    assert summary["same_guesses_after_reload"]
    assert len(summary["fill_mask_top5"]) == 4
    specials = {"[PAD]", "[UNK]", "[MASK]", "[CLS]", "[SEP]"}
    for guesses in summary["fill_mask_top5"].values():
        assert len(guesses) == 5 and not specials & {w for w, _ in guesses}
    assert 0.0 <= summary["heldout_masked_accuracy"] <= 1.0
    assert 0.0 < summary["unigram_accuracy"] < 1.0
    assert summary["heldout_positions"] > 100
    assert summary["settings"]["epochs"] == 1
    for name in ("model.keras", "tokenizer.json", "curves.png"):
        assert (tmp_path / name).stat().st_size > 0
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["fill_mask_top5"] == summary["fill_mask_top5"]
