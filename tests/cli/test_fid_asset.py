"""`kerasdl fid-asset` (formerly `python -m kerasdl.evaluation.fid`): its options,
and a one-epoch run that writes the weights, metadata and reference values to
`--out` (never to the shipped asset)."""

from __future__ import annotations

import json

import pytest

from kerasdl.cli import main


def test_help_keeps_the_options_of_the_former_module(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fid-asset", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--write-asset", "--out", "--seed", "--epochs"):
        assert option in out


@pytest.mark.slow
def test_one_epoch_to_out(tmp_path, capsys):
    out = tmp_path / "fid.npz"
    argv = ["fid-asset", "--epochs", "1", "--out", str(out)]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("held-out accuracy: ")
    assert lines[1].startswith(f"wrote {out} (") and lines[1].endswith(" B)")
    assert lines[2].startswith("reference values: ")
    metadata = json.loads(out.with_suffix(".json").read_text())
    assert metadata["epochs"] == 1
    assert set(metadata["reference_values"]) >= {"real_vs_real", "real_vs_noise"}
    assert out.stat().st_size > 0
