"""The word2vec example script, tiny (default runs: the issue notes)."""

from __future__ import annotations

import json

from test_examples import run_example


def test_word2vec_example(tmp_path, capsys):
    summary = run_example(
        "word2vec",
        *("--epochs", "2", "--dim", "16", "--docs", "20", "--min-count", "2"),
        *("--batch-size", "256", "--learning-rate", "0.02", "--top-k", "3"),
        *("--quiet", "--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    assert summary["documents"] == 20
    losses = summary["history"]["loss"]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert summary["neighbours"], "some query words are in the vocabulary"
    for word, near in summary["neighbours"].items():
        assert len(near) == 3 and word not in [w for w, _ in near]
        assert f"{word:>10}: " in printed
    related = summary["related_pairs"]
    assert related["ranks"] and 1 <= related["median_rank"] < summary["vocab_size"]
    layer = summary["embedding_layer"]
    assert layer["output_shape"] == [2, 6, 16] and layer["matches_table"]
    assert layer["mask"][0] == [1, 1, 0, 0, 0, 0]
    assert summary["reloaded_same_neighbours"] is True
    assert (tmp_path / "embeddings_2d.png").stat().st_size > 1000
    written = json.loads((tmp_path / "neighbours.json").read_text())
    assert written["neighbours"] == summary["neighbours"]
    for name in ("word2vec.keras", "tokenizer.json"):
        assert (tmp_path / name).stat().st_size > 0
