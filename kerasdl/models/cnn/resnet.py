"""ResNet (He et al., 2016): one class, `ResNet`, and the builders `ResNet18`,
`ResNet34` and `ResNet50`, which differ only by their stackwise configuration
(as keras-hub's `ResNetBackbone` presets do).

Graph: stem -> 4 stages of `ResidualBlock`s -> global average pooling -> Dense.

* Stem (ImageNet layout): 7x7 conv, stride 2, 64 filters -> BN -> ReLU -> 3x3
  max-pool, stride 2.
* Stem (small-input layout, the CIFAR convention): one 3x3 conv, stride 1, and
  no max-pool, so an 8x8 digit is not shrunk to 2x2 before the first block.
* Stage `i` has `stackwise_depth[i]` blocks of width `stackwise_filters[i]`; the
  first block of stages 2-4 has stride 2 (and a projection shortcut).
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_bool, check_image_shape, check_int
from kerasdl.layers.conv_blocks import ConvBNAct
from kerasdl.layers.residual import KINDS, ResidualBlock
from kerasdl.models.cnn._common import (
    ConvNet,
    add_head,
    check_head_args,
    check_int_tuple,
    check_min_size,
    check_width_multiplier,
    downsampled,
    resolve_small_input,
    scale_filters,
)

__all__ = ["RESNET_CONFIGS", "ResNet", "ResNet18", "ResNet34", "ResNet50"]

#: Stackwise configurations of the published ResNets.
RESNET_CONFIGS = {
    "resnet18": {"stackwise_depth": (2, 2, 2, 2), "block_kind": "basic"},
    "resnet34": {"stackwise_depth": (3, 4, 6, 3), "block_kind": "basic"},
    "resnet50": {"stackwise_depth": (3, 4, 6, 3), "block_kind": "bottleneck"},
}

#: Below this side, `small_input="auto"` switches to the small-input stem.
SMALL_INPUT_THRESHOLD = 64
#: The ImageNet layout divides the image by 32 (stem 4, three stride-2 stages).
MIN_SIZE_IMAGENET = 32
MIN_SIZE_SMALL = 3


@keras.saving.register_keras_serializable(package="kerasdl")
class ResNet(ConvNet):
    """A residual network for image classification.

    Small inputs: with `small_input=True` (or `"auto"` and an image side below
    64) the stem is a single 3x3 stride-1 convolution without max-pool, and a
    stride-2 stage keeps its stride only while the feature map is at least 2x2
    (8x8 digits: 8 -> 8 -> 4 -> 2 -> 1; 32x32: 32 -> 16 -> 8 -> 4, the CIFAR
    ResNet). Images need a side of at least 3 (the stem's kernel) in the small
    layout and 32 in the ImageNet one (which divides the image by 32); smaller
    ones raise a ValueError saying so.

    Args:
        input_shape: `(height, width, channels)` of one image.
        num_classes: Number of classes (>= 2).
        stackwise_filters: Width of each stage (a bottleneck stage outputs
            `4 * width` channels).
        stackwise_depth: Number of residual blocks of each stage.
        block_kind: `"basic"` or `"bottleneck"` (see `ResidualBlock`).
        stem_filters: Filters of the stem convolution.
        width_multiplier: Multiplies `stem_filters` and `stackwise_filters`
            (rounded, at least 1): 0.5 gives a half-width ResNet.
        zero_init_residual: Start each block as the identity (zero-initialised
            last batch-norm scale of each branch).
        dropout: Dropout before the classifier, in [0, 1) (0 in the paper).
        small_input: `"auto"`, True or False: the small-input layout above.
        include_top: Whether to end in pooling + Dense(`num_classes`); False
            returns the last feature map (or its `pooling`).
        pooling: With `include_top=False`: None (the 4-D feature map), `"avg"` or
            `"max"` (global pooling to `(batch, channels)`).
        head_activation: `"softmax"` (probabilities) or None (logits).
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether batch norm uses batch statistics and dropout drops.

    Returns:
        `(batch, num_classes)` class probabilities (or logits, or features).

    Example:

    ```python
    model = ResNet18((32, 32, 3), num_classes=10)  # CIFAR stem, 11.2M params
    model = ResNet((8, 8, 1), 10, stackwise_depth=(1, 1), stackwise_filters=(16, 32))
    ```
    """

    def __init__(
        self,
        input_shape=(224, 224, 3),
        num_classes=1000,
        *,
        stackwise_filters=(64, 128, 256, 512),
        stackwise_depth=(2, 2, 2, 2),
        block_kind="basic",
        stem_filters=64,
        width_multiplier=1.0,
        zero_init_residual=False,
        dropout=0.0,
        small_input="auto",
        include_top=True,
        pooling=None,
        head_activation="softmax",
        name="resnet",
        **kwargs,
    ):
        input_shape = check_image_shape("input_shape", input_shape)
        head = check_head_args(locals())
        width_multiplier = check_width_multiplier(width_multiplier)
        stackwise_filters = check_int_tuple("stackwise_filters", stackwise_filters)
        stackwise_depth = check_int_tuple(
            "stackwise_depth", stackwise_depth, length=len(stackwise_filters)
        )
        if block_kind not in KINDS:
            raise ValueError(
                f"`block_kind` must be one of {KINDS}; received "
                f"block_kind={block_kind!r}."
            )
        stem_filters = check_int("stem_filters", stem_filters)
        zero_init_residual = check_bool("zero_init_residual", zero_init_residual)
        small = resolve_small_input(small_input, input_shape, SMALL_INPUT_THRESHOLD)
        if small:
            check_min_size("ResNet", input_shape, MIN_SIZE_SMALL, "its 3x3 stem")
        else:
            check_min_size(
                "ResNet with the ImageNet stem (small_input=False)",
                input_shape,
                MIN_SIZE_IMAGENET,
                "it divides the image by 32; use small_input=True",
            )

        # === Layers + functional model ===
        inputs = keras.Input(shape=input_shape, name="images")
        size = input_shape[:2]
        stem = scale_filters(stem_filters, width_multiplier)
        if small:
            x = ConvBNAct(stem, 3, name="stem_conv")(inputs)
        else:
            x = ConvBNAct(stem, 7, strides=2, name="stem_conv")(inputs)
            x = keras.layers.MaxPooling2D(
                3, strides=2, padding="same", name="stem_pool"
            )(x)
            size = downsampled(downsampled(size, 7, 2, "same"), 3, 2, "same")
        for stage, (filters, depth) in enumerate(
            zip(stackwise_filters, stackwise_depth), start=1
        ):
            for block in range(1, depth + 1):
                strides = 2 if stage > 1 and block == 1 and min(size) >= 2 else 1
                size = downsampled(size, 1, strides, "same")
                x = ResidualBlock(
                    scale_filters(filters, width_multiplier),
                    kind=block_kind,
                    strides=strides,
                    zero_init_residual=zero_init_residual,
                    name=f"stage{stage}_block{block}",
                )(x)
        outputs = add_head(x, **head)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.small_input_layout = small
        self._store_config(
            input_shape=input_shape,
            **head,
            stackwise_filters=stackwise_filters,
            stackwise_depth=stackwise_depth,
            block_kind=block_kind,
            stem_filters=stem_filters,
            width_multiplier=width_multiplier,
            zero_init_residual=zero_init_residual,
            small_input=small_input,
        )


def _resnet(variant, input_shape, num_classes, kwargs):
    return ResNet(
        input_shape, num_classes, name=variant, **RESNET_CONFIGS[variant], **kwargs
    )


def ResNet18(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """ResNet-18: basic blocks, stackwise depth (2, 2, 2, 2); 11.69M parameters
    at 1000 classes.

    Args:
        input_shape: `(height, width, channels)`.
        num_classes: Number of classes.
        **kwargs: Any other `ResNet` argument (e.g. `width_multiplier`,
            `small_input`, `include_top`).

    Returns:
        A `ResNet` named `"resnet18"`.
    """
    return _resnet("resnet18", input_shape, num_classes, kwargs)


def ResNet34(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """ResNet-34: basic blocks, stackwise depth (3, 4, 6, 3); 21.80M parameters.

    Args and returns as `ResNet18` (a `ResNet` named `"resnet34"`).
    """
    return _resnet("resnet34", input_shape, num_classes, kwargs)


def ResNet50(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """ResNet-50: bottleneck blocks (stride on the 3x3 conv, "v1.5"), stackwise
    depth (3, 4, 6, 3); 25.56M parameters.

    Args and returns as `ResNet18` (a `ResNet` named `"resnet50"`).
    """
    return _resnet("resnet50", input_shape, num_classes, kwargs)
