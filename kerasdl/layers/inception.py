"""`InceptionModule`: the GoogLeNet module (Szegedy et al., 2015).

Four branches look at the same input at different scales and are concatenated
along the channels:

1. 1x1 convolution;
2. 1x1 convolution (reduce) -> 3x3 convolution;
3. 1x1 convolution (reduce) -> 5x5 convolution;
4. 3x3 max-pool (stride 1) -> 1x1 convolution (pool projection).

The 1x1 "reduce" convolutions are the point of the design: they shrink the
channels before the expensive 3x3 and 5x5 convolutions, so a module costs a
fraction of one wide 5x5 layer. (torchvision's GoogLeNet uses a 3x3 kernel in the
"5x5" branch, a known slip kept for its pretrained weights; this module uses
5x5 as in the paper.)
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_float, check_int
from kerasdl.layers.conv_blocks import (
    ConvBNAct,
    check_activation,
    check_image_shape,
    check_initializer,
)

__all__ = ["InceptionModule"]


@keras.saving.register_keras_serializable(package="kerasdl")
class InceptionModule(keras.layers.Layer):
    """A GoogLeNet Inception module: four parallel branches, concatenated.

    Every convolution is a `ConvBNAct` ("same" padding, stride 1), so the module
    keeps height and width and outputs
    `filters_1x1 + filters_3x3 + filters_5x5 + filters_pool_proj` channels.

    Args:
        filters_1x1: Channels of the 1x1 branch.
        filters_3x3_reduce: Channels of the 1x1 convolution before the 3x3.
        filters_3x3: Channels of the 3x3 branch.
        filters_5x5_reduce: Channels of the 1x1 convolution before the 5x5.
        filters_5x5: Channels of the 5x5 branch.
        filters_pool_proj: Channels of the 1x1 convolution after the max-pool.
        batch_norm: Batch normalization after each convolution (True, as in
            later Inception versions and torchvision) or plain convolutions with
            biases (False, the 2015 paper).
        activation: Activation after every convolution.
        momentum: Batch-norm momentum (Keras convention).
        epsilon: Batch-norm epsilon.
        kernel_initializer: Name of the initializer of the convolution kernels.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether batch normalization uses batch statistics.

    Returns:
        `(batch, height, width, output_channels)`, branches in the order above.

    Example:

    ```python
    module = InceptionModule(64, 96, 128, 16, 32, 32)  # GoogLeNet's "3a"
    y = module(x)  # (batch, 28, 28, 256) from (batch, 28, 28, 192)
    ```
    """

    def __init__(
        self,
        filters_1x1,
        filters_3x3_reduce,
        filters_3x3,
        filters_5x5_reduce,
        filters_5x5,
        filters_pool_proj,
        batch_norm=True,
        activation="relu",
        momentum=0.9,
        epsilon=1e-5,
        kernel_initializer="he_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters_1x1 = check_int("filters_1x1", filters_1x1)
        self.filters_3x3_reduce = check_int("filters_3x3_reduce", filters_3x3_reduce)
        self.filters_3x3 = check_int("filters_3x3", filters_3x3)
        self.filters_5x5_reduce = check_int("filters_5x5_reduce", filters_5x5_reduce)
        self.filters_5x5 = check_int("filters_5x5", filters_5x5)
        self.filters_pool_proj = check_int("filters_pool_proj", filters_pool_proj)
        if not isinstance(batch_norm, bool):
            raise ValueError(
                "`batch_norm` must be True or False; received "
                f"batch_norm={batch_norm!r}."
            )
        self.batch_norm = batch_norm
        self.activation = check_activation(activation)
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0)
        self.epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)
        self.kernel_initializer = check_initializer(
            kernel_initializer, "kernel_initializer"
        )
        self.output_channels = (
            self.filters_1x1
            + self.filters_3x3
            + self.filters_5x5
            + self.filters_pool_proj
        )

        # === Layers ===
        self.branch_1x1 = self._conv(self.filters_1x1, 1, "branch_1x1")
        self.branch_3x3 = [
            self._conv(self.filters_3x3_reduce, 1, "branch_3x3_reduce"),
            self._conv(self.filters_3x3, 3, "branch_3x3"),
        ]
        self.branch_5x5 = [
            self._conv(self.filters_5x5_reduce, 1, "branch_5x5_reduce"),
            self._conv(self.filters_5x5, 5, "branch_5x5"),
        ]
        self.pool = keras.layers.MaxPooling2D(
            3, strides=1, padding="same", name="branch_pool"
        )
        self.pool_proj = self._conv(self.filters_pool_proj, 1, "branch_pool_proj")
        self.concat = keras.layers.Concatenate(axis=-1, name="concat")

    def _conv(self, filters, kernel_size, name):
        return ConvBNAct(
            filters,
            kernel_size,
            activation=self.activation,
            batch_norm=self.batch_norm,
            momentum=self.momentum,
            epsilon=self.epsilon,
            kernel_initializer=self.kernel_initializer,
            name=name,
        )

    def build(self, input_shape):
        input_shape = check_image_shape(input_shape)
        self.branch_1x1.build(input_shape)
        for reduce, conv in (self.branch_3x3, self.branch_5x5):
            reduce.build(input_shape)
            conv.build(reduce.compute_output_shape(input_shape))
        self.pool_proj.build(input_shape)

    def call(self, inputs, training=None):
        branches = [self.branch_1x1(inputs, training=training)]
        for reduce, conv in (self.branch_3x3, self.branch_5x5):
            x = reduce(inputs, training=training)
            branches.append(conv(x, training=training))
        branches.append(self.pool_proj(self.pool(inputs), training=training))
        return self.concat(branches)

    def compute_output_shape(self, input_shape):
        input_shape = check_image_shape(input_shape)
        return input_shape[:3] + (self.output_channels,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters_1x1": self.filters_1x1,
                "filters_3x3_reduce": self.filters_3x3_reduce,
                "filters_3x3": self.filters_3x3,
                "filters_5x5_reduce": self.filters_5x5_reduce,
                "filters_5x5": self.filters_5x5,
                "filters_pool_proj": self.filters_pool_proj,
                "batch_norm": self.batch_norm,
                "activation": self.activation,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "kernel_initializer": self.kernel_initializer,
            }
        )
        return config
