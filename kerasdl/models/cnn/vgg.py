"""VGG (Simonyan & Zisserman, 2015): one class, `VGG`, and the builders `VGG11`,
`VGG16` and `VGG19` (configurations A, D and E of the paper), which differ only by
the number of 3x3 convolutions per block.

Graph: five blocks of 3x3 convolutions ("same" padding, ReLU; optionally batch
norm), each followed by a 2x2 max-pool; then flatten -> Dense(4096) -> Dropout ->
Dense(4096) -> Dropout -> Dense(`num_classes`). At 224x224 the last map is 7x7x512,
so the first dense layer alone holds 102.8M of VGG-16's 138.4M parameters.
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_bool, check_image_shape
from kerasdl.layers.conv_blocks import ConvBNAct
from kerasdl.models.cnn._common import (
    ConvNet,
    add_head,
    check_head_args,
    check_int_tuple,
    check_min_size,
    check_units,
    check_width_multiplier,
    downsampled,
    resolve_small_input,
    scale_filters,
)

__all__ = ["VGG", "VGG11", "VGG16", "VGG19", "VGG_CONFIGS"]

#: Convolutions per block of the published VGGs.
VGG_CONFIGS = {
    "vgg11": (1, 1, 2, 2, 2),
    "vgg16": (2, 2, 3, 3, 3),
    "vgg19": (2, 2, 4, 4, 4),
}

SMALL_INPUT_THRESHOLD = 64
MIN_SIZE_SMALL = 3


@keras.saving.register_keras_serializable(package="kerasdl")
class VGG(ConvNet):
    """A VGG network: blocks of 3x3 convolutions and max-pools, then dense layers.

    Small inputs: with `small_input=True` (or `"auto"` and an image side below
    64) a block's 2x2 max-pool is skipped when the map is already smaller than
    2x2 (8x8 digits: 8 -> 4 -> 2 -> 1 -> 1 -> 1; at 32x32 all five pools apply,
    as in the CIFAR VGGs, and the head sees a 1x1x512 map). Without it, every
    block pools, so the image needs a side of at least `2 ** len(blocks)` (32
    for five blocks); the small layout needs 3 (the 3x3 kernel). Smaller images
    raise a ValueError saying so.

    Args:
        input_shape: `(height, width, channels)` of one image.
        num_classes: Number of classes (>= 2).
        stackwise_filters: Filters of each block.
        stackwise_depth: 3x3 convolutions of each block.
        width_multiplier: Multiplies the convolution filters (rounded, >= 1).
        dense_units: Widths of the hidden dense layers of the head (empty: none,
            the last map is flattened straight into the classifier).
        dropout: Dropout after each hidden dense layer, in [0, 1) (0.5 in the
            paper).
        batch_norm: Batch norm after each convolution (the "VGG-BN" variants;
            convolutions then have no bias).
        small_input: `"auto"`, True or False: the small-input rule above.
        include_top: Whether to end in the dense head; False returns the last
            feature map (or its `pooling`).
        pooling: With `include_top=False`: None, `"avg"` or `"max"`.
        head_activation: `"softmax"` (probabilities) or None (logits).
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether dropout (and batch norm) train.

    Returns:
        `(batch, num_classes)` class probabilities (or logits, or features).

    Example:

    ```python
    model = VGG16()  # 138.4M parameters
    small = VGG11((28, 28, 1), 10, width_multiplier=0.25, dense_units=(256,))
    ```
    """

    def __init__(
        self,
        input_shape=(224, 224, 3),
        num_classes=1000,
        *,
        stackwise_filters=(64, 128, 256, 512, 512),
        stackwise_depth=(2, 2, 3, 3, 3),
        width_multiplier=1.0,
        dense_units=(4096, 4096),
        dropout=0.5,
        batch_norm=False,
        small_input="auto",
        include_top=True,
        pooling=None,
        head_activation="softmax",
        name="vgg",
        **kwargs,
    ):
        input_shape = check_image_shape("input_shape", input_shape)
        head = check_head_args(locals())
        width_multiplier = check_width_multiplier(width_multiplier)
        stackwise_filters = check_int_tuple("stackwise_filters", stackwise_filters)
        stackwise_depth = check_int_tuple(
            "stackwise_depth", stackwise_depth, length=len(stackwise_filters)
        )
        dense_units = check_units(dense_units)
        batch_norm = check_bool("batch_norm", batch_norm)
        small = resolve_small_input(small_input, input_shape, SMALL_INPUT_THRESHOLD)
        if small:
            check_min_size("VGG", input_shape, MIN_SIZE_SMALL, "its 3x3 kernels")
        else:
            minimum = 2 ** len(stackwise_filters)
            check_min_size(
                "VGG with small_input=False",
                input_shape,
                minimum,
                f"each of its {len(stackwise_filters)} blocks halves the image; "
                "use small_input=True",
            )

        # === Layers + functional model ===
        inputs = keras.Input(shape=input_shape, name="images")
        x = inputs
        size = input_shape[:2]
        for block, (filters, depth) in enumerate(
            zip(stackwise_filters, stackwise_depth), start=1
        ):
            for conv in range(1, depth + 1):
                x = ConvBNAct(
                    scale_filters(filters, width_multiplier),
                    3,
                    batch_norm=batch_norm,
                    name=f"block{block}_conv{conv}",
                )(x)
            if min(size) >= 2:
                x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
                size = downsampled(size, 2, 2, "valid")
        outputs = add_head(
            x,
            **head,
            dense_units=dense_units,
            flatten=True,
        )
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.small_input_layout = small
        self._store_config(
            input_shape=input_shape,
            **head,
            stackwise_filters=stackwise_filters,
            stackwise_depth=stackwise_depth,
            width_multiplier=width_multiplier,
            dense_units=dense_units,
            batch_norm=batch_norm,
            small_input=small_input,
        )


def _vgg(variant, input_shape, num_classes, kwargs):
    return VGG(
        input_shape,
        num_classes,
        stackwise_depth=VGG_CONFIGS[variant],
        name=variant,
        **kwargs,
    )


def VGG11(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """VGG-11 (configuration A): (1, 1, 2, 2, 2) convolutions; 132.9M parameters.

    Args:
        input_shape: `(height, width, channels)`.
        num_classes: Number of classes.
        **kwargs: Any other `VGG` argument except `stackwise_depth` (e.g.
            `width_multiplier`, `dense_units`, `batch_norm`, `small_input`).

    Returns:
        A `VGG` named `"vgg11"`.
    """
    return _vgg("vgg11", input_shape, num_classes, kwargs)


def VGG16(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """VGG-16 (configuration D): (2, 2, 3, 3, 3) convolutions; 138.4M parameters.
    Args and returns as `VGG11` (a `VGG` named `"vgg16"`)."""
    return _vgg("vgg16", input_shape, num_classes, kwargs)


def VGG19(input_shape=(224, 224, 3), num_classes=1000, **kwargs):
    """VGG-19 (configuration E): (2, 2, 4, 4, 4) convolutions; 143.7M parameters.
    Args and returns as `VGG11` (a `VGG` named `"vgg19"`)."""
    return _vgg("vgg19", input_shape, num_classes, kwargs)
