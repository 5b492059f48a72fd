"""`SimpleRNNCell`: the Elman cell, `h_t = act(x_t W + h_{t-1} U + b)`."""

from __future__ import annotations

import keras
from keras import ops

from kerasdl.layers.recurrent.base import RecurrentCell, project

__all__ = ["SimpleRNNCell"]


@keras.saving.register_keras_serializable(package="kerasdl")
class SimpleRNNCell(RecurrentCell):
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
        z = project(inputs, self.kernel, input_mask)
        if self.use_bias:
            z = ops.add(z, self.bias)
        z = ops.add(z, project(h_prev, self.recurrent_kernel, recurrent_mask))
        h = self.activation(z)
        return h, ([h] if nested else h)
