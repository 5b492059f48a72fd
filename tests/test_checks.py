"""`kerasdl._checks`: the shared argument and file checks."""

import json
import zipfile

import pytest

from kerasdl._checks import check_keras_file


def test_check_keras_file_reads_the_class_without_keras(tmp_path):
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "Sequential"}))
    assert check_keras_file(path) == "Sequential"
    (tmp_path / "x.keras").write_text("not a zip")
    with pytest.raises(ValueError, match=r"^--model '.*x.keras' is not a .keras"):
        check_keras_file(tmp_path / "x.keras", "--model")
