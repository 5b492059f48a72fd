"""Reading a saved classifier and an image file as the classifier sees them
(`kerasdl.explain.image_file`, what `kerasdl explain` is built on): the
preprocessing of image files and `.npy` arrays, and one-line errors that name the
argument. (End to end, through the command: tests/cli/test_explain.py.)"""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from kerasdl.explain.image_file import (
    class_names_beside,
    load_image_classifier,
    read_image_for_model,
)


def _png(path, array):
    Image.fromarray(array).save(path)
    return path


def test_png_is_made_grayscale_resized_and_scaled(tmp_path):
    rgb = np.zeros((16, 16, 3), dtype=np.uint8)
    rgb[:8] = 255  # top half white
    path = _png(tmp_path / "x.png", rgb)
    image, full, how = read_image_for_model(path, (8, 8, 1))
    assert image.shape == (8, 8, 1) and image.dtype == np.float32
    assert full.shape == (16, 16, 1)
    np.testing.assert_allclose(image[:4], 1.0)
    np.testing.assert_allclose(image[4:], 0.0)
    assert "grayscale" in how and "resized from 16x16" in how
    inverted, _, how = read_image_for_model(path, (8, 8, 1), invert=True)
    np.testing.assert_allclose(inverted, 1.0 - image)
    assert "inverted" in how


def test_gray_image_for_an_rgb_model(tmp_path):
    path = _png(tmp_path / "g.png", np.full((8, 8), 128, dtype=np.uint8))
    image, _, how = read_image_for_model(path, (8, 8, 3))
    assert image.shape == (8, 8, 3) and "RGB" in how and "not resized" in how
    np.testing.assert_allclose(image, 128 / 255, atol=1e-6)


def test_float_npy_is_taken_as_scaled_and_flat_is_reshaped(tmp_path):
    values = np.linspace(0, 1, 64, dtype="float32")
    np.save(tmp_path / "flat.npy", values)
    image, _, how = read_image_for_model(tmp_path / "flat.npy", (8, 8, 1))
    np.testing.assert_array_equal(image.reshape(-1), values)
    assert "already scaled" in how


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros(10, dtype="float32"), "a flat array needs 8x8x1 = 64 values"),
        (np.array([[np.nan] * 8] * 8, dtype="float32"), "NaN or inf"),
        (np.array(["a", "b"]), "expected a numeric array"),
        (np.zeros((2, 3, 4, 5), dtype="float32"), "expected an array of shape"),
    ],
)
def test_bad_arrays_name_the_argument(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(ValueError, match=message) as info:
        read_image_for_model(tmp_path / "bad.npy", (8, 8, 1), name="--image")
    assert str(info.value).startswith(f"--image {str(tmp_path / 'bad.npy')!r}: ")


def test_missing_files_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"^path: no file at"):
        read_image_for_model(tmp_path / "none.png", (8, 8, 1))
    with pytest.raises(ValueError, match=r"^--model: no model file at"):
        load_image_classifier(tmp_path / "none.keras", name="--model")


def test_load_image_classifier_from_a_run_folder(tmp_path):
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3)(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x))
    keras.Model(inputs, outputs).save(tmp_path / "model.keras")
    model, view, shape, path = load_image_classifier(tmp_path)
    assert shape == (8, 8, 1) and path == tmp_path / "model.keras"
    assert view is model  # already takes images


def test_a_model_without_image_input_is_refused(tmp_path):
    inputs = keras.Input((5,))
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="not an image classifier"):
        load_image_classifier(tmp_path / "m.keras", name="--model")


def test_class_names_beside(tmp_path):
    assert class_names_beside(tmp_path / "model.keras") is None
    run = {"dataset": {"class_names": [0, "b"]}}
    (tmp_path / "run.json").write_text(json.dumps(run))
    assert class_names_beside(tmp_path / "model.keras") == ["0", "b"]
