"""OpenCV preprocessing on real images (scikit-learn's two sample photos and digits):
sizes, the luma formula, blur, Canny edges, Otsu, reading files in RGB order,
pipelines, the PyDataset feeding model.fit, and errors."""

import sys

import cv2
import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits, load_sample_images

from kerasdl.data import opencv
from kerasdl.data.image_pipeline_dataset import ImagePipelineDataset


@pytest.fixture(scope="module")
def photos():
    bunch = load_sample_images()
    return bunch.images, bunch.filenames  # two (427, 640, 3) uint8 RGB photos


@pytest.fixture(scope="module")
def digits():
    """The 8x8 digits as uint8 0..255 and their labels."""
    bunch = load_digits()
    return (bunch.images * (255 / 16)).round().astype(np.uint8), bunch.target


def _square(size=32, low=8, high=24, dtype=np.uint8):
    image = np.zeros((size, size), dtype)
    image[low:high, low:high] = 255 if dtype == np.uint8 else 1.0
    return image


# --- The operations ------------------------------------------------------------------


@pytest.mark.parametrize("interpolation", opencv.INTERPOLATIONS)
def test_resize_shapes_and_dtypes(photos, interpolation):
    photo = photos[0][0]
    small = opencv.resize(photo, (64, 96), interpolation=interpolation)
    assert small.shape == (64, 96, 3) and small.dtype == np.uint8
    as_float = opencv.resize(photo / 255.0, (64, 96), interpolation=interpolation)
    assert as_float.shape == (64, 96, 3) and as_float.dtype == np.float64
    gray = opencv.resize(photo[..., :1], (10, 20), interpolation=interpolation)
    assert gray.shape == (10, 20, 1)  # the channel axis survives
    assert opencv.resize(photo[..., 0], (10, 20)).shape == (10, 20)
    assert opencv.resize(photo.astype(np.float16), (5, 6)).dtype == np.float32


def test_area_resize_averages_and_nearest_keeps_values(photos):
    photo = photos[0][1]
    small = opencv.resize(photo.astype(np.float32), (61, 80))  # 7x8 blocks, exact
    blocks = photo[: 61 * 7, :640].astype(np.float32).reshape(61, 7, 80, 8, 3)
    np.testing.assert_allclose(small, blocks.mean(axis=(1, 3)), rtol=1e-5, atol=1e-3)
    labels = np.random.default_rng(0).integers(0, 5, size=(40, 40)).astype(np.uint8)
    assert set(np.unique(opencv.resize(labels, (17, 23), "nearest"))) <= set(range(5))


def test_grayscale_is_the_luma_formula(photos):
    photo = photos[0][0]
    luma = photo.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    gray = opencv.to_grayscale(photo)
    assert gray.shape == (427, 640) and gray.dtype == np.uint8
    assert np.abs(gray.astype(np.float64) - luma).max() <= 1.0
    as_float = opencv.to_grayscale(photo.astype(np.float32) / 255, keepdims=True)
    assert as_float.shape == (427, 640, 1) and as_float.dtype == np.float32
    np.testing.assert_allclose(as_float[..., 0], luma / 255, atol=1e-5)
    np.testing.assert_allclose(
        opencv.to_grayscale(photo / 255.0), luma / 255, atol=1e-5
    )  # float64
    rgba = np.concatenate([photo, np.full((427, 640, 1), 255, np.uint8)], axis=-1)
    np.testing.assert_array_equal(opencv.to_grayscale(rgba), gray)
    np.testing.assert_array_equal(opencv.to_grayscale(gray[..., None]), gray)


