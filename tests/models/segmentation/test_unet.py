"""UNet and the segmentation metrics/loss: contract, hand-computed scores, errors."""

import keras
import numpy as np
import pytest

from kerasdl.data.shapes import make_shapes_segmentation
from kerasdl.models.segmentation.metrics import (
    DiceCoefficient,
    DiceCrossEntropyLoss,
    IoUScore,
    dice_score,
    iou_score,
    segmentation_confusion_matrix,
    segmentation_report,
)
from kerasdl.models.segmentation.unet import UNet
from kerasdl.testing import check_model

TINY = {"depth": 2, "base_filters": 4}


# --- model -----------------------------------------------------------------------
def test_unet_contract_softmax(tmp_path):
    data = make_shapes_segmentation(8, size=16, seed=0)
    model = UNet((16, 16, 1), 4, depth=1, base_filters=4)
    out = check_model(model, data.images, data.masks, tmp_dir=tmp_path)
    assert out.shape == (8, 16, 16, 4)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-5)


def test_unet_structure_skips_and_sigmoid_head():
    model = UNet((16, 8, 3), 1, depth=2, base_filters=4, upsampling="bilinear")
    assert tuple(model.output.shape) == (None, 16, 8, 1)
    assert model.get_layer("probabilities").activation.__name__ == "sigmoid"
    # One skip per level, each joining maps of the same resolution: the up-sampled
    # decoder map and the encoder map, `base_filters * 2**level` channels each.
    for level, size in zip(range(2), ((16, 8), (8, 4))):
        joined = model.get_layer(f"up{level}_skip")
        encoder = model.get_layer(f"down{level}_relu2")
        assert joined.input[1] is encoder.output
        assert tuple(joined.output.shape) == (None, *size, 2 * 4 * 2**level)
    bottleneck = model.get_layer("bottleneck_relu2").output
    assert tuple(bottleneck.shape) == (None, 4, 2, 4 * 2**2)


def test_unet_learns_a_few_steps():
    keras.utils.set_random_seed(0)
    data = make_shapes_segmentation(16, size=16, seed=1)
    model = UNet((16, 16, 1), 4, **TINY)
    model.compile(
        keras.optimizers.Adam(1e-2), DiceCrossEntropyLoss(), metrics=[IoUScore(4)]
    )
    history = model.fit(data.images, data.masks, epochs=6, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.85 * losses[0]
    assert 0.0 <= history.history["iou"][-1] <= 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"input_shape": (30, 32, 1)},
            r"multiples of 4; received input_shape=\(30, 32, 1\)\. UNet with depth=2",
        ),
        ({"input_shape": (32, 32)}, "height, width, channels"),
        ({"depth": 0}, "`depth`"),
        ({"num_classes": 0}, "`num_classes`"),
        ({"dropout": 1.0}, "`dropout`"),
        ({"upsampling": "nearest"}, "`upsampling`"),
    ],
)
def test_unet_bad_arguments(kwargs, match):
    args = {"input_shape": (32, 32, 1), "num_classes": 3, **TINY, **kwargs}
    with pytest.raises(ValueError, match=match):
        UNet(**args)


# --- NumPy scores ----------------------------------------------------------------
Y_TRUE = np.array([[[0, 1], [1, 1]]])
Y_PRED = np.array([[[0, 1], [0, 1]]])


def test_scores_hand_computed():
    np.testing.assert_array_equal(
        segmentation_confusion_matrix(Y_TRUE, Y_PRED, 2), [[1, 0], [1, 2]]
    )
    # Class 0: TP 1, FP 1, FN 0 -> IoU 1/2, Dice 2/3. Class 1: TP 2, FN 1 ->
    # IoU 2/3, Dice 4/5.
    np.testing.assert_allclose(iou_score(Y_TRUE, Y_PRED, 2), [1 / 2, 2 / 3])
    np.testing.assert_allclose(dice_score(Y_TRUE, Y_PRED, 2), [2 / 3, 4 / 5])
    # A class in neither labels nor predictions has no score (NaN).
    assert np.isnan(iou_score(Y_TRUE, Y_PRED, 3)[2])
    # Probabilities are turned into labels by argmax; one channel by p > 0.5.
    probs = np.eye(2, dtype="float32")[Y_PRED]
    np.testing.assert_allclose(iou_score(Y_TRUE, probs, 2), [1 / 2, 2 / 3])
    sigmoid = Y_PRED[..., None].astype("float32") * 0.8 + 0.1
    np.testing.assert_allclose(iou_score(Y_TRUE[..., None], sigmoid, 2), [0.5, 2 / 3])
    report = segmentation_report(Y_TRUE, Y_PRED, ["bg", "fg"])
    assert report["mean_iou"] == pytest.approx(7 / 12)
    assert report["mean_iou_foreground"] == pytest.approx(2 / 3)
    assert report["pixel_accuracy"] == pytest.approx(3 / 4)


def test_labels_out_of_range_are_ignored_and_shapes_checked():
    y_true = np.array([[0, 255], [1, 1]])
    y_pred = np.array([[0, 0], [1, 1]])
    np.testing.assert_allclose(iou_score(y_true, y_pred, 2), [1.0, 1.0])
    with pytest.raises(ValueError, match="same shape"):
        iou_score(np.zeros((2, 3), int), np.zeros((3, 2), int), 2)
    with pytest.raises(ValueError, match="integer class labels"):
        iou_score(np.zeros((2, 2)), np.zeros((2, 2), int), 2)
    with pytest.raises(ValueError, match="3 classes but num_classes=2"):
        iou_score(np.zeros((2, 2), int), np.zeros((2, 2, 3), "float32"), 2)


