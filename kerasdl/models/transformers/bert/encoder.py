"""The BERT-like encoder: token + learned position embeddings, an embedding
LayerNorm and a stack of `TransformerEncoderBlock`s (post-norm, as BERT, by
default); the padding mask comes from token id 0. Also the helpers the models built
on an encoder share (checking, config round trip).
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import check_int, check_transformer_args
from kerasdl.layers.positional import LearnedPositionEmbedding
from kerasdl.layers.transformer import TransformerEncoderBlock
from kerasdl.models.base import FunctionalModel


def _token_input():
    return keras.Input(shape=(None,), dtype="int32", name="token_ids")


@keras.saving.register_keras_serializable(package="kerasdl")
class BertEncoder(FunctionalModel):
    """A BERT-style bidirectional Transformer encoder.

    Token embedding + learned position embedding, LayerNorm and dropout, then
    `num_layers` `TransformerEncoderBlock`s. Token id 0 is padding: padded
    positions are hidden from every attention, so the features of the real
    tokens do not depend on how much padding follows (tested). With
    `norm_first=False` (default) the blocks are post-norm, as in BERT; with
    `norm_first=True` they are pre-norm and a final LayerNorm is added.

    Args:
        vocab_size: Number of token ids (0 is padding).
        max_len: Longest sequence; the size of the position table.
        hidden_dim: Model width; divisible by `num_heads`.
        num_layers: Number of encoder blocks.
        num_heads: Attention heads per block.
        intermediate_dim: Feed-forward width; default `4 * hidden_dim`.
        dropout: Dropout of the embeddings, attention weights and sub-layers.
        norm_first: Pre-norm (True) or post-norm (False, BERT) blocks.
        layer_norm_epsilon: Epsilon of every LayerNorm.
        seed: Integer seed of the dropouts (initial weights follow Keras's
            global seed: `kerasdl.training.set_seed`).
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        token_ids: Integer ids `(batch, time)`, `time <= max_len`.
        training: Whether dropout is active.

    Returns:
        Sequence features `(batch, time, hidden_dim)`.

    Example:

    ```python
    encoder = BertEncoder(vocab_size=5000, max_len=64, hidden_dim=128, num_layers=2)
    features = encoder(token_ids)  # (batch, time, 128)
    ```
    """

    def __init__(
        self,
        vocab_size,
        max_len,
        hidden_dim=128,
        num_layers=2,
        num_heads=4,
        intermediate_dim=None,
        dropout=0.1,
        norm_first=False,
        layer_norm_epsilon=1e-5,
        seed=None,
        name="bert_encoder",
        **kwargs,
    ):
        vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        max_len = check_int("max_len", max_len)
        (
            hidden_dim,
            num_layers,
            num_heads,
            intermediate_dim,
            dropout,
            layer_norm_epsilon,
        ) = check_transformer_args(locals()).values()
        seed = check_int("seed", seed, minimum=0, allow_none=True)

        # === Layers ===
        token_embedding = keras.layers.Embedding(
            vocab_size,
            hidden_dim,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="token_embedding",
        )
        position_embedding = LearnedPositionEmbedding(
            max_len, name="position_embedding"
        )
        embedding_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="embedding_norm"
        )
        embedding_dropout = keras.layers.Dropout(
            dropout, seed=seed, name="embedding_dropout"
        )
        blocks = [
            TransformerEncoderBlock(
                num_heads,
                intermediate_dim or 4 * hidden_dim,
                dropout=dropout,
                activation="gelu",
                norm_first=norm_first,
                layer_norm_epsilon=layer_norm_epsilon,
                seed=None if seed is None else seed + 1 + i,
                name=f"encoder_block_{i}",
            )
            for i in range(num_layers)
        ]

        # === Functional model ===
        token_ids = _token_input()
        padding_mask = ops.not_equal(token_ids, 0)
        x = position_embedding(token_embedding(token_ids))
        x = embedding_dropout(embedding_norm(x))
        for block in blocks:
            x = block(x, padding_mask=padding_mask)
        if norm_first:
            x = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, name="final_norm"
            )(x)
        super().__init__(inputs=token_ids, outputs=x, name=name, **kwargs)

        # === Config ===
        self.token_embedding = token_embedding
        self.vocab_size = vocab_size
        self.max_len = max_len
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.norm_first = bool(norm_first)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.seed = seed

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "max_len": self.max_len,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "norm_first": self.norm_first,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_encoder(encoder):
    if not isinstance(encoder, BertEncoder):
        raise ValueError(
            "`encoder` must be a kerasdl BertEncoder; received "
            f"{type(encoder).__name__}."
        )
    return encoder


def _compile_from_config(model, config):
    """What `keras.Model.compile_from_config` does, for a model whose `compile`
    only fills in defaults (Keras skips a custom `compile` when loading)."""
    model.compile(**keras.saving.deserialize_keras_object(config))
    if hasattr(model, "optimizer") and model.built:
        model.optimizer.build(model.trainable_variables)


def _deserialize_encoder(config):
    config = dict(config)
    if isinstance(config.get("encoder"), dict):
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
    return config
