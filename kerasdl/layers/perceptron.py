"""The classic (Rosenblatt) perceptron as a Keras layer: a Heaviside step of xW + b."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasdl")
class Perceptron(keras.layers.Layer):
    """Rosenblatt's perceptron: `step(x @ kernel + bias)` with outputs 0.0 or 1.0.

    Each of the `units` outputs is an independent linear threshold unit that fires
    (1.0) when its pre-activation is strictly positive and stays silent (0.0)
    otherwise. The step has a zero gradient almost everywhere, so this layer does
    not learn by backpropagation: train it with the perceptron learning rule, as
    `kerasdl.models.Perceptron.fit` does.

    Args:
        units: Number of threshold units (outputs), >= 1.
        kernel_initializer: Initializer of the `(features, units)` kernel.
            Defaults to `"zeros"`, Rosenblatt's starting point.
        bias_initializer: Initializer of the `(units,)` bias. Defaults to `"zeros"`.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`, `dtype`).

    Call arguments:
        inputs: Tensor of shape `(..., features)`.

    Returns:
        A tensor of shape `(..., units)` holding 0.0 or 1.0 in the layer's dtype.

    Example:

    ```python
    layer = kerasdl.layers.Perceptron(units=1)
    y = layer(np.array([[0.0, 1.0], [1.0, 1.0]], "float32"))  # (2, 1) of 0/1
    ```
    """

    def __init__(
        self,
        units=1,
        kernel_initializer="zeros",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(
                f"`units` must be a positive integer; received units={units!r}."
            )
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None:
            raise ValueError(
                "The last dimension of the inputs to Perceptron must be known; "
                f"received input_shape={input_shape}."
            )
        self.kernel = self.add_weight(
            shape=(features, self.units),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units,), initializer=self.bias_initializer, name="bias"
        )
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: features})

    def pre_activation(self, inputs):
        """Returns `inputs @ kernel + bias`, the value the step thresholds at 0."""
        return ops.add(ops.matmul(inputs, self.kernel), self.bias)

    def call(self, inputs):
        return ops.cast(ops.greater(self.pre_activation(inputs), 0), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
