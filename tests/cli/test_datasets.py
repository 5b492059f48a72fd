"""`kerasdl datasets`: the list, one description, an unknown name."""

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
