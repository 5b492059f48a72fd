"""Segmentation scores (IoU, Dice) as Keras metrics and NumPy functions, and the
Dice + cross-entropy loss.

Conventions shared by everything here:

- `y_true` holds integer class labels, `(batch, height, width)` or
  `(batch, height, width, 1)`;
- a model's `y_pred` holds per-pixel probabilities on the last axis: softmax over
  `num_classes` channels (the label is the argmax), or one sigmoid channel for a
  binary task (the label is `p > 0.5`, so `num_classes` is 2);
- per class, with TP/FP/FN counted over pixels,
  `IoU = TP / (TP + FP + FN)` and `Dice = 2 TP / (2 TP + FP + FN)`;
  a class absent from both the labels and the predictions has no score and is left
  out of the mean (as in `keras.metrics.MeanIoU`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl._checks import check_float, check_int

__all__ = [
    "DiceCoefficient",
    "DiceCrossEntropyLoss",
    "IoUScore",
    "dice_score",
    "iou_score",
    "segmentation_confusion_matrix",
    "segmentation_report",
]


# === NumPy ===
def _numpy_labels(y_true, y_pred, num_classes):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind == "f":  # probabilities, classes on the last axis
        if y_pred.shape[-1] == 1:
            y_pred = (y_pred[..., 0] > 0.5).astype(np.int64)
        else:
            if y_pred.shape[-1] != num_classes:
                raise ValueError(
                    f"`y_pred` holds probabilities for {y_pred.shape[-1]} classes "
                    f"but num_classes={num_classes}; received shape {y_pred.shape}."
                )
            y_pred = y_pred.argmax(axis=-1)
    elif y_pred.ndim == y_true.ndim == 4 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "`y_true` and the predicted labels must have the same shape; received "
            f"y_true {y_true.shape} and predictions {y_pred.shape}."
        )
    if y_true.dtype.kind not in "iub":
        raise ValueError(
            f"`y_true` must hold integer class labels; received dtype {y_true.dtype}."
        )
    return y_true.astype(np.int64).ravel(), y_pred.astype(np.int64).ravel()


def segmentation_confusion_matrix(y_true, y_pred, num_classes):
    """Pixel confusion matrix: entry `[i, j]` counts pixels of class i predicted j.

    Args:
        y_true: Integer labels `(..., height, width)` (a trailing axis of 1 is
            allowed).
        y_pred: Integer labels of the same shape, or float probabilities with the
            classes on an extra last axis (one channel: sigmoid, threshold 0.5).
        num_classes: Number of classes (>= 2); labels outside `[0, num_classes)`
            in `y_true` are ignored (e.g. 255 for "void").

    Returns:
        An int64 array `(num_classes, num_classes)`.
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    true, pred = _numpy_labels(y_true, y_pred, num_classes)
    keep = (true >= 0) & (true < num_classes)
    true, pred = true[keep], np.clip(pred[keep], 0, num_classes - 1)
    return np.bincount(
        true * num_classes + pred, minlength=num_classes * num_classes
    ).reshape(num_classes, num_classes)


def _scores(confusion, dice):
    confusion = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(confusion)
    fp = confusion.sum(axis=0) - tp
    fn = confusion.sum(axis=1) - tp
    numerator = 2 * tp if dice else tp
    denominator = numerator + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def iou_score(y_true, y_pred, num_classes):
    """Per-class intersection over union, `TP / (TP + FP + FN)`, over all pixels.

    Args: as `segmentation_confusion_matrix`.

    Returns:
        A float array `(num_classes,)`; NaN for a class that is neither in
        `y_true` nor predicted. `np.nanmean` of it is the mean IoU.

    Example:

    ```python
    iou_score([[0, 1], [1, 1]], [[0, 1], [0, 1]], 2)  # [0.5, 0.667]
    ```
    """
    return _scores(segmentation_confusion_matrix(y_true, y_pred, num_classes), False)


def dice_score(y_true, y_pred, num_classes):
    """Per-class Dice coefficient (F1 over pixels), `2 TP / (2 TP + FP + FN)`.

    Args: as `segmentation_confusion_matrix`.

    Returns:
        A float array `(num_classes,)`; NaN for a class that is neither in
        `y_true` nor predicted.

    Example:

    ```python
    dice_score([[0, 1], [1, 1]], [[0, 1], [0, 1]], 2)  # [0.667, 0.8]
    ```
    """
    return _scores(segmentation_confusion_matrix(y_true, y_pred, num_classes), True)


