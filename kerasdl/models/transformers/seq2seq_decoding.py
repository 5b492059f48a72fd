"""Decoding for `TransformerSeq2Seq`: greedy and beam search, with or without
a key/value cache, sequence log-probabilities and cross-attention weights.

`Seq2SeqDecoding` is a mixin of `TransformerSeq2Seq` (in `seq2seq.py`), which
supplies the encoder, the decoder and the cache it calls.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl._checks import check_float, check_int

__all__ = ["Seq2SeqDecoding"]

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


class Seq2SeqDecoding:
    """Decoding methods of `TransformerSeq2Seq` (a mixin, not a model)."""

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
