"""The augmentation example script, with a tiny budget (timings: bench_augmentation)."""

from __future__ import annotations

import json

import numpy as np
from test_examples import run_example


def test_augmentation_example(tmp_path, capsys):
    results = run_example(
        "augmentation",
        "--epochs",
        "1",
        "--models",
        "augment_mixup",
        "--steps",
        "rotation,translation,zoom,brightness,contrast,cutout",
        "--train-limit",
        "128",
        "--samples",
        "3",
        "--views",
        "2",
        "--out",
        str(tmp_path),
    )
    assert results["epochs"] == 1 and results["train_size"] == 128
    assert set(results["runs"]) == {"augment_mixup"}  # the stack and MixUp
    assert len(results["augmentation"]) == 6
    for run in results["runs"].values():
        assert 0.0 <= run["test_accuracy"] <= 1.0
        assert run["inference_is_identity"] is True
    for mode in ("mixup", "cutmix"):
        soft = np.asarray(results["mix_soft_labels"][mode])
        assert soft.shape == (3, 10)
        np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=2e-3)
    for name in ("augmented_digits.png", "mixup_cutmix.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "results.json").read_text()) == results
    assert "test accuracy" in capsys.readouterr().out