def segmentation_report(y_true, y_pred, class_names):
    """IoU and Dice per class and their means, plus pixel accuracy, as a dict.

    Args:
        y_true: Integer labels (see `segmentation_confusion_matrix`).
        y_pred: Labels or probabilities (see `segmentation_confusion_matrix`).
        class_names: One name per class; index 0 is taken as the background.

    Returns:
        `{"iou": {name: value}, "dice": {name: value}, "mean_iou", "mean_dice"}`
        (means over the classes that have a score), `"mean_iou_foreground"`,
        `"mean_dice_foreground"` (means without class 0), `"pixel_accuracy"`;
        plain floats (None where a class has no score).
    """
    class_names = [str(c) for c in class_names]
    confusion = segmentation_confusion_matrix(y_true, y_pred, len(class_names))
    iou, dice = _scores(confusion, False), _scores(confusion, True)

    def as_dict(values):
        return {
            name: (None if np.isnan(v) else float(v))
            for name, v in zip(class_names, values)
        }

    def mean(values):
        return None if np.all(np.isnan(values)) else float(np.nanmean(values))

    return {
        "iou": as_dict(iou),
        "dice": as_dict(dice),
        "mean_iou": mean(iou),
        "mean_dice": mean(dice),
        "mean_iou_foreground": mean(iou[1:]),
        "mean_dice_foreground": mean(dice[1:]),
        "pixel_accuracy": float(np.trace(confusion) / max(confusion.sum(), 1)),
    }


# === Keras metrics ===
def _true_labels(y_true, pred_rank):
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == pred_rank:
        y_true = ops.squeeze(y_true, axis=-1)
    return ops.cast(y_true, "int32")


