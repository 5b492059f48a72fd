"""The ViT example script, with a tiny budget (the full runs are in bench_vit)."""

from __future__ import annotations

import json

from test_examples import run_example


def test_vit_digits(tmp_path, capsys):
    results = run_example(
        "vit_digits",
        "--epochs",
        "2",
        "--train-limit",
        "128",
        "--hidden-dim",
        "16",
        "--num-layers",
        "1",
        "--num-heads",
        "2",
        "--out",
        str(tmp_path),
    )
    assert results["epochs"] == 2 and results["train_size"] == 128
    assert results["num_patches"] == 4  # 8x8 digits, 4x4 patches
    assert 0.0 <= results["test_accuracy"] <= 1.0
    assert results["reloaded_model_predicts_the_same"] is True
    for name in (
        "training_curves.png",
        "history.json",
        "cls_attention.png",
        "cls_attention.json",
        "vit_digits.keras",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "results.json").read_text()) == results
    attention = json.loads((tmp_path / "cls_attention.json").read_text())
    maps = attention["cls_attention_over_patches"]
    assert len(maps) == 8 and len(maps[0]) == 2 and len(maps[0][0]) == 2
    # Softmax over [CLS] + 4 patches: the patch weights sum to at most 1.
    assert all(0.0 < sum(map(sum, m)) <= 1.0 + 1e-4 for m in maps)
    assert "test accuracy" in capsys.readouterr().out
