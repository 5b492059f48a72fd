"""User data loaders: CSV tables, image folders, text files, and their errors."""

import re

import numpy as np
import pytest
from PIL import Image

from kerasdl import data

# --------------------------------------------------------------------------------------
# CSV


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_string_target_is_classification(tmp_path):
    path = _write(
        tmp_path / "pets.csv",
        "weight,height,kind\n4.0,30,cat\n30.5,60,dog\n3.5,25,cat\n25,55,dog\n1,10,bird\n",
    )
    ds = data.load_csv(path, "kind")
    assert ds.task == "classification"
    assert ds.name == "pets"
    assert ds.class_names == ["bird", "cat", "dog"]
    assert ds.y.dtype == np.int64
    assert ds.y.tolist() == [1, 2, 1, 2, 0]
    assert ds.x.dtype == np.float32 and ds.x.shape == (5, 2)
    np.testing.assert_array_equal(ds.x[1], [30.5, 60.0])
    assert ds.feature_names == ["weight", "height"]
    assert ds.num_classes == 3


def test_csv_integer_target_with_few_values_is_classification(tmp_path):
    path = _write(tmp_path / "t.csv", "a,label,b\n1,3,2\n2,1,5\n3,2,2\n4,3,7\n")
    ds = data.load_csv(path, "label", name="custom")
    assert ds.task == "classification" and ds.name == "custom"
    # Labels 1, 2, 3 become indices 0, 1, 2, named after the original values.
    assert ds.class_names == ["1", "2", "3"]
    assert ds.y.tolist() == [2, 0, 1, 2]
    assert ds.feature_names == ["a", "b"]


def test_csv_float_target_is_regression(tmp_path):
    rows = "\n".join(f"{i},{i * 0.37 + 1.1:.3f}" for i in range(30))
    ds = data.load_csv(_write(tmp_path / "r.csv", "x,price\n" + rows + "\n"), "price")
    assert ds.task == "regression"
    assert ds.y.dtype == np.float32 and ds.class_names is None
    assert ds.y[2] == pytest.approx(1.84)


def test_csv_many_integer_values_is_regression(tmp_path):
    rows = "\n".join(f"{i},{i * 7}" for i in range(40))  # 40 distinct integers
    ds = data.load_csv(_write(tmp_path / "r.csv", "x,count\n" + rows + "\n"), "count")
    assert ds.task == "regression"


def test_csv_task_can_be_forced(tmp_path):
    path = _write(tmp_path / "t.csv", "a,y\n1,0\n2,1\n3,2\n")
    assert data.load_csv(path, "y", task="regression").task == "regression"
    with pytest.raises(ValueError, match="task must be"):
        data.load_csv(path, "y", task="clustering")
    path = _write(tmp_path / "s.csv", "a,y\n1,cat\n2,dog\n")
    with pytest.raises(ValueError, match="task='regression' needs a numeric target"):
        data.load_csv(path, "y", task="regression")


def test_csv_missing_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(
        ValueError, match=r"path must be an existing CSV file.*nope\.csv"
    ):
        data.load_csv(missing, "y")


def test_csv_missing_target_lists_columns(tmp_path):
    path = _write(tmp_path / "t.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(
        ValueError, match=r"target 'label' is not a column.*'a', 'b', 'c'"
    ):
        data.load_csv(path, "label")


def test_csv_non_numeric_features_make_a_raw_table(tmp_path):
    path = _write(
        tmp_path / "t.csv", "a,color,size,y\n1,red,S,0\n2,blue,M,1\n3,red,M,0\n"
    )
    ds = data.load_csv(path, "y")
    assert ds.is_raw_table
    assert ds.feature_types == {
        "a": "numeric",
        "color": "categorical",
        "size": "categorical",
    }
    assert ds.x["color"].tolist() == ["red", "blue", "red"]
    assert ds.x["a"].dtype == np.float64
    assert ds.y.tolist() == [0, 1, 0] and ds.class_names == ["0", "1"]


