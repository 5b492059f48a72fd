"""`kerasdl train gpt` then `kerasdl generate`: files written, the same text from
the CLI as from the library, one-line errors for mistakes."""

from __future__ import annotations

import json

import numpy as np

from kerasdl.cli import main
from kerasdl.recipes import generate_text, load_char_lm


def _error_line(capsys, argv, command):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith(f"kerasdl {command}: error: ")
    return lines[0]


def test_train_gpt_then_generate(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat and the dog sat on the log.\n" * 30)
    out = tmp_path / "run"
    argv = ["train", "gpt", "--corpus", str(corpus), "--out", str(out)]
    argv += ["--epochs", "1", "--max-len", "24", "--layers", "1", "--hidden-dim", "16"]
    assert main([*argv, "--heads", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "nats/char vs bigram" in printed
    for name in ("model.keras", "tokenizer.json", "result.json", "loss.png"):
        assert (out / name).is_file()
    record = json.loads((out / "result.json").read_text())
    assert record["corpus"] == str(corpus)
    assert np.isfinite(record["val_nats_per_char"])
    assert record["bigram_nats_per_char"] > 0

    gen = ["generate", "--model", str(out / "model.keras"), "--prompt", "the c"]
    assert main([*gen, "--max-new-tokens", "10", "--seed", "3"]) == 0
    text = capsys.readouterr().out[:-1]  # print's newline
    model, tokenizer = load_char_lm(out / "model.keras")
    expected = generate_text(
        model, tokenizer, "the c", 10, method="top_p", top_p=0.9, seed=3
    )
    assert text == expected and text.startswith("the c") and len(text) == 15
    assert main([*gen, "--method", "greedy", "--no-cache"]) == 0
    assert len(capsys.readouterr().out[:-1]) == 24  # fills the context

    line = _error_line(capsys, [*gen[:3], "--prompt", "XYZ"], "generate")
    assert "never seen" in line
    (out / "tokenizer.json").unlink()
    line = _error_line(capsys, gen, "generate")
    assert "tokenizer.json" in line


def test_train_gpt_and_generate_report_missing_files(tmp_path, capsys):
    line = _error_line(
        capsys, ["train", "gpt", "--corpus", str(tmp_path / "no.txt")], "train"
    )
    assert "no.txt" in line
    line = _error_line(
        capsys,
        ["generate", "--model", str(tmp_path / "none.keras"), "--prompt", "a"],
        "generate",
    )
    assert "existing .keras file" in line
