"""The scripts in tuning/ (not a package): each main() runs a tiny search and
writes its results where it says."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import pytest

TUNING = Path(__file__).resolve().parent.parent / "tuning"
SCRIPTS = sorted(p.stem for p in TUNING.glob("*.py"))


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f"tuning_{name}", TUNING / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_documents_its_command_and_imports_no_backend(name):
    source = (TUNING / f"{name}.py").read_text()
    tree = ast.parse(source)
    assert f"python tuning/{name}.py" in ast.get_docstring(tree)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"tensorflow", "jax", "torch"}


def test_search_digits(tmp_path, capsys):
    result = _load("search_digits").main(
        [
            "--family",
            "mlp",
            "--tuner",
            "hyperband",
            "--max-trials",
            "1",
            "--epochs",
            "1",
            "--limit",
            "200",
            "--set",
            "width=8",
            "--set",
            "depth=1",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    assert json.loads((tmp_path / "tune.json").read_text()) == result
    assert result["tuner"] == "hyperband" and result["completed_trials"] == 1
    assert result["data"]["test_samples"] == 40
    assert (tmp_path / "best_model.keras").is_file()
    assert "test accuracy" in capsys.readouterr().out


def test_search_tabular(tmp_path):
    result = _load("search_tabular").main(
        [
            "--dataset",
            "wine",
            "--tuner",
            "bayesian",
            "--max-trials",
            "1",
            "--epochs",
            "1",
            "--set",
            "width=8",
            "--set",
            "depth=1",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    assert (result["family"], result["dataset"], result["tuner"]) == (
        "mlp",
        "wine",
        "bayesian",
    )
    assert result["data"]["standardized"] is True
    assert (tmp_path / "trials.csv").is_file() and (tmp_path / "trials.png").is_file()


def test_default_output_folder_is_git_ignored():
    ignored = (TUNING.parent / ".gitignore").read_text().split()
    assert "runs/" in ignored
    for name in SCRIPTS:
        assert '"runs") / "tuning"' in (TUNING / f"{name}.py").read_text()
