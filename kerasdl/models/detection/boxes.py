"""Boxes for object detection, in NumPy: IoU, non-maximum suppression, CenterNet
target encoding and decoding, and VOC-style mean average precision.

Boxes are `[x_min, y_min, x_max, y_max]` in pixels (continuous coordinates: pixel
`(row i, column j)` covers `[j, j + 1) x [i, i + 1)`, so a box's area is
`(x_max - x_min) * (y_max - y_min)`).

CenterNet targets (Zhou et al., 2019, "Objects as Points"), on a feature map
`stride` times smaller than the image, have `num_classes + 5` channels:

- `[0, C)`: one heatmap per class, a Gaussian bump of peak 1 at each object's
  centre cell (radius from the object's size, as in CornerNet/CenterNet);
- `[C, C + 2)`: box width and height in feature-map cells (`w / stride`,
  `h / stride`), at the centre cell;
- `[C + 2, C + 4)`: the sub-cell offset of the centre (`cx / stride - column`,
  `cy / stride - row`, in [0, 1)), at the centre cell;
- `C + 4`: 1 at each centre cell, else 0 (where size and offset are supervised).

A model's output has the first `C + 4` channels (heatmap probabilities, size,
offset); `decode_predictions` turns it back into boxes.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from kerasdl._checks import check_float, check_int

__all__ = [
    "Detections",
    "average_precision",
    "box_iou",
    "decode_predictions",
    "encode_targets",
    "gaussian_radius",
    "mean_average_precision",
    "non_max_suppression",
]


class Detections(NamedTuple):
    """The detections in one image, best score first.

    Attributes:
        boxes: `(k, 4)` float32 `[x_min, y_min, x_max, y_max]` pixels.
        scores: `(k,)` float32 confidence in [0, 1].
        classes: `(k,)` int32 class indices.
    """

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray


def _as_boxes(boxes, name):
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"Expected `{name}` of shape (n, 4) [x_min, y_min, x_max, y_max]; "
            f"received shape {boxes.shape}."
        )
    if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
        raise ValueError(
            f"`{name}` must have x_max >= x_min and y_max >= y_min (format "
            "[x_min, y_min, x_max, y_max]); received a box with a negative side."
        )
    return boxes


# === IoU and NMS ===
def box_iou(boxes_a, boxes_b):
    """Intersection over union of every pair of boxes.

    Args:
        boxes_a: `(n, 4)` boxes `[x_min, y_min, x_max, y_max]`.
        boxes_b: `(m, 4)` boxes.

    Returns:
        A float64 array `(n, m)`; 0 where both boxes have zero area.

    Example:

    ```python
    box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2]])  # [[1/3]]
    ```
    """
    a = _as_boxes(boxes_a, "boxes_a")
    b = _as_boxes(boxes_b, "boxes_b")
    width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(
        a[:, None, 0], b[None, :, 0]
    )
    height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(
        a[:, None, 1], b[None, :, 1]
    )
    intersection = np.clip(width, 0, None) * np.clip(height, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / union, 0.0)


def non_max_suppression(boxes, scores, iou_threshold=0.5, max_outputs=None):
    """Greedy non-maximum suppression.

    Repeatedly keeps the highest-scoring remaining box and drops every remaining
    box whose IoU with it is above `iou_threshold` (ties in score keep the
    earlier index first).

    Args:
        boxes: `(n, 4)` boxes `[x_min, y_min, x_max, y_max]`.
        scores: `(n,)` scores.
        iou_threshold: Boxes overlapping a kept box by more than this are
            suppressed, in [0, 1].
        max_outputs: Keep at most this many boxes (None: no limit).

    Returns:
        int64 indices of the kept boxes, in decreasing score order.

    Example:

    ```python
    non_max_suppression([[0, 0, 2, 2], [0, 0, 2, 2.1], [5, 5, 6, 6]],
                        [0.9, 0.8, 0.7], iou_threshold=0.5)  # [0, 2]
    ```
    """
    boxes = _as_boxes(boxes, "boxes")
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(boxes):
        raise ValueError(
            "`boxes` and `scores` must have the same length; received "
            f"{len(boxes)} boxes and {len(scores)} scores."
        )
    iou_threshold = check_float("iou_threshold", iou_threshold, 0.0, 1.0)
    max_outputs = check_int("max_outputs", max_outputs, minimum=0, allow_none=True)
    order = np.argsort(-scores, kind="stable")
    limit = len(order) if max_outputs is None else max_outputs
    iou = box_iou(boxes, boxes)
    suppressed = np.zeros(len(boxes), dtype=bool)
    keep = []
    for index in order:
        if len(keep) >= limit:
            break
        if suppressed[index]:
            continue
        keep.append(index)
        suppressed |= iou[index] > iou_threshold
    return np.asarray(keep, dtype=np.int64)


# === CenterNet targets ===
def gaussian_radius(height, width, min_overlap=0.7):
    """Radius (in cells) of the heatmap bump of an object `height x width` cells.

    The largest shift of a box corner that still leaves an IoU of at least
    `min_overlap` with the true box (the three cases of CornerNet's
    `gaussian_radius`, as used by CenterNet); the bump's standard deviation is
    `(2 * radius + 1) / 6`.
    """
    a1, b1 = 1.0, height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1**2 - 4 * a1 * c1)) / 2
    a2, b2 = 4.0, 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + math.sqrt(b2**2 - 4 * a2 * c2)) / 2
    a3, b3 = 4 * min_overlap, -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + math.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def _per_image_objects(boxes, classes):
    """Lists of (boxes (k, 4), classes (k,)) from padded arrays or lists."""
    if isinstance(boxes, np.ndarray) and boxes.ndim == 2:
        boxes, classes = [boxes], [classes]
    if len(boxes) != len(classes):
        raise ValueError(
            "`boxes` and `classes` must describe the same number of images; "
            f"received {len(boxes)} and {len(classes)}."
        )
    pairs = []
    for i, (b, c) in enumerate(zip(boxes, classes)):
        c = np.asarray(c).reshape(-1)
        b = _as_boxes(b, f"boxes[{i}]")
        if len(b) != len(c):
            raise ValueError(f"Image {i} has {len(b)} boxes but {len(c)} class labels.")
        keep = c >= 0  # -1 marks padding
        pairs.append((b[keep], c[keep].astype(np.int64)))
    return pairs


def encode_targets(boxes, classes, image_size, num_classes, stride=4):
    """CenterNet training targets for a batch of images (see the module docstring).

    Each object marks its centre cell `(floor(cy / stride), floor(cx / stride))`.
    If two objects share a centre cell the later one's size and offset win (both
    heatmap peaks stay).

    Args:
        boxes: `(n, max_objects, 4)` padded boxes in pixels, or a list of `(k, 4)`
            arrays (one per image).
        classes: `(n, max_objects)` class indices with -1 for padding, or a list
            of `(k,)` arrays.
        image_size: `(height, width)` of the images in pixels (an int: square);
            multiples of `stride`.
        num_classes: Number of object classes (>= 1).
        stride: Down-sampling factor of the feature map (>= 1).

    Returns:
        float32 targets `(n, height / stride, width / stride, num_classes + 5)`.

    Example:

    ```python
    data = make_shapes_detection(100, size=48)
    y = encode_targets(data.boxes, data.classes, 48, num_classes=3, stride=4)
    ```
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or any(
            not isinstance(d, numbers.Integral) or d < 1 or d % stride
            for d in image_size
        )
    ):
        raise ValueError(
            "`image_size` must be (height, width) positive multiples of "
            f"stride={stride}; received image_size={image_size!r}."
        )
    rows, cols = int(image_size[0]) // stride, int(image_size[1]) // stride
    pairs = _per_image_objects(boxes, classes)
    targets = np.zeros((len(pairs), rows, cols, num_classes + 5), dtype=np.float32)
    grid_y = np.arange(rows)[:, None]
    grid_x = np.arange(cols)[None, :]
    for i, (image_boxes, image_classes) in enumerate(pairs):
        for box, label in zip(image_boxes, image_classes):
            if label >= num_classes:
                raise ValueError(
                    f"Class label {label} (image {i}) is not below "
                    f"num_classes={num_classes}."
                )
            cx = (box[0] + box[2]) / 2 / stride
            cy = (box[1] + box[3]) / 2 / stride
            w = (box[2] - box[0]) / stride
            h = (box[3] - box[1]) / stride
            col = min(max(int(math.floor(cx)), 0), cols - 1)
            row = min(max(int(math.floor(cy)), 0), rows - 1)
            radius = max(0, int(gaussian_radius(h, w)))
            sigma = (2 * radius + 1) / 6
            bump = np.exp(-((grid_x - col) ** 2 + (grid_y - row) ** 2) / (2 * sigma**2))
            heat = targets[i, :, :, label]
            np.maximum(heat, bump, out=heat)
            heat[row, col] = 1.0
            targets[i, row, col, num_classes : num_classes + 5] = (
                w,
                h,
                cx - col,
                cy - row,
                1.0,
            )
    return targets


