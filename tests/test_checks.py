"""`kerasdl._checks`: the shared argument and file checks."""

import json
import re
import zipfile

import numpy as np
import pytest

from kerasdl._checks import (
    check_image_shape,
    check_keras_file,
    check_transformer_args,
)


def test_check_keras_file_reads_the_class_without_keras(tmp_path):
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "Sequential"}))
    assert check_keras_file(path) == "Sequential"
    (tmp_path / "x.keras").write_text("not a zip")
    with pytest.raises(ValueError, match=r"^--model '.*x.keras' is not a .keras"):
        check_keras_file(tmp_path / "x.keras", "--model")


@pytest.mark.parametrize(
    "value",
    [(8, 8), (8, 8, 1, 1), (8, 0, 1), (8, 8.0, 1), (8, True, 1), "8x8", None],
)
def test_check_image_shape_names_the_argument_and_the_value(value):
    with pytest.raises(ValueError, match=r"^`image_shape` must be \(height, width"):
        check_image_shape("image_shape", value)
    with pytest.raises(
        ValueError, match=rf"received image_shape={re.escape(repr(value))}"
    ):
        check_image_shape("image_shape", value)


def test_check_image_shape_size_divisibility_and_channels():
    assert check_image_shape("s", [8, 6, np.int64(3)]) == (8, 6, 3)
    assert type(check_image_shape("s", (8, 6, np.int64(3)))[2]) is int
    assert check_image_shape("s", (8, 8, 1), min_size=8, divisible_by=4) == (8, 8, 1)
    with pytest.raises(
        ValueError, match=r"at least 3x3; received s=\(2, 8, 1\)\. A 3x3 conv"
    ):
        check_image_shape("s", (2, 8, 1), min_size=3, reason="A 3x3 conv needs it.")
    with pytest.raises(ValueError, match=r"multiples of 4; received s=\(8, 6, 1\)\.$"):
        check_image_shape("s", (8, 6, 1), divisible_by=4)
    with pytest.raises(ValueError, match=r"`s` must have 3 channel\(s\); received"):
        check_image_shape("s", (8, 8, 1), channels=3)


_TRANSFORMER = dict(
    hidden_dim=16, num_layers=2, num_heads=4, intermediate_dim=None, dropout=0.1
)


def test_check_transformer_args_returns_them_checked():
    assert check_transformer_args({**_TRANSFORMER, "other": 1}) == _TRANSFORMER
    checked = check_transformer_args({**_TRANSFORMER, "layer_norm_epsilon": 1e-5})
    assert list(checked) == [*_TRANSFORMER, "layer_norm_epsilon"]


@pytest.mark.parametrize(
    "change, match",
    [
        ({"hidden_dim": 0}, r"`hidden_dim` must be an integer >= 1; received hidden_d"),
        ({"num_layers": 1.5}, r"`num_layers` .*received num_layers=1\.5"),
        ({"num_heads": 3}, r"divisible by `num_heads`; received hidden_dim=16 and num"),
        ({"intermediate_dim": -1}, r"received intermediate_dim=-1"),
        ({"dropout": 1.0}, r"`dropout` must be a number in \[0\.0, 1\.0\); receiv"),
        ({"layer_norm_epsilon": 0.0}, r"received layer_norm_epsilon=0\.0"),
        ({"layer_norm_epsilon": None}, r"received layer_norm_epsilon=None"),
    ],
)
def test_check_transformer_args_names_the_bad_argument(change, match):
    with pytest.raises(ValueError, match=match):
        check_transformer_args({**_TRANSFORMER, **change})
