"""The OpenCV preprocessing example script, on scikit-learn's two sample photos."""

from __future__ import annotations

import json

from test_examples import run_example


def test_opencv_preprocessing_example(tmp_path, capsys):
    results = run_example(
        "opencv_preprocessing", "--height", "60", "--out", str(tmp_path)
    )
    assert [row["file"] for row in results["photos"]] == ["china.jpg", "flower.jpg"]
    for row in results["photos"]:
        assert row["original_shape"] == [427, 640, 3]
        assert row["resized_shape"] == [60, 90, 3]
        assert row["blurred_variance"] < row["gray_variance"]
        assert row["edge_fraction_after_blur"] < row["edge_fraction"]
        assert 0 < row["otsu_level"] < 255 and 0.0 < row["bright_fraction"] < 1.0
    assert results["pipeline_batch_shape"] == [2, 64, 96, 1]
    assert (tmp_path / "opencv_grid.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "results.json").read_text()) == results
    assert "Otsu level" in capsys.readouterr().out
