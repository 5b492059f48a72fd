"""U-Net for semantic segmentation: an encoder-decoder with skip connections."""

from __future__ import annotations

import keras

from kerasdl._checks import check_float, check_image_shape, check_int
from kerasdl.models.base import FunctionalModel

__all__ = ["UNet"]

UPSAMPLING = ("transpose", "bilinear")


def _double_conv(x, filters, batch_norm, name):
    """Two (3x3 conv "same" -> [BatchNorm] -> ReLU) in a row, the U-Net block."""
    for i in (1, 2):
        x = keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            use_bias=not batch_norm,
            kernel_initializer="he_normal",
            name=f"{name}_conv{i}",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = keras.layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return x


@keras.saving.register_keras_serializable(package="kerasdl")
class UNet(FunctionalModel):
    """U-Net (Ronneberger et al., 2015) for per-pixel classification.

    The encoder runs `depth` levels of a double convolution (two 3x3 convs, each
    followed by BatchNormalization and ReLU) and a 2x2 max-pool; level `i` has
    `base_filters * 2**i` filters. A bottleneck double conv with
    `base_filters * 2**depth` filters (and optional dropout) sits at
    `1 / 2**depth` of the input resolution. The decoder mirrors the encoder: each
    level upsamples by 2 (a 2x2 transposed conv, or bilinear resize then a 1x1
    conv), **concatenates** the encoder activation of the same resolution (the
    skip connection that carries the fine detail lost by pooling) and runs a
    double conv. A 1x1 conv gives per-pixel class probabilities: softmax over
    `num_classes` channels, or one sigmoid channel when `num_classes == 1`
    (binary foreground/background).

    Train a softmax U-Net with `"sparse_categorical_crossentropy"` or
    `kerasdl.models.segmentation.metrics.DiceCrossEntropyLoss` on integer masks
    `(batch, height, width)`.

    Args:
        input_shape: `(height, width, channels)`; height and width must be
            multiples of `2**depth`.
        num_classes: Classes per pixel (>= 2 for softmax), or 1 for a single
            sigmoid channel.
        depth: Number of down-sampling levels (>= 1).
        base_filters: Filters of the first level (>= 1); doubled at each level.
        batch_norm: Whether to put BatchNormalization after each convolution.
        dropout: Dropout rate in [0, 1) at the bottleneck; 0 disables it.
        upsampling: `"transpose"` (learned 2x2 transposed conv) or `"bilinear"`
            (bilinear resize followed by a 1x1 conv).
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel` (`dtype`, `trainable`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Python bool; dropout and batch-norm statistics follow it.

    Returns:
        Per-pixel probabilities `(batch, height, width, num_classes)`.

    Example:

    ```python
    model = UNet((32, 32, 1), num_classes=4, depth=3, base_filters=16)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(images, masks, epochs=10)  # masks: (n, 32, 32) int
    ```
    """

    def __init__(
        self,
        input_shape,
        num_classes,
        *,
        depth=4,
        base_filters=16,
        batch_norm=True,
        dropout=0.0,
        upsampling="transpose",
        name="unet",
        **kwargs,
    ):
        depth = check_int("depth", depth, minimum=1)
        input_shape = check_image_shape(
            "input_shape",
            input_shape,
            divisible_by=2**depth,
            reason=f"UNet with depth={depth} halves the image {depth} time(s); pad "
            "or resize the images, or use a smaller depth.",
        )
        num_classes = check_int("num_classes", num_classes, minimum=1)
        base_filters = check_int("base_filters", base_filters, minimum=1)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)
        if upsampling not in UPSAMPLING:
            raise ValueError(
                f"`upsampling` must be one of {UPSAMPLING}; received "
                f"upsampling={upsampling!r}."
            )

        # === Layers + functional model ===
        inputs = keras.Input(shape=input_shape, name="images")
        x = inputs
        skips = []
        for level in range(depth):
            x = _double_conv(x, base_filters * 2**level, batch_norm, f"down{level}")
            skips.append(x)
            x = keras.layers.MaxPooling2D(2, name=f"down{level}_pool")(x)
        x = _double_conv(x, base_filters * 2**depth, batch_norm, "bottleneck")
        if dropout:
            x = keras.layers.Dropout(dropout, name="bottleneck_dropout")(x)
        for level in reversed(range(depth)):
            filters = base_filters * 2**level
            if upsampling == "transpose":
                x = keras.layers.Conv2DTranspose(
                    filters, 2, strides=2, name=f"up{level}_transpose"
                )(x)
            else:
                x = keras.layers.UpSampling2D(
                    2, interpolation="bilinear", name=f"up{level}_resize"
                )(x)
                x = keras.layers.Conv2D(filters, 1, name=f"up{level}_project")(x)
            x = keras.layers.Concatenate(name=f"up{level}_skip")([x, skips[level]])
            x = _double_conv(x, filters, batch_norm, f"up{level}")
        outputs = keras.layers.Conv2D(
            num_classes,
            1,
            activation="sigmoid" if num_classes == 1 else "softmax",
            name="probabilities",
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.image_shape = input_shape
        self.num_classes = num_classes
        self.depth = depth
        self.base_filters = base_filters
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.upsampling = upsampling

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self.image_shape,
            "num_classes": self.num_classes,
            "depth": self.depth,
            "base_filters": self.base_filters,
            "batch_norm": self.batch_norm,
            "dropout": self.dropout,
            "upsampling": self.upsampling,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["input_shape"] = tuple(config["input_shape"])
        return cls(**config)
