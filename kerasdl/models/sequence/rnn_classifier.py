"""Recurrent sequence models built on kerasdl's hand-written cells.

- `build_sequence_classifier`: one label per sequence. Float sequences
  `(time, features)` or integer token sequences (an `Embedding` with
  `mask_zero=True`, so padding id 0 is masked), then one or more
  `keras.layers.RNN(cell)` layers (optionally `Bidirectional`) and a softmax.
- `Seq2SeqLSTM` (from `kerasdl.models.sequence.seq2seq_lstm`, re-exported): an LSTM
  encoder-decoder (Sutskever et al., 2014) over integer tokens, trained by
  teacher forcing and decoded greedily.
- `make_reversal_task`: a **synthetic** sequence-to-sequence task (reverse or
  sort a random digit string), since no dataset shipped with a dependency holds
  sequence pairs; `sequence_exact_match` scores decoded sequences.

The cells are `kerasdl.layers.recurrent.SimpleRNNCell`, `LSTMCell` and `GRUCell`
inside `keras.layers.RNN`, which adds masking, stacking, `return_state` and
`Bidirectional` around them.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

from kerasdl._checks import check_float, check_int
from kerasdl.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell
from kerasdl.models.sequence.seq2seq_lstm import (
    PAD,
    Seq2SeqLSTM,
    make_teacher_forcing_inputs,
)

__all__ = [
    "CELLS",
    "Seq2SeqData",
    "Seq2SeqLSTM",
    "build_sequence_classifier",
    "make_cell",
    "make_reversal_task",
    "make_teacher_forcing_inputs",
    "sequence_exact_match",
]

CELLS = {"rnn": SimpleRNNCell, "lstm": LSTMCell, "gru": GRUCell}
START, END = 1, 2  # token ids of the synthetic task (0 is padding); digits follow


def make_cell(cell, units, **kwargs):
    """A new recurrent cell from its name (`"rnn"`, `"lstm"`, `"gru"`).

    Args:
        cell: A name in `CELLS`, or a cell layer instance (a fresh copy with the
            same config is returned; `units` and `kwargs` are then ignored).
        units: Size of the state, >= 1.
        **kwargs: Passed to the cell class (e.g. `unit_forget_bias=False`).

    Returns:
        An unbuilt `SimpleRNNCell`, `LSTMCell` or `GRUCell` (or the copy).
    """
    if isinstance(cell, keras.layers.Layer):
        return type(cell).from_config(cell.get_config())
    if not isinstance(cell, str) or cell.lower() not in CELLS:
        raise ValueError(
            f"`cell` must be one of {sorted(CELLS)} or a cell layer; "
            f"received cell={cell!r}."
        )
    return CELLS[cell.lower()](check_int("units", units), **kwargs)


# ------------------------------------------------------------------ classifier


def _is_dims(shape, rank):
    """Whether `shape` is a tuple/list of `rank` entries, each None or an int > 0."""
    return (
        isinstance(shape, (tuple, list))
        and len(shape) == rank
        and all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0)
            for d in shape
        )
    )


def build_sequence_classifier(
    input_shape=None,
    *,
    num_classes,
    vocab_size=None,
    embedding_dim=None,
    cell="lstm",
    units=64,
    num_layers=1,
    bidirectional=False,
    dropout=0.0,
    compiled=False,
    learning_rate=1e-3,
    name="sequence_classifier",
):
    """A recurrent classifier: sequence in, class probabilities out.

    Graph: [Embedding(mask_zero=True)] -> `num_layers` x RNN(cell) (each
    wrapped in `Bidirectional` if asked, all but the last returning sequences,
    `Dropout` between) -> Dropout -> Dense(num_classes, softmax).

    Two input kinds:
    - float sequences: give `input_shape=(time, features)` (`time` may be None);
    - integer tokens: give `vocab_size` (and optionally `input_shape=(time,)`);
      id 0 is padding and is masked, so a padded sequence gives the same output
      as the unpadded one.

    Args:
        input_shape: `(time, features)` for float inputs, `(time,)` or None for
            tokens. `time` may be None (any length).
        num_classes: Number of classes, >= 2 (keyword-only, required).
        vocab_size: Number of token ids (0 = padding) for token inputs.
        embedding_dim: Size of the token vectors; token inputs only; default
            `units`.
        cell: `"lstm"`, `"gru"` or `"rnn"` (SimpleRNN).
        units: State size of every recurrent layer (per direction).
        num_layers: Number of stacked recurrent layers, >= 1.
        bidirectional: Wrap each recurrent layer in `keras.layers.Bidirectional`
            (outputs of both directions concatenated).
        dropout: Dropout rate between layers and before the head, in [0, 1).
        compiled: If True, return the model compiled with Adam(`learning_rate`),
            sparse categorical cross-entropy and accuracy (integer labels);
            otherwise compiling is the caller's job.
        learning_rate: Adam's learning rate when `compiled=True`.
        name: Name of the model.

    Returns:
        A functional `keras.Model` with output `(batch, num_classes)`.

    Example:

    ```python
    model = build_sequence_classifier((8, 8), num_classes=10, compiled=True)
    model.fit(x_train, y_train, epochs=20)  # x: (n, 8, 8) float32
    ```
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    units = check_int("units", units)
    num_layers = check_int("num_layers", num_layers)
    dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)
    make_cell(cell, units)  # checks the name
    if not isinstance(bidirectional, bool):
        raise ValueError(
            f"`bidirectional` must be True or False; received {bidirectional!r}."
        )
    if vocab_size is None:
        if embedding_dim is not None:
            raise ValueError(
                "`embedding_dim` applies to token inputs only: give `vocab_size` "
                f"too; received embedding_dim={embedding_dim!r}, vocab_size=None."
            )
        if not _is_dims(input_shape, 2) or input_shape[1] is None:
            raise ValueError(
                "Float sequence inputs need `input_shape=(time, features)` (time "
                "may be None), or give `vocab_size` for token inputs; received "
                f"input_shape={input_shape!r}."
            )
        inputs = keras.Input(tuple(input_shape), name="sequences")
        x = inputs
    else:
        vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        embedding_dim = check_int(
            "embedding_dim", units if embedding_dim is None else embedding_dim
        )
        if input_shape is None:
            input_shape = (None,)
        if not _is_dims(input_shape, 1):
            raise ValueError(
                "Token inputs take `input_shape=(time,)` or None; received "
                f"input_shape={input_shape!r}."
            )
        inputs = keras.Input(tuple(input_shape), dtype="int32", name="tokens")
        x = keras.layers.Embedding(
            vocab_size, embedding_dim, mask_zero=True, name="embedding"
        )(inputs)

    for i in range(num_layers):
        last = i == num_layers - 1
        rnn = keras.layers.RNN(
            make_cell(cell, units), return_sequences=not last, name=f"rnn_{i}"
        )
        if bidirectional:
            rnn = keras.layers.Bidirectional(rnn, name=f"bidirectional_{i}")
        x = rnn(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(num_classes, "softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=name)
    if compiled:
        model.compile(
            optimizer=keras.optimizers.Adam(
                check_float("learning_rate", learning_rate, low=0.0, low_open=True)
            ),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    return model


# ------------------------------------------------------------------ toy task


class Seq2SeqData(NamedTuple):
    """A synthetic sequence-to-sequence set (see `make_reversal_task`)."""

    source: np.ndarray  # int32 (n, max_length): digit tokens, then 0
    target: np.ndarray  # int32 (n, max_length + 1): answer tokens, END, then 0
    decoder_input: np.ndarray  # int32 (n, max_length + 1): START + target[:-1]
    vocab_size: int  # ids 0 (pad), 1 (start), 2 (end), 3.. the symbols
    start_token_id: int
    end_token_id: int


def make_reversal_task(
    n, min_length=3, max_length=8, num_symbols=10, seed=0, mode="reverse"
):
    """A SYNTHETIC toy task: map a random digit string to its reverse (or sort).

    Symbol k (0 <= k < num_symbols) is token id k + 3; 0 is padding, 1 start,
    2 end, on both sides (one shared vocabulary).

    Args:
        n: Number of pairs.
        min_length: Shortest source (>= 1).
        max_length: Longest source (>= min_length).
        num_symbols: Number of distinct symbols (>= 2).
        seed: Seed of the NumPy generator.
        mode: `"reverse"` (target = source backwards) or `"sort"` (ascending).

    Returns:
        A `Seq2SeqData`.

    Example:

    ```python
    data = make_reversal_task(2, min_length=3, max_length=4, seed=0)
    # source [[5, 9, 4, 0], ...] -> target [[4, 9, 5, 2, 0], ...]
    ```
    """
    n = check_int("n", n)
    min_length = check_int("min_length", min_length)
    max_length = check_int("max_length", max_length, minimum=min_length)
    num_symbols = check_int("num_symbols", num_symbols, minimum=2)
    if mode not in ("reverse", "sort"):
        raise ValueError(f"`mode` must be 'reverse' or 'sort'; received {mode!r}.")
    rng = np.random.default_rng(seed)
    source = np.zeros((n, max_length), "int32")
    target = np.zeros((n, max_length + 1), "int32")
    lengths = rng.integers(min_length, max_length + 1, size=n)
    for i, length in enumerate(lengths):
        tokens = rng.integers(0, num_symbols, size=length) + 3
        answer = tokens[::-1] if mode == "reverse" else np.sort(tokens)
        source[i, :length] = tokens
        target[i, :length] = answer
        target[i, length] = END
    return Seq2SeqData(
        source,
        target,
        make_teacher_forcing_inputs(target, START),
        num_symbols + 3,
        START,
        END,
    )


def _until_end(row, end_token_id):
    row = [int(t) for t in row]
    if end_token_id in row:
        return row[: row.index(end_token_id) + 1]
    while row and row[-1] == PAD:
        row.pop()
    return row


def sequence_exact_match(predicted, target, end_token_id=END):
    """Fraction of rows whose prediction equals the target, end token included.

    Each row is cut after its first end token (or, with none, its trailing 0s
    are dropped), so padding and whatever follows the end token do not count.

    Args:
        predicted: Integer ids `(n, time)` (e.g. from `greedy_decode`).
        target: Integer ids `(n, time')`; the widths may differ.
        end_token_id: The end id.

    Returns:
        A float in [0, 1].
    """
    predicted, target = np.asarray(predicted), np.asarray(target)
    if predicted.ndim != 2 or target.ndim != 2 or len(predicted) != len(target):
        raise ValueError(
            "`predicted` and `target` must be 2-D with the same number of rows; "
            f"received shapes {predicted.shape} and {target.shape}."
        )
    if len(target) == 0:
        raise ValueError("`target` is empty; received 0 rows.")
    hits = [
        _until_end(p, end_token_id) == _until_end(t, end_token_id)
        for p, t in zip(predicted, target)
    ]
    return float(np.mean(hits))
