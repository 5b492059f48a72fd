"""`kerasdl compare`: --list, tiny real runs (classical only: fast), and the
data-source mistakes (one line, exit code 2)."""

import json

import keras
import numpy as np
import pytest

from kerasdl.baselines import CLASSICAL_MODELS
from kerasdl.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(capsys, argv):
    code = main(argv)
    return code, capsys.readouterr()


def _error_line(capsys, argv, command="compare"):
    """Run `argv`, expect exit code 2 and exactly one line on stderr; return it."""
    code, captured = _run(capsys, argv)
    assert code == 2, captured
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"kerasdl {command}: error: "), lines[0]
    assert captured.out == ""
    return lines[0]


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_compare_help_names_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = capsys.readouterr().out
    for option in ("--dataset", "--csv", "--target", "--images", "--folds", "--deep"):
        assert option in out


def test_compare_list(capsys):
    code, captured = _run(capsys, ["compare", "--list"])
    assert code == 0
    lines = captured.out.splitlines()
    assert lines[0] == "classical (classification):"
    assert "classical (regression):" in lines
    assert any(line.startswith("deep (tables") for line in lines)
    names = [line.split()[0] for line in lines if line.startswith("  ")]
    assert set(CLASSICAL_MODELS) | {"mlp", "cnn", "ft_transformer", "ridge"} <= set(
        names
    )
    cnn = next(line for line in lines if line.split()[0] == "cnn")
    assert cnn.endswith("[image]")


def test_compare_tiny_run(tmp_path, capsys):
    argv = ["compare", "--dataset", "iris", "--folds", "2"]
    argv += ["--classical", "logreg", "--deep", "none", "--out", str(tmp_path)]
    code, captured = _run(capsys, argv)
    assert code == 0
    lines = captured.out.splitlines()
    # iris is a numeric table: its column roles come first, then the results.
    start = next(i for i, line in enumerate(lines) if line.startswith("iris: class"))
    assert lines[start].startswith(
        "iris: classification, 2-fold stratified CV, 150 samples, backend "
    )
    assert f"backend {keras.backend.backend()}," in lines[start]
    assert lines[start + 3].split()[:2] == ["logreg", "classical"]
    assert lines[-1].startswith("wrote ") and "compare.json" in lines[-1]
    report = json.loads((tmp_path / "compare.json").read_text())
    assert [r["model"] for r in report["results"]] == ["logreg"]
    assert report["folds"] == 2 and report["dataset"] == "iris"
    assert report["results"][0]["accuracy_mean"] > 0.85
    assert (tmp_path / "compare.png").read_bytes()[:8] == PNG_SIGNATURE
    assert "logreg" in captured.err  # progress lines go to stderr


