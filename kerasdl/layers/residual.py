"""`ResidualBlock`: the basic and bottleneck blocks of ResNet (He et al., 2016).

A residual block computes `activation(F(x) + shortcut(x))`. The branch `F` learns
only the *change* to its input, and the identity shortcut gives gradients a
path around it, which is what lets networks of 50 and more layers train.

* `kind="basic"` (ResNet-18/34): 3x3 conv -> BN -> ReLU -> 3x3 conv -> BN;
  output channels = `filters`.
* `kind="bottleneck"` (ResNet-50 and deeper): 1x1 conv (reduce) -> 3x3 conv ->
  1x1 conv (expand to `filters * expansion`); the stride sits on the 3x3 conv
  (the "ResNet v1.5" of torchvision and most reference code).

The shortcut is the identity when the block keeps the shape, and a *projection*
(1x1 conv with the block's stride, then BN) exactly when the stride is not 1 or
the number of channels changes.
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

__all__ = ["KINDS", "ResidualBlock"]

KINDS = ("basic", "bottleneck")


@keras.saving.register_keras_serializable(package="kerasdl")
class ResidualBlock(keras.layers.Layer):
    """A ResNet residual block (basic or bottleneck) with its shortcut.

    Args:
        filters: Width of the block: the output channels of a basic block, the
            inner (reduced) channels of a bottleneck block.
        kind: `"basic"` (two 3x3 convolutions) or `"bottleneck"` (1x1, 3x3, 1x1).
        strides: Stride of the block (on the first 3x3 convolution); 2 halves
            height and width ("same" padding: `ceil(size / 2)`).
        expansion: Output channels of a bottleneck block are
            `filters * expansion` (4 in ResNet-50); must be 1 for basic blocks.
        activation: Activation after the inner convolutions and after the
            addition.
        zero_init_residual: Initialise the last batch norm's scale to zero, so
            the branch outputs zero and the block starts as
            `activation(shortcut(x))` (Goyal et al., 2017; helps deep stacks).
        momentum: Batch-norm momentum (Keras convention).
        epsilon: Batch-norm epsilon.
        kernel_initializer: Name of the initializer of the convolution kernels.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether batch normalization uses batch statistics.

    Returns:
        `(batch, ceil(height / strides), ceil(width / strides), out_channels)`,
        `out_channels = filters * expansion` (bottleneck) or `filters` (basic).

    Attributes:
        shortcut: None (identity shortcut) or the projection `ConvBNAct`; set
            when the block is built.

    Example:

    ```python
    block = ResidualBlock(64, kind="bottleneck", strides=2)
    y = block(x)  # (batch, 4, 4, 256) from (batch, 8, 8, 64)
    ```
    """

    def __init__(
        self,
        filters,
        kind="basic",
        strides=1,
        expansion=None,
        activation="relu",
        zero_init_residual=False,
        momentum=0.9,
        epsilon=1e-5,
        kernel_initializer="he_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        if kind not in KINDS:
            raise ValueError(f"`kind` must be one of {KINDS}; received kind={kind!r}.")
        self.kind = kind
        self.strides = check_int("strides", strides)
        if expansion is None:
            expansion = 4 if kind == "bottleneck" else 1
        self.expansion = check_int("expansion", expansion)
        if kind == "basic" and self.expansion != 1:
            raise ValueError(
                "`expansion` must be 1 (or None) for kind='basic'; received "
                f"expansion={expansion!r}."
            )
        self.activation = check_activation(activation)
        if not isinstance(zero_init_residual, bool):
            raise ValueError(
                "`zero_init_residual` must be True or False; received "
                f"zero_init_residual={zero_init_residual!r}."
            )
        self.zero_init_residual = zero_init_residual
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0)
        self.epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)
        self.kernel_initializer = check_initializer(
            kernel_initializer, "kernel_initializer"
        )
        self.out_channels = self.filters * self.expansion

        # === Layers (the shortcut waits for the input channels, in build) ===
        if kind == "basic":
            plan = [(self.filters, 3, self.strides), (self.filters, 3, 1)]
        else:
            plan = [
                (self.filters, 1, 1),
                (self.filters, 3, self.strides),
                (self.out_channels, 1, 1),
            ]
        self.convs = [
            self._conv(
                f,
                k,
                s,
                activation=self.activation if i < len(plan) - 1 else None,
                gamma="zeros" if zero_init_residual and i == len(plan) - 1 else "ones",
                name=f"conv{i + 1}",
            )
            for i, (f, k, s) in enumerate(plan)
        ]
        self.shortcut = None
        self.merge = keras.layers.Add(name="add")
        self.out_act = (
            keras.layers.Activation(self.activation, name="out_act")
            if self.activation
            else None
        )

    def _conv(self, filters, kernel_size, strides, activation, gamma, name):
        return ConvBNAct(
            filters,
            kernel_size,
            strides=strides,
            activation=activation,
            momentum=self.momentum,
            epsilon=self.epsilon,
            gamma_initializer=gamma,
            kernel_initializer=self.kernel_initializer,
            name=name,
        )

    def needs_projection(self, input_channels):
        """Whether the shortcut must be a projection for this many input channels."""
        return self.strides != 1 or input_channels != self.out_channels

    def build(self, input_shape):
        input_shape = check_image_shape(input_shape)
        if self.needs_projection(input_shape[-1]):
            self.shortcut = self._conv(
                self.out_channels, 1, self.strides, None, "ones", name="shortcut"
            )
            self.shortcut.build(input_shape)
        shape = input_shape
        for conv in self.convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)

    def call(self, inputs, training=None):
        x = inputs
        for conv in self.convs:
            x = conv(x, training=training)
        residual = inputs
        if self.shortcut is not None:
            residual = self.shortcut(inputs, training=training)
        x = self.merge([x, residual])
        if self.out_act is not None:
            x = self.out_act(x)
        return x

    def compute_output_shape(self, input_shape):
        input_shape = check_image_shape(input_shape)
        shape = input_shape
        for conv in self.convs:
            shape = conv.compute_output_shape(shape)
        return shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kind": self.kind,
                "strides": self.strides,
                "expansion": self.expansion,
                "activation": self.activation,
                "zero_init_residual": self.zero_init_residual,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "kernel_initializer": self.kernel_initializer,
            }
        )
        return config
