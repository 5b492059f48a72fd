"""The `kerasdl` command, called in-process (plus two fresh processes for --backend)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from kerasdl.baselines import CLASSICAL_MODELS
from kerasdl.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SUBCOMMANDS = (
    "compare",
    "train",
    "generate",
    "doctor",
    "card",
    "datasets",
    "activations",
    "tune",
)


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


# --- help and listings -----------------------------------------------------------


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: kerasdl")
    for command in SUBCOMMANDS:
        assert command in out
    assert "--backend" in out


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: kerasdl {command}")


def test_compare_help_names_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = capsys.readouterr().out
    for option in ("--dataset", "--csv", "--target", "--images", "--folds", "--deep"):
        assert option in out


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "usage: kerasdl" in capsys.readouterr().err


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


def test_datasets_lists_every_set(capsys):
    code, captured = _run(capsys, ["datasets"])
    assert code == 0
    rows = dict(line.split() for line in captured.out.splitlines())
    assert rows["digits"] == "embedded"
    assert rows["iris"] == "embedded"
    assert rows["mnist"] == "keras.datasets"


def test_datasets_describes_one(capsys):
    code, captured = _run(capsys, ["datasets", "iris"])
    assert code == 0
    first, *rest = captured.out.splitlines()
    assert first == "iris: classification, x(150, 4), 3 classes"
    assert "Fisher" in " ".join(rest)


def test_datasets_unknown_name(capsys):
    line = _error_line(capsys, ["datasets", "nope"], command="datasets")
    assert "Unknown dataset 'nope'" in line and "digits" in line


def test_activations_writes_png_and_json(tmp_path, capsys):
    out = tmp_path / "plots" / "a.png"
    code, captured = _run(capsys, ["activations", "--out", str(out)])
    assert code == 0
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    assert "relu" in json.loads(out.with_suffix(".json").read_text())["activations"]
    assert str(out) in captured.out


# --- compare, for real (classical only: fast) ------------------------------------


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


# --- compare, user mistakes: exit code 2 and one line ----------------------------


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
    from kerasdl.cli import CLIError, _build_parser, _load_dataset_arg

    args = _build_parser().parse_args(["compare", "--dataset", "iris", "--target", "y"])
    with pytest.raises(CLIError, match="--target applies to --csv only"):
        _load_dataset_arg(args)


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


# --- the backend flag ------------------------------------------------------------


def test_backend_flag_after_keras_is_imported(capsys, monkeypatch):
    current = keras.backend.backend()
    other = "jax" if current == "tensorflow" else "tensorflow"
    with pytest.raises(SystemExit) as info:
        main(["--backend", other, "datasets"])
    assert info.value.code == 2
    assert "fresh process" in capsys.readouterr().err
    # Naming the backend already in use is fine.
    monkeypatch.setenv("KERAS_BACKEND", current)
    assert main(["--backend", current, "datasets"]) == 0


def _cli(*args, timeout=120):
    env = dict(os.environ, KERAS_BACKEND="tensorflow")  # --backend must win
    return subprocess.run(
        [sys.executable, "-m", "kerasdl.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_backend_flag_in_a_fresh_process(tmp_path):
    argv = ["--backend", "jax", "compare", "--dataset", "iris", "--folds", "2"]
    argv += ["--classical", "logreg", "--deep", "none", "--quiet"]
    result = _cli(*argv, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "backend jax" in result.stdout.splitlines()[0]
    assert json.loads((tmp_path / "compare.json").read_text())["backend"] == "jax"


def test_unknown_backend_in_a_fresh_process():
    result = _cli("--backend", "foo", "datasets", timeout=60)
    assert result.returncode == 2
    assert "invalid choice: 'foo'" in result.stderr
    assert "Traceback" not in result.stderr


# --- train, card, doctor data ----------------------------------------------------


def _train(capsys, out, *extra):
    argv = ["train", "mlp", "--dataset", "iris", "--epochs", "2", *extra]
    return _run(capsys, [*argv, "--out", str(out)])


def test_train_then_card(tmp_path, capsys):
    code, captured = _train(capsys, tmp_path)
    assert code == 0, captured.err
    assert "mlp on iris: test accuracy " in captured.out
    assert "training diagnostics" not in captured.out
    assert captured.out.splitlines()[-1].startswith(f"wrote {tmp_path}/model.keras")
    for name in ("model.keras", "run.json", "model_card.md"):
        assert (tmp_path / name).is_file(), name
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["config"]["epochs"] == 2 and run["metrics"]["epochs_run"] == 2
    assert f"test accuracy {run['metrics']['test_accuracy']:.4f}" in captured.out

    # `card` rebuilds the card from run.json, given model.keras or the folder.
    card = tmp_path / "model_card.md"
    for target in (tmp_path / "model.keras", tmp_path):
        card.unlink()
        code, captured = _run(capsys, ["card", "--model", str(target)])
        assert code == 0, captured.err
        assert captured.out.strip() == f"wrote {card}"
        text = card.read_text()
        assert "test_accuracy" in text and "iris" in text
        assert f"{run['metrics']['test_accuracy']:.4f}" in text


def test_train_with_diagnose(tmp_path, capsys):
    code, captured = _train(capsys, tmp_path, "--diagnose")
    assert code == 0, captured.err
    assert "test accuracy" in captured.out
    assert "training diagnostics" in captured.out
    assert isinstance(
        json.loads((tmp_path / "run.json").read_text())["diagnostics"], list
    )


def test_card_without_run_json(tmp_path, capsys):
    line = _error_line(capsys, ["card", "--model", str(tmp_path)], command="card")
    assert "run.json" in line and str(tmp_path) in line


@pytest.mark.parametrize(
    "model, message",
    [
        ("cnn", "model 'cnn' accepts image inputs; dataset 'iris' is tabular"),
        ("nope", "Unknown deep model 'nope'"),
    ],
)
def test_train_bad_model(model, message, tmp_path, capsys):
    argv = ["train", model, "--dataset", "iris", "--out", str(tmp_path / "run")]
    assert message in _error_line(capsys, argv, command="train")
    assert not (tmp_path / "run").exists()


def test_doctor_data(capsys):
    code, captured = _run(capsys, ["doctor", "data", "--dataset", "wine"])
    assert code == 0, captured.err
    assert captured.out.startswith("wine: data findings: ")
    assert "feature_scale" in captured.out


def test_doctor_data_writes_json(tmp_path, capsys):
    out = tmp_path / "sub" / "f.json"
    code, captured = _run(
        capsys, ["doctor", "data", "--dataset", "wine", "--json", str(out)]
    )
    assert code == 0, captured.err
    findings = json.loads(out.read_text())
    assert isinstance(findings, list) and findings
    for finding in findings:
        assert set(finding) == {"check", "severity", "message", "fix"}
        assert finding["severity"] in ("info", "warning", "error")
    assert "feature_scale" in [f["check"] for f in findings]
    assert captured.out.splitlines()[-1] == f"wrote {out}"


def test_doctor_data_unknown_dataset(capsys):
    argv = ["doctor", "data", "--dataset", "nope"]
    assert "Unknown dataset 'nope'" in _error_line(capsys, argv, command="doctor")


def test_train_that_diverges_says_so_and_exits_1(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "mlp", "--dataset", "iris", "--epochs", "1", "--optimizer", "sgd"]
    rc = main([*argv, "--learning-rate", "1e20", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 1
    assert "training diverged" in captured.err and "Traceback" not in captured.err
    assert json.loads((out / "run.json").read_text())["status"] == "diverged"


def test_cli_keeps_jax_compilations_in_a_user_cache(monkeypatch, tmp_path):
    from kerasdl import cli

    monkeypatch.delitem(sys.modules, "jax", raising=False)
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.delenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("KERASDL_JAX_CACHE", "1")
    cli._use_jax_compilation_cache()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "kerasdl" / "jax")
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    monkeypatch.setenv("KERASDL_JAX_CACHE", "0")
    cli._use_jax_compilation_cache()
    assert "JAX_COMPILATION_CACHE_DIR" not in os.environ


def test_cli_compiles_jax_for_the_cpu_at_xla_level_1(monkeypatch):
    from kerasdl import cli

    monkeypatch.delitem(sys.modules, "jax", raising=False)
    monkeypatch.setattr(cli.os.path, "exists", lambda path: False)  # no NVIDIA GPU
    monkeypatch.setenv("KERASDL_FAST_COMPILE", "1")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    cli._use_fast_xla_compilation()
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=/tmp/x " + cli.FAST_XLA_FLAG
    # A level the user chose is kept; other backends and the switch leave it alone.
    for env in (
        {"XLA_FLAGS": "--xla_backend_optimization_level=3"},
        {"XLA_FLAGS": "", "KERAS_BACKEND": "tensorflow"},
        {"XLA_FLAGS": "", "KERASDL_FAST_COMPILE": "0"},
    ):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        before = os.environ["XLA_FLAGS"]
        cli._use_fast_xla_compilation()
        assert os.environ["XLA_FLAGS"] == before
