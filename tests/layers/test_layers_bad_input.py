"""Bad input to the hand-written layers: each mistake raises ValueError naming the
argument and the shape or value received, on every backend, before any backend
op can fail with its own (JAX dot_general, TensorFlow MatMul) message."""

import re

import keras
import numpy as np
import pytest

from kerasdl.layers.attention import MultiHeadAttention
from kerasdl.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell

CELLS = {"simple_rnn": SimpleRNNCell, "lstm": LSTMCell, "gru": GRUCell}


def _zeros(*shape):
    return np.zeros(shape, "float32")


def _built(name, units=3, features=4):
    cell = CELLS[name](units)
    cell.build((None, features))
    return cell


def _states(name, *shape):
    return [_zeros(*shape)] * (2 if name == "lstm" else 1)


def _shape(shape):
    return re.escape(str(tuple(shape)))


@pytest.fixture(params=sorted(CELLS))
def name(request):
    return request.param


# --- Recurrent cells, one step --------------------------------------------------


def test_cell_inputs_of_the_wrong_width(name):
    cell = _built(name)
    with pytest.raises(
        ValueError, match=rf"`inputs` with 4 features.*{_shape((2, 5))}"
    ):
        cell(_zeros(2, 5), _states(name, 2, 3))


def test_cell_inputs_of_rank_3(name):
    cell = _built(name)
    with pytest.raises(ValueError, match=rf"`inputs` of rank 2.*{_shape((2, 6, 4))}"):
        cell(_zeros(2, 6, 4), _states(name, 2, 3))


def test_cell_built_for_a_sequence(name):
    with pytest.raises(ValueError, match=rf"`inputs` of rank 2.*{_shape((2, 6, 4))}"):
        CELLS[name](3).build((2, 6, 4))


def test_cell_state_of_the_wrong_size(name):
    cell = _built(name)
    with pytest.raises(
        ValueError, match=rf"`states\[0\]` of shape \(batch, 3\).*{_shape((2, 5))}"
    ):
        cell(_zeros(2, 4), _states(name, 2, 5))


def test_cell_state_of_another_batch(name):
    cell = _built(name)
    with pytest.raises(ValueError, match=rf"`states\[0\]`.*{_shape((7, 3))}"):
        cell(_zeros(2, 4), _states(name, 7, 3))


def test_cell_state_of_rank_1(name):
    cell = _built(name)
    with pytest.raises(ValueError, match=rf"`states\[0\]`.*{_shape((3,))}"):
        cell(_zeros(2, 4), _states(name, 3))


def test_lstm_needs_two_states():
    cell = _built("lstm")
    with pytest.raises(ValueError, match=r"`states` to hold 2 tensor\(s\).*received 1"):
        cell(_zeros(2, 4), [_zeros(2, 3)])


def test_gru_takes_one_state():
    cell = _built("gru")
    with pytest.raises(ValueError, match=r"`states` to hold 1 tensor\(s\).*received 2"):
        cell(_zeros(2, 4), [_zeros(2, 3), _zeros(2, 3)])


def test_rnn_built_for_other_features_names_inputs(name):
    """Through keras.layers.RNN, on a built layer: the cell's check speaks."""
    layer = keras.layers.RNN(CELLS[name](3))
    layer(_zeros(2, 6, 4))
    with pytest.raises(
        ValueError, match=rf"`inputs` with 4 features.*{_shape((2, 5))}"
    ):
        layer(_zeros(2, 6, 5))


def test_rnn_initial_state_of_the_wrong_size(name):
    layer = keras.layers.RNN(CELLS[name](3))
    with pytest.raises(ValueError, match=rf"`states\[0\]`.*{_shape((2, 4))}"):
        layer(_zeros(2, 6, 4), initial_state=_states(name, 2, 4))


def test_symbolic_inputs_with_unknown_batch_are_checked(name):
    cell = _built(name)
    states = [keras.Input((3,))] * (2 if name == "lstm" else 1)
    with pytest.raises(
        ValueError, match=rf"`inputs` with 4 features.*{_shape((None, 5))}"
    ):
        cell(keras.Input((5,)), states)


@pytest.mark.parametrize("argument", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("value", [-0.5, 1.0])
def test_cell_dropout_outside_the_unit_interval(name, argument, value):
    with pytest.raises(ValueError, match=rf"`{argument}` must be.*{argument}={value}"):
        CELLS[name](3, **{argument: value})


# --- Multi-head attention --------------------------------------------------------


def _mha():
    layer = MultiHeadAttention(2, 4)
    layer(_zeros(2, 5, 6), _zeros(2, 7, 6))
    return layer


def test_attention_query_of_the_wrong_width():
    with pytest.raises(
        ValueError, match=rf"built for `query` with 6 features.*{_shape((2, 5, 3))}"
    ):
        _mha()(_zeros(2, 5, 3), _zeros(2, 7, 6))


def test_attention_key_of_the_wrong_width():
    with pytest.raises(
        ValueError, match=rf"built for `key` with 6 features.*{_shape((2, 7, 2))}"
    ):
        _mha()(_zeros(2, 5, 6), _zeros(2, 7, 6), _zeros(2, 7, 2))


def test_attention_query_of_rank_2():
    with pytest.raises(ValueError, match=rf"`query` of rank 3.*{_shape((5, 6))}"):
        _mha()(_zeros(5, 6), _zeros(2, 7, 6))


@pytest.mark.parametrize(
    "shape",
    [(2, 3, 5, 7), (2, 5, 6), (5, 7, 1), (3, 5, 7), (2, 1, 5, 7, 1), (7,)],
)
def test_attention_mask_of_the_wrong_shape(shape):
    with pytest.raises(
        ValueError, match=rf"`attention_mask` of shape.*{_shape(shape)}"
    ):
        _mha()(_zeros(2, 5, 6), _zeros(2, 7, 6), attention_mask=np.ones(shape, bool))


def test_attention_mask_checked_on_symbolic_inputs():
    query, value = keras.Input((5, 6)), keras.Input((7, 6))
    mask = keras.Input((5, 8), dtype="bool")
    with pytest.raises(
        ValueError, match=rf"`attention_mask` of shape.*{_shape((None, 5, 8))}"
    ):
        MultiHeadAttention(2, 4)(query, value, attention_mask=mask)


def test_attention_bad_attention_axes():
    with pytest.raises(ValueError, match=r"attention_axes=\[\]"):
        MultiHeadAttention(2, 4, attention_axes=[])
    with pytest.raises(ValueError, match=r"attention_axes=\(0,\)"):
        MultiHeadAttention(2, 4, attention_axes=0)(
            _zeros(2, 3, 5, 6), _zeros(2, 3, 5, 6)
        )
