"""kerasdl.data.shapes: synthetic shapes for segmentation/detection, digit masks."""

import numpy as np
import pytest

from kerasdl.data.shapes import (
    ShapesDetection,
    ShapesSegmentation,
    load_digits_segmentation,
    make_shapes_detection,
    make_shapes_segmentation,
)


def test_segmentation_shapes_dtypes_and_classes():
    data = make_shapes_segmentation(40, size=16, num_shapes=(1, 2), seed=0)
    assert isinstance(data, ShapesSegmentation)
    assert data.images.shape == (40, 16, 16, 1) and data.images.dtype == np.float32
    assert data.masks.shape == (40, 16, 16) and data.masks.dtype == np.int32
    assert 0.0 <= data.images.min() and data.images.max() <= 1.0
    assert set(np.unique(data.masks)) == {0, 1, 2, 3}
    assert data.class_names == ("background", "circle", "square", "triangle")
    # Every image holds at least one shape.
    assert np.all((data.masks > 0).reshape(40, -1).any(axis=1))


def test_segmentation_masks_match_the_painted_pixels():
    data = make_shapes_segmentation(20, size=24, num_shapes=3, noise=0.0, seed=1)
    for image, mask in zip(data.images[..., 0], data.masks):
        background = image[mask == 0]
        # Without noise the background is one flat level below every shape.
        assert np.ptp(background) == 0.0
        assert np.all(image[mask > 0] >= 0.5 - 1e-6)
        assert background[0] <= 0.3 + 1e-6


def test_segmentation_is_seeded():
    a = make_shapes_segmentation(5, seed=3)
    b = make_shapes_segmentation(5, seed=3)
    c = make_shapes_segmentation(5, seed=4)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.masks, b.masks)
    assert not np.array_equal(a.masks, c.masks)


def test_detection_boxes_enclose_their_shapes_and_do_not_overlap():
    data = make_shapes_detection(30, size=32, max_objects=3, noise=0.0, seed=0)
    assert isinstance(data, ShapesDetection)
    assert data.images.shape == (30, 32, 32, 1)
    assert data.boxes.shape == (30, 3, 4) and data.classes.shape == (30, 3)
    counts = (data.classes >= 0).sum(axis=1)
    assert counts.min() >= 1 and counts.max() == 3
    for i in range(30):
        boxes, classes = data.objects(i)
        assert len(boxes) == counts[i] and set(classes) <= {0, 1, 2}
        # Padding comes last and is zero.
        assert np.all(data.classes[i, counts[i] :] == -1)
        assert np.all(data.boxes[i, counts[i] :] == 0)
        image = data.images[i, :, :, 0]
        foreground = image >= 0.5 - 1e-6
        inside = np.zeros_like(foreground)
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= 32 and 0 <= y0 < y1 <= 32
            inside[
                int(np.floor(y0)) : int(np.ceil(y1)),
                int(np.floor(x0)) : int(np.ceil(x1)),
            ] = True
        assert not np.any(foreground & ~inside), "a shape pixel outside every box"
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                separate = (
                    boxes[a, 2] <= boxes[b, 0]
                    or boxes[b, 2] <= boxes[a, 0]
                    or boxes[a, 3] <= boxes[b, 1]
                    or boxes[b, 3] <= boxes[a, 1]
                )
                assert separate
    gt = data.ground_truth()
    assert len(gt) == 30 and len(gt[0][0]) == counts[0]


def test_digits_segmentation_masks_are_thresholded_clean_digits():
    clean = load_digits_segmentation()
    assert clean.images.shape == (1797, 8, 8, 1) and clean.masks.shape == (1797, 8, 8)
    np.testing.assert_array_equal(clean.masks, clean.images[..., 0] > 0.5)
    noisy = load_digits_segmentation(noise=0.3, seed=0)
    np.testing.assert_array_equal(noisy.masks, clean.masks)
    assert not np.array_equal(noisy.images, clean.images)
    # Thresholding the noisy input no longer recovers every mask pixel.
    assert ((noisy.images[..., 0] > 0.5) == noisy.masks).mean() < 0.95


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_shapes_segmentation(0), "`n` must be an integer >= 1"),
        (lambda: make_shapes_segmentation(2, size=4), "`size`"),
        (lambda: make_shapes_segmentation(2, num_shapes=(3, 1)), "low <= high"),
        (lambda: make_shapes_segmentation(2, noise=-1), "`noise`"),
        (lambda: make_shapes_detection(2, max_objects=2, min_objects=3), "min_obj"),
        (lambda: make_shapes_detection(2, max_radius=0.7), "`max_radius`"),
        (lambda: load_digits_segmentation(threshold=1.0), "`threshold`"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
