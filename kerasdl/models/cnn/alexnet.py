"""AlexNet (Krizhevsky et al., 2012), in the single-tower form of torchvision and
"One weird trick" (Krizhevsky, 2014): 64-192-384-256-256 filters instead of the
paper's two GPU towers, no local response normalization; 61.1M parameters.

Graph (ImageNet layout): 11x11/4 conv 64 (padding 2) -> 3x3/2 max-pool -> 5x5
conv 192 -> max-pool -> 3x3 convs 384, 256, 256 -> max-pool -> flatten (6x6x256
at 224x224) -> Dense(4096) -> Dropout -> Dense(4096) -> Dropout -> Dense.
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_bool, check_image_shape
from kerasdl.layers.conv_blocks import ConvBNAct
from kerasdl.models.cnn._common import (
    ConvNet,
    add_head,
    check_head_args,
    check_min_size,
    check_units,
    check_width_multiplier,
    downsampled,
    resolve_small_input,
    scale_filters,
)

__all__ = ["AlexNet"]

SMALL_INPUT_THRESHOLD = 64
#: 11x11/4 stem and three 3x3/2 'valid' max-pools: 63 -> 15 -> 7 -> 3 -> 1.
MIN_SIZE_IMAGENET = 63
MIN_SIZE_SMALL = 3
POOL = 3


@keras.saving.register_keras_serializable(package="kerasdl")
class AlexNet(ConvNet):
    """AlexNet for image classification.

    Small inputs: with `small_input=True` (or `"auto"` and an image side below
    64) the 11x11 stride-4 stem becomes a 3x3 stride-1 convolution, and each 3x3
    stride-2 max-pool is skipped when the map is smaller than 3x3 (8x8 digits:
    8 -> 3 -> 1 -> 1; 32x32: 32 -> 15 -> 7 -> 3). Images need a side of at
    least 3 in the small layout and 63 in the ImageNet one (63 -> 15 -> 7 -> 3 ->
    1); smaller ones raise a ValueError saying so.

    Args:
        input_shape: `(height, width, channels)` of one image.
        num_classes: Number of classes (>= 2).
        width_multiplier: Multiplies the convolution filters (rounded, >= 1).
        dense_units: Widths of the hidden dense layers (empty: none).
        dropout: Dropout after each hidden dense layer, in [0, 1) (0.5 in the
            paper).
        batch_norm: Batch norm after each convolution (not in the paper; it
            makes AlexNet much easier to train from scratch on small data).
        small_input: `"auto"`, True or False: the small-input layout above.
        include_top: Whether to end in the dense head.
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
    model = AlexNet()  # 61.1M parameters
    small = AlexNet((8, 8, 1), 10, width_multiplier=0.5, dense_units=(256,))
    ```
    """

    def __init__(
        self,
        input_shape=(224, 224, 3),
        num_classes=1000,
        *,
        width_multiplier=1.0,
        dense_units=(4096, 4096),
        dropout=0.5,
        batch_norm=False,
        small_input="auto",
        include_top=True,
        pooling=None,
        head_activation="softmax",
        name="alexnet",
        **kwargs,
    ):
        input_shape = check_image_shape("input_shape", input_shape)
        head = check_head_args(locals())
        width_multiplier = check_width_multiplier(width_multiplier)
        dense_units = check_units(dense_units)
        batch_norm = check_bool("batch_norm", batch_norm)
        small = resolve_small_input(small_input, input_shape, SMALL_INPUT_THRESHOLD)
        if small:
            check_min_size("AlexNet", input_shape, MIN_SIZE_SMALL, "its 3x3 stem")
        else:
            check_min_size(
                "AlexNet with the ImageNet stem (small_input=False)",
                input_shape,
                MIN_SIZE_IMAGENET,
                "an 11x11 stride-4 stem and three 3x3 stride-2 max-pools; use "
                "small_input=True",
            )

        def conv(filters, kernel_size, strides=1, padding="same", name=None):
            return ConvBNAct(
                scale_filters(filters, width_multiplier),
                kernel_size,
                strides=strides,
                padding=padding,
                batch_norm=batch_norm,
                name=name,
            )

        def maybe_pool(x, size, index):
            if min(size) < POOL:
                return x, size
            x = keras.layers.MaxPooling2D(POOL, strides=2, name=f"pool{index}")(x)
            return x, downsampled(size, POOL, 2, "valid")

        # === Layers + functional model ===
        inputs = keras.Input(shape=input_shape, name="images")
        size = input_shape[:2]
        if small:
            x = conv(64, 3, name="conv1")(inputs)
        else:
            x = keras.layers.ZeroPadding2D(2, name="conv1_pad")(inputs)
            x = conv(64, 11, strides=4, padding="valid", name="conv1")(x)
            size = downsampled(tuple(s + 4 for s in size), 11, 4, "valid")
        x, size = maybe_pool(x, size, 1)
        x = conv(192, 5, name="conv2")(x)
        x, size = maybe_pool(x, size, 2)
        x = conv(384, 3, name="conv3")(x)
        x = conv(256, 3, name="conv4")(x)
        x = conv(256, 3, name="conv5")(x)
        x, size = maybe_pool(x, size, 5)
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
            width_multiplier=width_multiplier,
            dense_units=dense_units,
            batch_norm=batch_norm,
            small_input=small_input,
        )