def test_compare_quiet_learning_curve_and_default_out(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["compare", "--dataset", "wine", "--folds", "3", "--seed", "1"]
    argv += ["--classical", "logreg,knn", "--deep", "none"]
    code, captured = _run(capsys, argv + ["--learning-curve", "--quiet"])
    assert code == 0
    assert captured.err == ""
    out = tmp_path / "runs" / "compare" / "wine"
    report = json.loads((out / "compare.json").read_text())
    assert report["seed"] == 1
    assert {r["model"] for r in report["results"]} == {"logreg", "knn"}
    assert (out / "learning_curve.png").read_bytes()[:8] == PNG_SIGNATURE
    assert "classical" in json.loads((out / "learning_curve.json").read_text())
    assert "learning_curve.png" in captured.out.splitlines()[-1]


def test_compare_on_an_image_folder(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, level in (("dark", 40), ("light", 210)):
        (tmp_path / "pics" / name).mkdir(parents=True)
        for i in range(4):
            pixels = np.clip(level + rng.normal(0, 10, (12, 12, 3)), 0, 255)
            Image.fromarray(pixels.astype("uint8")).save(
                tmp_path / "pics" / name / f"{i}.png"
            )
    argv = ["compare", "--images", str(tmp_path / "pics"), "--image-size", "6"]
    argv += ["--folds", "2", "--classical", "logreg", "--deep", "none", "--quiet"]
    code, captured = _run(capsys, argv + ["--out", str(tmp_path / "out")])
    assert code == 0, captured.err
    report = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert report["dataset"] == "pics" and report["n_samples"] == 8
    assert report["results"][0]["accuracy_mean"] == 1.0
    assert report["results"][0]["params"] == 6 * 6 * 3 + 1  # binary logreg


def test_unknown_dataset(capsys):
    line = _error_line(capsys, ["compare", "--dataset", "imagenet"])
    assert "Unknown dataset 'imagenet'" in line


def test_csv_without_target(tmp_path, capsys):
    path = _write(tmp_path / "t.csv", "a,b,label\n1,2,x\n3,4,y\n")
    line = _error_line(capsys, ["compare", "--csv", path])
    assert "--csv needs --target" in line


def test_target_without_csv(capsys):
    line = _error_line(capsys, ["compare", "--dataset", "iris", "--target", "y"])
    assert "--target applies to --csv only" in line


def test_argument_combinations_raise_cli_error_in_process():
    # The CLIError behind the one-line messages above, seen from Python.
    from kerasdl.cli import CLIError, build_parser
    from kerasdl.cli.common import load_dataset_arg

    args = build_parser().parse_args(["compare", "--dataset", "iris", "--target", "y"])
    with pytest.raises(CLIError, match="--target applies to --csv only"):
        load_dataset_arg(args)


def test_missing_csv_file(tmp_path, capsys):
    argv = ["compare", "--csv", str(tmp_path / "nope.csv"), "--target", "y"]
    assert "nope.csv" in _error_line(capsys, argv)


def test_csv_without_the_target_column(tmp_path, capsys):
    path = _write(tmp_path / "t.csv", "a,b,label\n1,2,x\n3,4,y\n")
    line = _error_line(capsys, ["compare", "--csv", path, "--target", "species"])
    assert "target 'species' is not a column" in line and "'label'" in line


def test_csv_with_text_features_and_missing_cells_is_compared(tmp_path, capsys):
    colours = ["red", "blue"]
    rows = "".join(
        f"{i},{'' if i == 3 else colours[i % 2]},{'' if i == 4 else i},{i % 2}\n"
        for i in range(20)
    )
    path = _write(tmp_path / "t.csv", "a,colour,b,label\n" + rows)
    argv = ["compare", "--csv", path, "--target", "label", "--folds", "2", "--quiet"]
    argv += ["--classical", "dummy,logreg", "--deep", "none"]
    code, captured = _run(capsys, argv + ["--out", str(tmp_path / "out")])
    assert code == 0, captured.err
    assert "categorical (1): colour" in captured.out
    report = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert report["task"] == "classification"
    assert report["feature_types"] == {
        "a": "numeric",
        "colour": "categorical",
        "b": "numeric",
    }
    assert [r["model"] for r in report["results"]] == ["dummy", "logreg"]


def test_csv_with_a_regression_target(tmp_path, capsys):
    rows = "".join(f"{i},{i * 0.37:.3f}\n" for i in range(30))
    path = _write(tmp_path / "t.csv", "a,price\n" + rows)
    argv = ["compare", "--csv", path, "--target", "price", "--folds", "3"]
    argv += ["--classical", "dummy,ridge", "--deep", "none", "--quiet"]
    code, captured = _run(capsys, argv + ["--out", str(tmp_path / "out")])
    assert code == 0, captured.err
    report = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert report["task"] == "regression" and report["metric"] == "rmse"
    rows = {r["model"]: r for r in report["results"]}
    assert rows["ridge"]["rmse_mean"] < rows["dummy"]["rmse_mean"]
    assert "ranked by RMSE" in captured.out


def test_csv_table_flags_need_csv(capsys):
    line = _error_line(capsys, ["compare", "--dataset", "iris", "--task", "regression"])
    assert "--task applies to --csv only" in line


def test_more_folds_than_the_smallest_class(tmp_path, capsys):
    labels = ["cat"] * 5 + ["dog"] * 5 + ["emu"]
    rows = "".join(f"{i},{i * 2},{label}\n" for i, label in enumerate(labels))
    path = _write(tmp_path / "t.csv", "a,b,animal\n" + rows)
    argv = ["compare", "--csv", path, "--target", "animal", "--folds", "2"]
    line = _error_line(capsys, argv)
    assert "smallest class" in line and "only 1 member" in line


def test_images_folder_without_class_subfolders(tmp_path, capsys):
    from PIL import Image

    Image.new("RGB", (4, 4)).save(tmp_path / "loose.png")
    line = _error_line(capsys, ["compare", "--images", str(tmp_path)])
    assert "no class subfolders" in line


def test_images_folder_that_does_not_exist(tmp_path, capsys):
    line = _error_line(capsys, ["compare", "--images", str(tmp_path / "nope")])
    assert "existing folder" in line


def test_image_size_too_small(tmp_path, capsys):
    argv = ["compare", "--images", str(tmp_path), "--image-size", "2"]
    assert "--image-size must be >= 3; received 2" in _error_line(capsys, argv)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--deep", "nope"], "Unknown deep model 'nope'"),
        (["--deep", "cnn"], "'cnn' accepts image inputs"),
        (["--classical", "xgboost"], "Unknown classical model 'xgboost'"),
        (["--classical", "none", "--deep", "none"], "Nothing to compare"),
        (["--folds", "1"], "folds must be an integer >= 2; received 1"),
        (["--deep", "mlp", "--epochs", "0"], "epochs must be >= 1; received 0"),
    ],
)
def test_bad_model_options(extra, message, capsys):
    line = _error_line(capsys, ["compare", "--dataset", "iris", *extra])
    assert message in line


def test_regression_dataset(tmp_path, capsys):
    argv = ["compare", "--dataset", "diabetes", "--folds", "2", "--quiet"]
    argv += ["--classical", "dummy,ridge", "--deep", "none", "--out", str(tmp_path)]
    code, captured = _run(capsys, argv)
    assert code == 0, captured.err
    report = json.loads((tmp_path / "compare.json").read_text())
    assert report["task"] == "regression"
    assert {"rmse_mean", "mae_mean", "r2_mean"} <= set(report["results"][0])


def test_unknown_metric_for_the_task(capsys):
    argv = ["compare", "--dataset", "diabetes", "--metric", "accuracy"]
    line = _error_line(capsys, argv)
    assert "metric 'accuracy' is not a regression metric" in line


def test_out_is_an_existing_file(tmp_path, capsys):
    target = tmp_path / "report.txt"
    target.write_text("not a folder")
    argv = ["compare", "--dataset", "iris", "--folds", "2", "--classical", "logreg"]
    line = _error_line(capsys, argv + ["--deep", "none", "--out", str(target)])
    assert "report.txt" in line