def test_blur_reduces_variance_more_with_wider_kernels(photos, digits):
    photo = photos[0][1]
    variances = [
        opencv.gaussian_blur(photo, k).astype(np.float64).var() for k in (1, 5, 15)
    ]
    assert variances[0] == pytest.approx(photo.astype(np.float64).var())
    assert variances[0] > variances[1] > variances[2]
    digit = digits[0][0] / 255.0
    blurred = opencv.gaussian_blur(digit, (3, 5), sigma=1.0)
    assert blurred.shape == digit.shape and blurred.dtype == np.float64
    assert blurred.var() < digit.var()
    assert blurred.sum() == pytest.approx(digit.sum(), rel=0.15)  # mostly kept


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_canny_marks_the_border_of_a_square(dtype):
    image = _square(dtype=dtype)
    edges = opencv.canny(image, 50, 150)
    on = 255 if dtype == np.uint8 else 1.0
    assert edges.dtype == dtype and set(np.unique(edges)) == {0, on}
    rows, cols = np.nonzero(edges)
    # Every edge pixel lies within one pixel of the square's border...
    near_border = (
        (np.minimum(np.abs(rows - 8), np.abs(rows - 23)) <= 1)
        & (cols >= 7)
        & (cols <= 24)
    ) | (
        (np.minimum(np.abs(cols - 8), np.abs(cols - 23)) <= 1)
        & (rows >= 7)
        & (rows <= 24)
    )
    assert near_border.all()
    # ... and the four sides are traced (along the 14 pixels between the corners).
    mask = edges > 0
    for side in (
        mask[7:10, 9:23],
        mask[22:25, 9:23],
        mask[9:23, 7:10].T,
        mask[9:23, 22:25].T,
    ):
        assert side.any(axis=0).all()
    assert not edges[12:20, 12:20].any()  # nothing inside
    assert opencv.canny(image, 50, 150, keepdims=True).shape == (32, 32, 1)


def test_canny_on_a_photo(photos):
    edges = opencv.canny(photos[0][0], 100, 200)
    assert edges.shape == (427, 640) and 0.01 < (edges > 0).mean() < 0.3
    blurred = opencv.canny(opencv.gaussian_blur(photos[0][0], 7), 100, 200)
    assert (blurred > 0).mean() < (edges > 0).mean()  # blur removes fine edges


def test_otsu_separates_a_bimodal_image():
    rng = np.random.default_rng(0)
    truth = rng.random((64, 64)) < 0.4
    image = np.where(
        truth, rng.normal(190, 12, truth.shape), rng.normal(60, 12, truth.shape)
    )
    image = np.clip(image, 0, 255).round().astype(np.uint8)
    binary, level = opencv.threshold(image, return_value=True)
    assert 90 < level < 160
    assert binary.dtype == np.uint8 and set(np.unique(binary)) == {0, 255}
    assert ((binary > 0) == truth).mean() > 0.99
    as_float, level_float = opencv.threshold(image / 255.0, "otsu", return_value=True)
    assert level_float == pytest.approx(level / 255)
    np.testing.assert_array_equal(as_float > 0, binary > 0)
    inverse = opencv.threshold(image, None, inverse=True)
    np.testing.assert_array_equal(inverse > 0, binary == 0)


def test_fixed_threshold_and_digits(digits):
    digit = digits[0][0]
    fixed = opencv.threshold(digit, 128)
    np.testing.assert_array_equal(fixed > 0, digit > 128)
    ink = opencv.threshold(digit)  # Otsu: ink vs paper
    assert digit[ink > 0].mean() > 3 * max(digit[ink == 0].mean(), 1.0)
    as_float = opencv.threshold(digit / 255.0, 0.5, keepdims=True)
    assert as_float.shape == (8, 8, 1) and set(np.unique(as_float)) <= {0.0, 1.0}


def test_read_image_round_trips_a_png_in_rgb_order(tmp_path):
    rgb = np.zeros((5, 7, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 10, 50  # red-ish
    rgb[2, 3] = (1, 2, 3)
    path = tmp_path / "red.png"
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))  # BGR on disk
    np.testing.assert_array_equal(opencv.read_image(path), rgb)
    gray = opencv.read_image(str(path), grayscale=True)
    assert gray.shape == (5, 7) and abs(int(gray[0, 0]) - 71) <= 1  # the luma


def test_read_image_reads_the_sample_jpegs_like_scikit_learn(photos):
    images, filenames = photos
    for image, filename in zip(images, filenames):
        read = opencv.read_image(filename)
        assert read.shape == image.shape and read.dtype == np.uint8
        # Two JPEG decoders: equal up to rounding; a BGR mix-up would differ by ~50.
        assert np.abs(read.astype(int) - image.astype(int)).mean() < 2.0


