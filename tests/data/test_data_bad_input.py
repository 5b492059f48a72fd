"""Bad input to the data loaders, tokenizers and shared checks fails at once,
naming the argument and the value received (malformed files included)."""

from __future__ import annotations

import numpy as np
import pytest

from kerasdl import data
from kerasdl.data import (
    CharTokenizer,
    Dataset,
    WordTokenizer,
    check_xy,
    load_csv,
    load_dataset,
    load_image_folder,
    load_text_file,
    split_text,
)
from kerasdl.data.dataset import check_value_range
from kerasdl.data.shapes import make_shapes_detection, make_shapes_segmentation

# -- check_value_range: the shared images-on-the-wrong-scale check -------------------


@pytest.mark.parametrize(
    "x,low,high,message",
    [
        (np.array([0.0, 255.0]), 0, 1, r"`x`.*\[0, 1\].*received values in \[0, 255\]"),
        (
            np.array([-1.0, 1.0]),
            0,
            1,
            r"`x`.*\[0, 1\].*received.*\[-1, 1\].*\(x \+ 1\)",
        ),
        (np.array([0.0, 255.0]), -1, 1, r"`x`.*\[-1, 1\].*received.*x / 127\.5 - 1"),
        (np.array([3.0, 4.0]), 0, 2, r"`x`.*\[0, 2\].*received values in \[3, 4\]"),
    ],
    ids=["8bit-for-01", "tanh-for-01", "8bit-for-tanh", "other"],
)
def test_check_value_range_refuses_the_wrong_scale(x, low, high, message):
    with pytest.raises(ValueError, match=message):
        check_value_range(x, float(low), float(high))


def test_check_value_range_accepts_the_range_and_small_overshoot():
    assert check_value_range(np.array([0.0, 1.0]), 0.0, 1.0) == (0.0, 1.0)
    assert check_value_range(np.array([-0.005, 1.005]), 0.0, 1.0) is not None
    assert check_value_range(np.zeros((0, 4)), 0.0, 1.0) is None


# -- check_xy and Dataset -----------------------------------------------------------


@pytest.mark.parametrize(
    "x,y,message",
    [
        (np.zeros((0, 3)), None, r"x is empty; received shape \(0, 3\)"),
        (np.array([["a", "b"]]), None, r"x must be numeric; received dtype <U1"),
        (np.array([[1.0, np.nan]]), None, r"x contains 1 NaN or infinite"),
        (np.array([[1.0, np.inf], [np.inf, 0]]), None, r"x contains 2 NaN"),
        (np.zeros((3, 2)), np.zeros(4), r"len\(x\)=3 and len\(y\)=4"),
    ],
    ids=["empty", "strings", "nan", "inf", "length"],
)
def test_check_xy(x, y, message):
    with pytest.raises(ValueError, match=message):
        check_xy(x, y)


def test_dataset_refuses_unknown_task_and_length_mismatch():
    with pytest.raises(ValueError, match=r"task must be one of.*received 'clustering'"):
        Dataset(np.zeros((2, 1)), None, "d", "clustering", "")
    with pytest.raises(ValueError, match=r"len\(x\)=2 and len\(y\)=3"):
        Dataset(np.zeros((2, 1)), np.zeros(3), "d", "regression", "")
    with pytest.raises(
        ValueError, match=r"feature_types roles.*received \{'a': 'blob'\}"
    ):
        Dataset(np.zeros((2, 1)), None, "d", "text", "", feature_types={"a": "blob"})


# -- load_dataset -------------------------------------------------------------------


def test_load_dataset_refuses_unknown_names_and_arguments():
    with pytest.raises(ValueError, match=r"Unknown dataset 'digitz'"):
        load_dataset("digitz")
    with pytest.raises(ValueError, match=r"Unknown dataset 3"):
        load_dataset(3)
    with pytest.raises(ValueError, match=r"load_dataset\('digits'\).*\['subset'\]"):
        load_dataset("digits", subset="test")


@pytest.mark.parametrize("loader", [data.load_mnist, data.load_cifar10, data.load_imdb])
def test_keras_sets_refuse_a_bad_subset(loader):
    with pytest.raises(ValueError, match=r"subset must be 'train' or 'test'.*'val'"):
        loader("val", download=False)


def test_imdb_refuses_a_bad_num_words():
    with pytest.raises(ValueError, match=r"num_words.*received 0"):
        data.load_imdb(num_words=0, download=False)


# -- user files: malformed and missing ----------------------------------------------


def write(path, content, mode="w"):
    with open(path, mode) as f:
        f.write(content)
    return path


@pytest.mark.parametrize(
    "content,target,message",
    [
        ("", "y", r"is an empty file"),
        ("a,b,y\n", "y", r"header but no data rows; received columns"),
        ("a,b,y\n1,2,0\n3,4,1\n", "label", r"target 'label' is not a column"),
        ("a,y\n1,0\n2,0\n3,0\n", "y", r"single class '0'"),
        ("y\n1\n2\n", "y", r"target 'y' is the only column"),
    ],
    ids=["empty", "no-rows", "no-target", "one-class", "no-features"],
)
def test_malformed_csv_files(tmp_path, content, target, message):
    path = write(tmp_path / "table.csv", content)
    with pytest.raises(ValueError, match=message):
        load_csv(path, target)


