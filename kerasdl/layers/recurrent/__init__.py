"""Hand-written recurrent cells: `SimpleRNNCell`, `LSTMCell` and `GRUCell`.

A cell computes one time step (input at t and state from t-1 to output and new
state); `keras.layers.RNN(cell)` runs it over the time axis and adds sequences,
states, masking, `go_backwards`, stacking and `Bidirectional`. The weights are laid
out as in Keras's own cells, so `cell.set_weights(keras_layer.get_weights())` gives
the same outputs. One module per cell; `base` holds what they share and `dropout`
the per-sequence ("variational") dropout masks, equal to Keras's for a seed.
"""

from kerasdl.layers.recurrent.gru_cell import GRUCell
from kerasdl.layers.recurrent.lstm_cell import LSTMCell
from kerasdl.layers.recurrent.simple_rnn_cell import SimpleRNNCell

__all__ = ["GRUCell", "LSTMCell", "SimpleRNNCell"]