def test_read_image_errors_name_the_path(tmp_path):
    missing = tmp_path / "missing.png"
    with pytest.raises(ValueError, match="missing.png"):
        opencv.read_image(missing)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="notes.png"):
        opencv.read_image(text)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.jpg"):
        opencv.read_image(empty)
    with pytest.raises(ValueError, match="path"):
        opencv.read_image(3)


def test_to_float():
    image = np.array([[0, 51, 255]], np.uint8)
    np.testing.assert_allclose(opencv.to_float(image), [[0.0, 0.2, 1.0]])
    assert opencv.to_float(image / 255.0).dtype == np.float32


# --- Pipelines -----------------------------------------------------------------------


def test_pipeline_applies_named_parametrized_and_callable_steps(photos):
    steps = [
        ("resize", {"size": (32, 48)}),
        "to_grayscale",
        ("gaussian_blur", {"ksize": 3, "sigma": 1.0}),
        lambda image: 255 - image,
        "to_float",
    ]
    pipeline = opencv.OpenCVPipeline(steps)
    photo = photos[0][0]
    expected = opencv.to_float(
        255
        - opencv.gaussian_blur(
            opencv.to_grayscale(opencv.resize(photo, (32, 48))), 3, sigma=1.0
        )
    )
    np.testing.assert_array_equal(pipeline(photo), expected)
    batch = opencv.preprocess(list(photos[0]), steps)
    assert batch.shape == (2, 32, 48) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[0], expected)
    assert "resize" in repr(pipeline) and "to_grayscale" in repr(pipeline)


def test_pipeline_errors(photos):
    with pytest.raises(ValueError, match="unknown step 'sharpen'"):
        opencv.OpenCVPipeline(["sharpen"])
    with pytest.raises(ValueError, match=r"steps\[0\].*'resize' takes"):
        opencv.OpenCVPipeline([("resize", {"width": 3})])
    with pytest.raises(ValueError, match="must be a dict"):
        opencv.OpenCVPipeline([("resize", (32, 32))])
    with pytest.raises(ValueError, match=r"steps\[1\]"):
        opencv.OpenCVPipeline(["to_float", 3])
    with pytest.raises(ValueError, match="list of steps"):
        opencv.OpenCVPipeline("to_float")
    with pytest.raises(ValueError, match="return_value"):
        opencv.OpenCVPipeline([("threshold", {"return_value": True})])
    different = [photos[0][0], photos[0][0][:100]]
    with pytest.raises(ValueError, match="different shapes.*add a resize step"):
        opencv.preprocess(different, ["to_grayscale"])
    with pytest.raises(ValueError, match="empty"):
        opencv.preprocess([], ["to_float"])
    with pytest.raises(ValueError, match="NumPy image"):
        opencv.OpenCVPipeline([lambda image: image.tolist()])(photos[0][0])


# --- The PyDataset -------------------------------------------------------------------


def test_dataset_batches_match_the_pipeline(digits):
    images, labels = digits
    steps = [
        ("resize", {"size": (16, 16)}),
        ("gaussian_blur", {"ksize": 3}),
        "to_float",
    ]
    dataset = ImagePipelineDataset(images[:50], labels[:50], steps, batch_size=16)
    assert len(dataset) == 4
    x, y = dataset[3]
    assert x.shape == (2, 16, 16, 1) and x.dtype == np.float32  # channel axis added
    np.testing.assert_array_equal(x[..., 0], opencv.preprocess(images[48:50], steps))
    np.testing.assert_array_equal(y, labels[48:50])
    with pytest.raises(IndexError):
        dataset[4]
    unlabeled = ImagePipelineDataset(images[:5], steps=steps, batch_size=2)
    assert unlabeled[0].shape == (2, 16, 16, 1)


