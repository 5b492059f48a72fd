"""GoogLeNet (Szegedy et al., 2015, "Going deeper with convolutions"), without
the two auxiliary classifiers (used only in training, and dropped by most
reimplementations) and without local response normalization (superseded by
batch norm, which this model uses by default).

Graph (ImageNet layout): 7x7/2 conv 64 -> 3x3/2 max-pool -> 1x1 conv 64 -> 3x3
conv 192 -> 3x3/2 max-pool -> Inception 3a, 3b -> max-pool -> 4a ... 4e ->
max-pool -> 5a, 5b -> global average pooling -> Dropout 0.4 -> Dense.
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_bool, check_image_shape
from kerasdl.layers.conv_blocks import ConvBNAct
from kerasdl.layers.inception import InceptionModule
from kerasdl.models.cnn._common import (
    ConvNet,
    add_head,
    check_head_args,
    check_min_size,
    check_width_multiplier,
    downsampled,
    resolve_small_input,
    scale_filters,
)

__all__ = ["GOOGLENET_MODULES", "GoogLeNet"]

#: The paper's Table 1: (name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
#: pool proj); "pool" is a 3x3 stride-2 max-pool.
GOOGLENET_MODULES = (
    ("3a", (64, 96, 128, 16, 32, 32)),
    ("3b", (128, 128, 192, 32, 96, 64)),
    ("pool", None),
    ("4a", (192, 96, 208, 16, 48, 64)),
    ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)),
    ("pool", None),
    ("5a", (256, 160, 320, 32, 128, 128)),
    ("5b", (384, 192, 384, 48, 128, 128)),
)

SMALL_INPUT_THRESHOLD = 64
MIN_SIZE_IMAGENET = 32
MIN_SIZE_SMALL = 3


@keras.saving.register_keras_serializable(package="kerasdl")
class GoogLeNet(ConvNet):
    """GoogLeNet (Inception v1) for image classification.

    Small inputs: with `small_input=True` (or `"auto"` and an image side below
    64) the stem (7x7/2 conv, pools and the 1x1/3x3 pair, which divide the image
    by 8) becomes a single 3x3 stride-1 conv with 192 filters (the CIFAR
    convention), and each later max-pool is skipped once the map is smaller
    than 2x2 (8x8 digits: 3a/3b at 8x8, 4a-4e at 4x4, 5a/5b at 2x2; 32x32: 32,
    16, 8). Images need a side of at least 3 in the small layout and 32 in the
    ImageNet one (which divides the image by 32); smaller ones raise a
    ValueError saying so.

    Args:
        input_shape: `(height, width, channels)` of one image.
        num_classes: Number of classes (>= 2).
        width_multiplier: Multiplies every convolution's filters (rounded, >= 1).
        batch_norm: Batch norm after every convolution (default) or plain
            convolutions with biases as in the paper.
        dropout: Dropout before the classifier, in [0, 1) (0.4 in the paper).
        small_input: `"auto"`, True or False: the small-input layout above.
        include_top: Whether to end in pooling + Dense(`num_classes`).
        pooling: With `include_top=False`: None, `"avg"` or `"max"`.
        head_activation: `"softmax"` (probabilities) or None (logits).
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether batch norm and dropout train.

    Returns:
        `(batch, num_classes)` class probabilities (or logits, or features).

    Example:

    ```python
    model = GoogLeNet()  # 7.0M parameters (5x5 kernels as in the paper)
    small = GoogLeNet((32, 32, 3), 10, width_multiplier=0.25)
    ```
    """

    def __init__(
        self,
        input_shape=(224, 224, 3),
        num_classes=1000,
        *,
        width_multiplier=1.0,
        batch_norm=True,
        dropout=0.4,
        small_input="auto",
        include_top=True,
        pooling=None,
        head_activation="softmax",
        name="googlenet",
        **kwargs,
    ):
        input_shape = check_image_shape("input_shape", input_shape)
        head = check_head_args(locals())
        width_multiplier = check_width_multiplier(width_multiplier)
        batch_norm = check_bool("batch_norm", batch_norm)
        small = resolve_small_input(small_input, input_shape, SMALL_INPUT_THRESHOLD)
        if small:
            check_min_size("GoogLeNet", input_shape, MIN_SIZE_SMALL, "its 3x3 stem")
        else:
            check_min_size(
                "GoogLeNet with the ImageNet stem (small_input=False)",
                input_shape,
                MIN_SIZE_IMAGENET,
                "it divides the image by 32; use small_input=True",
            )

        def width(filters):
            return scale_filters(filters, width_multiplier)

        def conv(filters, kernel_size, strides=1, name=None):
            return ConvBNAct(
                width(filters),
                kernel_size,
                strides=strides,
                batch_norm=batch_norm,
                name=name,
            )

        def pool(name):
            return keras.layers.MaxPooling2D(3, strides=2, padding="same", name=name)

        # === Layers + functional model ===
        inputs = keras.Input(shape=input_shape, name="images")
        size = input_shape[:2]
        if small:
            x = conv(192, 3, name="stem_conv")(inputs)
        else:
            x = conv(64, 7, strides=2, name="stem_conv1")(inputs)
            x = pool("stem_pool1")(x)
            x = conv(64, 1, name="stem_conv2_reduce")(x)
            x = conv(192, 3, name="stem_conv2")(x)
            x = pool("stem_pool2")(x)
            for _ in range(3):
                size = downsampled(size, 3, 2, "same")
        previous = "2"
        for module, filters in GOOGLENET_MODULES:
            if filters is None:  # the max-pool after stage `previous[0]`
                if min(size) >= 2:
                    x = pool(f"pool{previous[0]}")(x)
                    size = downsampled(size, 3, 2, "same")
                continue
            previous = module
            x = InceptionModule(
                *(width(f) for f in filters),
                batch_norm=batch_norm,
                name=f"inception_{module}",
            )(x)
        outputs = add_head(x, **head)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.small_input_layout = small
        self._store_config(
            input_shape=input_shape,
            **head,
            width_multiplier=width_multiplier,
            batch_norm=batch_norm,
            small_input=small_input,
        )
