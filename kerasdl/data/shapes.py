"""Synthetic shapes for segmentation and detection, and masks for the real digits.

No image that ships with kerasdl's dependencies has per-pixel masks or boxes
(scikit-learn's 8x8 digits and its two sample photos are the only real images), so
the segmentation and detection models are trained and benchmarked on **synthetic**
images generated here: circles, squares and triangles of random size, position and
brightness on a noisy background. They are exact (every mask and box is known) and
cheap, but they are not real data; numbers measured on them say that a model
works, not how it does on photographs.

`load_digits_segmentation` is the one real-image substitute: the real digits with
foreground masks obtained by thresholding their clean grey levels. It is an easy
task (see its docstring for what it shows and what it does not).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kerasdl._checks import check_float, check_int

__all__ = [
    "DETECTION_CLASS_NAMES",
    "SEGMENTATION_CLASS_NAMES",
    "ShapesDetection",
    "ShapesSegmentation",
    "load_digits_segmentation",
    "make_shapes_detection",
    "make_shapes_segmentation",
]

SHAPES = ("circle", "square", "triangle")
#: Class names of `make_shapes_segmentation` masks: 0 is the background.
SEGMENTATION_CLASS_NAMES = ("background", *SHAPES)
#: Class names of `make_shapes_detection` labels (no background class).
DETECTION_CLASS_NAMES = SHAPES


class ShapesSegmentation(NamedTuple):
    """Images and per-pixel class masks.

    Attributes:
        images: `(n, size, size, 1)` float32 in [0, 1].
        masks: `(n, size, size)` int32 class indices into `class_names`.
        class_names: Name of each class index (`"background"` is 0).
    """

    images: np.ndarray
    masks: np.ndarray
    class_names: tuple = SEGMENTATION_CLASS_NAMES


class ShapesDetection(NamedTuple):
    """Images with padded arrays of boxes and class labels.

    Attributes:
        images: `(n, size, size, 1)` float32 in [0, 1].
        boxes: `(n, max_objects, 4)` float32 boxes `[x_min, y_min, x_max, y_max]`
            in pixels (pixel `(row i, column j)` covers `[j, j + 1) x [i, i + 1)`);
            padding rows are 0.
        classes: `(n, max_objects)` int32 class indices into `class_names`; -1
            marks a padding row.
        class_names: Name of each class index.
    """

    images: np.ndarray
    boxes: np.ndarray
    classes: np.ndarray
    class_names: tuple = DETECTION_CLASS_NAMES

    def objects(self, index):
        """The boxes `(k, 4)` and classes `(k,)` of image `index`, padding removed."""
        keep = self.classes[index] >= 0
        return self.boxes[index][keep], self.classes[index][keep]

    def ground_truth(self):
        """A list with one `(boxes, classes)` pair per image, padding removed (the
        format `kerasdl.models.detection.boxes.mean_average_precision` takes)."""
        return [self.objects(i) for i in range(len(self.images))]


def _shape_mask(kind, cx, cy, r, size):
    """Boolean `(size, size)` mask of one shape, tested at the pixel centres."""
    centres = np.arange(size) + 0.5
    x = centres[None, :]
    y = centres[:, None]
    if kind == "circle":
        return (x - cx) ** 2 + (y - cy) ** 2 <= r**2
    if kind == "square":
        return (np.abs(x - cx) <= r) & (np.abs(y - cy) <= r)
    # An upright isosceles triangle with apex (cx, cy - r) and base on y = cy + r,
    # so its bounding box is the same [cx - r, cy - r, cx + r, cy + r].
    below_apex_left = (y - (cy - r)) >= 2.0 * (cx - x)
    below_apex_right = (y - (cy - r)) >= 2.0 * (x - cx)
    return below_apex_left & below_apex_right & (y <= cy + r)


def _count_range(name, value, maximum=None):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"`{name}` must be an int or a (low, high) pair; received "
                f"{name}={value!r}."
            )
        low = check_int(name, value[0], minimum=1)
        high = check_int(name, value[1], minimum=1)
        if high < low:
            raise ValueError(
                f"`{name}` must be (low, high) with low <= high; received "
                f"{name}={value!r}."
            )
        return low, high
    value = check_int(name, value, minimum=1)
    return value, value


def _background(rng, size):
    return np.full((size, size), rng.uniform(0.0, 0.3), dtype=np.float64)


def make_shapes_segmentation(
    n, size=32, num_shapes=(1, 3), seed=0, noise=0.1, min_radius=0.12, max_radius=0.25
):
    """Synthetic images of circles, squares and triangles with per-pixel masks.

    **Synthetic data**: made up here, for a task no dataset shipped with the
    dependencies covers (no real image there has masks). Each image has a flat
    background of random grey level in [0, 0.3]; `num_shapes` shapes of random
    kind, size (half-width `min_radius..max_radius` times `size`), position
    (fully inside the image) and brightness in [0.5, 1] are painted in turn
    (a later shape covers an earlier one, in the mask too); Gaussian noise of
    standard deviation `noise` is added and the result clipped to [0, 1]. Shapes
    differ in form only, never in brightness, so a model must look at shape.

    Args:
        n: Number of images (>= 1).
        size: Height and width in pixels (>= 8).
        num_shapes: Shapes per image: an int, or `(low, high)` for a uniform
            count in that inclusive range.
        seed: Seed of the NumPy generator (same seed, same data).
        noise: Standard deviation of the additive pixel noise (>= 0).
        min_radius: Smallest half-width, as a fraction of `size`.
        max_radius: Largest half-width, as a fraction of `size` (< 0.5).

    Returns:
        A `ShapesSegmentation`: `images (n, size, size, 1)` float32, `masks
        (n, size, size)` int32 with 0 = background, 1 = circle, 2 = square,
        3 = triangle, and `class_names`.

    Example:

    ```python
    data = make_shapes_segmentation(2000, size=32, seed=0)
    data.images.shape, data.masks.shape  # (2000, 32, 32, 1), (2000, 32, 32)
    ```
    """
    n = check_int("n", n, minimum=1)
    size = check_int("size", size, minimum=8)
    low, high = _count_range("num_shapes", num_shapes)
    noise = check_float("noise", noise, low=0.0)
    min_radius = check_float("min_radius", min_radius, low=0.0, low_open=True)
    max_radius = check_float("max_radius", max_radius, low=min_radius, high=0.5)
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 1), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int32)
    for i in range(n):
        image = _background(rng, size)
        for _ in range(rng.integers(low, high + 1)):
            kind = int(rng.integers(len(SHAPES)))
            r = rng.uniform(min_radius, max_radius) * size
            cx, cy = rng.uniform(r, size - r, size=2)
            inside = _shape_mask(SHAPES[kind], cx, cy, r, size)
            image[inside] = rng.uniform(0.5, 1.0)
            masks[i][inside] = kind + 1
        image += rng.normal(0.0, noise, image.shape) if noise else 0.0
        images[i, :, :, 0] = np.clip(image, 0.0, 1.0)
    return ShapesSegmentation(images, masks)


def _overlaps(box, boxes, gap):
    for other in boxes:
        if (
            box[0] < other[2] + gap
            and other[0] < box[2] + gap
            and box[1] < other[3] + gap
            and other[1] < box[3] + gap
        ):
            return True
    return False


def make_shapes_detection(
    n,
    size=48,
    max_objects=4,
    seed=0,
    min_objects=1,
    noise=0.1,
    min_radius=0.08,
    max_radius=0.2,
):
    """Synthetic images of non-overlapping shapes with their boxes and classes.

    **Synthetic data** (see `make_shapes_segmentation` for why and how the shapes
    are drawn): between `min_objects` and `max_objects` circles, squares and
    triangles per image, placed so that their boxes do not touch (at least one
    pixel apart; a shape that finds no free place after 50 tries is left out,
    so an image can hold fewer than drawn). The box of each shape is exact:
    `[cx - r, cy - r, cx + r, cy + r]` in pixels for all three kinds.

    Args:
        n: Number of images (>= 1).
        size: Height and width in pixels (>= 8).
        max_objects: Most objects per image (>= 1); the padded length of `boxes`.
        seed: Seed of the NumPy generator.
        min_objects: Fewest objects drawn per image (1..max_objects).
        noise: Standard deviation of the additive pixel noise (>= 0).
        min_radius: Smallest half-width, as a fraction of `size`.
        max_radius: Largest half-width, as a fraction of `size` (< 0.5).

    Returns:
        A `ShapesDetection`: `images (n, size, size, 1)`, `boxes (n, max_objects,
        4)` `[x_min, y_min, x_max, y_max]` pixels, `classes (n, max_objects)`
        with 0 = circle, 1 = square, 2 = triangle and -1 = padding.

    Example:

    ```python
    data = make_shapes_detection(1000, size=48, max_objects=4, seed=0)
    boxes, classes = data.objects(0)
    ```
    """
    n = check_int("n", n, minimum=1)
    size = check_int("size", size, minimum=8)
    max_objects = check_int("max_objects", max_objects, minimum=1)
    min_objects = check_int("min_objects", min_objects, minimum=1)
    if min_objects > max_objects:
        raise ValueError(
            "`min_objects` must be <= max_objects; received "
            f"min_objects={min_objects}, max_objects={max_objects}."
        )
    noise = check_float("noise", noise, low=0.0)
    min_radius = check_float("min_radius", min_radius, low=0.0, low_open=True)
    max_radius = check_float("max_radius", max_radius, low=min_radius, high=0.5)
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 1), dtype=np.float32)
    boxes = np.zeros((n, max_objects, 4), dtype=np.float32)
    classes = np.full((n, max_objects), -1, dtype=np.int32)
    for i in range(n):
        image = _background(rng, size)
        placed = []
        for _ in range(rng.integers(min_objects, max_objects + 1)):
            kind = int(rng.integers(len(SHAPES)))
            r = rng.uniform(min_radius, max_radius) * size
            for _try in range(50):
                cx, cy = rng.uniform(r, size - r, size=2)
                box = (cx - r, cy - r, cx + r, cy + r)
                if not _overlaps(box, placed, gap=1.0):
                    break
            else:
                continue
            image[_shape_mask(SHAPES[kind], cx, cy, r, size)] = rng.uniform(0.5, 1.0)
            boxes[i, len(placed)] = box
            classes[i, len(placed)] = kind
            placed.append(box)
        image += rng.normal(0.0, noise, image.shape) if noise else 0.0
        images[i, :, :, 0] = np.clip(image, 0.0, 1.0)
    return ShapesDetection(images, boxes, classes)


def load_digits_segmentation(threshold=0.5, noise=0.0, seed=0):
    """The real 8x8 digits with foreground masks from thresholding their grey levels.

    A real-image substitute for segmentation: no image shipped with the
    dependencies has hand-drawn masks, so the mask of each of scikit-learn's
    1,797 real digits is `clean grey level > threshold` (1 = ink, 0 = paper).
    On the clean images that is **easy**: thresholding the input reproduces the
    mask exactly, so a model only shows it can learn a per-pixel rule. With
    `noise > 0` Gaussian noise is added to the *inputs* (the masks stay those of
    the clean digits), and a model must use the neighbourhood of a pixel (the
    stroke it belongs to) to beat thresholding the noisy input; compare with
    that baseline.

    Args:
        threshold: Grey level in (0, 1) above which a pixel is foreground.
        noise: Standard deviation of the noise added to the inputs (>= 0); the
            noisy inputs are clipped to [0, 1].
        seed: Seed of the noise.

    Returns:
        A `ShapesSegmentation` with `images (1797, 8, 8, 1)` float32, `masks
        (1797, 8, 8)` int32 (0 background, 1 foreground), `class_names
        ("background", "digit")`. The digit labels are not returned; use
        `kerasdl.data.load_digits().y` (same order).

    Example:

    ```python
    data = load_digits_segmentation(noise=0.3)
    ```
    """
    from kerasdl.data.embedded import load_digits

    threshold = check_float("threshold", threshold, 0.0, 1.0, True, True)
    noise = check_float("noise", noise, low=0.0)
    clean = load_digits().x
    masks = (clean[..., 0] > threshold).astype(np.int32)
    images = clean
    if noise:
        rng = np.random.default_rng(seed)
        images = np.clip(clean + rng.normal(0.0, noise, clean.shape), 0.0, 1.0)
    return ShapesSegmentation(
        images.astype(np.float32), masks, class_names=("background", "digit")
    )
