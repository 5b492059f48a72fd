"""The dense-prediction example scripts (segmentation, detection), tiny settings;
the full runs are benchmarks/bench_segmentation.py and bench_detection.py."""

from __future__ import annotations

import json

from test_examples import run_example


def test_unet_segmentation(tmp_path, capsys):
    results = run_example(
        "unet_segmentation",
        *("--train", "32", "--test", "8", "--size", "16", "--depth", "2"),
        *("--base-filters", "4", "--epochs", "1", "--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    report = results["report"]
    assert set(report["iou"]) == {"background", "circle", "square", "triangle"}
    assert 0.0 <= report["mean_iou"] <= report["mean_dice"] <= 1.0
    assert results["loaded_model_predicts_the_same"] is True
    assert "synthetic shapes" in printed and "mean" in printed
    for name in ("predictions.png", "unet.keras", "history.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "results.json").read_text()) == results


def test_object_detection(tmp_path, capsys):
    results = run_example(
        "object_detection",
        *("--train", "32", "--test", "8", "--size", "32", "--epochs", "1"),
        *("--score-threshold", "0.0", "--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    assert 0.0 <= results["map50"] <= 1.0 and 0.0 <= results["map75"] <= 1.0
    assert set(results["ap50_per_class"]) <= {"circle", "square", "triangle"}
    assert "mAP@0.5" in printed
    for name in ("detections.png", "heatmaps.png", "history.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "results.json").read_text()) == results
