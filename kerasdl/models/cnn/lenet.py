"""LeNet-5 (LeCun et al., 1998), the convnet that read cheques.

Graph: 5x5 conv 6 -> 2x2 subsampling -> 5x5 conv 16 -> 2x2 subsampling ->
flatten (5x5x16 at 32x32) -> Dense(120) -> Dense(84) -> Dense(`num_classes`);
tanh activations and average pooling as in the paper (without its trainable
subsampling coefficients, the partial C3 connection table and the RBF output
layer, which modern reimplementations replace as here). 61.7k parameters at
32x32x1 with 10 classes.
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_image_shape
from kerasdl.layers.conv_blocks import ConvBNAct, check_activation
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

__all__ = ["LeNet5"]

SUBSAMPLINGS = ("avg", "max")
KERNEL = 5
#: The paper's input side; below it `small_input="auto"` pads the convolutions.
SMALL_INPUT_THRESHOLD = 32
#: Two 'valid' 5x5 convolutions and two 2x2 pools: 16 -> 12 -> 6 -> 2 -> 1.
MIN_SIZE_PAPER = 16
MIN_SIZE_SMALL = KERNEL
#: In the small layout the second convolution stays 'valid' from this map side.
VALID_CONV2_FROM = 10


@keras.saving.register_keras_serializable(package="kerasdl")
class LeNet5(ConvNet):
    """LeNet-5 for small grey-level (or colour) images.

    Small inputs: with `small_input=True` (or `"auto"` and an image side below
    32) the first convolution is 'same'-padded, and the second one too when the
    map it sees is smaller than 10x10. So 28x28 MNIST gives the classic
    28 -> 14 -> 10 -> 5 (a 5x5x16 map, as at 32x32 without padding), and 8x8
    digits give 8 -> 4 -> 4 -> 2. Images need a side of at least 5 (the kernel)
    in the small layout and 16 in the paper one (16 -> 12 -> 6 -> 2 -> 1);
    smaller ones raise a ValueError saying so.

    Args:
        input_shape: `(height, width, channels)` of one image.
        num_classes: Number of classes (>= 2).
        filters: Filters of the two convolutions.
        dense_units: Widths of the hidden dense layers.
        width_multiplier: Multiplies the convolution filters (rounded, >= 1).
        activation: Activation of the convolutions and hidden dense layers
            (`"tanh"` as in the paper; `"relu"` trains faster).
        subsampling: `"avg"` (the paper) or `"max"` 2x2 pooling.
        dropout: Dropout after each hidden dense layer, in [0, 1) (0 in the
            paper).
        small_input: `"auto"`, True or False: the small-input rule above.
        include_top: Whether to end in the dense head.
        pooling: With `include_top=False`: None, `"avg"` or `"max"`.
        head_activation: `"softmax"` (probabilities) or None (logits).
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether dropout is active.

    Returns:
        `(batch, num_classes)` class probabilities (or logits, or features).

    Example:

    ```python
    model = LeNet5()  # 32x32x1, 10 classes: 61,706 parameters
    digits = LeNet5((8, 8, 1), 10, activation="relu")
    ```
    """

    def __init__(
        self,
        input_shape=(32, 32, 1),
        num_classes=10,
        *,
        filters=(6, 16),
        dense_units=(120, 84),
        width_multiplier=1.0,
        activation="tanh",
        subsampling="avg",
        dropout=0.0,
        small_input="auto",
        include_top=True,
        pooling=None,
        head_activation="softmax",
        name="lenet5",
        **kwargs,
    ):
        input_shape = check_image_shape("input_shape", input_shape)
        head = check_head_args(locals())
        width_multiplier = check_width_multiplier(width_multiplier)
        filters = check_int_tuple("filters", filters, length=2)
        dense_units = check_units(dense_units)
        activation = check_activation(activation)
        if subsampling not in SUBSAMPLINGS:
            raise ValueError(
                f"`subsampling` must be one of {SUBSAMPLINGS}; received "
                f"subsampling={subsampling!r}."
            )
        small = resolve_small_input(small_input, input_shape, SMALL_INPUT_THRESHOLD)
        if small:
            check_min_size("LeNet5", input_shape, MIN_SIZE_SMALL, "its 5x5 kernels")
        else:
            check_min_size(
                "LeNet5 with small_input=False",
                input_shape,
                MIN_SIZE_PAPER,
                "two unpadded 5x5 convolutions and two 2x2 poolings; use "
                "small_input=True",
            )
        pool_class = (
            keras.layers.AveragePooling2D
            if subsampling == "avg"
            else keras.layers.MaxPooling2D
        )

        # === Layers + functional model ===
        inputs = keras.Input(shape=input_shape, name="images")
        size = input_shape[:2]
        x = inputs
        for i, conv_filters in enumerate(filters, start=1):
            if not small:
                padding = "valid"
            elif i == 1:
                padding = "same"
            else:
                padding = "valid" if min(size) >= VALID_CONV2_FROM else "same"
            x = ConvBNAct(
                scale_filters(conv_filters, width_multiplier),
                KERNEL,
                padding=padding,
                activation=activation,
                batch_norm=False,
                kernel_initializer="glorot_uniform",
                name=f"conv{i}",
            )(x)
            x = pool_class(2, name=f"pool{i}")(x)
            size = downsampled(downsampled(size, KERNEL, 1, padding), 2, 2, "valid")
        outputs = add_head(
            x,
            **head,
            dense_units=dense_units,
            activation=activation,
            flatten=True,
        )
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.small_input_layout = small
        self._store_config(
            input_shape=input_shape,
            **head,
            filters=filters,
            dense_units=dense_units,
            width_multiplier=width_multiplier,
            activation=activation,
            subsampling=subsampling,
            small_input=small_input,
        )
