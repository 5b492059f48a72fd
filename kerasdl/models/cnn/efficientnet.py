"""EfficientNet (Tan & Le, 2019): one class, `EfficientNet`, and the builders
`EfficientNetB0` ... `EfficientNetB3`, which differ only by their compound-scaling
coefficients.

The B0 network (found by architecture search) is a 3x3 stride-2 stem, seven stages
of `MBConv` blocks (squeeze-and-excitation 0.25, swish) and a 1x1 conv to 1280
channels before global pooling. A bigger model scales it *compound-ly*: channels
by the width coefficient (`round_filters`: to a multiple of 8, never more than 10%
below the exact value) and blocks per stage by the depth coefficient
(`round_repeats`: rounded up). Stochastic depth grows linearly from 0 at the first
block to `drop_connect_rate` at the last.
"""

from __future__ import annotations

import math

import keras

from kerasdl._checks import check_float, check_image_shape, check_int
from kerasdl.layers.conv_blocks import ConvBNAct
from kerasdl.layers.mbconv import MBConv
from kerasdl.models.cnn._common import (
    ConvNet,
    add_head,
    check_head_args,
    check_min_size,
    downsampled,
    resolve_small_input,
)

__all__ = [
    "EFFICIENTNET_B0_BLOCKS",
    "EFFICIENTNET_CONFIGS",
    "EfficientNet",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "round_filters",
    "round_repeats",
]

#: The B0 stages: (kernel, repeats, output filters, expand ratio, stride).
EFFICIENTNET_B0_BLOCKS = (
    (3, 1, 16, 1, 1),
    (3, 2, 24, 6, 2),
    (5, 2, 40, 6, 2),
    (3, 3, 80, 6, 2),
    (5, 3, 112, 6, 1),
    (5, 4, 192, 6, 2),
    (3, 1, 320, 6, 1),
)
STEM_FILTERS = 32
TOP_FILTERS = 1280
SE_RATIO = 0.25

#: (width coefficient, depth coefficient, default resolution, dropout).
EFFICIENTNET_CONFIGS = {
    "efficientnet_b0": (1.0, 1.0, 224, 0.2),
    "efficientnet_b1": (1.0, 1.1, 240, 0.2),
    "efficientnet_b2": (1.1, 1.2, 260, 0.3),
    "efficientnet_b3": (1.2, 1.4, 300, 0.3),
}

SMALL_INPUT_THRESHOLD = 64
MIN_SIZE_IMAGENET = 32
MIN_SIZE_SMALL = 3


def round_filters(filters, width_coefficient, divisor=8):
    """Channels scaled by `width_coefficient`, rounded to a multiple of `divisor`
    (at least `divisor`) and never more than 10% below the exact value."""
    filters *= width_coefficient
    rounded = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * filters:
        rounded += divisor
    return int(rounded)


def round_repeats(repeats, depth_coefficient):
    """Blocks of a stage scaled by `depth_coefficient`, rounded up."""
    return int(math.ceil(depth_coefficient * repeats))