def _local_maxima(heat):
    """True where a cell is the maximum of its 3x3 neighbourhood (per channel)."""
    padded = np.pad(heat, ((1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    rows, cols = heat.shape[:2]
    neighbourhood = np.max(
        [padded[dy : dy + rows, dx : dx + cols] for dy in range(3) for dx in range(3)],
        axis=0,
    )
    return heat >= neighbourhood


def decode_predictions(
    outputs,
    stride=4,
    score_threshold=0.3,
    max_detections=100,
    nms_iou_threshold=None,
):
    """Boxes, scores and classes from CenterNet outputs, per image.

    A detection is a heatmap cell that is the maximum of its 3x3 neighbourhood
    in its class channel (CenterNet's max-pool "NMS") with a score of at least
    `score_threshold`; its box is centred at `(column + offset_x, row +
    offset_y) * stride` with size `(w, h) * stride` (a negative predicted size
    counts as 0). Optionally, class-wise `non_max_suppression` then removes
    overlapping boxes.

    Args:
        outputs: `(n, rows, cols, num_classes + 4)` model outputs (heatmap
            probabilities, size, offset), or one image `(rows, cols, C + 4)`.
        stride: The model's down-sampling factor.
        score_threshold: Lowest heatmap score kept, in [0, 1].
        max_detections: Most detections per image (the best scores).
        nms_iou_threshold: If given, class-wise NMS at this IoU.

    Returns:
        A list with one `Detections(boxes, scores, classes)` per image.

    Example:

    ```python
    detections = decode_predictions(model.predict(images), stride=model.stride)
    ```
    """
    outputs = np.asarray(outputs, dtype=np.float32)
    if outputs.ndim == 3:
        outputs = outputs[None]
    if outputs.ndim != 4 or outputs.shape[-1] < 5:
        raise ValueError(
            "Expected `outputs` of shape (batch, rows, cols, num_classes + 4); "
            f"received shape {outputs.shape}."
        )
    stride = check_int("stride", stride, minimum=1)
    score_threshold = check_float("score_threshold", score_threshold, 0.0, 1.0)
    max_detections = check_int("max_detections", max_detections, minimum=1)
    if nms_iou_threshold is not None:
        check_float("nms_iou_threshold", nms_iou_threshold, 0.0, 1.0)
    num_classes = outputs.shape[-1] - 4
    results = []
    for output in outputs:
        heat = output[..., :num_classes]
        peaks = _local_maxima(heat) & (heat >= score_threshold)
        rows, cols, labels = np.nonzero(peaks)
        scores = heat[rows, cols, labels]
        order = np.argsort(-scores, kind="stable")[:max_detections]
        rows, cols, labels, scores = (
            rows[order],
            cols[order],
            labels[order],
            scores[order],
        )
        w, h, dx, dy = np.moveaxis(output[rows, cols, num_classes:], -1, 0)
        cx, cy = (cols + dx) * stride, (rows + dy) * stride
        w, h = np.maximum(w, 0.0) * stride, np.maximum(h, 0.0) * stride
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)
        boxes = boxes.reshape(-1, 4).astype(np.float32)
        if nms_iou_threshold is not None and len(boxes):
            keep = np.concatenate(
                [
                    np.nonzero(labels == label)[0][
                        non_max_suppression(
                            boxes[labels == label],
                            scores[labels == label],
                            nms_iou_threshold,
                        )
                    ]
                    for label in np.unique(labels)
                ]
            )
            keep = keep[np.argsort(-scores[keep], kind="stable")]
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        results.append(
            Detections(boxes, scores.astype(np.float32), labels.astype(np.int32))
        )
    return results


# === mean average precision ===
def _unpack_predictions(item, i):
    if isinstance(item, dict):
        item = (item["boxes"], item["scores"], item["classes"])
    if len(item) != 3:
        raise ValueError(
            f"predictions[{i}] must be (boxes, scores, classes) or a Detections; "
            f"received {len(item)} parts."
        )
    boxes = _as_boxes(item[0], f"predictions[{i}].boxes")
    scores = np.asarray(item[1], dtype=np.float64).reshape(-1)
    classes = np.asarray(item[2]).reshape(-1).astype(np.int64)
    if not len(boxes) == len(scores) == len(classes):
        raise ValueError(
            f"predictions[{i}] has {len(boxes)} boxes, {len(scores)} scores and "
            f"{len(classes)} classes; they must match."
        )
    return boxes, scores, classes


def average_precision(recall, precision):
    """Area under the precision-recall curve with all-point interpolation (VOC
    2010+): precision at recall r is the best precision at any recall >= r.

    Args:
        recall: Recall after each ranked detection (non-decreasing).
        precision: Precision after each ranked detection.

    Returns:
        The average precision, a float in [0, 1].
    """
    recall = np.concatenate([[0.0], np.asarray(recall, dtype=np.float64), [1.0]])
    precision = np.concatenate([[0.0], np.asarray(precision, dtype=np.float64), [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # the envelope
    steps = np.nonzero(recall[1:] != recall[:-1])[0]
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def mean_average_precision(
    predictions, ground_truth, iou_threshold=0.5, num_classes=None, per_class=False
):
    """VOC-style mean average precision at one IoU threshold.

    Per class, all detections of that class (over all images) are ranked by
    score. A detection is a true positive when its IoU with the best-overlapping
    ground-truth box of its class in its image is at least `iou_threshold` and
    that box is not already matched; otherwise (no overlap, too little, or a
    **duplicate** of a matched box) it is a false positive. AP is the area under
    the interpolated precision-recall curve (`average_precision`); mAP is the
    mean over the classes that have ground-truth objects (a class with objects
    but no detections scores 0).

    Args:
        predictions: One entry per image: a `Detections` / `(boxes, scores,
            classes)` tuple or a dict with those keys.
        ground_truth: One `(boxes, classes)` pair per image (class -1 entries
            are padding and ignored), e.g. `ShapesDetection.ground_truth()`.
        iou_threshold: Least IoU for a match, in (0, 1].
        num_classes: If given, classes `0..num_classes-1` are scored (those with
            no objects are skipped); by default every class in `ground_truth`.
        per_class: Also return `{class: AP}`.

    Returns:
        The mAP (float; NaN if there are no ground-truth objects), or
        `(mAP, {class: AP})` when `per_class`.

    Example:

    ```python
    gt = [(np.array([[0, 0, 10, 10]]), np.array([0]))]
    pred = [(np.array([[0, 0, 10, 10]]), np.array([0.9]), np.array([0]))]
    mean_average_precision(pred, gt)  # 1.0
    ```
    """
    iou_threshold = check_float("iou_threshold", iou_threshold, 0.0, 1.0, low_open=True)
    if len(predictions) != len(ground_truth):
        raise ValueError(
            "`predictions` and `ground_truth` must have one entry per image; "
            f"received {len(predictions)} and {len(ground_truth)}."
        )
    preds = [_unpack_predictions(p, i) for i, p in enumerate(predictions)]
    truths = _per_image_objects(
        [g[0] for g in ground_truth], [g[1] for g in ground_truth]
    )
    if num_classes is None:
        labels = sorted({int(c) for _, cs in truths for c in cs})
    else:
        labels = range(check_int("num_classes", num_classes, minimum=1))
    aps = {}
    for label in labels:
        gt_boxes = [b[c == label] for b, c in truths]
        total = sum(len(b) for b in gt_boxes)
        if total == 0:
            continue
        records = [
            (score, i, box)
            for i, (boxes, scores, classes) in enumerate(preds)
            for box, score, c in zip(boxes, scores, classes)
            if c == label
        ]
        records.sort(key=lambda r: -r[0])
        matched = [np.zeros(len(b), dtype=bool) for b in gt_boxes]
        hits = np.zeros(len(records))
        for k, (_, i, box) in enumerate(records):
            if len(gt_boxes[i]) == 0:
                continue
            overlaps = box_iou(box[None], gt_boxes[i])[0]
            best = int(np.argmax(overlaps))
            if overlaps[best] >= iou_threshold and not matched[i][best]:
                matched[i][best] = True
                hits[k] = 1.0
        true_positives = np.cumsum(hits)
        recall = true_positives / total
        precision = true_positives / np.arange(1, len(records) + 1)
        aps[label] = average_precision(recall, precision) if records else 0.0
    value = float(np.mean(list(aps.values()))) if aps else float("nan")
    return (value, aps) if per_class else value
