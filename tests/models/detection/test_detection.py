"""CenterNet detection: boxes (IoU, NMS, encode/decode, mAP) and the model/loss."""

import keras
import numpy as np
import pytest

from kerasdl.data.shapes import make_shapes_detection
from kerasdl.models.detection.boxes import (
    Detections,
    average_precision,
    box_iou,
    decode_predictions,
    encode_targets,
    mean_average_precision,
    non_max_suppression,
)
from kerasdl.models.detection.centernet import (
    CenterNet,
    CenterNetLoss,
    centernet_focal_loss,
)
from kerasdl.testing import check_model

TINY = {"filters": (4, 8, 8), "stride": 4, "head_filters": 8}


# --- IoU -------------------------------------------------------------------------
def test_box_iou_known_cases():
    a = [[0, 0, 2, 2]]
    b = [[0, 0, 2, 2], [1, 0, 3, 2], [2, 2, 4, 4], [0.5, 0.5, 1.5, 1.5], [5, 5, 5, 5]]
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 1 / 3, 0.0, 0.25, 0.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 5)


# --- NMS -------------------------------------------------------------------------
def _scalar_iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _reference_nms(boxes, scores, threshold, max_outputs=None):
    """Brute force: scan boxes best-first; keep one unless it overlaps a kept box."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if all(_scalar_iou(boxes[i], boxes[k]) <= threshold for k in kept):
            kept.append(i)
    return kept if max_outputs is None else kept[:max_outputs]


def test_nms_known_case():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]]
    scores = [0.8, 0.9, 0.7, 0.6]
    # Box 1 is best; box 0 overlaps it by 81/119 = 0.68 and goes; box 3 overlaps
    # box 1 by 72/118 = 0.61 and goes; box 2 is apart and stays.
    np.testing.assert_array_equal(non_max_suppression(boxes, scores, 0.5), [1, 2])
    # At 0.7 box 0 (0.68 with box 1) survives, box 3 (0.9 with box 0) does not.
    np.testing.assert_array_equal(non_max_suppression(boxes, scores, 0.7), [1, 0, 2])
    np.testing.assert_array_equal(non_max_suppression(boxes, scores, 1.0), [1, 0, 2, 3])
    np.testing.assert_array_equal(
        non_max_suppression(boxes, scores, 0.5, max_outputs=1), [1]
    )
    assert non_max_suppression(np.zeros((0, 4)), []).shape == (0,)


def test_nms_matches_brute_force_on_random_boxes():
    rng = np.random.default_rng(0)
    for trial in range(30):
        n = int(rng.integers(1, 25))
        xy = rng.uniform(0, 20, (n, 2))
        wh = rng.uniform(1, 10, (n, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        scores = rng.random(n).round(1)  # ties included
        threshold = float(rng.choice([0.1, 0.3, 0.5, 0.7]))
        max_outputs = None if trial % 3 else int(rng.integers(1, 5))
        expected = _reference_nms(
            boxes.tolist(), scores.tolist(), threshold, max_outputs
        )
        got = non_max_suppression(boxes, scores, threshold, max_outputs)
        np.testing.assert_array_equal(got, expected)


# --- encode / decode -------------------------------------------------------------
def test_encode_then_decode_recovers_the_boxes_exactly():
    data = make_shapes_detection(12, size=48, max_objects=4, seed=2)
    targets = encode_targets(data.boxes, data.classes, 48, num_classes=3, stride=4)
    assert targets.shape == (12, 12, 12, 8)
    detections = decode_predictions(targets[..., :7], stride=4, score_threshold=0.99)
    for i, found in enumerate(detections):
        boxes, classes = data.objects(i)
        assert isinstance(found, Detections)
        assert len(found.boxes) == len(boxes)
        np.testing.assert_allclose(found.scores, 1.0)
        # Match by position: decoded order is by score, then cell.
        order = np.lexsort((found.boxes[:, 0], found.boxes[:, 1]))
        truth = np.lexsort((boxes[:, 0], boxes[:, 1]))
        np.testing.assert_allclose(found.boxes[order], boxes[truth], atol=1e-4)
        np.testing.assert_array_equal(found.classes[order], classes[truth])
    assert mean_average_precision(detections, data.ground_truth()) == 1.0


def test_encode_targets_layout():
    boxes = [np.array([[4.0, 8.0, 12.0, 12.0]]), np.zeros((0, 4))]
    classes = [np.array([1]), np.array([], dtype=int)]
    y = encode_targets(boxes, classes, (16, 24), num_classes=2, stride=4)
    assert y.shape == (2, 4, 6, 7)
    # Centre (8, 10) px -> (2, 2.5) cells: column 2, row 2, offset (0, 0.5).
    assert y[0, 2, 2, 1] == 1.0  # the peak; this small box has a bump of radius 0
    assert y[0, :, :, 0].max() == 0.0  # the other class is empty
    np.testing.assert_allclose(y[0, 2, 2, 2:], [2.0, 1.0, 0.0, 0.5, 1.0])
    assert y[0, ..., 6].sum() == 1.0
    assert not y[1].any()
    # Padding rows (class -1) are ignored.
    padded = encode_targets(
        np.array([[[4.0, 8.0, 12.0, 12.0], [0, 0, 0, 0]]]),
        np.array([[1, -1]]),
        (16, 24),
        num_classes=2,
    )
    np.testing.assert_array_equal(padded[0], y[0])
    # A 6x6-cell box gets a Gaussian bump of radius 1 (sigma 0.5) around its peak.
    big = encode_targets([np.array([[0.0, 0.0, 24.0, 24.0]])], [[0]], 48, 1)
    heat = big[0, :, :, 0]
    assert heat[3, 3] == 1.0
    np.testing.assert_allclose(heat[3, 4], np.exp(-2.0), rtol=1e-6)
    np.testing.assert_allclose(heat[4, 4], np.exp(-4.0), rtol=1e-6)


def test_decode_peaks_threshold_and_nms():
    out = np.zeros((1, 6, 6, 5), dtype=np.float32)  # one class
    out[0, 2, 2, 0], out[0, 2, 3, 0] = 0.9, 0.5  # 0.5 is not a local maximum
    out[0, 4, 4, 0] = 0.4
    out[0, :, :, 1:3] = 1.0  # 1x1 cells
    out[0, :, :, 3:5] = 0.5  # centred in the cell
    det = decode_predictions(out, stride=2, score_threshold=0.3)[0]
    np.testing.assert_allclose(det.scores, [0.9, 0.4])
    np.testing.assert_allclose(det.boxes, [[4, 4, 6, 6], [8, 8, 10, 10]])
    assert len(decode_predictions(out, stride=2, score_threshold=0.45)[0].boxes) == 1
    # Two peaks far apart as cells but with big overlapping boxes: NMS keeps one.
    out[0, :, :, 1:3] = 10.0  # 20x20 px boxes at (5, 5) and (9, 9) px: IoU 0.47
    overlapping = decode_predictions(out, 2, 0.3, nms_iou_threshold=0.3)[0]
    np.testing.assert_allclose(overlapping.scores, [0.9])
    assert len(decode_predictions(out, 2, 0.3, max_detections=1)[0].boxes) == 1


# --- mAP -------------------------------------------------------------------------
A, B = [0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]
FAR = [40.0, 40.0, 50.0, 50.0]


def _map(pred_boxes, scores, gt_boxes, pred_classes=None, gt_classes=None):
    pred_classes = [0] * len(scores) if pred_classes is None else pred_classes
    gt_classes = [0] * len(gt_boxes) if gt_classes is None else gt_classes
    prediction = (np.array(pred_boxes).reshape(-1, 4), scores, pred_classes)
    truth = (np.array(gt_boxes).reshape(-1, 4), np.array(gt_classes))
    return mean_average_precision([prediction], [truth], per_class=True)


def test_map_perfect_predictions():
    assert _map([A, B], [0.9, 0.8], [A, B])[0] == 1.0


def test_map_one_false_positive_ranked_first():
    # 1 object: FP then TP -> precision 1/2 at recall 1 -> AP 0.5.
    assert _map([FAR, A], [0.9, 0.8], [A])[0] == pytest.approx(0.5)
    # 2 objects: FP, TP, TP -> precision (0, 1/2, 2/3) at recall (0, .5, 1); the
    # envelope is 2/3 everywhere -> AP 2/3.
    assert _map([FAR, A, B], [0.9, 0.8, 0.7], [A, B])[0] == pytest.approx(2 / 3)
    # Ranked last instead, the FP costs nothing: recall 1 is reached at precision 1.
    assert _map([A, B, FAR], [0.9, 0.8, 0.7], [A, B])[0] == pytest.approx(1.0)


def test_map_missed_object():
    assert _map([A], [0.9], [A, B])[0] == pytest.approx(0.5)


def test_map_duplicates_count_as_false_positives():
    # TP on A, a duplicate of A, TP on B: precision (1, 1/2, 2/3), recall
    # (.5, .5, 1) -> AP = .5 * 1 + .5 * 2/3 = 5/6. Counted as a second TP the
    # duplicate would give 1.0.
    shifted_a = [0.5, 0.0, 10.5, 10.0]
    assert _map([A, shifted_a, B], [0.9, 0.8, 0.7], [A, B])[0] == pytest.approx(5 / 6)


def test_map_iou_threshold_wrong_class_and_per_class():
    half = [5.0, 0.0, 15.0, 10.0]  # IoU 1/3 with A
    assert _map([half], [0.9], [A])[0] == 0.0
    assert mean_average_precision(
        [(np.array([half]), [0.9], [0])], [(np.array([A]), [0])], iou_threshold=0.3
    ) == pytest.approx(1.0)
    # Right box, wrong class: class 0 has AP 0, class 1 has no objects (skipped).
    value, per_class = _map([A], [0.9], [A], pred_classes=[1], gt_classes=[0])
    assert value == 0.0 and per_class == {0: 0.0}
    # Two classes, one perfect and one missed: mean of 1 and 0.
    value, per_class = _map([A], [0.9], [A, B], pred_classes=[0], gt_classes=[0, 1])
    assert per_class == {0: 1.0, 1: 0.0} and value == 0.5


def test_map_spans_images_and_ranks_globally():
    # Image 0: a confident FP; image 1: a TP with a lower score.
    predictions = [
        Detections(np.array([FAR]), np.array([0.9]), np.array([0])),
        {"boxes": np.array([A]), "scores": np.array([0.5]), "classes": np.array([0])},
    ]
    truth = [(np.zeros((0, 4)), np.zeros(0, int)), (np.array([A]), np.array([0]))]
    assert mean_average_precision(predictions, truth) == pytest.approx(0.5)


def test_average_precision_interpolates_all_points():
    # Points (r, p): (.25, 1), (.5, .5), (.75, .6) -> envelope 1, .6, .6 on the
    # three recall steps of .25; recall never reaches 1.
    ap = average_precision([0.25, 0.5, 0.75], [1.0, 0.5, 0.6])
    assert ap == pytest.approx(0.25 * (1.0 + 0.6 + 0.6))


# --- model and loss --------------------------------------------------------------
def _tiny_data(n=8, seed=0):
    data = make_shapes_detection(n, size=16, max_objects=2, seed=seed)
    y = encode_targets(data.boxes, data.classes, 16, num_classes=3, stride=4)
    return data, y


def test_centernet_contract(tmp_path):
    data, y = _tiny_data()
    model = CenterNet((16, 16, 1), 3, **TINY)
    out = check_model(model, data.images, y, loss=CenterNetLoss(), tmp_dir=tmp_path)
    assert out.shape == (8, 4, 4, 7)
    heat = out[..., :3]
    assert np.all((heat > 0) & (heat < 1))
    # The heatmap head starts at the paper's prior of 0.1 (its bias).
    assert 0.03 < heat.mean() < 0.3
    assert len(model.detect(data.images[:2], score_threshold=0.0)) == 2


def test_centernet_stride_and_levels():
    model = CenterNet((32, 32, 3), 2, filters=(4, 4, 4, 4), stride=2, head_filters=4)
    assert tuple(model.output.shape) == (None, 16, 16, 6)
    model = CenterNet((32, 32, 3), 2, filters=(4, 4, 4, 4), stride=8, head_filters=4)
    assert tuple(model.output.shape) == (None, 4, 4, 6)


def test_focal_loss_hand_computed():
    heat_true = np.zeros((1, 1, 2, 1), dtype="float32")
    heat_true[0, 0, 0, 0] = 1.0  # a centre
    heat_true[0, 0, 1, 0] = 0.5  # near a centre
    pred = np.array([[[[0.8], [0.4]]]], dtype="float32")
    expected = -(0.2**2 * np.log(0.8) + 0.5**4 * 0.4**2 * np.log(0.6))
    got = keras.ops.convert_to_numpy(centernet_focal_loss(heat_true, pred))
    np.testing.assert_allclose(got, [expected], rtol=1e-5)


def test_loss_is_lowest_for_the_perfect_prediction():
    _, y = _tiny_data()
    loss = CenterNetLoss()
    perfect = y[..., :7]
    rng = np.random.default_rng(0)
    noisy = perfect + rng.normal(0, 0.2, perfect.shape).astype("float32")
    noisy[..., :3] = np.clip(noisy[..., :3], 0, 1)
    flat = np.full_like(perfect, 0.1)
    values = [float(loss(y, p)) for p in (perfect, noisy, flat)]
    assert values[0] < 0.05 and values[0] < values[1] and values[0] < values[2]
    # Size and offset count only at centres: changing them elsewhere costs nothing.
    moved = perfect.copy()
    moved[..., 3:][y[..., 7] == 0] += 5.0
    assert float(loss(y, moved)) == pytest.approx(values[0], abs=1e-6)
    config = loss.get_config()
    assert CenterNetLoss.from_config(config).get_config() == config


def test_a_few_fit_steps_lower_the_loss():
    keras.utils.set_random_seed(0)
    data, y = _tiny_data(n=16)
    model = CenterNet((16, 16, 1), 3, **TINY)
    model.compile(keras.optimizers.Adam(3e-3), loss=CenterNetLoss())
    losses = model.fit(data.images, y, epochs=10, batch_size=8, verbose=0)
    losses = losses.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (18, 16, 1)}, "multiples of 4"),
        ({"stride": 3}, "power of 2"),
        ({"stride": 8}, "no larger than 4"),
        ({"filters": (8,)}, "at least 2"),
        ({"num_classes": 0}, "num_classes"),
    ],
)
def test_centernet_bad_arguments(kwargs, match):
    args = {"input_shape": (16, 16, 1), "num_classes": 3, **TINY, **kwargs}
    with pytest.raises(ValueError, match=match):
        CenterNet(**args)


def test_box_function_errors():
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        box_iou([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="negative side"):
        non_max_suppression([[2, 0, 1, 1]], [0.5])
    with pytest.raises(ValueError, match="same length"):
        non_max_suppression([[0, 0, 1, 1]], [0.5, 0.4])
    with pytest.raises(ValueError, match="not below num_classes"):
        encode_targets([np.array([[0, 0, 4, 4]])], [np.array([3])], 8, 3)
    with pytest.raises(ValueError, match="multiples of stride"):
        encode_targets([np.zeros((0, 4))], [np.zeros(0)], 10, 3, stride=4)
    with pytest.raises(ValueError, match="num_classes \\+ 4"):
        decode_predictions(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="one entry per image"):
        mean_average_precision([], [(np.zeros((0, 4)), [])])
    with pytest.raises(ValueError, match="CenterNetLoss expects"):
        CenterNetLoss()(np.zeros((1, 4, 4, 8)), np.zeros((1, 4, 4, 8)))
