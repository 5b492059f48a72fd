"""`kerasdl doctor data`: findings printed and written as JSON."""

import json

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
