"""Error analysis: hand-computed confusion matrix and per-class metrics, the files
written, the confident-mistakes grid on real digit images, and input validation."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.metrics import precision_recall_fscore_support

from kerasdl.evaluation import (
    confusion_matrix,
    error_analysis,
    format_per_class,
    per_class_report,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NAMES = ["cat", "dog", "owl"]
# Rows of the confusion matrix below: cat -> [2, 1, 0], dog -> [0, 1, 1],
# owl -> [1, 1, 2].
Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1])


def test_confusion_matrix_and_per_class_metrics_match_hand_computation(tmp_path):
    result = error_analysis(Y_TRUE, Y_PRED, class_names=NAMES, out_dir=tmp_path)

    expected_matrix = [[2, 1, 0], [0, 1, 1], [1, 1, 2]]
    assert result["confusion_matrix"] == expected_matrix
    np.testing.assert_array_equal(confusion_matrix(Y_TRUE, Y_PRED, 3), expected_matrix)
    # Precision = diagonal / column sums (3, 3, 3); recall = diagonal / row sums.
    precision = [2 / 3, 1 / 3, 2 / 3]
    recall = [2 / 3, 1 / 2, 2 / 4]
    f1 = [2 / 3, 2 / 5, 4 / 7]
    support = [3, 2, 4]
    written = json.loads((tmp_path / "per_class.json").read_text())
    for report in (result["per_class"], written):
        rows = report["classes"]
        assert [r["class"] for r in rows] == NAMES
        np.testing.assert_allclose([r["precision"] for r in rows], precision)
        np.testing.assert_allclose([r["recall"] for r in rows], recall)
        np.testing.assert_allclose([r["f1"] for r in rows], f1)
        assert [r["support"] for r in rows] == support
        assert report["accuracy"] == pytest.approx(5 / 9)
        assert report["macro_avg"]["f1"] == pytest.approx((2 / 3 + 2 / 5 + 4 / 7) / 3)
        assert report["weighted_avg"]["precision"] == pytest.approx(16 / 27)
        assert report["weighted_avg"]["recall"] == pytest.approx(5 / 9)
    metrics = result["metrics"]
    assert metrics["accuracy"] == pytest.approx(5 / 9)
    assert metrics["macro_precision"] == pytest.approx(5 / 9)
    assert metrics["macro_f1"] == pytest.approx(172 / 315)
    # The same numbers as scikit-learn's.
    p, r, f, s = precision_recall_fscore_support(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(p, precision)
    np.testing.assert_allclose(f, f1)
    matrix_json = json.loads((tmp_path / "confusion_matrix.json").read_text())
    assert matrix_json["counts"] == expected_matrix
    assert matrix_json["class_names"] == NAMES
    np.testing.assert_allclose(matrix_json["row_normalised"][2], [0.25, 0.25, 0.5])


def test_files_are_pngs_and_table_is_printed(tmp_path):
    result = error_analysis(Y_TRUE, Y_PRED, class_names=NAMES, out_dir=tmp_path)
    png = tmp_path / "confusion_matrix.png"
    assert result["files"]["confusion_matrix_png"] == png
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert "confident_mistakes_png" not in result["files"]  # no x, no proba
    table = format_per_class(result["per_class"])
    assert table == result["table"]
    assert (tmp_path / "per_class.txt").read_text() == table + "\n"
    lines = table.splitlines()
    assert lines[1].split() == ["cat", "0.6667", "0.6667", "0.6667", "3"]
    assert any(line.split()[:2] == ["macro", "avg"] for line in lines)
    assert any(line.split() == ["accuracy", "0.5556", "9"] for line in lines)


def test_never_predicted_class_counts_as_zero_precision_and_is_noted():
    report = per_class_report([0, 1, 2, 2], [0, 1, 1, 1], class_names=NAMES)
    assert report["classes"][2]["precision"] == 0.0
    assert report["classes"][2]["recall"] == 0.0
    assert any("owl" in note for note in report["notes"])


def _digits_with_planted_mistakes(n=40):
    """Real digit images with predictions that are right except at 3 indices, whose
    confidence is known: index 12 (0.95), 3 (0.80), 7 (0.55)."""
    digits = load_digits()
    x = (digits.images[:n] / 16.0).astype("float32")
    y = digits.target[:n].astype("int64")
    pred = y.copy()
    proba = np.full((n, 10), 0.01)
    planted = {12: 0.95, 3: 0.80, 7: 0.55}
    for i in range(n):
        if i in planted:
            pred[i] = (y[i] + 1) % 10
        proba[i] = (1 - planted.get(i, 0.91)) / 9
        proba[i, pred[i]] = planted.get(i, 0.91)  # right answers: surer than 0.9
    return x, y, pred, proba


def test_confident_mistakes_grid_on_digit_images(tmp_path):
    x, y, pred, proba = _digits_with_planted_mistakes()
    names = [str(d) for d in range(10)]
    result = error_analysis(
        y, pred, proba=proba, x=x[..., None], class_names=names, out_dir=tmp_path
    )
    mistakes = result["confident_mistakes"]
    assert [m["index"] for m in mistakes] == [12, 3, 7]
    assert [m["confidence"] for m in mistakes] == pytest.approx([0.95, 0.80, 0.55])
    assert mistakes[0]["true_name"] == names[y[12]]
    assert mistakes[0]["pred_name"] == names[(y[12] + 1) % 10]
    png = tmp_path / "confident_mistakes.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    written = json.loads((tmp_path / "confident_mistakes.json").read_text())
    assert [m["index"] for m in written] == [12, 3, 7]


def test_confident_mistakes_from_flat_rows_and_top_k(tmp_path):
    x, y, pred, proba = _digits_with_planted_mistakes()
    flat = x.reshape(len(x), -1)
    result = error_analysis(
        y, None, proba=proba, x=flat, image_shape=(8, 8), top_k=2, out_dir=tmp_path
    )
    assert [m["index"] for m in result["confident_mistakes"]] == [12, 3]
    assert (tmp_path / "confident_mistakes.png").is_file()
    # The same rows without image_shape are tabular: no grid, and a note says why.
    other = tmp_path / "tabular"
    result = error_analysis(y, pred, proba=proba, x=flat, out_dir=other)
    assert not (other / "confident_mistakes.png").exists()
    assert any("image_shape" in note for note in result["notes"])
    # Images but no proba: no grid either.
    result = error_analysis(y, pred, x=x, out_dir=tmp_path / "noproba")
    assert not (tmp_path / "noproba" / "confident_mistakes.png").exists()
    assert any("proba" in note for note in result["notes"])


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"y_pred": [0, 1]}, "y_pred"),
        ({"y_true": [0, 1, 5, 1], "class_names": NAMES}, "y_true"),
        ({"y_pred": [0, 1, 3, 1], "proba": np.full((4, 3), 1 / 3)}, "y_pred"),
        ({"y_true": [0, -1, 2, 1]}, "y_true"),
        ({"y_true": [0.0, 1.5, 2.0, 1.0]}, "y_true"),
        ({"y_pred": np.full((4, 3), 1 / 3)}, "proba="),
        ({"proba": np.full((4, 2), 0.5)}, "proba"),
        ({"proba": np.full((3, 3), 1 / 3)}, "proba"),
        ({"proba": np.full((4, 3), 3.0)}, "logits"),
        ({"proba": np.full((4, 3), 1 / 3), "class_names": ["a", "b"]}, "proba"),
        ({"x": np.zeros((3, 8, 8))}, "x"),
        ({"x": np.zeros((4, 64)), "image_shape": (7, 7)}, "image_shape"),
        ({"top_k": 0}, "top_k"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(tmp_path, kwargs, argument):
    args = {"y_true": [0, 1, 2, 1], "y_pred": [0, 1, 1, 1], "out_dir": tmp_path}
    args.update(kwargs)
    y_true, y_pred = args.pop("y_true"), args.pop("y_pred")
    with pytest.raises(ValueError, match=argument.replace("(", r"\(")):
        error_analysis(y_true, y_pred, **args)
    assert not (tmp_path / "confusion_matrix.png").exists()


def test_class_names_label_both_axes_of_both_panels(tmp_path, monkeypatch):
    import kerasdl.plotting

    figures = []
    save = kerasdl.plotting.save_figure

    def capture(fig, path, **kwargs):
        figures.append(fig)
        return save(fig, path, close=False)

    monkeypatch.setattr(kerasdl.plotting, "save_figure", capture)
    error_analysis(Y_TRUE, Y_PRED, class_names=NAMES, out_dir=tmp_path, title="T")
    (fig,) = figures
    panels = [ax for ax in fig.axes if ax.get_xlabel() == "predicted class"]
    assert len(panels) == 2
    for ax in panels:
        assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
        assert [t.get_text() for t in ax.get_yticklabels()] == NAMES
        assert ax.get_ylabel() == "true class"
    counts = [t.get_text() for t in panels[0].texts]
    assert counts == ["2", "1", "0", "0", "1", "1", "1", "1", "2"]
    assert fig._suptitle.get_text() == "T"
