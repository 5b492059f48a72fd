"""Variational recurrent dropout (Gal & Ghahramani 2016), written out: the masks of
the recurrent cells, drawn once per sequence and reused at every time step.

`keras.layers.RNN` draws a cell's masks before its time loop (which keeps the loop
stateless, as JAX needs) through `get_dropout_mask` / `get_recurrent_dropout_mask`
and forgets them after the loop through `reset_dropout_mask` /
`reset_recurrent_dropout_mask`, but only for instances of Keras's private
`DropoutRNNCell`. `SequenceDropout` inherits that class (found by
`kerasdl.backend.keras_dropout_rnn_cell`, the one place that names it) for the
`isinstance` check alone and implements the four methods here with `keras.random`.
"""

from __future__ import annotations

import keras

from kerasdl import backend

__all__ = ["SequenceDropout"]

# What keras.layers.RNN checks with `isinstance` (None if this Keras lacks it).
_KERAS_DROPOUT_CELL = backend.keras_dropout_rnn_cell()


class SequenceDropout(_KERAS_DROPOUT_CELL or object):
    """Per-sequence dropout masks of a recurrent cell (a mixin for a Layer).

    The cell sets `dropout`, `recurrent_dropout`, `seed` and `num_gates`, then calls
    `_init_sequence_dropout()`. With the same `seed` the masks equal those of
    Keras's own cells: each is `keras.random.dropout` of a tensor of ones shaped
    like the step input (or the state), drawn from the cell's
    `keras.random.SeedGenerator`, input masks first; with `recurrent_dropout > 0`
    an LSTM or GRU draws one mask per gate for the input and for the state, as
    Keras's `LSTMCell` / `GRUCell` do.

    A cell called directly (outside `keras.layers.RNN`) keeps its masks until
    `reset_dropout_mask()` / `reset_recurrent_dropout_mask()`.
    """

    def _init_sequence_dropout(self):
        self._input_mask = None
        self._recurrent_mask = None
        self._masks_per_gate = self.recurrent_dropout > 0 and self.num_gates > 1
        if self.dropout > 0 or self.recurrent_dropout > 0:
            if _KERAS_DROPOUT_CELL is None:
                raise RuntimeError(
                    f"{type(self).__name__}(dropout={self.dropout}, "
                    f"recurrent_dropout={self.recurrent_dropout}) needs Keras's "
                    "DropoutRNNCell, which keras.layers.RNN checks for to draw the "
                    f"masks once per sequence; this Keras ({keras.__version__}) no "
                    "longer has it where kerasdl.backend looks. Use rates of 0 or "
                    "another Keras version."
                )
            self.seed_generator = keras.random.SeedGenerator(self.seed)

    def _draw_masks(self, step_input, rate):
        ones = keras.ops.ones_like(step_input)
        count = self.num_gates if self._masks_per_gate else 1
        masks = [
            keras.random.dropout(ones, rate, seed=self.seed_generator)
            for _ in range(count)
        ]
        return masks if self._masks_per_gate else masks[0]

    def get_dropout_mask(self, step_input):
        """The input mask of this sequence: drawn at the first call, then reused."""
        if self._input_mask is None and self.dropout > 0:
            self._input_mask = self._draw_masks(step_input, self.dropout)
        return self._input_mask

    def get_recurrent_dropout_mask(self, step_input):
        """The state mask of this sequence: drawn at the first call, then reused."""
        if self._recurrent_mask is None and self.recurrent_dropout > 0:
            self._recurrent_mask = self._draw_masks(step_input, self.recurrent_dropout)
        return self._recurrent_mask

    def reset_dropout_mask(self):
        """Forgets the input mask (`keras.layers.RNN` calls it after each call)."""
        self._input_mask = None

    def reset_recurrent_dropout_mask(self):
        """Forgets the state mask (`keras.layers.RNN` calls it after each call)."""
        self._recurrent_mask = None

    def _dropout_masks(self, inputs, h_prev, training):
        """The masks of this step's sequence, `(input, recurrent)`; None when off."""
        input_mask = recurrent_mask = None
        if training and self.dropout > 0:
            input_mask = self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            recurrent_mask = self.get_recurrent_dropout_mask(h_prev)
        return input_mask, recurrent_mask
