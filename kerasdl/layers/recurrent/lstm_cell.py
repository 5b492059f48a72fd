"""`LSTMCell`: the long short-term memory cell (gates i, f, c, o as in Keras)."""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import check_bool
from kerasdl.layers.recurrent.base import RecurrentCell, get_keras_object, project

__all__ = ["LSTMCell"]


@keras.saving.register_keras_serializable(package="kerasdl")
class LSTMCell(RecurrentCell):
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
        self.recurrent_activation = get_keras_object(
            "recurrent_activation", recurrent_activation
        )
        self.unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias)

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
        z = project(inputs, self.kernel, input_mask)
        z = ops.add(z, project(h_prev, self.recurrent_kernel, recurrent_mask))
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
