"""`ConvBNAct`: convolution -> batch normalization -> activation, the brick of
every modern convnet (ResNet, GoogLeNet with batch norm, EfficientNet).

The convolution has no bias when batch normalization follows it: the norm's
`beta` already shifts each channel, so a bias would be a wasted parameter that
the norm subtracts again.
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_float, check_int

__all__ = [
    "ConvBNAct",
    "check_activation",
    "check_image_shape",
    "check_initializer",
    "conv_output_size",
]

PADDINGS = ("same", "valid")


def check_image_shape(shape, name="inputs"):
    """`shape` as a tuple `(batch, height, width, channels)` with known channels."""
    shape = tuple(shape)
    if len(shape) != 4 or shape[-1] is None:
        raise ValueError(
            f"Expected `{name}` of rank 4 (batch, height, width, channels) with "
            f"known channels; received shape {shape}."
        )
    return shape


def check_activation(activation, name="activation"):
    """An activation name (or None) that `keras.activations.get` knows."""
    if activation is None:
        return None
    if not isinstance(activation, str):
        raise ValueError(
            f"`{name}` must be the name of a Keras activation (a string) or None; "
            f"received {name}={activation!r}."
        )
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"`{name}` must be the name of a Keras activation or None; received "
            f"{name}={activation!r}."
        ) from error
    return activation


def check_initializer(initializer, name):
    """The name of a Keras initializer (a string, so configs stay readable)."""
    if isinstance(initializer, str):
        try:
            keras.initializers.get(initializer)
            return initializer
        except (ValueError, TypeError):
            pass
    raise ValueError(
        f"`{name}` must be the name of a Keras initializer (e.g. 'he_normal'); "
        f"received {name}={initializer!r}."
    )


def _check_kernel_size(kernel_size):
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2:
            raise ValueError(
                "`kernel_size` must be an integer or a pair of integers >= 1; "
                f"received kernel_size={kernel_size!r}."
            )
        return tuple(check_int("kernel_size", k) for k in kernel_size)
    return check_int("kernel_size", kernel_size)


def conv_output_size(size, kernel_size, strides, padding):
    """Output length of a convolution or pooling along one spatial axis."""
    if size is None:
        return None
    if padding == "same":
        return -(-size // strides)
    return (size - kernel_size) // strides + 1


@keras.saving.register_keras_serializable(package="kerasdl")
class ConvBNAct(keras.layers.Layer):
    """A 2-D convolution, then batch normalization, then an activation.

    Args:
        filters: Number of output channels.
        kernel_size: Side of the square kernel, or a `(height, width)` pair.
        strides: Stride of the convolution (the same on both axes).
        padding: `"same"` (output `ceil(size / strides)`) or `"valid"`.
        activation: Name of a Keras activation, or None for none (e.g. the last
            convolution of a residual branch, activated after the addition).
        batch_norm: Whether to normalize; False gives a plain convolution (with
            a bias unless `use_bias=False`) followed by the activation.
        use_bias: Whether the convolution has a bias; default (None): only
            without batch normalization.
        momentum: Momentum of the batch norm's moving statistics (Keras
            convention: `new = momentum * old + (1 - momentum) * batch`).
        epsilon: Small float added to the variance by the batch norm.
        gamma_initializer: Name of the initializer of the batch norm's scale; `"zeros"`
            makes the block output zero before training (used for the last norm
            of a residual branch, so each residual block starts as the identity).
        kernel_initializer: Name of the initializer of the convolution kernel.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`).

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.
        training: Whether batch normalization uses the batch's statistics (and
            updates its moving ones) or the moving statistics.

    Returns:
        `(batch, new_height, new_width, filters)`.

    Example:

    ```python
    block = ConvBNAct(32, 3, strides=2)
    y = block(images)  # (batch, 16, 16, 32) from (batch, 32, 32, 3)
    ```
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        padding="same",
        activation="relu",
        batch_norm=True,
        use_bias=None,
        momentum=0.9,
        epsilon=1e-5,
        gamma_initializer="ones",
        kernel_initializer="he_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = _check_kernel_size(kernel_size)
        self.strides = check_int("strides", strides)
        if padding not in PADDINGS:
            raise ValueError(
                f"`padding` must be one of {PADDINGS}; received padding={padding!r}."
            )
        self.padding = padding
        self.activation = check_activation(activation)
        if not isinstance(batch_norm, bool):
            raise ValueError(
                "`batch_norm` must be True or False; received "
                f"batch_norm={batch_norm!r}."
            )
        self.batch_norm = batch_norm
        if use_bias is not None and not isinstance(use_bias, bool):
            raise ValueError(
                "`use_bias` must be True, False or None; received "
                f"use_bias={use_bias!r}."
            )
        self.use_bias = use_bias
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0)
        self.epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)
        self.gamma_initializer = check_initializer(
            gamma_initializer, "gamma_initializer"
        )
        self.kernel_initializer = check_initializer(
            kernel_initializer, "kernel_initializer"
        )

        # === Layers ===
        self.conv = keras.layers.Conv2D(
            self.filters,
            self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            use_bias=(not batch_norm) if use_bias is None else use_bias,
            kernel_initializer=kernel_initializer,
            name="conv",
        )
        self.norm = (
            keras.layers.BatchNormalization(
                momentum=self.momentum,
                epsilon=self.epsilon,
                gamma_initializer=gamma_initializer,
                name="bn",
            )
            if batch_norm
            else None
        )
        self.act = (
            keras.layers.Activation(self.activation, name="act")
            if self.activation
            else None
        )

    def build(self, input_shape):
        input_shape = check_image_shape(input_shape)
        kh, kw = (
            self.kernel_size
            if isinstance(self.kernel_size, tuple)
            else (self.kernel_size,) * 2
        )
        if self.padding == "valid":
            for size, k in zip(input_shape[1:3], (kh, kw)):
                if size is not None and size < k:
                    raise ValueError(
                        f"A {kh}x{kw} 'valid' convolution needs images of at least "
                        f"{kh}x{kw}; received shape {input_shape}."
                    )
        self.conv.build(input_shape)
        if self.norm is not None:
            self.norm.build(self.conv.compute_output_shape(input_shape))

    def call(self, inputs, training=None):
        x = self.conv(inputs)
        if self.norm is not None:
            x = self.norm(x, training=training)
        if self.act is not None:
            x = self.act(x)
        return x

    def compute_output_shape(self, input_shape):
        input_shape = check_image_shape(input_shape)
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "activation": self.activation,
                "batch_norm": self.batch_norm,
                "use_bias": self.use_bias,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "gamma_initializer": self.gamma_initializer,
                "kernel_initializer": self.kernel_initializer,
            }
        )
        return config
