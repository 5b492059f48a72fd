"""A one-stage object detector: CenterNet ("Objects as Points", Zhou et al. 2019).

Objects are the peaks of a per-class heatmap on a feature map `stride` times
smaller than the image; at each peak two more heads regress the box size and the
sub-cell offset of the centre. No anchors, and no NMS needed (a 3x3 local-maximum
test on the heatmap does its job). Targets are made by
`kerasdl.models.detection.boxes.encode_targets`, outputs turned into boxes by
`kerasdl.models.detection.boxes.decode_predictions`; the loss is `CenterNetLoss` (focal
loss on the heatmap, L1 on size and offset), so a plain `compile`/`fit` trains
it on every backend.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasdl._checks import check_float, check_image_shape, check_int
from kerasdl.models.base import FunctionalModel
from kerasdl.models.detection.boxes import decode_predictions

__all__ = ["CenterNet", "CenterNetLoss", "centernet_focal_loss"]

HEATMAP_PRIOR = 0.1  # initial heatmap probability (bias of the heatmap head)


def _conv_bn_relu(x, filters, batch_norm, name):
    x = keras.layers.Conv2D(
        filters,
        3,
        padding="same",
        use_bias=not batch_norm,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


@keras.saving.register_keras_serializable(package="kerasdl")
class CenterNet(FunctionalModel):
    """A small CenterNet: conv backbone, up-sampling neck, three heads.

    Backbone: level `i` runs two (3x3 conv -> BatchNorm -> ReLU) with
    `filters[i]` filters, and every level but the last ends with a 2x2 max-pool,
    so the deepest map is `2**(len(filters) - 1)` times smaller than the image.
    Neck: from the deepest level back up to the output resolution (`stride`),
    each step up-samples by 2 (nearest), concatenates the backbone map of that
    resolution and runs one 3x3 conv block, so the output map sees both the wide
    context of the deep levels and the fine position of the shallow ones.
    Heads, each a 3x3 conv (`head_filters`, ReLU) and a 1x1 conv:

    - heatmap: `num_classes` sigmoid channels (bias set so that every cell starts
      at probability 0.1, as in the paper, which keeps the early focal loss sane);
    - size: box width and height in feature-map cells (linear);
    - offset: the centre's position inside its cell, (x, y) (linear).

    Args:
        input_shape: `(height, width, channels)`; height and width must be
            multiples of `2**(len(filters) - 1)`.
        num_classes: Number of object classes (>= 1).
        filters: Filters of each backbone level (positive ints, >= 2 levels).
        stride: Down-sampling factor of the output map: a power of 2 between 1
            and `2**(len(filters) - 1)`.
        head_filters: Filters of the 3x3 conv of each head (>= 1).
        batch_norm: Whether to put BatchNormalization after each backbone conv.
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Python bool (batch-norm statistics follow it).

    Returns:
        `(batch, height / stride, width / stride, num_classes + 4)`: heatmap
        probabilities, then size (w, h) and offset (x, y).

    Example:

    ```python
    data = make_shapes_detection(2000, size=48)
    model = CenterNet((48, 48, 1), num_classes=3, stride=4)
    y = encode_targets(data.boxes, data.classes, 48, 3, stride=model.stride)
    model.compile(keras.optimizers.Adam(2e-3), loss=CenterNetLoss())
    model.fit(data.images, y, epochs=30, batch_size=32)
    detections = model.detect(test_images, score_threshold=0.3)
    ```
    """

    def __init__(
        self,
        input_shape,
        num_classes,
        *,
        filters=(16, 32, 64, 128),
        stride=4,
        head_filters=64,
        batch_norm=True,
        name="centernet",
        **kwargs,
    ):
        num_classes = check_int("num_classes", num_classes, minimum=1)
        if (
            isinstance(filters, int)
            or not isinstance(filters, (tuple, list))
            or len(filters) < 2
        ):
            raise ValueError(
                "`filters` must be a tuple of at least 2 positive ints (one per "
                f"backbone level); received filters={filters!r}."
            )
        filters = tuple(check_int("filters", f, minimum=1) for f in filters)
        deepest = 2 ** (len(filters) - 1)
        stride = check_int("stride", stride, minimum=1)
        if stride & (stride - 1) or stride > deepest:
            raise ValueError(
                f"`stride` must be a power of 2 no larger than {deepest} (the "
                f"deepest of {len(filters)} backbone levels); received "
                f"stride={stride}."
            )
        head_filters = check_int("head_filters", head_filters, minimum=1)
        input_shape = check_image_shape(
            "input_shape",
            input_shape,
            divisible_by=deepest,
            reason=f"CenterNet with {len(filters)} backbone levels halves the image "
            f"{len(filters) - 1} time(s); pad or resize the images, or use fewer "
            "levels.",
        )

        # === Layers + functional model ===
        inputs = keras.Input(shape=input_shape, name="images")
        x = inputs
        features = []
        for level, level_filters in enumerate(filters):
            x = _conv_bn_relu(x, level_filters, batch_norm, f"level{level}_a")
            x = _conv_bn_relu(x, level_filters, batch_norm, f"level{level}_b")
            features.append(x)
            if level < len(filters) - 1:
                x = keras.layers.MaxPooling2D(2, name=f"level{level}_pool")(x)
        out_level = int(math.log2(stride))
        for level in reversed(range(out_level, len(filters) - 1)):
            x = keras.layers.UpSampling2D(2, name=f"neck{level}_up")(x)
            x = keras.layers.Concatenate(name=f"neck{level}_skip")([x, features[level]])
            x = _conv_bn_relu(x, filters[level + 1], batch_norm, f"neck{level}")

        def head(units, name, **kwargs):
            h = keras.layers.Conv2D(
                head_filters,
                3,
                padding="same",
                activation="relu",
                kernel_initializer="he_normal",
                name=f"{name}_conv",
            )(x)
            return keras.layers.Conv2D(units, 1, name=name, **kwargs)(h)

        prior_bias = -math.log((1 - HEATMAP_PRIOR) / HEATMAP_PRIOR)
        heatmap = head(
            num_classes,
            "heatmap",
            activation="sigmoid",
            bias_initializer=keras.initializers.Constant(prior_bias),
        )
        size = head(2, "size")
        offset = head(2, "offset")
        outputs = keras.layers.Concatenate(name="outputs")([heatmap, size, offset])
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.image_shape = input_shape
        self.num_classes = num_classes
        self.filters = filters
        self.stride = stride
        self.head_filters = head_filters
        self.batch_norm = batch_norm

    def detect(
        self,
        images,
        score_threshold=0.3,
        max_detections=100,
        nms_iou_threshold=None,
        batch_size=64,
    ):
        """Runs the model and decodes its outputs (see `decode_predictions`).

        Returns:
            A list with one `Detections(boxes, scores, classes)` per image.
        """
        outputs = self.predict(images, batch_size=batch_size, verbose=0)
        return decode_predictions(
            outputs,
            stride=self.stride,
            score_threshold=score_threshold,
            max_detections=max_detections,
            nms_iou_threshold=nms_iou_threshold,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self.image_shape,
            "num_classes": self.num_classes,
            "filters": self.filters,
            "stride": self.stride,
            "head_filters": self.head_filters,
            "batch_norm": self.batch_norm,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["input_shape"] = tuple(config["input_shape"])
        config["filters"] = tuple(config["filters"])
        return cls(**config)


def centernet_focal_loss(heat_true, heat_pred, alpha=2.0, beta=4.0):
    """CenterNet's penalty-reduced focal loss, per image.

    With `p` the predicted and `y` the target heatmap, at object centres (`y = 1`)
    the loss is `-(1 - p)**alpha * log(p)`, elsewhere
    `-(1 - y)**beta * p**alpha * log(1 - p)`: well-classified cells count little
    (`alpha`) and cells near a centre are penalised less for a high score
    (`beta`). The sum over cells and classes is divided by the number of centres
    in the image (at least 1).

    Args:
        heat_true: Target heatmaps `(batch, rows, cols, classes)`.
        heat_pred: Predicted probabilities, same shape.
        alpha: Focusing exponent (>= 0).
        beta: Exponent of the penalty reduction near centres (>= 0).

    Returns:
        A tensor `(batch,)`.
    """
    heat_true = ops.convert_to_tensor(heat_true)
    pred = ops.clip(ops.cast(heat_pred, heat_true.dtype), 1e-4, 1.0 - 1e-4)
    positive = ops.cast(heat_true >= 1.0, pred.dtype)
    pos_loss = ops.power(1.0 - pred, alpha) * ops.log(pred) * positive
    neg_loss = (
        ops.power(1.0 - heat_true, beta)
        * ops.power(pred, alpha)
        * ops.log(1.0 - pred)
        * (1.0 - positive)
    )
    axes = (1, 2, 3)
    count = ops.maximum(ops.sum(positive, axis=axes), 1.0)
    return -(ops.sum(pos_loss, axis=axes) + ops.sum(neg_loss, axis=axes)) / count


@keras.saving.register_keras_serializable(package="kerasdl")
class CenterNetLoss(keras.losses.Loss):
    """CenterNet's training loss: focal loss on the heatmap, L1 on size and offset.

    Per image: `centernet_focal_loss(heatmap) + size_weight * L1(size) +
    offset_weight * L1(offset)`, where both L1 terms are summed over the object
    centres only (the `C + 4` mask channel of the targets) and divided by their
    number. The number of classes is read from the shapes: targets have
    `C + 5` channels, predictions `C + 4` (see `kerasdl.models.detection.boxes`).

    Args:
        size_weight: Weight of the size term (>= 0); sizes are in feature-map
            cells. The paper's 0.1 is for sizes in cells of a 128x128 map; these
            small images have objects of 2-5 cells, so the default is larger.
        offset_weight: Weight of the offset term (>= 0).
        alpha: Focal-loss focusing exponent.
        beta: Focal-loss penalty-reduction exponent.
        reduction: Keras loss reduction over the batch.
        name: Name of the loss.
        dtype: Dtype of the loss computation.

    Call arguments:
        y_true: Targets `(batch, rows, cols, C + 5)` from `encode_targets`.
        y_pred: Model outputs `(batch, rows, cols, C + 4)`.

    Returns:
        The reduced loss (per image before reduction).

    Example:

    ```python
    model.compile(keras.optimizers.Adam(2e-3), loss=CenterNetLoss())
    ```
    """

    def __init__(
        self,
        size_weight=0.5,
        offset_weight=1.0,
        alpha=2.0,
        beta=4.0,
        reduction="sum_over_batch_size",
        name="centernet_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.size_weight = check_float("size_weight", size_weight, low=0.0)
        self.offset_weight = check_float("offset_weight", offset_weight, low=0.0)
        self.alpha = check_float("alpha", alpha, low=0.0)
        self.beta = check_float("beta", beta, low=0.0)

    def call(self, y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if (
            len(y_true.shape) != 4
            or len(y_pred.shape) != 4
            or y_true.shape[-1] != y_pred.shape[-1] + 1
        ):
            raise ValueError(
                "CenterNetLoss expects targets (batch, rows, cols, C + 5) from "
                "encode_targets and outputs (batch, rows, cols, C + 4); received "
                f"y_true {tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}."
            )
        c = y_pred.shape[-1] - 4
        y_pred = ops.cast(y_pred, y_true.dtype)
        focal = centernet_focal_loss(
            y_true[..., :c], y_pred[..., :c], self.alpha, self.beta
        )
        mask = y_true[..., c + 4 : c + 5]
        count = ops.maximum(ops.sum(mask, axis=(1, 2, 3)), 1.0)
        error = ops.abs(y_pred[..., c:] - y_true[..., c : c + 4]) * mask
        size = ops.sum(error[..., :2], axis=(1, 2, 3)) / count
        offset = ops.sum(error[..., 2:], axis=(1, 2, 3)) / count
        return focal + self.size_weight * size + self.offset_weight * offset

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "size_weight": self.size_weight,
                "offset_weight": self.offset_weight,
                "alpha": self.alpha,
                "beta": self.beta,
            }
        )
        return config
