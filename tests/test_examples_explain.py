"""The Grad-CAM example script, with a tiny budget."""

from __future__ import annotations

import json

from test_examples import run_example


def test_grad_cam_example(tmp_path, capsys):
    results = run_example(
        "grad_cam",
        "--epochs",
        "2",
        "--train-limit",
        "256",
        "--filters",  # the sizes of tests/models/cnn/test_cnn.py: on JAX, compiled once
        "4,8",
        "--dense-units",
        "16",
        "--examples",
        "2",
        "--deletion-examples",
        "4",
        "--smooth-samples",
        "4",
        "--out",
        str(tmp_path),
    )
    assert results["epochs"] == 2 and results["train_size"] == 256
    assert results["grad_cam_layer"] == "block2_conv2_relu"
    assert 0.0 <= results["test_accuracy"] <= 1.0
    assert len(results["examples"]) == 2
    assert all(0 <= v < 8 for row in results["examples"] for v in row["grad_cam_peak"])
    drops = results["deletion"]["mean_probability_drop"]
    assert set(drops) == {"grad_cam", "saliency", "random"}
    assert all(-1.0 <= v <= 1.0 for v in drops.values())
    for name in ("explanations.png", "digit_0.png", "digit_1.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    assert json.loads((tmp_path / "results.json").read_text()) == results
    assert "Grad-CAM layer: block2_conv2_relu" in capsys.readouterr().out