@keras.saving.register_keras_serializable(package="kerasdl")
class EfficientNet(ConvNet):
    """An EfficientNet image classifier at any compound scale.

    Small inputs: with `small_input=True` (or `"auto"` and an image side below
    64) the stem convolution has stride 1 instead of 2, and a stride-2 stage
    keeps its stride only while the feature map is at least 2x2 (8x8 digits:
    8 -> 4 -> 2 -> 1; 32x32: 32 -> 16 -> 8 -> 4 -> 2). Images need a side of at
    least 3 in the small layout and 32 in the ImageNet one (which divides the
    image by 32); smaller ones raise a ValueError saying so.

    Args:
        input_shape: `(height, width, channels)` of one image (the paper's
            resolutions: 224 for B0, 240, 260, 300 for B1-B3; the parameter
            count does not depend on it).
        num_classes: Number of classes (>= 2).
        width_coefficient: Channel multiplier (see `round_filters`).
        depth_coefficient: Depth multiplier (see `round_repeats`).
        depth_divisor: Channels are rounded to multiples of this.
        drop_connect_rate: Stochastic-depth rate of the last block, in [0, 1).
        dropout: Dropout before the classifier, in [0, 1).
        small_input: `"auto"`, True or False: the small-input layout above.
        include_top: Whether to end in pooling + Dense(`num_classes`).
        pooling: With `include_top=False`: None, `"avg"` or `"max"`.
        head_activation: `"softmax"` (probabilities) or None (logits).
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)` (no built-in
            rescaling: scale them yourself, e.g. to [0, 1]).
        training: Whether batch norm, stochastic depth and dropout train.

    Returns:
        `(batch, num_classes)` class probabilities (or logits, or features).

    Example:

    ```python
    model = EfficientNetB0()  # 5.29M trainable parameters
    tiny = EfficientNet((8, 8, 1), 10, width_coefficient=0.25, depth_coefficient=0.5)
    ```
    """

    def __init__(
        self,
        input_shape=(224, 224, 3),
        num_classes=1000,
        *,
        width_coefficient=1.0,
        depth_coefficient=1.0,
        depth_divisor=8,
        drop_connect_rate=0.2,
        dropout=0.2,
        small_input="auto",
        include_top=True,
        pooling=None,
        head_activation="softmax",
        name="efficientnet",
        **kwargs,
    ):
        input_shape = check_image_shape("input_shape", input_shape)
        head = check_head_args(locals())
        width_coefficient = check_float(
            "width_coefficient", width_coefficient, low=0.0, low_open=True
        )
        depth_coefficient = check_float(
            "depth_coefficient", depth_coefficient, low=0.0, low_open=True
        )
        depth_divisor = check_int("depth_divisor", depth_divisor)
        drop_connect_rate = check_float(
            "drop_connect_rate", drop_connect_rate, low=0.0, high=1.0, high_open=True
        )
        small = resolve_small_input(small_input, input_shape, SMALL_INPUT_THRESHOLD)
        if small:
            check_min_size("EfficientNet", input_shape, MIN_SIZE_SMALL, "its 3x3 stem")
        else:
            check_min_size(
                "EfficientNet with the ImageNet stem (small_input=False)",
                input_shape,
                MIN_SIZE_IMAGENET,
                "it divides the image by 32; use small_input=True",
            )

        def filters(n):
            return round_filters(n, width_coefficient, depth_divisor)

        repeats = [
            round_repeats(r, depth_coefficient) for _, r, *_ in EFFICIENTNET_B0_BLOCKS
        ]
        total_blocks = sum(repeats)

        # === Layers + functional model ===
        inputs = keras.Input(shape=input_shape, name="images")
        stem_strides = 1 if small else 2
        x = ConvBNAct(
            filters(STEM_FILTERS),
            3,
            strides=stem_strides,
            activation="swish",
            momentum=0.9,
            epsilon=1e-3,
            name="stem_conv",
        )(inputs)
        size = downsampled(input_shape[:2], 3, stem_strides, "same")
        index = 0
        for stage, ((kernel, _, out, expand, stride), count) in enumerate(
            zip(EFFICIENTNET_B0_BLOCKS, repeats), start=1
        ):
            for block in range(1, count + 1):
                strides = stride if block == 1 and min(size) >= 2 else 1
                size = downsampled(size, 1, strides, "same")
                x = MBConv(
                    filters(out),
                    kernel_size=kernel,
                    strides=strides,
                    expand_ratio=expand,
                    se_ratio=SE_RATIO,
                    drop_rate=drop_connect_rate * index / total_blocks,
                    name=f"stage{stage}_block{block}",
                )(x)
                index += 1
        x = ConvBNAct(
            filters(TOP_FILTERS),
            1,
            activation="swish",
            momentum=0.9,
            epsilon=1e-3,
            name="top_conv",
        )(x)
        outputs = add_head(x, **head)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.small_input_layout = small
        self._store_config(
            input_shape=input_shape,
            **head,
            width_coefficient=width_coefficient,
            depth_coefficient=depth_coefficient,
            depth_divisor=depth_divisor,
            drop_connect_rate=drop_connect_rate,
            small_input=small_input,
        )


def _efficientnet(variant, input_shape, num_classes, kwargs):
    width, depth, resolution, dropout = EFFICIENTNET_CONFIGS[variant]
    if input_shape is None:
        input_shape = (resolution, resolution, 3)
    kwargs.setdefault("dropout", dropout)
    return EfficientNet(
        input_shape,
        num_classes,
        width_coefficient=width,
        depth_coefficient=depth,
        name=variant,
        **kwargs,
    )


def EfficientNetB0(input_shape=None, num_classes=1000, **kwargs):
    """EfficientNet-B0: width 1.0, depth 1.0, dropout 0.2; 5.29M parameters.

    Args:
        input_shape: `(height, width, channels)`; default `(224, 224, 3)`.
        num_classes: Number of classes.
        **kwargs: Any other `EfficientNet` argument except the coefficients
            (e.g. `small_input`, `dropout`, `include_top`).

    Returns:
        An `EfficientNet` named `"efficientnet_b0"`.
    """
    return _efficientnet("efficientnet_b0", input_shape, num_classes, kwargs)


def EfficientNetB1(input_shape=None, num_classes=1000, **kwargs):
    """EfficientNet-B1: width 1.0, depth 1.1, 240x240, dropout 0.2; 7.79M
    parameters. Args and returns as `EfficientNetB0`."""
    return _efficientnet("efficientnet_b1", input_shape, num_classes, kwargs)


def EfficientNetB2(input_shape=None, num_classes=1000, **kwargs):
    """EfficientNet-B2: width 1.1, depth 1.2, 260x260, dropout 0.3; 9.11M
    parameters. Args and returns as `EfficientNetB0`."""
    return _efficientnet("efficientnet_b2", input_shape, num_classes, kwargs)


def EfficientNetB3(input_shape=None, num_classes=1000, **kwargs):
    """EfficientNet-B3: width 1.2, depth 1.4, 300x300, dropout 0.3; 12.23M
    parameters. Args and returns as `EfficientNetB0`."""
    return _efficientnet("efficientnet_b3", input_shape, num_classes, kwargs)
