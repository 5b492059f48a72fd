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

Dropout follows Keras (Gal & Ghahramani 2016, "variational" RNN dropout): with
`dropout` the step input, with `recurrent_dropout` the previous state `h_{t-1}`,
is multiplied by a mask drawn **once per sequence** and reused at every time
step, only when `training=True`. The cells share Keras's `DropoutRNNCell`
machinery, so `keras.layers.RNN` draws the masks before the time loop (which
keeps the loop stateless, as JAX needs) and forgets them after each call. As in
Keras, an LSTM or GRU with `recurrent_dropout > 0` draws one mask per gate (for
the input and for the state), and a cell called directly (outside
`keras.layers.RNN`) keeps its masks until `reset_dropout_mask()` /
`reset_recurrent_dropout_mask()`. The masks come from a
`keras.random.SeedGenerator` held on the cell (created only when a rate is
> 0); with the same `seed` the masks equal those of Keras's own cells.
"""

from __future__ import annotations

import keras
from keras import ops

# Keras's mixin that caches one dropout mask per sequence. `keras.layers.RNN`
# draws the masks before its time loop and resets them after it only for cells
# that are instances of this class, so sharing it is what gives Keras's
# semantics on every backend (it is not exported under `keras.layers`).
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from kerasdl._checks import check_float

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


def _get_regularizer(value, argument):
    try:
        return keras.regularizers.get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"`{argument}` must be None, the name of a Keras regularizer (e.g. "
            f"'l2'), a Regularizer or a callable; received {argument}={value!r}."
        ) from error


def _project(x, kernel, mask):
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


class _RecurrentCell(keras.layers.Layer, DropoutRNNCell):
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
        self.kernel_regularizer = _get_regularizer(
            kernel_regularizer, "kernel_regularizer"
        )
        self.recurrent_regularizer = _get_regularizer(
            recurrent_regularizer, "recurrent_regularizer"
        )
        self.bias_regularizer = _get_regularizer(bias_regularizer, "bias_regularizer")
        self.dropout = check_float("dropout", dropout, 0.0, 1.0, high_open=True)
        self.recurrent_dropout = check_float(
            "recurrent_dropout", recurrent_dropout, 0.0, 1.0, high_open=True
        )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` must be None or an int; received seed={seed!r}.")
        self.seed = seed
        if self.dropout > 0 or self.recurrent_dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)
        if self.recurrent_dropout > 0 and self.num_gates > 1:
            # One mask per gate for the input and for the state (read by
            # DropoutRNNCell), as Keras's LSTMCell/GRUCell do in this case.
            self.dropout_mask_count = self.num_gates

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

    # --- One step: checks and dropout masks ---------------------------------------

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

    def _dropout_masks(self, inputs, h_prev, training):
        """The masks of this sequence (None when off): drawn at the first step,
        then reused (see the module docstring)."""
        input_mask = recurrent_mask = None
        if training and self.dropout > 0:
            input_mask = self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            recurrent_mask = self.get_recurrent_dropout_mask(h_prev)
        return input_mask, recurrent_mask

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
        kernel_regularizer: Regularizer of `kernel` (adds its penalty to
            `losses`, as Keras's cells do). Defaults to None.
        recurrent_regularizer: Regularizer of `recurrent_kernel`. Defaults to
            None.
        bias_regularizer: Regularizer of `bias`. Defaults to None.
        dropout: Fraction of the step input's units dropped in training, in
            [0, 1); one mask per sequence. Defaults to 0.
        recurrent_dropout: Fraction of the previous state's units dropped in
            training, in [0, 1); one mask per sequence. Defaults to 0.
        seed: Integer seed of the dropout masks' `keras.random.SeedGenerator`
            (created only when a rate is > 0). Defaults to None.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`, `dtype`).

    Call arguments:
        inputs: Tensor of shape `(batch, input_dim)`, the input at step t.
        states: The previous state `h_{t-1}`, `(batch, units)`, alone or in a
            one-element list.
        training: Whether dropout is active (`keras.layers.RNN` passes it).

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

    def call(self, inputs, states, training=None):
        nested = isinstance(states, (list, tuple))
        h_prev = self._check_step(inputs, states)[0]
        input_mask, recurrent_mask = self._dropout_masks(inputs, h_prev, training)
        z = _project(inputs, self.kernel, input_mask)
        if self.use_bias:
            z = ops.add(z, self.bias)
        z = ops.add(z, _project(h_prev, self.recurrent_kernel, recurrent_mask))
        h = self.activation(z)
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
        kernel_regularizer: Regularizer of `kernel` (adds its penalty to
            `losses`, as Keras's cells do). Defaults to None.
        recurrent_regularizer: Regularizer of `recurrent_kernel`. Defaults to
            None.
        bias_regularizer: Regularizer of `bias`. Defaults to None.
        dropout: Fraction of the step input's units dropped in training, in
            [0, 1); one mask per sequence. Defaults to 0.
        recurrent_dropout: Fraction of the previous state's units dropped in
            training, in [0, 1); one mask per sequence. Defaults to 0.
        seed: Integer seed of the dropout masks' `keras.random.SeedGenerator`
            (created only when a rate is > 0). Defaults to None.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`, `dtype`).

    Call arguments:
        inputs: Tensor of shape `(batch, input_dim)`, the input at step t.
        states: List `[h_{t-1}, c_{t-1}]`, each `(batch, units)`.
        training: Whether dropout is active (`keras.layers.RNN` passes it).

    Returns:
        `(h_t, [h_t, c_t])`.

    Raises:
        ValueError: For a bad argument, or `inputs`/`states` whose static shapes
            do not fit the cell (rank, features, number and size of states).

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
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
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

    def call(self, inputs, states, training=None):
        h_prev, c_prev = self._check_step(inputs, states)
        input_mask, recurrent_mask = self._dropout_masks(inputs, h_prev, training)
        z = _project(inputs, self.kernel, input_mask)
        z = ops.add(z, _project(h_prev, self.recurrent_kernel, recurrent_mask))
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
        kernel_regularizer: Regularizer of `kernel` (adds its penalty to
            `losses`, as Keras's cells do). Defaults to None.
        recurrent_regularizer: Regularizer of `recurrent_kernel`. Defaults to
            None.
        bias_regularizer: Regularizer of `bias`. Defaults to None.
        dropout: Fraction of the step input's units dropped in training, in
            [0, 1); one mask per sequence. Defaults to 0.
        recurrent_dropout: Fraction of the previous state's units dropped in
            training, in [0, 1); one mask per sequence. Defaults to 0.
        seed: Integer seed of the dropout masks' `keras.random.SeedGenerator`
            (created only when a rate is > 0). Defaults to None.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`, `dtype`).

    Call arguments:
        inputs: Tensor of shape `(batch, input_dim)`, the input at step t.
        states: The previous state `h_{t-1}`, `(batch, units)`, alone or in a
            one-element list.
        training: Whether dropout is active (`keras.layers.RNN` passes it).

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
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
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

    def call(self, inputs, states, training=None):
        nested = isinstance(states, (list, tuple))
        h_prev = self._check_step(inputs, states)[0]
        input_mask, recurrent_mask = self._dropout_masks(inputs, h_prev, training)
        units = self.units
        x_proj = _project(inputs, self.kernel, input_mask)
        if self.use_bias:
            input_bias = self.bias[0] if self.reset_after else self.bias
            x_proj = ops.add(x_proj, input_bias)
        x_z, x_r, x_h = ops.split(x_proj, 3, axis=-1)

        # With per-gate masks, the state seen by the gates z, r and h differs.
        per_gate = isinstance(recurrent_mask, (list, tuple))
        if self.reset_after:
            h_proj = _project(h_prev, self.recurrent_kernel, recurrent_mask)
            if self.use_bias:
                h_proj = ops.add(h_proj, self.bias[1])
            h_z, h_r, h_h = ops.split(h_proj, 3, axis=-1)
            z = self.recurrent_activation(ops.add(x_z, h_z))
            r = self.recurrent_activation(ops.add(x_r, h_r))
            candidate = self.activation(ops.add(x_h, ops.multiply(r, h_h)))
        else:
            gate_masks = recurrent_mask[:2] if per_gate else recurrent_mask
            h_proj = _project(h_prev, self.recurrent_kernel[:, : 2 * units], gate_masks)
            h_z, h_r = ops.split(h_proj, 2, axis=-1)
            z = self.recurrent_activation(ops.add(x_z, h_z))
            r = self.recurrent_activation(ops.add(x_r, h_r))
            h_for_candidate = h_prev
            if recurrent_mask is not None:
                last = recurrent_mask[2] if per_gate else recurrent_mask
                h_for_candidate = ops.multiply(h_prev, last)
            h_h = ops.matmul(
                ops.multiply(r, h_for_candidate), self.recurrent_kernel[:, 2 * units :]
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
