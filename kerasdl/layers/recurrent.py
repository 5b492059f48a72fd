"""Hand-written recurrent cells: `SimpleRNNCell`, `LSTMCell` and `GRUCell`.

A cell computes one time step: it maps the input at step t and the state left by
step t-1 to the output and the new state. `keras.layers.RNN(cell)` runs the cell
over the time axis and adds everything that is not the cell's own mathematics:
`return_sequences`, `return_state`, masking, `go_backwards`, stacking (a list of
cells) and `keras.layers.Bidirectional`.

The weights are laid out exactly as in Keras's own cells, so weights copied from
`keras.layers.SimpleRNN`, `LSTM` or `GRU` (`cell.set_weights(layer.get_weights())`
after building) give the same outputs:

- `kernel`: `(input_dim, k * units)`, the input projections of the k gates side
  by side;
- `recurrent_kernel`: `(units, k * units)`, the state projections, same order;
- `bias`: `(k * units,)`, or `(2, 3 * units)` for a GRU with `reset_after=True`
  (row 0 the input bias, row 1 the recurrent bias).

with k = 1 (SimpleRNN), 4 (LSTM, gates i, f, c, o) or 3 (GRU, gates z, r, h).
The cells have no dropout (they do not take `dropout`/`recurrent_dropout`).
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["GRUCell", "LSTMCell", "SimpleRNNCell"]


def _get_activation(value, argument):
    try:
        return keras.activations.get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"`{argument}` must be the name of a Keras activation (e.g. 'tanh', "
            f"'sigmoid'), a callable or None; received {argument}={value!r}."
        ) from error


def _get_initializer(value, argument):
    try:
        return keras.initializers.get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"`{argument}` must be the name of a Keras initializer (e.g. "
            f"'glorot_uniform'), an Initializer or a callable; received "
            f"{argument}={value!r}."
        ) from error


class _RecurrentCell(keras.layers.Layer):
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
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(
                f"`units` must be a positive integer; received units={units!r}."
            )
        if not isinstance(use_bias, bool):
            raise ValueError(
                f"`use_bias` must be True or False; received use_bias={use_bias!r}."
            )
        self.units = units
        self.activation = _get_activation(activation, "activation")
        self.use_bias = use_bias
        self.kernel_initializer = _get_initializer(
            kernel_initializer, "kernel_initializer"
        )
        self.recurrent_initializer = _get_initializer(
            recurrent_initializer, "recurrent_initializer"
        )
        self.bias_initializer = _get_initializer(bias_initializer, "bias_initializer")

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
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width),
            initializer=self.recurrent_initializer,
            name="recurrent_kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                initializer=self._bias_initializer(),
                name="bias",
            )
        else:
            self.bias = None

    # --- States -----------------------------------------------------------------

    def get_initial_state(self, batch_size=None):
        """Returns the zero state: a list with one `(batch_size, size)` tensor per
        entry of `state_size`."""
        return [
            ops.zeros((batch_size, size), dtype=self.compute_dtype)
            for size in self._state_sizes()
        ]

    def compute_output_shape(self, inputs_shape, states_shape=None):
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
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class SimpleRNNCell(_RecurrentCell):
    """The Elman recurrent cell: one affine map of input and state, squashed.

    For an input `x_t` of shape `(batch, input_dim)` and the previous state
    `h_{t-1}` of shape `(batch, units)`:

        h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)

    The output of the step is `h_t`, which is also the new state. Weights:
    `kernel` `(input_dim, units)`, `recurrent_kernel` `(units, units)`, `bias`
    `(units,)`: the layout of `keras.layers.SimpleRNNCell`.

    Args:
        units: Size of the state and of the output, >= 1.
        activation: Activation name, callable or None (linear). Defaults to
            `"tanh"`.
        use_bias: Whether to add `bias`. Defaults to True.
        kernel_initializer: Initializer of `kernel`. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: Initializer of `recurrent_kernel`. Defaults to
            `"orthogonal"`.
        bias_initializer: Initializer of `bias`. Defaults to `"zeros"`.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`, `dtype`).

    Call arguments:
        inputs: Tensor of shape `(batch, input_dim)`, the input at step t.
        states: The previous state `h_{t-1}`, `(batch, units)`, alone or in a
            one-element list.

    Returns:
        `(h_t, new_states)`: the output `(batch, units)` and the new state, a
        one-element list when `states` was a list (as `keras.layers.RNN` passes
        it), else the tensor itself.

    Example:

    ```python
    rnn = keras.layers.RNN(kerasdl.layers.recurrent.SimpleRNNCell(16))
    y = rnn(np.zeros((8, 20, 4), "float32"))  # (8, 16), the last step's output
    ```
    """

    num_gates = 1

    def call(self, inputs, states):
        nested = isinstance(states, (list, tuple))
        h_prev = states[0] if nested else states
        z = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            z = ops.add(z, self.bias)
        h = self.activation(ops.add(z, ops.matmul(h_prev, self.recurrent_kernel)))
        return h, ([h] if nested else h)


@keras.saving.register_keras_serializable(package="kerasdl")
class LSTMCell(_RecurrentCell):
    """Long short-term memory cell (Hochreiter & Schmidhuber 1997, with a forget
    gate as in Gers et al. 2000), in the gate order of `keras.layers.LSTMCell`.

    With `W`, `U`, `b` the column blocks of `kernel`, `recurrent_kernel` and
    `bias` in the order i, f, c, o, `sigma` the `recurrent_activation` and `act`
    the `activation`:

        i_t = sigma(x_t @ W_i + h_{t-1} @ U_i + b_i)      input gate
        f_t = sigma(x_t @ W_f + h_{t-1} @ U_f + b_f)      forget gate
        g_t = act(x_t @ W_c + h_{t-1} @ U_c + b_c)        candidate cell
        o_t = sigma(x_t @ W_o + h_{t-1} @ U_o + b_o)      output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * act(c_t)

    The output is `h_t`; the state is the pair `[h_t, c_t]`. The four blocks are
    computed with one matrix product each for input and state. Weights: `kernel`
    `(input_dim, 4 * units)`, `recurrent_kernel` `(units, 4 * units)`, `bias`
    `(4 * units,)`.

    Args:
        units: Size of `h` and `c`, >= 1.
        activation: Activation of the candidate and of the cell output (`act`);
            name, callable or None (linear). Defaults to `"tanh"`.
        recurrent_activation: Activation of the gates (`sigma`). Defaults to
            `"sigmoid"`.
        use_bias: Whether to add `bias`. Defaults to True.
        kernel_initializer: Initializer of `kernel`. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: Initializer of `recurrent_kernel`. Defaults to
            `"orthogonal"`.
        bias_initializer: Initializer of `bias`. Defaults to `"zeros"`.
        unit_forget_bias: If True, the forget-gate block `b_f` starts at 1 (the
            rest from `bias_initializer`), so the cell remembers by default
            (Jozefowicz et al. 2015). Defaults to True.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`, `dtype`).

    Call arguments:
        inputs: Tensor of shape `(batch, input_dim)`, the input at step t.
        states: List `[h_{t-1}, c_{t-1}]`, each `(batch, units)`.

    Returns:
        `(h_t, [h_t, c_t])`.

    Example:

    ```python
    rnn = keras.layers.RNN(kerasdl.layers.recurrent.LSTMCell(16), return_state=True)
    y, h, c = rnn(np.zeros((8, 20, 4), "float32"))  # each (8, 16)
    ```
    """

    num_gates = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.recurrent_activation = _get_activation(
            recurrent_activation, "recurrent_activation"
        )
        if not isinstance(unit_forget_bias, bool):
            raise ValueError(
                "`unit_forget_bias` must be True or False; received "
                f"unit_forget_bias={unit_forget_bias!r}."
            )
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def forget_bias_one(_shape, dtype=None):
            return ops.concatenate(
                [
                    base((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    base((2 * units,), dtype=dtype),
                ]
            )

        return forget_bias_one

    def call(self, inputs, states):
        h_prev, c_prev = states[0], states[1]
        z = ops.matmul(inputs, self.kernel)
        z = ops.add(z, ops.matmul(h_prev, self.recurrent_kernel))
        if self.use_bias:
            z = ops.add(z, self.bias)
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        g = self.activation(z_c)
        o = self.recurrent_activation(z_o)
        c = ops.add(ops.multiply(f, c_prev), ops.multiply(i, g))
        h = ops.multiply(o, self.activation(c))
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "recurrent_activation": keras.activations.serialize(
                    self.recurrent_activation
                ),
                "unit_forget_bias": self.unit_forget_bias,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class GRUCell(_RecurrentCell):
    """Gated recurrent unit (Cho et al. 2014), in the gate order of
    `keras.layers.GRUCell`.

    With `W`, `U` the column blocks of `kernel` and `recurrent_kernel` in the
    order z, r, h, `sigma` the `recurrent_activation` and `act` the `activation`.
    With `reset_after=True` (the default; cuDNN's variant) there are two biases,
    `b` for the input side (row 0 of `bias`) and `b'` for the state side (row 1),
    and the reset gate multiplies the state's projection:

        z_t = sigma(x_t @ W_z + b_z + h_{t-1} @ U_z + b'_z)       update gate
        r_t = sigma(x_t @ W_r + b_r + h_{t-1} @ U_r + b'_r)       reset gate
        n_t = act(x_t @ W_h + b_h + r_t * (h_{t-1} @ U_h + b'_h))  candidate
        h_t = z_t * h_{t-1} + (1 - z_t) * n_t

    With `reset_after=False` (the 2014 paper's v3) there is one bias `b` and the
    reset gate multiplies the state before its projection:

        z_t = sigma(x_t @ W_z + h_{t-1} @ U_z + b_z)
        r_t = sigma(x_t @ W_r + h_{t-1} @ U_r + b_r)
        n_t = act(x_t @ W_h + (r_t * h_{t-1}) @ U_h + b_h)
        h_t = z_t * h_{t-1} + (1 - z_t) * n_t

    The output is `h_t`, which is also the new state. Weights: `kernel`
    `(input_dim, 3 * units)`, `recurrent_kernel` `(units, 3 * units)`, `bias`
    `(2, 3 * units)` (`reset_after=True`) or `(3 * units,)`.

    Args:
        units: Size of the state and of the output, >= 1.
        activation: Activation of the candidate (`act`); name, callable or None
            (linear). Defaults to `"tanh"`.
        recurrent_activation: Activation of the gates (`sigma`). Defaults to
            `"sigmoid"`.
        use_bias: Whether to add the bias(es). Defaults to True.
        kernel_initializer: Initializer of `kernel`. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: Initializer of `recurrent_kernel`. Defaults to
            `"orthogonal"`.
        bias_initializer: Initializer of `bias`. Defaults to `"zeros"`.
        reset_after: Whether the reset gate is applied after the state's
            projection (True, with separate input and recurrent biases) or
            before it (False). Defaults to True.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`, `dtype`).

    Call arguments:
        inputs: Tensor of shape `(batch, input_dim)`, the input at step t.
        states: The previous state `h_{t-1}`, `(batch, units)`, alone or in a
            one-element list.

    Returns:
        `(h_t, new_states)`: the output `(batch, units)` and the new state, a
        one-element list when `states` was a list, else the tensor itself.

    Example:

    ```python
    cell = kerasdl.layers.recurrent.GRUCell(16, reset_after=False)
    y = keras.layers.RNN(cell, return_sequences=True)(np.zeros((8, 20, 4), "f4"))
    ```
    """

    num_gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        reset_after=True,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.recurrent_activation = _get_activation(
            recurrent_activation, "recurrent_activation"
        )
        if not isinstance(reset_after, bool):
            raise ValueError(
                "`reset_after` must be True or False; received "
                f"reset_after={reset_after!r}."
            )
        self.reset_after = reset_after

    def _bias_shape(self):
        if self.reset_after:
            return (2, 3 * self.units)
        return (3 * self.units,)

    def call(self, inputs, states):
        nested = isinstance(states, (list, tuple))
        h_prev = states[0] if nested else states
        units = self.units
        x_proj = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            input_bias = self.bias[0] if self.reset_after else self.bias
            x_proj = ops.add(x_proj, input_bias)
        x_z, x_r, x_h = ops.split(x_proj, 3, axis=-1)

        if self.reset_after:
            h_proj = ops.matmul(h_prev, self.recurrent_kernel)
            if self.use_bias:
                h_proj = ops.add(h_proj, self.bias[1])
            h_z, h_r, h_h = ops.split(h_proj, 3, axis=-1)
            z = self.recurrent_activation(ops.add(x_z, h_z))
            r = self.recurrent_activation(ops.add(x_r, h_r))
            candidate = self.activation(ops.add(x_h, ops.multiply(r, h_h)))
        else:
            h_proj = ops.matmul(h_prev, self.recurrent_kernel[:, : 2 * units])
            h_z, h_r = ops.split(h_proj, 2, axis=-1)
            z = self.recurrent_activation(ops.add(x_z, h_z))
            r = self.recurrent_activation(ops.add(x_r, h_r))
            h_h = ops.matmul(
                ops.multiply(r, h_prev), self.recurrent_kernel[:, 2 * units :]
            )
            candidate = self.activation(ops.add(x_h, h_h))

        h = ops.add(ops.multiply(z, h_prev), ops.multiply(1.0 - z, candidate))
        return h, ([h] if nested else h)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "recurrent_activation": keras.activations.serialize(
                    self.recurrent_activation
                ),
                "reset_after": self.reset_after,
            }
        )
        return config
