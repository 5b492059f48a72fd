"""`kerasdl activations`: the PNG and JSON it writes."""

import json

from kerasdl.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(capsys, argv):
    code = main(argv)
    return code, capsys.readouterr()


def test_activations_writes_png_and_json(tmp_path, capsys):
    out = tmp_path / "plots" / "a.png"
    code, captured = _run(capsys, ["activations", "--out", str(out)])
    assert code == 0
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    assert "relu" in json.loads(out.with_suffix(".json").read_text())["activations"]
    assert str(out) in captured.out
