"""The `kerasdl` command itself: --help, the subcommand list, --backend (in this
process and in fresh ones) and the process set-up before Keras is imported."""

import json
import os
import subprocess
import sys

import keras
import pytest

from kerasdl.cli import main

SUBCOMMANDS = (
    "compare",
    "train",
    "generate",
    "doctor",
    "card",
    "datasets",
    "activations",
    "tune",
    "tune-distributed",
    "rl",
    "explain",
    "fid-asset",
)


def _run(capsys, argv):
    code = main(argv)
    return code, capsys.readouterr()


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


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "usage: kerasdl" in capsys.readouterr().err


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


def test_cli_keeps_jax_compilations_in_a_user_cache(monkeypatch, tmp_path):
    from kerasdl.cli import environment

    monkeypatch.delitem(sys.modules, "jax", raising=False)
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.delenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("KERASDL_JAX_CACHE", "1")
    environment.use_jax_compilation_cache()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "kerasdl" / "jax")
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    monkeypatch.setenv("KERASDL_JAX_CACHE", "0")
    environment.use_jax_compilation_cache()
    assert "JAX_COMPILATION_CACHE_DIR" not in os.environ


def test_cli_compiles_jax_for_the_cpu_at_xla_level_1(monkeypatch):
    from kerasdl.cli import environment

    monkeypatch.delitem(sys.modules, "jax", raising=False)
    monkeypatch.setattr(
        environment.os.path, "exists", lambda path: False
    )  # no NVIDIA GPU
    monkeypatch.setenv("KERASDL_FAST_COMPILE", "1")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    environment.use_fast_xla_compilation()
    assert (
        os.environ["XLA_FLAGS"] == "--xla_dump_to=/tmp/x " + environment.FAST_XLA_FLAG
    )
    # A level the user chose is kept; other backends and the switch leave it alone.
    for env in (
        {"XLA_FLAGS": "--xla_backend_optimization_level=3"},
        {"XLA_FLAGS": "", "KERAS_BACKEND": "tensorflow"},
        {"XLA_FLAGS": "", "KERASDL_FAST_COMPILE": "0"},
    ):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        before = os.environ["XLA_FLAGS"]
        environment.use_fast_xla_compilation()
        assert os.environ["XLA_FLAGS"] == before


def test_the_cli_and_the_seam_offer_the_same_backends():
    # One list: kerasdl._backends.SUPPORTED_BACKENDS, read by both without Keras.
    code = (
        "import sys\n"
        "from kerasdl._backends import SUPPORTED_BACKENDS\n"
        "from kerasdl.cli import build_parser\n"
        "assert 'keras' not in sys.modules\n"
        "action = next(a for a in build_parser()._actions if a.dest == 'backend')\n"
        "assert tuple(action.choices) == SUPPORTED_BACKENDS, action.choices\n"
        "import kerasdl.backend\n"
        "assert kerasdl.backend.SUPPORTED_BACKENDS is SUPPORTED_BACKENDS\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