def test_missing_csv_and_bad_path_type(tmp_path):
    with pytest.raises(ValueError, match=r"existing CSV file; received '.*nope\.csv'"):
        load_csv(tmp_path / "nope.csv", "y")
    with pytest.raises(
        ValueError, match=r"path must be the path of a CSV.*received int"
    ):
        load_csv(3, "y")


def test_image_folder_checks(tmp_path):
    with pytest.raises(ValueError, match=r"existing folder; received '.*missing'"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"has no class subfolders"):
        load_image_folder(tmp_path)
    (tmp_path / "cat").mkdir()
    write(tmp_path / "cat" / "notes.txt", "not an image")
    with pytest.raises(ValueError, match=r"class folder .*cat.* holds no readable"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match=r"image_size.*received \(0, 8\)"):
        load_image_folder(tmp_path, image_size=(0, 8))
    with pytest.raises(ValueError, match=r"color_mode.*received 'cmyk'"):
        load_image_folder(tmp_path, color_mode="cmyk")


def test_text_file_checks(tmp_path):
    with pytest.raises(ValueError, match=r"existing text file; received '.*none\.txt'"):
        load_text_file(tmp_path / "none.txt")
    blank = write(tmp_path / "blank.txt", "\n  \n")
    with pytest.raises(ValueError, match=r"blank\.txt' is empty"):
        load_text_file(blank)
    latin = write(tmp_path / "latin.txt", "caf\xe9".encode("latin-1"), "wb")
    with pytest.raises(ValueError, match=r"latin\.txt' is not valid 'utf-8' text"):
        load_text_file(latin)
    with pytest.raises(ValueError, match=r"encoding 'klingon' is not a known codec"):
        load_text_file(latin, encoding="klingon")


# -- tokenizers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chars():
    return CharTokenizer.fit("abc ")


@pytest.mark.parametrize(
    "ids,message",
    [
        ([1, 9], r"ids must be in \[0, 5\); received values from 1 to 9"),
        ([-1, 2], r"ids must be in \[0, 5\); received values from -1 to 2"),
        ([1.0, 2.0], r"ids must be integers; received dtype float64"),
    ],
    ids=["high", "negative", "float"],
)
def test_decode_refuses_bad_ids(chars, ids, message):
    with pytest.raises(ValueError, match=message):
        chars.decode(ids)


def test_tokenizer_checks(chars, tmp_path):
    with pytest.raises(ValueError, match=r"never seen: \['z'\]"):
        chars.encode("abz")
    with pytest.raises(ValueError, match=r"text must be a str; received int"):
        chars.encode(3)
    with pytest.raises(ValueError, match=r"non-empty str"):
        CharTokenizer.fit("")
    with pytest.raises(ValueError, match=r"vocabulary must start with '\[PAD\]'"):
        CharTokenizer(["a", "b"])
    with pytest.raises(ValueError, match=r"max_words.*received max_words=2"):
        WordTokenizer.fit("a b c", max_words=2)
    with pytest.raises(ValueError, match=r"token '\[MASK\]' is not in the vocabulary"):
        chars.token_id("[MASK]")
    path = tmp_path / "chars.json"
    chars.save(path)
    with pytest.raises(ValueError, match=r"holds a 'char' tokenizer, not 'word'"):
        WordTokenizer.load(path)
    with pytest.raises(ValueError, match=r"existing tokenizer file; received"):
        CharTokenizer.load(tmp_path / "missing.json")


def test_malformed_tokenizer_file(tmp_path):
    path = write(tmp_path / "broken.json", "{not json")
    with pytest.raises(ValueError, match=r"broken\.json.*not a tokenizer file"):
        CharTokenizer.load(path)
    path = write(tmp_path / "novocab.json", '{"kind": "char"}')
    with pytest.raises(ValueError, match=r"novocab\.json.*no 'vocabulary'"):
        CharTokenizer.load(path)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, 2])
def test_split_text_refuses_fractions_outside_0_1(fraction):
    with pytest.raises(ValueError, match=rf"validation_fraction={fraction!r}"):
        split_text("some text to split", fraction)


# -- synthetic shapes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make,kwargs,message",
    [
        (make_shapes_segmentation, {"n": 0}, r"`n`.*received n=0"),
        (make_shapes_segmentation, {"size": 3}, r"size.*received size=3"),
        (make_shapes_segmentation, {"num_shapes": (3, 1)}, r"num_shapes=\(3, 1\)"),
        (make_shapes_detection, {"max_objects": 0}, r"max_objects.*=0"),
    ],
    ids=["seg-n", "seg-size", "seg-shapes", "det-objects"],
)
def test_shapes_generators_check_counts(make, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**{"n": 2, **kwargs})