def test_dataset_shuffles_every_epoch_reproducibly(digits):
    images, labels = digits
    first = ImagePipelineDataset(
        images[:40], labels[:40], batch_size=40, shuffle=True, seed=1
    )
    again = ImagePipelineDataset(
        images[:40], labels[:40], batch_size=40, shuffle=True, seed=1
    )
    _, y1 = first[0]
    np.testing.assert_array_equal(y1, again[0][1])
    assert sorted(y1) == sorted(labels[:40]) and not np.array_equal(y1, labels[:40])
    first.on_epoch_end()
    assert not np.array_equal(first[0][1], y1)


def test_dataset_feeds_model_fit_from_image_files(tmp_path, digits):
    images, labels = digits
    paths = []
    for i in range(48):
        path = tmp_path / f"digit_{i}.png"
        cv2.imwrite(str(path), images[i])  # one channel on disk
        paths.append(path)
    steps = [("resize", {"size": (16, 16)}), "to_grayscale", "to_float"]
    dataset = ImagePipelineDataset(
        paths, labels[:48], steps, batch_size=16, shuffle=True, seed=0
    )
    x, _ = dataset[0]
    assert x.shape == (16, 16, 16, 1) and 0.0 <= x.min() and x.max() <= 1.0

    model = keras.Sequential(  # zero weights: the first loss is exactly log(10)
        [
            keras.Input((16, 16, 1)),
            keras.layers.Conv2D(4, 3, kernel_initializer="zeros"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, kernel_initializer="zeros"),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(dataset, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 3  # every batch was seen
    assert history.history["loss"][0] == pytest.approx(np.log(10), rel=0.05)
    assert model.predict(
        ImagePipelineDataset(paths[:5], steps=steps), verbose=0
    ).shape == (
        5,
        10,
    )


def test_dataset_errors(digits, tmp_path):
    images, labels = digits
    with pytest.raises(ValueError, match="one entry per image"):
        ImagePipelineDataset(images[:10], labels[:9])
    with pytest.raises(ValueError, match="batch_size"):
        ImagePipelineDataset(images[:10], labels[:10], batch_size=0)
    with pytest.raises(ValueError, match="empty"):
        ImagePipelineDataset([], None)
    with pytest.raises(ValueError, match="mixes"):
        ImagePipelineDataset([images[0], str(tmp_path / "a.png")])
    with pytest.raises(ValueError, match="shape"):
        ImagePipelineDataset(images[0])
    with pytest.raises(ValueError, match="missing.png"):
        ImagePipelineDataset([tmp_path / "missing.png"])[0]


# --- Argument errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda im: opencv.resize(im, (0, 5)), "size"),
        (lambda im: opencv.resize(im, 32), "size"),
        (lambda im: opencv.resize(im, (8, 8), interpolation="bogus"), "interpolation"),
        (lambda im: opencv.gaussian_blur(im, 4), "ksize"),
        (lambda im: opencv.gaussian_blur(im, (3, 0)), "ksize"),
        (lambda im: opencv.gaussian_blur(im, 3, sigma=-1), "sigma"),
        (lambda im: opencv.canny(im, 200, 100), "low"),
        (lambda im: opencv.canny(im, -1, 100), "low"),
        (lambda im: opencv.canny(im, 50, 100, aperture_size=4), "aperture_size"),
        (lambda im: opencv.threshold(im, "bogus"), "value"),
        (lambda im: opencv.threshold(im, inverse="no"), "inverse"),
        (lambda im: opencv.to_grayscale(im, keepdims=1), "keepdims"),
        (lambda im: opencv.to_float(im.astype(np.int64)), "dtype"),
        (lambda im: opencv.resize(im[None], (4, 4)), "shape"),
        (lambda im: opencv.resize(np.zeros((8, 8, 2), np.uint8), (4, 4)), "shape"),
        (lambda im: opencv.resize(np.zeros((0, 8), np.uint8), (4, 4)), "empty"),
        (lambda im: opencv.to_float(np.full((4, 4), np.nan)), "NaN"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call(_square())


def test_missing_opencv_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now raises
    with pytest.raises(ImportError, match="pip install opencv-python-headless"):
        opencv.resize(_square(), (4, 4))