def test_csv_missing_feature_cells_make_a_raw_table(tmp_path):
    path = _write(tmp_path / "t.csv", "a,b,y\n1,,0\n,2,1\n3,,0\n4,5,1\n")
    ds = data.load_csv(path, "y")
    assert ds.is_raw_table and ds.feature_types == {"a": "numeric", "b": "numeric"}
    assert ds.x.isna().sum().to_dict() == {"a": 1, "b": 2}
    assert ds.x["a"].iloc[0] == 1.0 and np.isnan(ds.x["a"].iloc[1])


def test_csv_clean_numeric_table_stays_a_float32_array(tmp_path):
    path = _write(tmp_path / "t.csv", "a,b,y\n1,0.5,0\n2,2,1\n3,7,0\n")
    ds = data.load_csv(path, "y")
    assert isinstance(ds.x, np.ndarray) and ds.x.dtype == np.float32
    assert not ds.is_raw_table
    assert ds.feature_types == {"a": "numeric", "b": "numeric"}


def test_csv_missing_target_rows_are_dropped_and_counted(tmp_path):
    path = _write(tmp_path / "t.csv", "a,y\n1,0\n2,\n3,1\n4,0\n")
    with pytest.warns(UserWarning, match=r"target 'y' is missing in 1 row\(s\)"):
        ds = data.load_csv(path, "y")
    assert ds.extra["dropped_target_rows"] == 1
    np.testing.assert_array_equal(ds.x[:, 0], [1, 3, 4])
    assert ds.y.tolist() == [0, 1, 0]


def test_csv_passes_the_table_options_on(tmp_path):
    path = _write(
        tmp_path / "t.csv",
        "site;code;note;y\na;1;x;0\nb;2;y;1\na;3;x;0\nb;1;y;1\n",
    )
    ds = data.load_csv(path, "y", categorical=["code"], ignore="note", groups="site")
    assert ds.feature_types == {"code": "categorical"}
    assert ds.x["code"].tolist() == ["1", "2", "3", "1"]
    assert ds.extra["dropped_columns"] == {"note": "--ignore"}
    assert ds.extra["groups"].tolist() == ["a", "b", "a", "b"]
    with pytest.raises(ValueError, match="target 'y' is not a column"):
        data.load_csv(path, "y", sep=",")


def test_csv_rejects_a_dataframe():
    import pandas as pd

    with pytest.raises(ValueError, match=r"path must be the path.*DataFrame"):
        data.load_csv(pd.DataFrame({"a": [1, 2], "y": [0, 1]}), "y")


@pytest.mark.parametrize("text", ["", "a,y\n"])
def test_csv_empty(tmp_path, text):
    path = _write(tmp_path / "empty.csv", text)
    with pytest.raises(ValueError, match=r"path .*empty\.csv.*(empty|no data rows)"):
        data.load_csv(path, "y")


def test_csv_target_only(tmp_path):
    path = _write(tmp_path / "t.csv", "y\n1\n2\n")
    with pytest.raises(ValueError, match="target 'y' is the only column"):
        data.load_csv(path, "y")


# --------------------------------------------------------------------------------------
# Image folder


def _image_folder(root, sizes=((20, 10), (8, 8))):
    """cats are pure red, dogs pure blue; different sizes and formats on disk."""
    colors = {"cat": (255, 0, 0), "dog": (0, 0, 255)}
    for name, color in colors.items():
        (root / name).mkdir(parents=True)
        for i, size in enumerate(sizes):
            Image.new("RGB", size, color).save(root / name / f"{i}.png")
    Image.new("L", (5, 5), 128).save(root / "dog" / "grey.jpg")
    return root


def test_image_folder_rgb(tmp_path):
    root = _image_folder(tmp_path / "pets")
    ds = data.load_image_folder(root, image_size=(12, 6))
    assert ds.class_names == ["cat", "dog"]
    assert ds.x.shape == (5, 12, 6, 3) and ds.x.dtype == np.float32
    assert ds.y.tolist() == [0, 0, 1, 1, 1]
    assert 0.0 <= ds.x.min() and ds.x.max() <= 1.0
    np.testing.assert_allclose(ds.x[0].reshape(-1, 3).mean(0), [1, 0, 0], atol=1e-6)
    blue = ds.x[ds.extra["paths"].index(str(root / "dog" / "0.png"))]
    np.testing.assert_allclose(blue.reshape(-1, 3).mean(0), [0, 0, 1], atol=1e-6)
    grey = ds.x[ds.extra["paths"].index(str(root / "dog" / "grey.jpg"))]
    np.testing.assert_allclose(grey, 128 / 255, atol=0.02)  # grey -> equal channels
    assert ds.task == "classification" and ds.is_image


