"""kerasdl.layers.recurrent.dropout: the per-sequence dropout masks and the one
private Keras class they depend on (found by `kerasdl.backend`).

The masks themselves are proven equal to Keras's cells' masks in
`test_recurrent_cells.py`; these tests say loudly when a new Keras breaks the hook.
"""

import keras
import numpy as np
import pytest

from kerasdl import backend
from kerasdl.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell
from kerasdl.layers.recurrent import dropout as recurrent_dropout


def test_keras_rnn_still_has_the_dropout_cell_class():
    found = backend.keras_dropout_rnn_cell()
    assert found is not None, (
        f"Keras {keras.__version__} has no DropoutRNNCell where "
        "kerasdl.backend.keras_dropout_rnn_cell looks "
        f"({'.'.join(backend._KERAS_DROPOUT_RNN_CELL)}); keras.layers.RNN would not "
        "draw and forget the cells' dropout masks per sequence. Find where Keras "
        "moved it and update that function."
    )
    for cell in (SimpleRNNCell(2), LSTMCell(2), GRUCell(2)):
        assert isinstance(cell, found)


class _CountingCell(LSTMCell):
    """Counts the mask hooks `keras.layers.RNN` calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def get_dropout_mask(self, step_input):
        self.calls.append("get")
        return super().get_dropout_mask(step_input)

    def reset_dropout_mask(self):
        self.calls.append("reset")
        super().reset_dropout_mask()


def test_keras_rnn_draws_the_masks_before_the_loop_and_forgets_them_after():
    cell = _CountingCell(3, dropout=0.5, seed=0)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    x = np.ones((4, 5, 2), "float32")
    first = keras.ops.convert_to_numpy(rnn(x, training=True))
    assert cell.calls and cell.calls[0] == "get" and cell.calls[-1] == "reset", (
        "keras.layers.RNN no longer calls get_dropout_mask before its time loop and "
        f"reset_dropout_mask after it (calls seen: {cell.calls})."
    )
    second = keras.ops.convert_to_numpy(rnn(x, training=True))
    assert not np.allclose(first, second)  # forgotten: a new mask per call


def test_a_cell_called_directly_keeps_its_masks_until_reset():
    cell = SimpleRNNCell(3, dropout=0.5, recurrent_dropout=0.5, seed=1)
    x, h = np.ones((4, 2), "float32"), np.ones((4, 3), "float32")
    cell(x, [h], training=True)
    mask = keras.ops.convert_to_numpy(cell.get_dropout_mask(x))
    cell(x, [h], training=True)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(cell.get_dropout_mask(x)), mask
    )
    cell.reset_dropout_mask()
    cell.reset_recurrent_dropout_mask()
    assert not np.array_equal(
        keras.ops.convert_to_numpy(cell.get_dropout_mask(x)), mask
    )


def test_without_the_keras_class_dropout_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(recurrent_dropout, "_KERAS_DROPOUT_CELL", None)
    LSTMCell(2)  # no dropout: nothing to hook
    with pytest.raises(RuntimeError, match="needs Keras's DropoutRNNCell"):
        LSTMCell(2, dropout=0.1)


def test_the_seam_returns_none_where_keras_moved_the_class(monkeypatch):
    monkeypatch.setattr(
        backend, "_KERAS_DROPOUT_RNN_CELL", ("keras.src.nowhere", "DropoutRNNCell")
    )
    assert backend.keras_dropout_rnn_cell() is None
    monkeypatch.setattr(
        backend,
        "_KERAS_DROPOUT_RNN_CELL",
        ("keras.src.layers.rnn.dropout_rnn_cell", "Missing"),
    )
    assert backend.keras_dropout_rnn_cell() is None
