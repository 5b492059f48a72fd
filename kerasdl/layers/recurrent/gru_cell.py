"""`GRUCell`: the gated recurrent unit (gates z, r, h as in Keras), with
`reset_after` True (cuDNN's variant, two biases) or False (the 2014 paper).
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import check_bool
from kerasdl.layers.recurrent.base import RecurrentCell, get_keras_object, project

__all__ = ["GRUCell"]


@keras.saving.register_keras_serializable(package="kerasdl")
class GRUCell(RecurrentCell):
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
        self.recurrent_activation = get_keras_object(
            "recurrent_activation", recurrent_activation
        )
        self.reset_after = check_bool("reset_after", reset_after)

    def _bias_shape(self):
        if self.reset_after:
            return (2, 3 * self.units)
        return (3 * self.units,)

    def call(self, inputs, states, training=None):
        nested = isinstance(states, (list, tuple))
        h_prev = self._check_step(inputs, states)[0]
        input_mask, recurrent_mask = self._dropout_masks(inputs, h_prev, training)
        units = self.units
        x_proj = project(inputs, self.kernel, input_mask)
        if self.use_bias:
            input_bias = self.bias[0] if self.reset_after else self.bias
            x_proj = ops.add(x_proj, input_bias)
        x_z, x_r, x_h = ops.split(x_proj, 3, axis=-1)

        # With per-gate masks, the state seen by the gates z, r and h differs.
        per_gate = isinstance(recurrent_mask, (list, tuple))
        if self.reset_after:
            h_proj = project(h_prev, self.recurrent_kernel, recurrent_mask)
            if self.use_bias:
                h_proj = ops.add(h_proj, self.bias[1])
            h_z, h_r, h_h = ops.split(h_proj, 3, axis=-1)
            z = self.recurrent_activation(ops.add(x_z, h_z))
            r = self.recurrent_activation(ops.add(x_r, h_r))
            candidate = self.activation(ops.add(x_h, ops.multiply(r, h_h)))
        else:
            gate_masks = recurrent_mask[:2] if per_gate else recurrent_mask
            h_proj = project(h_prev, self.recurrent_kernel[:, : 2 * units], gate_masks)
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