def test_image_folder_grayscale(tmp_path):
    root = _image_folder(tmp_path / "pets")
    ds = data.load_image_folder(root, image_size=(4, 4), color_mode="grayscale")
    assert ds.x.shape == (5, 4, 4, 1)
    # ITU-R 601-2 luma: red -> 0.299, blue -> 0.114.
    assert ds.x[0].mean() == pytest.approx(76 / 255, abs=0.01)
    assert ds.x[2].mean() == pytest.approx(29 / 255, abs=0.01)


def test_image_folder_skips_unreadable_files_with_a_warning(tmp_path):
    root = _image_folder(tmp_path / "pets")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()  # hidden folders are not classes
    with pytest.warns(UserWarning, match="skipped 1 file"):
        ds = data.load_image_folder(root)
    assert ds.class_names == ["cat", "dog"] and len(ds) == 5
    assert ds.extra["skipped"] == [str(root / "cat" / "notes.txt")]


def test_image_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="path must be an existing folder"):
        data.load_image_folder(tmp_path / "missing")
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.new("RGB", (4, 4)).save(flat / "a.png")
    with pytest.raises(ValueError, match="has no class subfolders"):
        data.load_image_folder(flat)
    root = _image_folder(tmp_path / "pets")
    (root / "empty").mkdir()
    with pytest.raises(ValueError, match=r"class folder .*empty.* holds no readable"):
        data.load_image_folder(root)
    (root / "empty" / "junk.txt").write_text("x")
    with pytest.raises(ValueError, match=r"class folder .*empty.* holds no readable"):
        data.load_image_folder(root)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"color_mode": "rgba"}, "color_mode must be one of .*'rgba'"),
        ({"image_size": 32}, re.escape("image_size must be a pair") + ".*32"),
        ({"image_size": (32, 0)}, "image_size must be a pair"),
        ({"image_size": (32, 32, 3)}, "image_size must be a pair"),
        ({"image_size": (2.5, 4)}, "image_size must be a pair"),
    ],
)
def test_image_folder_bad_arguments(tmp_path, kwargs, match):
    root = _image_folder(tmp_path / "pets")
    with pytest.raises(ValueError, match=match):
        data.load_image_folder(root, **kwargs)


# --------------------------------------------------------------------------------------
# Text file


def test_text_file_paragraphs(tmp_path):
    path = _write(
        tmp_path / "story.txt",
        "\n\nFirst paragraph,\nsecond line.\n\n   \n\nSecond one.\n\t\nThird.  \n",
    )
    ds = data.load_text_file(path)
    assert ds.task == "text" and ds.y is None and ds.name == "story"
    assert ds.x.tolist() == ["First paragraph,\nsecond line.", "Second one.", "Third."]
    assert "3 paragraph(s)" in ds.description


def test_text_file_encoding(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("café au lait\n".encode("latin-1"))
    assert data.load_text_file(path, encoding="latin-1").x[0] == "café au lait"
    with pytest.raises(ValueError, match="is not valid 'utf-8' text.*encoding="):
        data.load_text_file(path)
    with pytest.raises(ValueError, match="encoding 'klingon' is not a known codec"):
        data.load_text_file(path, encoding="klingon")


def test_text_file_errors(tmp_path):
    with pytest.raises(ValueError, match="path must be an existing text file"):
        data.load_text_file(tmp_path / "missing.txt")
    for name, text in [("empty.txt", ""), ("blank.txt", " \n\n\t\n")]:
        with pytest.raises(ValueError, match=r"path .* is empty"):
            data.load_text_file(_write(tmp_path / name, text))
