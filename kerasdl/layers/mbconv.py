"""`MBConv` and `SqueezeExcitation`: the blocks of MobileNetV2 and EfficientNet.

`SqueezeExcitation` (Hu et al., 2018) re-weights channels: it *squeezes* each
channel to its global mean, passes the vector through a small bottleneck MLP
(1x1 convolutions) ending in a sigmoid, and *excites* (multiplies) each channel of
the input by its gate in `(0, 1)`.

`MBConv` (the inverted residual block, Sandler et al., 2018, with squeeze-and-
excitation as in EfficientNet, Tan & Le, 2019):

1. expand: 1x1 conv to `in_channels * expand_ratio` -> BN -> swish (skipped
   when `expand_ratio == 1`);
2. depthwise kxk conv (one filter per channel, the block's stride) -> BN -> swish;
3. squeeze-and-excitation with `max(1, int(in_channels * se_ratio))` units;
4. project: 1x1 conv to `filters` -> BN, no activation (a "linear bottleneck");
5. residual: when the stride is 1 and `in_channels == filters`, the input is
   added, after *stochastic depth* (in training, the whole branch of a sample is
   dropped with probability `drop_rate` and the kept ones scaled by
   `1 / (1 - drop_rate)`).
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import check_float, check_int
from kerasdl.layers.conv_blocks import (
    ConvBNAct,
    check_activation,
    check_image_shape,
    conv_output_size,
)

__all__ = ["MBConv", "SqueezeExcitation"]


@keras.saving.register_keras_serializable(package="kerasdl")
class SqueezeExcitation(keras.layers.Layer):
    """Channel attention: `inputs * sigmoid(W2 act(W1 mean_hw(inputs)))`.

    Args:
        squeeze_filters: Width of the bottleneck (EfficientNet: a quarter of the
            block's *input* channels).
        activation: Activation of the bottleneck.
        gate_activation: Activation of the gates (sigmoid keeps them in (0, 1)).
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.

    Returns:
        The inputs with each channel scaled by its gate; same shape.

    Example:

    ```python
    y = SqueezeExcitation(8)(x)  # x: (batch, 16, 16, 32)
    ```
    """

    def __init__(
        self, squeeze_filters, activation="swish", gate_activation="sigmoid", **kwargs
    ):
        super().__init__(**kwargs)
        self.squeeze_filters = check_int("squeeze_filters", squeeze_filters)
        self.activation = check_activation(activation)
        self.gate_activation = check_activation(gate_activation, "gate_activation")
        self.reduce = keras.layers.Conv2D(
            self.squeeze_filters, 1, activation=self.activation, name="reduce"
        )
        self.expand = None

    def build(self, input_shape):
        input_shape = check_image_shape(input_shape)
        self.expand = keras.layers.Conv2D(
            input_shape[-1], 1, activation=self.gate_activation, name="expand"
        )
        pooled = (input_shape[0], 1, 1, input_shape[-1])
        self.reduce.build(pooled)
        self.expand.build(self.reduce.compute_output_shape(pooled))

    def gates(self, inputs):
        """The channel gates `(batch, 1, 1, channels)`."""
        squeezed = ops.mean(inputs, axis=(1, 2), keepdims=True)
        return self.expand(self.reduce(squeezed))

    def call(self, inputs):
        return inputs * self.gates(inputs)

    def compute_output_shape(self, input_shape):
        return check_image_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "squeeze_filters": self.squeeze_filters,
                "activation": self.activation,
                "gate_activation": self.gate_activation,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class MBConv(keras.layers.Layer):
    """A mobile inverted bottleneck block with squeeze-and-excitation.

    Args:
        filters: Output channels.
        kernel_size: Side of the depthwise kernel (3 or 5 in EfficientNet).
        strides: Stride of the depthwise convolution.
        expand_ratio: Expansion of the channels before the depthwise conv (1
            skips the expansion conv).
        se_ratio: Squeeze-and-excitation width as a fraction of the input
            channels, in `[0, 1]`; 0 disables it.
        activation: Activation after the expansion and depthwise convolutions
            (and inside the squeeze-and-excitation).
        drop_rate: Stochastic-depth rate of the residual branch, in `[0, 1)`;
            only used when the block has a residual connection.
        momentum: Batch-norm momentum (Keras convention).
        epsilon: Batch-norm epsilon.
        seed: Integer seed of the stochastic depth (None: unseeded).
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether batch norm uses batch statistics and stochastic depth
            drops branches.

    Returns:
        `(batch, ceil(height / strides), ceil(width / strides), filters)`.

    Attributes:
        has_residual: Whether the block adds its input (known after `build`).

    Example:

    ```python
    block = MBConv(24, kernel_size=3, strides=2, expand_ratio=6)
    y = block(x)  # (batch, 8, 8, 24) from (batch, 16, 16, 16)
    ```
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        expand_ratio=6,
        se_ratio=0.25,
        activation="swish",
        drop_rate=0.0,
        momentum=0.9,
        epsilon=1e-3,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.strides = check_int("strides", strides)
        self.expand_ratio = check_int("expand_ratio", expand_ratio)
        self.se_ratio = check_float("se_ratio", se_ratio, low=0.0, high=1.0)
        self.activation = check_activation(activation)
        self.drop_rate = check_float(
            "drop_rate", drop_rate, low=0.0, high=1.0, high_open=True
        )
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0)
        self.epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.seed_generator = keras.random.SeedGenerator(seed)

        # === Layers (expansion and SE widths wait for the input channels) ===
        self.expand = None
        self.se = None
        self.depthwise = keras.layers.DepthwiseConv2D(
            self.kernel_size,
            strides=self.strides,
            padding="same",
            use_bias=False,
            depthwise_initializer="he_normal",
            name="depthwise",
        )
        self.depthwise_bn = keras.layers.BatchNormalization(
            momentum=self.momentum, epsilon=self.epsilon, name="depthwise_bn"
        )
        self.depthwise_act = keras.layers.Activation(
            self.activation or "linear", name="depthwise_act"
        )
        self.project = ConvBNAct(
            self.filters,
            1,
            activation=None,
            momentum=self.momentum,
            epsilon=self.epsilon,
            name="project",
        )
        self.has_residual = None

    def build(self, input_shape):
        input_shape = check_image_shape(input_shape)
        channels = input_shape[-1]
        expanded = channels * self.expand_ratio
        shape = input_shape
        if self.expand_ratio != 1:
            self.expand = ConvBNAct(
                expanded,
                1,
                activation=self.activation,
                momentum=self.momentum,
                epsilon=self.epsilon,
                name="expand",
            )
            self.expand.build(shape)
            shape = self.expand.compute_output_shape(shape)
        self.depthwise.build(shape)
        shape = self.depthwise.compute_output_shape(shape)
        self.depthwise_bn.build(shape)
        if self.se_ratio > 0:
            self.se = SqueezeExcitation(
                max(1, int(channels * self.se_ratio)),
                activation=self.activation or "linear",
                name="se",
            )
            self.se.build(shape)
        self.project.build(shape)
        self.has_residual = self.strides == 1 and channels == self.filters

    def call(self, inputs, training=None):
        x = inputs
        if self.expand is not None:
            x = self.expand(x, training=training)
        x = self.depthwise(x)
        x = self.depthwise_bn(x, training=training)
        x = self.depthwise_act(x)
        if self.se is not None:
            x = self.se(x)
        x = self.project(x, training=training)
        if not self.has_residual:
            return x
        if training and self.drop_rate > 0:
            x = keras.random.dropout(
                x,
                self.drop_rate,
                noise_shape=(ops.shape(x)[0], 1, 1, 1),
                seed=self.seed_generator,
            )
        return x + inputs

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = check_image_shape(input_shape)
        return (
            batch,
            conv_output_size(height, self.kernel_size, self.strides, "same"),
            conv_output_size(width, self.kernel_size, self.strides, "same"),
            self.filters,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "expand_ratio": self.expand_ratio,
                "se_ratio": self.se_ratio,
                "activation": self.activation,
                "drop_rate": self.drop_rate,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "seed": self.seed,
            }
        )
        return config
