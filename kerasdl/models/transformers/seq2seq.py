"""An encoder-decoder Transformer with greedy and beam-search decoding.

`TransformerSeq2Seq` is the model of "Attention Is All You Need" (Vaswani et
al., 2017) at any size: the source tokens go through an encoder (token and
learned position embeddings, `TransformerEncoderBlock`s), the target tokens
through a decoder (`TransformerDecoderBlock`s with causal self-attention and
cross-attention to the encoder's outputs), and a Dense head gives the logits of
the next target token. Token id 0 is padding on both sides and is masked out.

Training is teacher forcing: `model((source, decoder_inputs))` with
`decoder_inputs = [start] + target` predicts `target + [end]`, every position at
once; position t sees the decoder inputs 0..t only (tested).

Decoding (`greedy_decode`, `beam_search_decode`) starts from the start token and
adds one token at a time, until the end token or `max_length`. Each decoder
layer keeps the keys and values of the tokens already decoded (a key/value
cache), so that a step costs one position, not the whole prefix; the uncached
path (`use_cache=False`) re-runs the decoder on the whole prefix at each step
and gives the same tokens (tested). The padding and start ids are never
generated: the decoding distribution is the softmax of the logits with those two
ids removed, and `sequence_log_prob` scores a sequence under that distribution.

The task it is benchmarked on (`kerasdl.data.date_task`:
`DateTranslationTask` / `make_date_dataset`) is **synthetic**: no
dataset shipped with a dependency holds sequence-to-sequence pairs, so dates are
drawn at random and written in a dozen human formats ("saturday 9 may 1998",
"9/5/98", "may 9, 1998", "09 MAY 1998", ...), the target being the ISO form
"1998-05-09". `exact_match` scores whole strings.

Example:

```python
task = DateTranslationTask()
train = make_date_dataset(20000, seed=0)
model = task.build_model(hidden_dim=64, num_layers=2, num_heads=4)
model.compile(
    keras.optimizers.Adam(1e-3),
    keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
)
model.fit((train.source_ids, train.decoder_inputs), train.decoder_targets)
print(task.translate(model, ["saturday 9 may 1998"], beam_width=4))
```
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl._checks import check_float, check_int
from kerasdl.layers.positional import LearnedPositionEmbedding
from kerasdl.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock
from kerasdl.models.base import SubclassedModel

__all__ = ["TransformerSeq2Seq"]

# Filled into the logits of ids that are never generated (padding, start):
# large enough to give them no probability, finite so that no NaN can appear.
_SUPPRESSED = -1e9


def _as_id_array(ids, name, vocab_size, max_length):
    """`ids` as int32 `(batch, time)` (a 1-D array is one row); checks values."""
    ids = np.asarray(ids)
    squeeze = ids.ndim == 1
    if squeeze:
        ids = ids[None]
    if ids.ndim != 2 or ids.shape[0] < 1 or ids.shape[1] < 1:
        raise ValueError(
            f"Expected `{name}` of shape (time,) or (batch, time), non-empty; "
            f"received shape {ids.shape}."
        )
    if ids.dtype.kind not in "iu":
        raise ValueError(f"`{name}` must hold integer ids; received dtype {ids.dtype}.")
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(
            f"`{name}` ids must be in [0, {vocab_size}); received values from "
            f"{ids.min()} to {ids.max()}."
        )
    if ids.shape[1] > max_length:
        raise ValueError(
            f"`{name}` may hold at most {max_length} tokens (the model's max "
            f"length); received {ids.shape[1]}."
        )
    return ids.astype("int32"), squeeze


@keras.saving.register_keras_serializable(package="kerasdl")
class TransformerSeq2Seq(SubclassedModel):
    """Encoder-decoder Transformer (Vaswani et al., 2017) for sequence to sequence.

    Args:
        source_vocab_size: Number of source token ids (0 is padding).
        target_vocab_size: Number of target token ids (0 is padding; the start
            and end ids are among them).
        source_max_length: Longest source sequence (size of its position table).
        target_max_length: Longest decoder sequence: the start token plus the
            target tokens (equivalently the target plus the end token). Also the
            most tokens a decoding can produce and the size of the key/value
            cache.
        hidden_dim: Model width; divisible by `num_heads`.
        num_layers: Number of encoder blocks, and of decoder blocks.
        num_heads: Attention heads per attention layer.
        intermediate_dim: Feed-forward width; default `4 * hidden_dim`.
        dropout: Dropout of the embeddings, attention weights and sub-layer
            outputs (training only).
        norm_first: Pre-norm blocks (True, with a final LayerNorm after each
            stack) or post-norm blocks (False, the 2017 paper).
        start_token_id: Target id that starts every decoder input.
        end_token_id: Target id that ends a target; decoding stops there.
        layer_norm_epsilon: Epsilon of the LayerNorms.
        seed: Integer seed of the initializers and dropouts.
        **kwargs: Passed to `keras.Model` (e.g. `name`, `dtype`).

    Call arguments:
        inputs: A pair `(source_tokens, decoder_input_tokens)`: integer ids
            `(batch, source_time)` and `(batch, target_time)`; id 0 (padding) is
            masked in both.
        training: Whether dropout is active.

    Returns:
        Logits `(batch, target_time, target_vocab_size)` (float32); those at
        position t depend on the decoder inputs 0..t and on the whole source.

    Example:

    ```python
    model = TransformerSeq2Seq(68, 14, source_max_length=32, target_max_length=11)
    logits = model((source_ids, decoder_inputs))
    tokens = model.beam_search_decode(source_ids, beam_width=4)
    ```
    """

    def __init__(
        self,
        source_vocab_size,
        target_vocab_size,
        source_max_length,
        target_max_length,
        hidden_dim=128,
        num_layers=2,
        num_heads=4,
        intermediate_dim=None,
        dropout=0.1,
        norm_first=True,
        start_token_id=1,
        end_token_id=2,
        layer_norm_epsilon=1e-5,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.source_vocab_size = check_int(
            "source_vocab_size", source_vocab_size, minimum=2
        )
        self.target_vocab_size = check_int(
            "target_vocab_size", target_vocab_size, minimum=4
        )
        self.source_max_length = check_int("source_max_length", source_max_length)
        self.target_max_length = check_int("target_max_length", target_max_length)
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        self.num_layers = check_int("num_layers", num_layers)
        self.num_heads = check_int("num_heads", num_heads)
        if hidden_dim % num_heads:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`; received "
                f"hidden_dim={hidden_dim} and num_heads={num_heads}."
            )
        self.intermediate_dim = check_int(
            "intermediate_dim", intermediate_dim, allow_none=True
        )
        self.dropout = check_float(
            "dropout", dropout, low=0.0, high=1.0, high_open=True
        )
        self.norm_first = bool(norm_first)
        self.start_token_id = check_int("start_token_id", start_token_id)
        self.end_token_id = check_int("end_token_id", end_token_id)
        for name, value in (
            ("start_token_id", start_token_id),
            ("end_token_id", end_token_id),
        ):
            if value >= target_vocab_size:
                raise ValueError(
                    f"`{name}` must be < target_vocab_size ({target_vocab_size}); "
                    f"received {name}={value}."
                )
        if start_token_id == end_token_id:
            raise ValueError(
                "`start_token_id` and `end_token_id` must differ; received both "
                f"= {start_token_id}."
            )
        self.layer_norm_epsilon = check_float(
            "layer_norm_epsilon", layer_norm_epsilon, low=0.0, low_open=True
        )
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.head_dim = hidden_dim // num_heads

        # ---- Layers -----------------------------------------------------------
        def normal(offset):
            return keras.initializers.RandomNormal(
                stddev=0.02, seed=None if seed is None else seed + offset
            )

        def block_seed(offset):
            return None if seed is None else seed + offset

        ffn = intermediate_dim or 4 * hidden_dim
        block_args = dict(
            dropout=dropout,
            norm_first=norm_first,
            layer_norm_epsilon=layer_norm_epsilon,
        )
        self.source_embedding = keras.layers.Embedding(
            source_vocab_size,
            hidden_dim,
            embeddings_initializer=normal(0),
            name="source_embedding",
        )
        self.source_positions = LearnedPositionEmbedding(
            source_max_length,
            embeddings_initializer=normal(1),
            name="source_positions",
        )
        self.target_embedding = keras.layers.Embedding(
            target_vocab_size,
            hidden_dim,
            embeddings_initializer=normal(2),
            name="target_embedding",
        )
        self.target_positions = LearnedPositionEmbedding(
            target_max_length,
            embeddings_initializer=normal(3),
            name="target_positions",
        )
        self.source_dropout = keras.layers.Dropout(dropout, seed=block_seed(4))
        self.target_dropout = keras.layers.Dropout(dropout, seed=block_seed(5))
        self.encoder_blocks = [
            TransformerEncoderBlock(
                num_heads,
                ffn,
                kernel_initializer=keras.initializers.GlorotUniform(
                    seed=block_seed(10 + i)
                ),
                seed=block_seed(100 + 10 * i),
                name=f"encoder_block_{i}",
                **block_args,
            )
            for i in range(num_layers)
        ]
        self.decoder_blocks = [
            TransformerDecoderBlock(
                num_heads,
                ffn,
                cross_attention=True,
                kernel_initializer=keras.initializers.GlorotUniform(
                    seed=block_seed(50 + i)
                ),
                seed=block_seed(500 + 10 * i),
                name=f"decoder_block_{i}",
                **block_args,
            )
            for i in range(num_layers)
        ]
        self.encoder_norm = self.decoder_norm = None
        if self.norm_first:  # a pre-norm stack ends with a LayerNorm
            self.encoder_norm = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, name="encoder_norm"
            )
            self.decoder_norm = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, name="decoder_norm"
            )
        self.output_projection = keras.layers.Dense(
            target_vocab_size,
            kernel_initializer=keras.initializers.GlorotUniform(seed=block_seed(6)),
            name="output_projection",
        )
        self._compiled = {}

    def build(self, inputs_shape):
        source_shape, target_shape = self._check_input_shapes(inputs_shape)
        self.source_embedding.build(source_shape)
        memory_shape = source_shape + (self.hidden_dim,)
        self.source_positions.build(memory_shape)
        for block in self.encoder_blocks:
            block.build(memory_shape)
        self.target_embedding.build(target_shape)
        features = target_shape + (self.hidden_dim,)
        self.target_positions.build(features)
        for block in self.decoder_blocks:
            block.build(features, memory_shape)
        if self.norm_first:
            self.encoder_norm.build(memory_shape)
            self.decoder_norm.build(features)
        self.output_projection.build(features)
        self.built = True

    def _check_input_shapes(self, inputs_shape):
        if not isinstance(inputs_shape, (tuple, list)) or len(inputs_shape) != 2:
            raise ValueError(
                "Expected `inputs` to be a pair (source_tokens, "
                f"decoder_input_tokens); received {inputs_shape!r}."
            )
        shapes = []
        for name, shape, limit, what in (
            ("source_tokens", inputs_shape[0], self.source_max_length, "source"),
            (
                "decoder_input_tokens",
                inputs_shape[1],
                self.target_max_length,
                "target",
            ),
        ):
            shape = tuple(shape)
            if len(shape) != 2:
                raise ValueError(
                    f"Expected `{name}` of rank 2 (batch, time); received shape "
                    f"{shape}."
                )
            if shape[1] is not None and shape[1] > limit:
                raise ValueError(
                    f"This model has {what}_max_length={limit}; received `{name}` "
                    f"of length {shape[1]}."
                )
            shapes.append(shape)
        return shapes

    # ---- Forward ---------------------------------------------------------------

    def encode_tensors(self, source_tokens, training=None):
        """The encoder's outputs `(batch, source_time, hidden_dim)` and the source
        padding mask `(batch, source_time)` (True for real tokens), as tensors."""
        source_tokens = ops.cast(source_tokens, "int32")
        source_mask = ops.not_equal(source_tokens, 0)
        x = self.source_positions(self.source_embedding(source_tokens))
        x = self.source_dropout(x, training=training)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=source_mask, training=training)
        if self.encoder_norm is not None:
            x = self.encoder_norm(x)
        return x, source_mask

    def _embed_target(self, tokens, start_index, training):
        x = self.target_embedding(ops.cast(tokens, "int32"))
        x = self.target_positions(x, start_index=start_index)
        return self.target_dropout(x, training=training)

    def _logits(self, x):
        if self.decoder_norm is not None:
            x = self.decoder_norm(x)
        return ops.cast(self.output_projection(x), "float32")

    def decode_tensors(self, decoder_tokens, memory, source_mask, training=None):
        """Logits `(batch, target_time, target_vocab_size)` of the decoder on
        `decoder_tokens`, given the encoder's outputs and source mask."""
        decoder_tokens = ops.cast(decoder_tokens, "int32")
        target_mask = ops.not_equal(decoder_tokens, 0)
        x = self._embed_target(decoder_tokens, 0, training)
        for block in self.decoder_blocks:
            x = block(
                x,
                encoder_outputs=memory,
                padding_mask=target_mask,
                encoder_padding_mask=source_mask,
                training=training,
            )
        return self._logits(x)

    def call(self, inputs, training=None):
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise ValueError(
                "Expected `inputs` to be a pair (source_tokens, "
                f"decoder_input_tokens); received {type(inputs).__name__}."
            )
        source, target = inputs
        self._check_input_shapes((source.shape, target.shape))
        memory, source_mask = self.encode_tensors(source, training)
        return self.decode_tensors(target, memory, source_mask, training)

    def compute_output_shape(self, inputs_shape):
        source_shape, target_shape = self._check_input_shapes(inputs_shape)
        return (source_shape[0], target_shape[1], self.target_vocab_size)

    def init_cache(self, batch_size):
        """An empty self-attention key/value cache `(batch, num_layers, 2,
        target_max_length, num_heads, head_dim)`."""
        check_int("batch_size", batch_size)
        shape = (
            batch_size,
            self.num_layers,
            2,
            self.target_max_length,
            self.num_heads,
            self.head_dim,
        )
        return ops.zeros(shape, dtype=self.compute_dtype)

    def call_with_cache(self, tokens, memory, source_mask, cache, cache_update_index):
        """Runs the decoder on `tokens` (at positions `cache_update_index`...),
        attending to the cached keys/values of the earlier target positions and
        to the whole source.

        Returns:
            `(logits, new_cache)`: logits `(batch, time, target_vocab_size)` of
            the new tokens and the cache with their keys and values written in.
        """
        x = self._embed_target(tokens, cache_update_index, False)
        layer_caches = []
        for i, block in enumerate(self.decoder_blocks):
            x, layer_cache = block(
                x,
                encoder_outputs=memory,
                encoder_padding_mask=source_mask,
                self_attention_cache=cache[:, i],
                cache_update_index=cache_update_index,
            )
            layer_caches.append(layer_cache)
        return self._logits(x), ops.stack(layer_caches, axis=1)

    def _decoding_log_probs(self, logits):
        """Log-softmax over the ids that can be generated (not padding, start)."""
        suppressed = np.zeros((self.target_vocab_size,), "float32")
        suppressed[[0, self.start_token_id]] = _SUPPRESSED
        return ops.log_softmax(logits + ops.convert_to_tensor(suppressed), axis=-1)

    # ---- Compiled pieces of decoding -------------------------------------------

    def _compiled_fn(self, name, fn):
        if name not in self._compiled:
            self._compiled[name] = backend.compile_function(fn, self.weights)
        return self._compiled[name]

    def _encode_repeated(self, source, repeats):
        def fn(source):
            memory, mask = self.encode_tensors(source, training=False)
            if repeats > 1:
                memory = ops.repeat(memory, repeats, axis=0)
                mask = ops.repeat(mask, repeats, axis=0)
            return memory, mask

        return self._compiled_fn(f"encode_{repeats}", fn)(source)

    def _cached_step(self, token, memory, mask, cache, index, parents):
        def fn(token, memory, mask, cache, index, parents):
            cache = ops.take(cache, parents, axis=0)  # follow the surviving beams
            logits, cache = self.call_with_cache(token, memory, mask, cache, index)
            return self._decoding_log_probs(logits[:, -1]), cache

        return self._compiled_fn("cached_step", fn)(
            token, memory, mask, cache, index, parents
        )

    def _full_step(self, buffer, memory, mask, index):
        def fn(buffer, memory, mask, index):
            logits = self.decode_tensors(buffer, memory, mask, training=False)
            return self._decoding_log_probs(ops.take(logits, index, axis=1))

        return self._compiled_fn("full_step", fn)(buffer, memory, mask, index)

    def _sequence_log_probs(self, source, decoder_inputs):
        def fn(source, decoder_inputs):
            logits = self((source, decoder_inputs), training=False)
            return self._decoding_log_probs(logits)

        return self._compiled_fn("sequence", fn)(source, decoder_inputs)

    # ---- Decoding --------------------------------------------------------------

    def _ensure_built(self):
        if not self.built:
            self.build(((None, None), (None, None)))

    def _source_ids(self, source):
        return _as_id_array(
            source, "source", self.source_vocab_size, self.source_max_length
        )

    def _max_length(self, max_length):
        if max_length is None:
            return self.target_max_length
        check_int("max_length", max_length)
        if max_length > self.target_max_length:
            raise ValueError(
                f"`max_length` must be <= target_max_length "
                f"({self.target_max_length}); received max_length={max_length}."
            )
        return max_length

    def encode(self, source):
        """The encoder's outputs for `source`, as NumPy.

        Args:
            source: Integer ids `(batch, source_time)` (or `(source_time,)`).

        Returns:
            Float array `(batch, source_time, hidden_dim)` (or 2-D for 1-D input).
        """
        source, squeeze = self._source_ids(source)
        self._ensure_built()
        memory, _ = self._encode_repeated(source, 1)
        memory = np.asarray(ops.convert_to_numpy(memory))
        return memory[0] if squeeze else memory

    def _chunks(self, source, batch_size):
        """Rows of `source` in chunks of `batch_size`; the last one padded (with
        copies of its first row) so that every chunk has one compiled shape."""
        n = len(source)
        size = min(batch_size, n)
        for start in range(0, n, size):
            chunk = source[start : start + size]
            real = len(chunk)
            if real < size:
                chunk = np.concatenate([chunk, np.repeat(chunk[:1], size - real, 0)])
            yield start, real, chunk

    def _search(self, source, beam_width, max_length, length_penalty, use_cache):
        """Beam search over one chunk: `(tokens (batch, max_length), scores)`.

        Every beam is a row of the decoder's batch (`batch * beam_width` rows).
        A beam that has produced the end token is finished: it may only be
        extended by padding, at no cost, so it keeps its place while its score
        is better than the open beams'. With `beam_width=1` this is greedy
        decoding.
        """
        batch, width, vocab = len(source), beam_width, self.target_vocab_size
        rows = batch * width
        memory, mask = self._encode_repeated(source, width)
        tokens = np.zeros((batch, width, max_length), "int32")
        scores = np.full((batch, width), -np.inf)
        scores[:, 0] = 0.0  # one live beam at first, so no duplicate hypotheses
        finished = np.zeros((batch, width), bool)
        lengths = np.zeros((batch, width), "int64")
        parents = np.arange(rows, dtype="int32")
        last = np.full((rows, 1), self.start_token_id, "int32")
        if use_cache:
            cache = self.init_cache(rows)
        else:
            buffer = np.zeros((rows, self.target_max_length), "int32")
        for step in range(max_length):
            index = np.asarray(step, "int32")
            if use_cache:
                log_probs, cache = self._cached_step(
                    last, memory, mask, cache, index, parents
                )
            else:
                buffer = buffer[parents]
                buffer[:, step] = last[:, 0]
                log_probs = self._full_step(buffer, memory, mask, index)
            log_probs = np.asarray(ops.convert_to_numpy(log_probs), "float64")
            candidates = scores[:, :, None] + log_probs.reshape(batch, width, vocab)
            candidates[finished] = -np.inf
            candidates[finished, 0] = scores[finished]  # pad, at no cost
            flat = candidates.reshape(batch, width * vocab)
            best = np.argsort(-flat, axis=1, kind="stable")[:, :width]
            beam, token = best // vocab, (best % vocab).astype("int32")
            scores = np.take_along_axis(flat, best, axis=1)
            tokens = np.take_along_axis(tokens, beam[:, :, None], axis=1)
            tokens[:, :, step] = token
            was_finished = np.take_along_axis(finished, beam, axis=1)
            lengths = np.take_along_axis(lengths, beam, axis=1) + ~was_finished
            finished = was_finished | (token == self.end_token_id)
            parents = (beam + width * np.arange(batch)[:, None]).reshape(-1)
            parents = parents.astype("int32")
            last = token.reshape(rows, 1)
            if finished.all():
                break
        # GNMT's length penalty: score / ((5 + length) / 6) ** alpha.
        penalty = ((5.0 + np.maximum(lengths, 1)) / 6.0) ** length_penalty
        choice = np.argmax(scores / penalty, axis=1)
        pick = np.arange(batch)
        return tokens[pick, choice], scores[pick, choice]

    def _decode(
        self, source, beam_width, max_length, length_penalty, use_cache, batch_size
    ):
        source, squeeze = self._source_ids(source)
        max_length = self._max_length(max_length)
        batch_size = check_int("batch_size", batch_size)
        self._ensure_built()
        tokens = np.zeros((len(source), max_length), "int32")
        scores = np.zeros((len(source),), "float64")
        for start, real, chunk in self._chunks(source, batch_size):
            chunk_tokens, chunk_scores = self._search(
                chunk, beam_width, max_length, length_penalty, bool(use_cache)
            )
            tokens[start : start + real] = chunk_tokens[:real]
            scores[start : start + real] = chunk_scores[:real]
        if squeeze:
            return tokens[0], scores[0]
        return tokens, scores

    def greedy_decode(self, source, max_length=None, use_cache=True, batch_size=256):
        """Decodes `source` by taking the most likely token at every step.

        Args:
            source: Integer ids `(batch, source_time)` (or `(source_time,)`).
            max_length: Most tokens to produce (end token included); default
                `target_max_length`.
            use_cache: Decode with the key/value cache (one position per step)
                or re-run the decoder on the whole prefix at each step; both
                give the same tokens.
            batch_size: Sources decoded together.

        Returns:
            NumPy int32 `(batch, max_length)` (or 1-D): the tokens after the
            start token, the end token included, padding (0) after it.
        """
        source, squeeze = self._source_ids(source)
        max_length = self._max_length(max_length)
        batch_size = check_int("batch_size", batch_size)
        self._ensure_built()
        out = np.zeros((len(source), max_length), "int32")
        for start, real, chunk in self._chunks(source, batch_size):
            out[start : start + real] = self._greedy(
                chunk, max_length, bool(use_cache)
            )[:real]
        return out[0] if squeeze else out

    def _greedy(self, source, max_length, use_cache):
        """Greedy decoding of one chunk, written on its own (not as a beam of
        one), so that the test `beam_width=1 == greedy` compares two codes."""
        batch = len(source)
        memory, mask = self._encode_repeated(source, 1)
        tokens = np.zeros((batch, max_length), "int32")
        done = np.zeros((batch,), bool)
        identity = np.arange(batch, dtype="int32")
        last = np.full((batch, 1), self.start_token_id, "int32")
        if use_cache:
            cache = self.init_cache(batch)
        else:
            buffer = np.zeros((batch, self.target_max_length), "int32")
        for step in range(max_length):
            index = np.asarray(step, "int32")
            if use_cache:
                log_probs, cache = self._cached_step(
                    last, memory, mask, cache, index, identity
                )
            else:
                buffer[:, step] = last[:, 0]
                log_probs = self._full_step(buffer, memory, mask, index)
            token = np.asarray(ops.convert_to_numpy(log_probs)).argmax(-1)
            token = np.where(done, 0, token).astype("int32")
            tokens[:, step] = token
            done |= token == self.end_token_id
            last = token[:, None]
            if done.all():
                break
        return tokens

    def beam_search_decode(
        self,
        source,
        beam_width=4,
        max_length=None,
        length_penalty=0.0,
        use_cache=True,
        batch_size=256,
        return_scores=False,
    ):
        """Decodes `source` keeping the `beam_width` most likely prefixes.

        At every step each live prefix is extended by every token; the
        `beam_width` best extensions (by summed log-probability) survive. A
        prefix that ends with the end token is finished and keeps its score.
        At the end, the best beam by `score / ((5 + length) / 6) **
        length_penalty` (Wu et al., 2016) is returned. With a `beam_width` as
        large as the number of possible prefixes this is an exact search (the
        tests check it against brute force); `beam_width=1` is greedy decoding.

        Args:
            source: Integer ids `(batch, source_time)` (or `(source_time,)`).
            beam_width: Number of prefixes kept.
            max_length: Most tokens to produce; default `target_max_length`.
            length_penalty: `alpha` above; 0 ranks by the summed log-probability
                (which favours short outputs), larger values favour longer ones.
            use_cache: Decode with the key/value cache or re-run the decoder on
                whole prefixes; both give the same tokens.
            batch_size: Sources decoded together (each uses `beam_width` rows).
            return_scores: Also return the summed log-probability of each
                returned sequence (under the decoding distribution, see
                `sequence_log_prob`).

        Returns:
            NumPy int32 `(batch, max_length)` (or 1-D), laid out as
            `greedy_decode`'s, or `(tokens, scores)`.
        """
        check_int("beam_width", beam_width)
        length_penalty = check_float("length_penalty", length_penalty, low=0.0)
        tokens, scores = self._decode(
            source, beam_width, max_length, length_penalty, use_cache, batch_size
        )
        return (tokens, scores) if return_scores else tokens

    def sequence_log_prob(self, source, tokens):
        """Summed log-probability of decoded `tokens` given `source`.

        The tokens are scored up to and including the first end token
        (padding is not scored), under the decoding distribution: the softmax of
        the logits with the padding and start ids removed.

        Args:
            source: Integer ids `(batch, source_time)`.
            tokens: Integer ids `(batch, time)` without the start token, as
                returned by `greedy_decode`, `time <= target_max_length`.

        Returns:
            NumPy float64 `(batch,)`.
        """
        source, squeeze = self._source_ids(source)
        tokens, _ = _as_id_array(
            tokens, "tokens", self.target_vocab_size, self.target_max_length
        )
        if len(tokens) != len(source):
            raise ValueError(
                "`source` and `tokens` must have the same batch size; received "
                f"{len(source)} and {len(tokens)}."
            )
        self._ensure_built()
        starts = np.full((len(tokens), 1), self.start_token_id, "int32")
        decoder_inputs = np.concatenate([starts, tokens[:, :-1]], axis=1)
        log_probs = np.asarray(
            ops.convert_to_numpy(self._sequence_log_probs(source, decoder_inputs)),
            "float64",
        )
        picked = np.take_along_axis(log_probs, tokens[:, :, None], axis=2)[..., 0]
        ended_before = np.cumsum(tokens == self.end_token_id, axis=1) - (
            tokens == self.end_token_id
        )
        scored = (ended_before == 0) & (tokens != 0)
        result = (picked * scored).sum(axis=1)
        return result[0] if squeeze else result

    def cross_attention_weights(self, source, decoder_inputs, layer=-1):
        """The cross-attention weights of one decoder layer: how much each
        target position looks at each source position.

        Args:
            source: Integer ids `(batch, source_time)`.
            decoder_inputs: Integer ids `(batch, target_time)` (start token
                first).
            layer: Which decoder layer (Python indexing).

        Returns:
            NumPy `(batch, num_heads, target_time, source_time)`; each row sums
            to 1 over the real (non-padding) source tokens.
        """
        source, _ = self._source_ids(source)
        decoder_inputs, _ = _as_id_array(
            decoder_inputs,
            "decoder_inputs",
            self.target_vocab_size,
            self.target_max_length,
        )
        if not isinstance(layer, int) or not -self.num_layers <= layer < (
            self.num_layers
        ):
            raise ValueError(
                f"`layer` must be an int in [-{self.num_layers}, {self.num_layers}); "
                f"received layer={layer!r}."
            )
        self._ensure_built()
        layer %= self.num_layers
        memory, source_mask = self.encode_tensors(source, training=False)
        decoder_inputs = ops.convert_to_tensor(decoder_inputs)
        target_mask = ops.not_equal(decoder_inputs, 0)
        x = self._embed_target(decoder_inputs, 0, False)
        for i, block in enumerate(self.decoder_blocks):
            if i == layer:
                _, scores = _decoder_block_with_cross_weights(
                    block, x, memory, target_mask, source_mask
                )
                return np.asarray(ops.convert_to_numpy(scores))
            x = block(
                x,
                encoder_outputs=memory,
                padding_mask=target_mask,
                encoder_padding_mask=source_mask,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- Config ----------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "source_vocab_size": self.source_vocab_size,
                "target_vocab_size": self.target_vocab_size,
                "source_max_length": self.source_max_length,
                "target_max_length": self.target_max_length,
                "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "norm_first": self.norm_first,
                "start_token_id": self.start_token_id,
                "end_token_id": self.end_token_id,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _decoder_block_with_cross_weights(block, x, memory, target_mask, source_mask):
    """`block`'s forward pass (inference), also returning its cross-attention
    weights `(batch, heads, target_time, source_time)`. It retraces the block's
    sub-layers in their order; the tests check that its output equals
    `block(...)`'s, so the weights are those the block really uses."""
    self_mask = ops.expand_dims(target_mask, 1)
    memory_mask = ops.expand_dims(source_mask, 1)

    def self_attend(h):
        return block.self_attention(
            h, h, attention_mask=self_mask, use_causal_mask=True, training=False
        )

    def cross_attend(h):
        return block.cross_attention_layer(
            h,
            memory,
            attention_mask=memory_mask,
            return_attention_scores=True,
            training=False,
        )

    x = block._residual(x, block.self_attention_norm, self_attend, False)
    x, scores = block._residual(x, block.cross_attention_norm, cross_attend, False)
    return block._feed_forward(x, False), scores
