"""examples/ddpm.py runs (in this process, tiny settings) and writes what it
promises. Its layout and public-API use are checked by tests/test_examples.py."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str):
    """Import examples/<name>.py without running it, then call its main(argv)."""
    namespace = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="not_main")
    return namespace["main"](list(args))


def test_ddpm(tmp_path, capsys):
    results = run_example(
        "ddpm",
        *("--epochs", "2", "--timesteps", "20", "--base-filters", "8"),
        *("--channel-mults", "1", "--n-samples", "6", "--ddim-steps", "5"),
        *("--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    assert len(results["losses"]) == 2 and np.all(np.isfinite(results["losses"]))
    assert results["ddim_steps"] == 5 and results["config"]["timesteps"] == 20
    for key in ("ddpm", "ddim"):
        assert 0.0 <= results["pixel_mean"][key] <= 1.0
    for png in ("real_digits", "samples_ddpm", "samples_ddim", "trajectory", "loss"):
        assert (tmp_path / f"{png}.png").stat().st_size > 0
    assert (tmp_path / "ddpm.keras").is_file()
    assert json.loads((tmp_path / "results.json").read_text()) == results
    assert "DDPM (20 steps)" in printed and "DDIM (5 steps, eta 0)" in printed
