"""What the three recurrent cells share: arguments and their checks, the weights
(laid out as in Keras's own cells), the static shape checks of one step, the zero
state, `compute_output_shape` and the config; and `project`, the input or state
projection after dropout.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import check_bool, check_float, check_int
from kerasdl.layers.recurrent.dropout import SequenceDropout

__all__ = ["RecurrentCell", "get_keras_object", "project"]


# What each kind of Keras object may be given as, besides a serialized dict.
_KERAS_OBJECTS = {
    "activation": (keras.activations, "'tanh', 'sigmoid'", "a callable or None"),
    "initializer": (
        keras.initializers,
        "'glorot_uniform', 'orthogonal'",
        "an Initializer or a callable",
    ),
    "regularizer": (keras.regularizers, "'l2'", "a Regularizer, a callable or None"),
}


def get_keras_object(argument, value):
    """The Keras activation, initializer or regularizer that `value` gives for
    `argument` (whose name ends in `activation`, `initializer` or `regularizer`,
    which says which): a Keras name string, a callable or Keras object, or a
    serialized dict, as `keras.<kind>s.get` reads them. Anything else raises a
    ValueError naming `argument` and the value received."""
    kind = argument.rsplit("_", 1)[-1]
    module, examples, objects = _KERAS_OBJECTS[kind]
    try:
        return module.get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"`{argument}` must be the name of a Keras {kind} (e.g. {examples}), "
            f"{objects}, or a serialized {kind} dict; received {argument}={value!r}."
        ) from error


def project(x, kernel, mask):
    """`x @ kernel`, after dropout: `mask` is None, one mask for `x`, or a list of
    masks, one per column block (gate) of `kernel`, as Keras's cells draw them
    with `recurrent_dropout > 0`."""
    if mask is None:
        return ops.matmul(x, kernel)
    if not isinstance(mask, (list, tuple)):
        return ops.matmul(ops.multiply(x, mask), kernel)
    blocks = ops.split(kernel, len(mask), axis=1)
    return ops.concatenate(
        [ops.matmul(ops.multiply(x, m), w) for m, w in zip(mask, blocks)], axis=-1
    )


class RecurrentCell(keras.layers.Layer, SequenceDropout):
    """What the three cells share: arguments, checks, weights, config, states.

    Subclasses set `num_gates` (k) and write `call`; they may override
    `_bias_shape`, `_bias_initializer` and `state_size`.
    """

    num_gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.activation = get_keras_object("activation", activation)
        self.use_bias = check_bool("use_bias", use_bias)
        for argument, value in (
            ("kernel_initializer", kernel_initializer),
            ("recurrent_initializer", recurrent_initializer),
            ("bias_initializer", bias_initializer),
            ("kernel_regularizer", kernel_regularizer),
            ("recurrent_regularizer", recurrent_regularizer),
            ("bias_regularizer", bias_regularizer),
        ):
            setattr(self, argument, get_keras_object(argument, value))
        self.dropout = check_float("dropout", dropout, 0.0, 1.0, high_open=True)
        self.recurrent_dropout = check_float(
            "recurrent_dropout", recurrent_dropout, 0.0, 1.0, high_open=True
        )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` must be None or an int; received seed={seed!r}.")
        self.seed = seed
        self._init_sequence_dropout()

    # --- Sizes ------------------------------------------------------------------

    @property
    def state_size(self):
        """Size of the state carried between steps (an int, or a list of ints)."""
        return self.units

    @property
    def output_size(self):
        """Size of the per-step output."""
        return self.units

    def _state_sizes(self):
        size = self.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    # --- Weights ----------------------------------------------------------------

    def _bias_shape(self):
        return (self.num_gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"Expected `inputs` of rank 2 (batch, features), one time step, "
                f"for {type(self).__name__}; received shape {tuple(input_shape)}. "
                "Wrap the cell in keras.layers.RNN to run it over a sequence."
            )
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last dimension (features) of the inputs to {type(self).__name__}"
                f" must be known; received input_shape={tuple(input_shape)}."
            )
        width = self.num_gates * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, width),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            name="recurrent_kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                name="bias",
            )
        else:
            self.bias = None

    # --- One step: checks -------------------------------------------------------

    def _check_step(self, inputs, states):
        """Static shape checks of one step's `inputs` and `states`; returns the
        states as a list. Cheap: reads only static shapes, so they also run on
        symbolic tensors and inside a compiled time loop."""
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        self._check_shapes(
            tuple(inputs.shape),
            [tuple(getattr(s, "shape", ())) for s in states],
            nested,
        )
        return states

    def _check_shapes(self, shape, state_shapes, nested):
        name = type(self).__name__
        if len(shape) != 2:
            raise ValueError(
                f"Expected `inputs` of rank 2 (batch, features), one time step, for "
                f"{name}; received shape {shape}. Wrap the cell in "
                "keras.layers.RNN to run it over a sequence."
            )
        input_dim = self.kernel.shape[0] if self.built else None
        if None not in (shape[-1], input_dim) and shape[-1] != input_dim:
            raise ValueError(
                f"Expected `inputs` with {input_dim} features (last axis), the "
                f"size this {name} was built for; received shape {shape}."
            )
        if state_shapes is None:
            return
        sizes = self._state_sizes()
        layout = ", ".join(f"(batch, {size})" for size in sizes)
        if len(state_shapes) != len(sizes):
            raise ValueError(
                f"Expected `states` to hold {len(sizes)} tensor(s) of shapes "
                f"{layout} for {name}; received {len(state_shapes)}."
            )
        for i, (state_shape, size) in enumerate(zip(state_shapes, sizes)):
            batch_clash = (
                len(state_shape) == 2
                and None not in (shape[0], state_shape[0])
                and shape[0] != state_shape[0]
            )
            if (
                len(state_shape) != 2
                or state_shape[-1] not in (None, size)
                or batch_clash
            ):
                argument = f"states[{i}]" if nested else "states"
                raise ValueError(
                    f"Expected `{argument}` of shape (batch, {size}) with the "
                    f"batch of `inputs` {shape} for {name}; received shape "
                    f"{state_shape}."
                )

    # --- States -----------------------------------------------------------------

    def get_initial_state(self, batch_size=None):
        """Returns the zero state: a list with one `(batch_size, size)` tensor per
        entry of `state_size`."""
        return [
            ops.zeros((batch_size, size), dtype=self.compute_dtype)
            for size in self._state_sizes()
        ]

    def compute_output_shape(self, inputs_shape, states_shape=None):
        nested = isinstance(states_shape, (list, tuple)) and all(
            isinstance(size, (list, tuple)) for size in states_shape
        )
        if states_shape is not None:
            states_shape = (
                [tuple(s) for s in states_shape] if nested else [tuple(states_shape)]
            )
        self._check_shapes(tuple(inputs_shape), states_shape, nested)
        batch = inputs_shape[0]
        states = [(batch, size) for size in self._state_sizes()]
        return (batch, self.output_size), states

    # --- Config -----------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "recurrent_initializer": keras.initializers.serialize(
                    self.recurrent_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "recurrent_regularizer": keras.regularizers.serialize(
                    self.recurrent_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config
