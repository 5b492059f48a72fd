"""A configurable multilayer perceptron (fully connected network)."""

from __future__ import annotations

import keras

from kerasdl._checks import check_int, check_sample_shape, is_number
from kerasdl.models.base import FunctionalModel

ACTIVATIONS = (
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "gelu",
    "leaky_relu",
    "elu",
    "selu",
)

OUTPUT_ACTIVATIONS = ACTIVATIONS + ("linear",)
INITIALIZERS = {"he": "he_normal", "glorot": "glorot_uniform", "lecun": "lecun_normal"}


def _check_non_negative(name, value):
    if not is_number(value) or value < 0:
        raise ValueError(f"`{name}` must be a number >= 0; received {name}={value!r}.")


@keras.saving.register_keras_serializable(package="kerasdl")
class MLP(FunctionalModel):
    """A multilayer perceptron: Flatten, `depth` hidden Dense layers, a Dense head.

    Each hidden layer is Dense(`width`) -> (BatchNormalization) -> activation ->
    (Dropout). Inputs of any shape are flattened first, so the model takes
    images as well as feature vectors.

    Args:
        input_shape: Shape of one sample, without the batch axis, e.g. `(64,)` or
            `(8, 8, 1)`.
        num_classes: Number of outputs (>= 1). With `output_activation="softmax"`
            it is the number of classes; `num_classes=1` with `"sigmoid"` is a
            binary classifier; with `output_activation=None` the head is linear
            (a regressor with `num_classes` targets).
        depth: Number of hidden layers (>= 0; 0 gives a linear/softmax model).
        width: Units per hidden layer (>= 1).
        activation: Hidden activation, one of `"relu"`, `"sigmoid"`, `"tanh"`,
            `"softmax"`, `"gelu"`, `"leaky_relu"`, `"elu"`, `"selu"`.
        initializer: Hidden kernel initializer: `"he"` (he_normal, for the ReLU
            family), `"glorot"` (glorot_uniform, for tanh/sigmoid) or `"lecun"`
            (lecun_normal, for SELU). The head always uses glorot_uniform.
        dropout: Dropout rate in `[0, 1)` after each hidden activation.
        batch_norm: Whether to put BatchNormalization between each hidden Dense
            (then without bias) and its activation.
        l1: L1 penalty on every Dense kernel (>= 0).
        l2: L2 penalty on every Dense kernel (>= 0).
        output_activation: Activation of the head: one of the hidden activations,
            `"linear"`, or `None` (linear).
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: Tensor of shape `(batch, *input_shape)`.
        training: Python bool; dropout and batch-norm statistics follow it.

    Returns:
        A tensor of shape `(batch, num_classes)`.

    Example:

    ```python
    model = kerasdl.models.MLP((64,), num_classes=10, depth=2, width=128)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=20)
    ```
    """

    def __init__(
        self,
        input_shape,
        num_classes,
        *,
        depth=2,
        width=128,
        activation="relu",
        initializer="he",
        dropout=0.0,
        batch_norm=False,
        l1=0.0,
        l2=0.0,
        output_activation="softmax",
        name="mlp",
        **kwargs,
    ):
        input_shape = check_sample_shape(input_shape)
        check_int("num_classes", num_classes, 1)
        check_int("depth", depth, 0)
        check_int("width", width, 1)
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"`activation` must be one of {ACTIVATIONS}; received "
                f"activation={activation!r}."
            )
        if initializer not in INITIALIZERS:
            raise ValueError(
                f"`initializer` must be one of {tuple(INITIALIZERS)}; received "
                f"initializer={initializer!r}."
            )
        if isinstance(dropout, bool) or not (
            isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0
        ):
            raise ValueError(
                f"`dropout` must be a float in [0, 1); received dropout={dropout!r}."
            )
        _check_non_negative("l1", l1)
        _check_non_negative("l2", l2)
        if output_activation is not None and output_activation not in (
            OUTPUT_ACTIVATIONS
        ):
            raise ValueError(
                f"`output_activation` must be None or one of {OUTPUT_ACTIVATIONS}; "
                f"received output_activation={output_activation!r}."
            )
        input_shape = tuple(input_shape)

        # === Layers + functional model ===
        def regularizer():
            if l1 or l2:
                return keras.regularizers.L1L2(l1=l1, l2=l2)
            return None

        inputs = keras.Input(shape=input_shape, name="inputs")
        x = keras.layers.Flatten(name="flatten")(inputs)
        for i in range(1, depth + 1):
            x = keras.layers.Dense(
                width,
                use_bias=not batch_norm,
                kernel_initializer=INITIALIZERS[initializer],
                kernel_regularizer=regularizer(),
                name=f"dense_{i}",
            )(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
            x = keras.layers.Activation(activation, name=f"{activation}_{i}")(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
        outputs = keras.layers.Dense(
            num_classes,
            activation=output_activation,
            kernel_regularizer=regularizer(),
            name="predictions",
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.sample_shape = input_shape
        self.num_classes = num_classes
        self.depth = depth
        self.width = width
        self.activation = activation
        self.initializer = initializer
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.l1 = l1
        self.l2 = l2
        self.output_activation = output_activation

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self.sample_shape,
            "num_classes": self.num_classes,
            "depth": self.depth,
            "width": self.width,
            "activation": self.activation,
            "initializer": self.initializer,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "l1": self.l1,
            "l2": self.l2,
            "output_activation": self.output_activation,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["input_shape"] = tuple(config["input_shape"])
        return cls(**config)