def _predicted_labels(y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    if y_pred.shape[-1] == 1:
        return ops.cast(y_pred[..., 0] > 0.5, "int32")
    return ops.cast(ops.argmax(y_pred, axis=-1), "int32")


class _ConfusionMatrixScore(keras.metrics.Metric):
    """Accumulates a pixel confusion matrix; subclasses turn it into a score."""

    dice = False

    def __init__(self, num_classes, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_int("num_classes", num_classes, minimum=2)
        self.class_id = check_int("class_id", class_id, minimum=0, allow_none=True)
        if class_id is not None and class_id >= num_classes:
            raise ValueError(
                f"`class_id` must be < num_classes={num_classes}; received "
                f"class_id={class_id}."
            )
        self.confusion = self.add_variable(
            shape=(self.num_classes, self.num_classes),
            initializer="zeros",
            dtype="float32",
            name="confusion",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds a batch: labels `y_true`, probabilities `y_pred` (see module), and
        optional weights, one per image or one per pixel."""
        pred = _predicted_labels(y_pred)
        true = _true_labels(y_true, len(y_pred.shape))
        true_hot = ops.reshape(
            ops.one_hot(true, self.num_classes), (-1, self.num_classes)
        )
        pred_hot = ops.reshape(
            ops.one_hot(pred, self.num_classes), (-1, self.num_classes)
        )
        if sample_weight is not None:
            # One weight per image (batch,), or one per pixel shaped like the labels.
            weight = ops.cast(sample_weight, "float32")
            rank = len(true.shape)
            if len(weight.shape) == rank + 1:  # a trailing axis of 1
                weight = ops.squeeze(weight, axis=-1)
            if len(weight.shape) < rank:
                extra = (1,) * (rank - len(weight.shape))
                weight = ops.reshape(weight, (-1, *extra))
            weight = ops.broadcast_to(weight, ops.shape(true))
            true_hot = true_hot * ops.reshape(weight, (-1, 1))
        self.confusion.assign_add(ops.matmul(ops.transpose(true_hot), pred_hot))

    def per_class(self):
        """Scores per class `(num_classes,)`; -1 where a class has no score yet."""
        confusion = ops.convert_to_tensor(self.confusion)
        tp = ops.diagonal(confusion)
        fp = ops.sum(confusion, axis=0) - tp
        fn = ops.sum(confusion, axis=1) - tp
        numerator = 2.0 * tp if self.dice else tp
        denominator = numerator + fp + fn
        return ops.where(
            denominator > 0, numerator / ops.maximum(denominator, 1e-12), -1.0
        )

    def result(self):
        scores = self.per_class()
        valid = scores >= 0
        if self.class_id is not None:
            return ops.maximum(scores[self.class_id], 0.0)
        total = ops.sum(ops.where(valid, scores, 0.0))
        count = ops.sum(ops.cast(valid, "float32"))
        return total / ops.maximum(count, 1.0)

    def reset_state(self):
        self.confusion.assign(ops.zeros(self.confusion.shape, dtype="float32"))

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "class_id": self.class_id,
            "name": self.name,
            "dtype": self.dtype,
        }


@keras.saving.register_keras_serializable(package="kerasdl")
class IoUScore(_ConfusionMatrixScore):
    """Mean (or one class's) intersection over union of predicted segmentations.

    Streams a pixel confusion matrix over batches; `result()` is the mean over
    classes of `TP / (TP + FP + FN)`, leaving out classes seen in neither labels
    nor predictions. Unlike `keras.metrics.MeanIoU` it reads probabilities
    directly (softmax: argmax; one sigmoid channel: `p > 0.5`) and can report a
    single class. Labels outside `[0, num_classes)` are ignored.

    Args:
        num_classes: Number of classes (>= 2; a sigmoid model has 2).
        class_id: If given, report only this class's IoU (0 while it has none).
        name: Name of the metric.
        dtype: Dtype of the result.

    Example:

    ```python
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=[IoUScore(4), IoUScore(4, class_id=1, name="iou_circle")])
    ```
    """

    dice = False

    def __init__(self, num_classes, class_id=None, name="iou", dtype=None):
        super().__init__(num_classes, class_id=class_id, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="kerasdl")
class DiceCoefficient(_ConfusionMatrixScore):
    """Mean (or one class's) Dice coefficient `2 TP / (2 TP + FP + FN)`.

    The same streaming confusion matrix as `IoUScore`; per class,
    `Dice = 2 IoU / (1 + IoU)`, so Dice is never below IoU.

    Args:
        num_classes: Number of classes (>= 2; a sigmoid model has 2).
        class_id: If given, report only this class's Dice (0 while it has none).
        name: Name of the metric.
        dtype: Dtype of the result.

    Example:

    ```python
    model.compile("adam", DiceCrossEntropyLoss(), metrics=[DiceCoefficient(4)])
    ```
    """

    dice = True

    def __init__(self, num_classes, class_id=None, name="dice", dtype=None):
        super().__init__(num_classes, class_id=class_id, name=name, dtype=dtype)


# === Loss ===
@keras.saving.register_keras_serializable(package="kerasdl")
class DiceCrossEntropyLoss(keras.losses.Loss):
    """Cross-entropy plus soft Dice loss, per image.

    For each image, with `p` the predicted probabilities and `t` the one-hot
    labels, the soft Dice of class `c` is
    `(2 sum(p_c t_c) + smooth) / (sum(p_c) + sum(t_c) + smooth)` (sums over
    pixels). The loss is
    `crossentropy_weight * mean pixel cross-entropy
    + dice_weight * (1 - mean over classes of the soft Dice)`.
    Cross-entropy gives every pixel a gradient; the Dice term weighs each class by
    its area, which helps small objects against a large background. A class absent
    from an image and not predicted there scores a Dice near 1 (the `smooth` term).
    With one sigmoid channel the task is binary: binary cross-entropy, and Dice
    of the foreground.

    Args:
        dice_weight: Weight of the Dice term (>= 0).
        crossentropy_weight: Weight of the cross-entropy term (>= 0).
        smooth: Added to numerator and denominator of the Dice (> 0).
        from_logits: Whether `y_pred` holds logits instead of probabilities.
        reduction: Keras loss reduction over the batch.
        name: Name of the loss.
        dtype: Dtype of the loss computation.

    Call arguments:
        y_true: Integer labels `(batch, height, width)` or `(..., 1)`.
        y_pred: Probabilities `(batch, height, width, classes)`.

    Returns:
        The reduced loss (per image before reduction).

    Example:

    ```python
    model.compile("adam", loss=DiceCrossEntropyLoss(), metrics=[IoUScore(4)])
    ```
    """

    def __init__(
        self,
        dice_weight=1.0,
        crossentropy_weight=1.0,
        smooth=1.0,
        from_logits=False,
        reduction="sum_over_batch_size",
        name="dice_crossentropy",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.dice_weight = check_float("dice_weight", dice_weight, low=0.0)
        self.crossentropy_weight = check_float(
            "crossentropy_weight", crossentropy_weight, low=0.0
        )
        self.smooth = check_float("smooth", smooth, low=0.0, low_open=True)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        rank = len(y_pred.shape)
        if rank < 3:
            raise ValueError(
                "Expected `y_pred` of rank >= 3 (batch, ..., classes); received "
                f"shape {tuple(y_pred.shape)}."
            )
        classes = y_pred.shape[-1]
        labels = _true_labels(y_true, rank)
        spatial = tuple(range(1, rank - 1))
        if classes == 1:
            probs = ops.sigmoid(y_pred) if self.from_logits else y_pred
            probs = ops.clip(probs, 1e-7, 1.0 - 1e-7)
            truth = ops.expand_dims(ops.cast(labels, probs.dtype), -1)
            ce = -(truth * ops.log(probs) + (1.0 - truth) * ops.log(1.0 - probs))
        else:
            probs = ops.softmax(y_pred, axis=-1) if self.from_logits else y_pred
            probs = ops.clip(probs, 1e-7, 1.0)
            truth = ops.one_hot(labels, classes, dtype=probs.dtype)
            ce = -ops.sum(truth * ops.log(probs), axis=-1, keepdims=True)
        intersection = ops.sum(probs * truth, axis=spatial)
        total = ops.sum(probs, axis=spatial) + ops.sum(truth, axis=spatial)
        dice = (2.0 * intersection + self.smooth) / (total + self.smooth)
        dice_loss = 1.0 - ops.mean(dice, axis=-1)
        ce_loss = ops.mean(ops.reshape(ce, (ops.shape(ce)[0], -1)), axis=-1)
        return self.crossentropy_weight * ce_loss + self.dice_weight * dice_loss

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "dice_weight": self.dice_weight,
                "crossentropy_weight": self.crossentropy_weight,
                "smooth": self.smooth,
                "from_logits": self.from_logits,
            }
        )
        return config
