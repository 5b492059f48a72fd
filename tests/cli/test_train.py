"""`kerasdl train` on a registered classifier (with --diagnose; a diverging run)
and `kerasdl card` on its run."""

import json

import pytest

from kerasdl.cli import main


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


def test_train_that_diverges_says_so_and_exits_1(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "mlp", "--dataset", "iris", "--epochs", "1", "--optimizer", "sgd"]
    rc = main([*argv, "--learning-rate", "1e20", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 1
    assert "training diverged" in captured.err and "Traceback" not in captured.err
    assert json.loads((out / "run.json").read_text())["status"] == "diverged"