# --- Keras metrics ---------------------------------------------------------------
def _probabilities(labels, classes, rng):
    logits = rng.normal(0, 1, (*labels.shape, classes))
    logits += 3 * np.eye(classes)[labels]
    exp = np.exp(logits)
    return (exp / exp.sum(-1, keepdims=True)).astype("float32")


# keras.metrics.MeanIoU asks for int64, which JAX (without x64) truncates, warning.
@pytest.mark.filterwarnings("ignore:Explicitly requested dtype int64:UserWarning")
def test_metrics_match_numpy_and_keras_meaniou():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, (3, 6, 6)).astype("int32")
    probs = _probabilities(rng.integers(0, 4, (3, 6, 6)), 4, rng)
    iou, dice = IoUScore(4), DiceCoefficient(4)
    reference = keras.metrics.MeanIoU(4, sparse_y_pred=False)
    for batch in (slice(0, 2), slice(2, 3)):  # streamed over two batches
        for metric in (iou, dice, reference):
            metric.update_state(y_true[batch], probs[batch])
    np.testing.assert_allclose(
        float(iou.result()), np.nanmean(iou_score(y_true, probs, 4)), rtol=1e-5
    )
    np.testing.assert_allclose(float(iou.result()), float(reference.result()), 1e-5)
    np.testing.assert_allclose(
        float(dice.result()), np.nanmean(dice_score(y_true, probs, 4)), rtol=1e-5
    )
    one = IoUScore(4, class_id=2)
    one.update_state(y_true[..., None], probs)  # a trailing label axis is fine
    np.testing.assert_allclose(
        float(one.result()), iou_score(y_true, probs, 4)[2], rtol=1e-5
    )
    iou.reset_state()
    assert float(iou.result()) == 0.0
    config = dice.get_config()
    assert DiceCoefficient.from_config(config).get_config() == config


def test_metric_sample_weight_drops_an_image():
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 3, (2, 4, 4))
    probs = _probabilities(rng.integers(0, 3, (2, 4, 4)), 3, rng)
    weighted, first_only = IoUScore(3), IoUScore(3)
    weighted.update_state(y_true, probs, sample_weight=np.array([1.0, 0.0]))
    first_only.update_state(y_true[:1], probs[:1])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(weighted.confusion),
        keras.ops.convert_to_numpy(first_only.confusion),
    )
    per_pixel = np.zeros((2, 4, 4), "float32")
    per_pixel[0] = 1.0
    pixels = IoUScore(3)
    pixels.update_state(y_true, probs, sample_weight=per_pixel)
    assert float(pixels.result()) == pytest.approx(float(first_only.result()))


def test_metric_hand_case_with_sigmoid_output():
    metric = DiceCoefficient(2, class_id=1)
    metric.update_state(Y_TRUE, Y_PRED[..., None].astype("float32") * 0.8 + 0.1)
    assert float(metric.result()) == pytest.approx(4 / 5)
    with pytest.raises(ValueError, match="class_id"):
        IoUScore(3, class_id=3)


# --- loss ------------------------------------------------------------------------
def test_dice_crossentropy_is_lowest_for_the_perfect_prediction():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, (2, 8, 8))
    loss = DiceCrossEntropyLoss()
    perfect = np.eye(3, dtype="float32")[labels]
    good = _probabilities(labels, 3, rng)
    uniform = np.full_like(perfect, 1 / 3)
    wrong = np.eye(3, dtype="float32")[(labels + 1) % 3]
    values = [float(loss(labels, p)) for p in (perfect, good, uniform, wrong)]
    assert values[0] < 1e-3
    assert values[0] < values[1] < values[2] < values[3]
    # Hand check on one pixel per image: p = (0.6, 0.4), label 0, smooth 1.
    p = np.array([[[[0.6, 0.4]]]], dtype="float32")
    ce = -np.log(0.6)
    dice = ((2 * 0.6 + 1) / (0.6 + 1 + 1) + (0 + 1) / (0.4 + 0 + 1)) / 2
    got = float(DiceCrossEntropyLoss()(np.array([[[0]]]), p))
    assert got == pytest.approx(ce + 1 - dice, rel=1e-5)
    only_ce = float(DiceCrossEntropyLoss(dice_weight=0.0)(np.array([[[0]]]), p))
    assert only_ce == pytest.approx(ce, rel=1e-5)


def test_dice_crossentropy_binary_and_logits_and_config():
    labels = np.array([[[1, 0], [0, 1]]])
    p = np.array([[[0.9, 0.2], [0.1, 0.7]]], dtype="float32")[..., None]
    loss = DiceCrossEntropyLoss(dice_weight=0.5, smooth=1e-3)
    ce = -np.mean(np.log([0.9, 0.8, 0.9, 0.7]))
    dice = (2 * (0.9 + 0.7) + 1e-3) / (0.9 + 0.2 + 0.1 + 0.7 + 2 + 1e-3)
    assert float(loss(labels, p)) == pytest.approx(ce + 0.5 * (1 - dice), rel=1e-5)
    logits = np.log(p / (1 - p))
    with_logits = DiceCrossEntropyLoss(dice_weight=0.5, smooth=1e-3, from_logits=True)
    assert float(with_logits(labels, logits)) == pytest.approx(
        float(loss(labels, p)), rel=1e-4
    )
    config = with_logits.get_config()
    clone = DiceCrossEntropyLoss.from_config(config)
    assert clone.get_config() == config and clone.from_logits
    assert keras.saving.get_registered_object("kerasdl>DiceCrossEntropyLoss")
    with pytest.raises(ValueError, match="`smooth`"):
        DiceCrossEntropyLoss(smooth=0)
