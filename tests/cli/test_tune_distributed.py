"""`kerasdl tune-distributed` (formerly `python -m kerasdl.hypermodels.distributed`):
its options, the one-line errors of a role without the Keras Tuner environment and
of a bad argument, and a real local search through the command (slow)."""

from __future__ import annotations

import json

import pytest

from kerasdl.cli import main


def _error_line(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith("kerasdl tune-distributed: error: "), lines[0]
    return lines[0]


def test_help_keeps_the_options_of_the_former_module(capsys):
    with pytest.raises(SystemExit) as info:
        main(["tune-distributed", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--family",
        "--dataset",
        "--tuner",
        "--max-trials",
        "--epochs",
        "--seed",
        "--out",
        "--project-name",
        "--workers",
        "--port",
        "--host",
        "--backend",
        "--timeout",
        "--role",
        "--overwrite",
    ):
        assert option in out, option
    assert "--wait-for-workers" not in out  # internal: the launcher passes it


def test_runs_backend_offers_the_seams_backends_only(capsys):
    with pytest.raises(SystemExit) as info:
        main(["tune-distributed", "--backend", "mxnet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'mxnet'" in err
    assert "'tensorflow', 'jax', 'torch'" in err


def test_role_without_the_keras_tuner_environment(monkeypatch, capsys):
    for name in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    line = _error_line(capsys, ["tune-distributed", "--role", "worker"])
    assert "KERASTUNER_ORACLE_IP" in line


def test_bad_argument_is_one_line(tmp_path, capsys):
    argv = ["tune-distributed", "--dataset", "nope", "--out", str(tmp_path)]
    assert "Unknown dataset 'nope'" in _error_line(capsys, argv)


@pytest.mark.slow
def test_a_local_search_through_the_command(tmp_path, capsys):
    argv = ["tune-distributed", "--dataset", "iris", "--max-trials", "2"]
    argv += ["--workers", "1", "--backend", "jax", "--timeout", "480"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2/2 completed" in out
    assert out.strip().endswith(f"wrote {tmp_path / 'distributed.json'}")
    result = json.loads((tmp_path / "distributed.json").read_text())
    assert result["backend"] == "jax"
    assert result["trials_per_worker"] == {"tuner0": 2}
