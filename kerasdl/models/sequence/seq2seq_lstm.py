"""`Seq2SeqLSTM`: an LSTM encoder-decoder over integer tokens, with teacher
forcing and compiled greedy decoding (Sutskever et al., 2014).

Token id 0 is padding. The encoder's final `[h, c]` is the decoder's initial
state; there is no attention, so the whole source passes through one state
vector. `kerasdl.models.sequence.rnn_classifier` re-exports everything here and holds a
synthetic task to train it on (`make_reversal_task`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl._checks import check_int
from kerasdl.layers.recurrent import LSTMCell
from kerasdl.models.base import SubclassedModel

__all__ = ["Seq2SeqLSTM", "make_teacher_forcing_inputs"]

PAD = 0  # padding id, on both sides
_SUPPRESSED = -1e9  # added to the logits of ids that greedy decoding never emits


def make_teacher_forcing_inputs(targets, start_token_id):
    """Decoder inputs for teacher forcing: the targets shifted right by one.

    Args:
        targets: Integer ids `(batch, time)`: each row the target tokens, its
            end token, then padding 0.
        start_token_id: Id placed first in every row.

    Returns:
        int32 `(batch, time)`: `[start, targets[:, :-1]]`. The decoder reading
        position t has seen the targets before t only, and learns target t.
    """
    targets = np.asarray(targets)
    if targets.ndim != 2 or targets.dtype.kind not in "iu":
        raise ValueError(
            "Expected integer `targets` of shape (batch, time); received "
            f"{targets.dtype} array of shape {targets.shape}."
        )
    start = np.full((len(targets), 1), check_int("start_token_id", start_token_id))
    return np.concatenate([start, targets[:, :-1]], axis=1).astype("int32")


@keras.saving.register_keras_serializable(package="kerasdl")
class Seq2SeqLSTM(SubclassedModel):
    """LSTM encoder-decoder over integer tokens (Sutskever et al., 2014).

    The encoder (`Embedding` -> `RNN(LSTMCell, return_state=True)`, padding 0
    masked) reads the source; its final state `[h, c]` is the decoder's initial
    state. The decoder (`Embedding` -> `RNN(LSTMCell, return_sequences=True)`)
    reads the decoder inputs and a Dense layer gives the logits of the next
    target token at every position (no attention: the whole source passes
    through one state).

    Training is teacher forcing: `decoder_input = make_teacher_forcing_inputs(
    target, start_token_id)`, the loss `SparseCategoricalCrossentropy(
    from_logits=True, ignore_class=0)` against `target` (compile is yours).
    `greedy_decode` feeds back its own most likely token (never 0 nor the start
    id) one step at a time, with compiled encode and step functions.

    Args:
        source_vocab_size: Number of source ids (0 is padding), >= 2.
        target_vocab_size: Number of target ids (0 is padding; the start and end
            ids are among them), >= 3.
        embedding_dim: Size of the token vectors (both sides).
        units: State size of the encoder and decoder LSTMs.
        start_token_id: Target id that starts every decoder input.
        end_token_id: Target id that ends a target; decoding stops there.
        target_max_length: Default number of decoding steps.
        **kwargs: Passed to `SubclassedModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: A pair `(source, decoder_input)`, int ids `(batch, source_time)`
            and `(batch, target_time)`.
        training: Unused (no dropout); accepted for Keras.

    Returns:
        Logits `(batch, target_time, target_vocab_size)`. The source padding is
        masked (the encoder's state skips it); the decoder inputs are not: the
        decoder is causal, so padding after the end token changes only the
        outputs at padded target positions, which `ignore_class=0` leaves out
        of the loss.

    Example:

    ```python
    data = make_reversal_task(5000, seed=0)
    model = Seq2SeqLSTM(data.vocab_size, data.vocab_size, target_max_length=9)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=0))
    model.fit((data.source, data.decoder_input), data.target, epochs=10)
    tokens = model.greedy_decode(data.source[:5])
    ```
    """

    def __init__(
        self,
        source_vocab_size,
        target_vocab_size,
        embedding_dim=32,
        units=64,
        start_token_id=1,
        end_token_id=2,
        target_max_length=20,
        **kwargs,
    ):
        kwargs.setdefault("name", "seq2seq_lstm")
        super().__init__(**kwargs)
        self.source_vocab_size = check_int("source_vocab_size", source_vocab_size, 2)
        self.target_vocab_size = check_int("target_vocab_size", target_vocab_size, 3)
        self.embedding_dim = check_int("embedding_dim", embedding_dim)
        self.units = check_int("units", units)
        self.start_token_id = check_int("start_token_id", start_token_id)
        self.end_token_id = check_int("end_token_id", end_token_id)
        self.target_max_length = check_int("target_max_length", target_max_length)
        for arg, value in (
            ("start_token_id", start_token_id),
            ("end_token_id", end_token_id),
        ):
            if value >= target_vocab_size:
                raise ValueError(
                    f"`{arg}` must be < target_vocab_size ({target_vocab_size}); "
                    f"received {arg}={value}."
                )
        if start_token_id == end_token_id:
            raise ValueError(
                "`start_token_id` and `end_token_id` must differ; received both "
                f"= {start_token_id}."
            )
        # Layers.
        self.source_embedding = keras.layers.Embedding(
            source_vocab_size, embedding_dim, name="source_embedding"
        )
        self.encoder = keras.layers.RNN(
            LSTMCell(units), return_state=True, name="encoder"
        )
        self.target_embedding = keras.layers.Embedding(
            target_vocab_size, embedding_dim, name="target_embedding"
        )
        self.decoder = keras.layers.RNN(
            LSTMCell(units), return_sequences=True, return_state=True, name="decoder"
        )
        self.head = keras.layers.Dense(target_vocab_size, name="logits")
        self._compiled = {}

    def build(self, inputs_shape=None):
        self.source_embedding.build((None, None))
        self.target_embedding.build((None, None))
        self.encoder.build((None, None, self.embedding_dim))
        self.decoder.build((None, None, self.embedding_dim))
        self.head.build((None, self.units))
        self.built = True

    def encode(self, source):
        """The encoder's final state `[h, c]` for int ids `(batch, time)`."""
        source = ops.cast(source, "int32")
        _, h, c = self.encoder(
            self.source_embedding(source), mask=ops.not_equal(source, PAD)
        )
        return [h, c]

    def call(self, inputs, training=None):
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise ValueError(
                "Seq2SeqLSTM takes a pair (source, decoder_input); received "
                f"{type(inputs).__name__}."
            )
        source, decoder_input = inputs
        states = self.encode(source)
        x = self.target_embedding(ops.cast(decoder_input, "int32"))
        sequence, _, _ = self.decoder(x, initial_state=states)
        return self.head(sequence)

    def compute_output_shape(self, inputs_shape):
        _, target_shape = inputs_shape
        return (target_shape[0], target_shape[1], self.target_vocab_size)

    # ---- Greedy decoding --------------------------------------------------------

    def _step(self, token, h, c):
        """One decoder step: the next token (argmax over allowed ids) and state."""
        x = self.target_embedding(token)
        out, (h, c) = self.decoder.cell(x, [h, c])
        suppressed = np.zeros((self.target_vocab_size,), "float32")
        suppressed[[PAD, self.start_token_id]] = _SUPPRESSED
        logits = ops.add(self.head(out), suppressed)
        return ops.cast(ops.argmax(logits, axis=-1), "int32"), h, c

    def _compiled_fn(self, name, fn):
        if name not in self._compiled:
            self._compiled[name] = backend.compile_function(fn, self.weights)
        return self._compiled[name]

    def greedy_decode(self, source, max_length=None, batch_size=256):
        """Decodes `source` by feeding back the most likely token at each step.

        Pad (0) and the start id are never emitted. Each row stops at its end
        token; later positions are 0.

        Args:
            source: Integer ids `(batch, source_time)` or `(source_time,)`.
            max_length: Tokens to produce at most (end token included); default
                `target_max_length`.
            batch_size: Rows decoded together (one compiled shape per size).

        Returns:
            NumPy int32 `(batch, max_length)` (1-D for a 1-D source).
        """
        source = np.asarray(source)
        squeeze = source.ndim == 1
        source = source[None] if squeeze else source
        if source.ndim != 2 or source.dtype.kind not in "iu" or source.size == 0:
            raise ValueError(
                "Expected integer `source` of shape (batch, time) or (time,); "
                f"received {source.dtype} array of shape {np.shape(source)}."
            )
        if source.min() < 0 or source.max() >= self.source_vocab_size:
            raise ValueError(
                f"`source` ids must be in [0, {self.source_vocab_size}); received "
                f"values from {source.min()} to {source.max()}."
            )
        if max_length is None:
            max_length = self.target_max_length
        max_length = check_int("max_length", max_length)
        batch_size = check_int("batch_size", batch_size)
        if not self.built:
            self.build()
        encode = self._compiled_fn("encode", lambda s: tuple(self.encode(s)))
        step = self._compiled_fn("step", self._step)
        out = np.zeros((len(source), max_length), "int32")
        size = min(batch_size, len(source))
        for begin in range(0, len(source), size):
            chunk = source[begin : begin + size].astype("int32")
            real = len(chunk)
            if real < size:  # same shape as the other chunks: no recompilation
                chunk = np.concatenate([chunk, np.repeat(chunk[:1], size - real, 0)])
            h, c = encode(chunk)
            token = np.full((size,), self.start_token_id, "int32")
            done = np.zeros((size,), bool)
            for t in range(max_length):
                token, h, c = step(token, h, c)
                token = np.where(done, PAD, ops.convert_to_numpy(token)).astype("int32")
                out[begin : begin + real, t] = token[:real]
                done |= token == self.end_token_id
                if done[:real].all():
                    break
        return out[0] if squeeze else out

    # ---- Config -----------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "source_vocab_size": self.source_vocab_size,
                "target_vocab_size": self.target_vocab_size,
                "embedding_dim": self.embedding_dim,
                "units": self.units,
                "start_token_id": self.start_token_id,
                "end_token_id": self.end_token_id,
                "target_max_length": self.target_max_length,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
