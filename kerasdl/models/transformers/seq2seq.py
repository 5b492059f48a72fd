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
and gives the same tokens (tested); the decoding methods live in
`seq2seq_decoding.py`. The padding and start ids are never
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
from keras import ops

from kerasdl._checks import check_int, check_transformer_args
from kerasdl.layers.positional import LearnedPositionEmbedding
from kerasdl.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock
from kerasdl.models.base import SubclassedModel
from kerasdl.models.transformers.seq2seq_decoding import Seq2SeqDecoding

__all__ = ["TransformerSeq2Seq"]


# Filled into the logits of ids that are never generated (padding, start):
# large enough to give them no probability, finite so that no NaN can appear.
@keras.saving.register_keras_serializable(package="kerasdl")
class TransformerSeq2Seq(Seq2SeqDecoding, SubclassedModel):
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
        **kwargs: Passed to `SubclassedModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

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
        for name, value in check_transformer_args(locals()).items():
            setattr(self, name, value)
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
