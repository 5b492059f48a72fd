"""Transformer encoder and decoder blocks (Vaswani et al., 2017), pre- or post-norm.

Each block is residual sub-layers, each followed (post-norm, the 2017 paper and
BERT) or preceded (pre-norm, GPT-2 and most models since, which trains deep
stacks without warm-up tricks) by a `LayerNormalization`:

* `TransformerEncoderBlock`: self-attention, then a position-wise feed-forward
  network `Dense(intermediate_dim, activation) -> Dense(hidden)`.
* `TransformerDecoderBlock`: causal (masked) self-attention, then optionally
  cross-attention to an encoder's outputs, then the feed-forward network. Its
  self-attention can use a key/value cache, so that decoding one token at a time
  attends to the cached keys and values instead of recomputing them.

Both use the hand-written `kerasdl.layers.MultiHeadAttention`. A stack of
pre-norm blocks needs one final `LayerNormalization` after the last block (the
models in `kerasdl.models.transformers` add it).

Padding: `padding_mask` (batch, time), True or 1 for real tokens, hides padded
keys; a Keras mask carried by the inputs (e.g. from
`keras.layers.Embedding(mask_zero=True)`) is used the same way and passed on.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import check_float, check_int
from kerasdl.layers.attention import MultiHeadAttention

__all__ = ["TransformerDecoderBlock", "TransformerEncoderBlock"]


def _check_sequence(shape, name):
    shape = tuple(shape)
    if len(shape) != 3 or shape[-1] is None:
        raise ValueError(
            f"Expected `{name}` of rank 3 (batch, time, features) with known "
            f"features; received shape {shape}."
        )
    return shape


def _key_padding_mask(padding_mask, keras_mask):
    """`(batch, 1, k_time)` boolean key mask from an explicit or a Keras mask."""
    mask = padding_mask if padding_mask is not None else keras_mask
    if mask is None:
        return None
    mask = ops.convert_to_tensor(mask)
    if len(mask.shape) != 2:
        raise ValueError(
            "Expected `padding_mask` of shape (batch, time); received shape "
            f"{tuple(mask.shape)}."
        )
    return ops.expand_dims(ops.cast(mask, "bool"), 1)


class _TransformerBlock(keras.layers.Layer):
    """Arguments, feed-forward network, norms and config shared by both blocks."""

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        key_dim=None,
        dropout=0.0,
        activation="gelu",
        norm_first=True,
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_int("num_heads", num_heads)
        self.intermediate_dim = check_int("intermediate_dim", intermediate_dim)
        self.key_dim = check_int("key_dim", key_dim, allow_none=True)
        self.dropout = check_float(
            "dropout", dropout, low=0.0, high=1.0, high_open=True
        )
        try:
            self.activation = keras.activations.get(activation)
        except (ValueError, TypeError) as error:
            raise ValueError(
                "`activation` must be a Keras activation name or callable; "
                f"received activation={activation!r}."
            ) from error
        self._activation_config = activation
        self.norm_first = bool(norm_first)
        self.layer_norm_epsilon = check_float(
            "layer_norm_epsilon", layer_norm_epsilon, low=0.0, low_open=True
        )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.seed = seed
        self.supports_masking = True

    def _head_size(self, hidden):
        if self.key_dim is not None:
            return self.key_dim
        if hidden % self.num_heads:
            raise ValueError(
                f"The features ({hidden}) must divide evenly among num_heads="
                f"{self.num_heads} when key_dim is not given; pass key_dim."
            )
        return hidden // self.num_heads

    def _initializer(self):
        config = keras.initializers.serialize(self.kernel_initializer)
        return keras.initializers.deserialize(config)

    def _attention(self, hidden, name, seed_offset):
        seed = None if self.seed is None else self.seed + seed_offset
        return MultiHeadAttention(
            self.num_heads,
            self._head_size(hidden),
            dropout=self.dropout,
            kernel_initializer=self._initializer(),
            seed=seed,
            dtype=self.dtype_policy,
            name=name,
        )

    def _norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )

    def _build_feed_forward(self, shape):
        hidden = shape[-1]
        self.ffn_norm = self._norm("ffn_norm")
        self.ffn_norm.build(shape)
        self.ffn_intermediate = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=self._initializer(),
            dtype=self.dtype_policy,
            name="ffn_intermediate",
        )
        self.ffn_intermediate.build(shape)
        self.ffn_output = keras.layers.Dense(
            hidden,
            kernel_initializer=self._initializer(),
            dtype=self.dtype_policy,
            name="ffn_output",
        )
        self.ffn_output.build(shape[:-1] + (self.intermediate_dim,))
        self.dropout_layer = keras.layers.Dropout(
            self.dropout, seed=self.seed, dtype=self.dtype_policy
        )

    def _residual(self, x, norm, sublayer, training):
        """`x + sublayer(norm(x))` (pre-norm) or `norm(x + sublayer(x))`."""
        inner = norm(x) if self.norm_first else x
        out = sublayer(inner)
        extra = ()
        if isinstance(out, tuple):
            out, *extra = out
        out = x + self.dropout_layer(out, training=training)
        if not self.norm_first:
            out = norm(out)
        return (out, *extra) if extra else out

    def _feed_forward(self, x, training):
        def ffn(h):
            return self.ffn_output(self.ffn_intermediate(h))

        return self._residual(x, self.ffn_norm, ffn, training)

    def compute_output_shape(self, inputs_shape, *args, **kwargs):
        return _check_sequence(inputs_shape, "inputs")

    def compute_mask(self, inputs, mask=None, **kwargs):
        return mask

    def get_config(self):
        config = super().get_config()
        activation = self._activation_config
        if not isinstance(activation, str):
            activation = keras.activations.serialize(self.activation)
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "key_dim": self.key_dim,
                "dropout": self.dropout,
                "activation": activation,
                "norm_first": self.norm_first,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "seed": self.seed,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class TransformerEncoderBlock(_TransformerBlock):
    """Self-attention and feed-forward sub-layers with residuals and LayerNorm.

    Args:
        num_heads: Number of attention heads.
        intermediate_dim: Width of the feed-forward network's hidden layer
            (usually 4 x the model width).
        key_dim: Size of each head; default `features // num_heads`.
        dropout: Dropout rate of the attention weights and of each sub-layer's
            output.
        activation: Activation of the feed-forward hidden layer.
        norm_first: True for pre-norm (`x + f(LN(x))`), False for post-norm
            (`LN(x + f(x))`, the original Transformer and BERT).
        layer_norm_epsilon: Epsilon of the LayerNorms.
        kernel_initializer: Initializer of every kernel.
        seed: Integer seed of the dropouts.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: `(batch, time, features)`.
        padding_mask: Optional `(batch, time)`, True for real tokens; padded
            keys are never attended to. Default: the inputs' Keras mask.
        attention_mask: Optional `(batch, time, time)` boolean mask, combined
            with the padding mask.
        training: Whether dropout is active.
        return_attention_scores: Also return the attention weights
            `(batch, heads, time, time)`.

    Returns:
        `(batch, time, features)`, or `(outputs, scores)`.

    Example:

    ```python
    block = TransformerEncoderBlock(num_heads=4, intermediate_dim=256)
    y = block(x, padding_mask=tokens != 0)  # x: (batch, time, 64)
    ```
    """

    def build(self, inputs_shape):
        shape = _check_sequence(inputs_shape, "inputs")
        self.self_attention = self._attention(shape[-1], "self_attention", 0)
        self.self_attention.build(shape, shape)
        self.self_attention_norm = self._norm("self_attention_norm")
        self.self_attention_norm.build(shape)
        self._build_feed_forward(shape)

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        mask=None,
    ):
        _check_sequence(inputs.shape, "inputs")
        combined = _key_padding_mask(padding_mask, mask)
        if attention_mask is not None:
            attention_mask = ops.cast(attention_mask, "bool")
            if combined is not None:
                attention_mask = ops.logical_and(attention_mask, combined)
        else:
            attention_mask = combined

        def attend(h):
            return self.self_attention(
                h,
                h,
                attention_mask=attention_mask,
                return_attention_scores=return_attention_scores,
                training=training,
            )

        x = self._residual(inputs, self.self_attention_norm, attend, training)
        scores = None
        if return_attention_scores:
            x, scores = x
        x = self._feed_forward(x, training)
        return (x, scores) if return_attention_scores else x


@keras.saving.register_keras_serializable(package="kerasdl")
class TransformerDecoderBlock(_TransformerBlock):
    """Causal self-attention, optional cross-attention, feed-forward network.

    With `cross_attention=True` (an encoder-decoder's decoder) every call needs
    `encoder_outputs`; with `cross_attention=False` it is a GPT-style block.

    Args:
        num_heads: Number of attention heads.
        intermediate_dim: Width of the feed-forward network's hidden layer.
        key_dim: Size of each head; default `features // num_heads`.
        dropout: Dropout rate of the attention weights and sub-layer outputs.
        activation: Activation of the feed-forward hidden layer.
        norm_first: Pre-norm (True) or post-norm (False).
        layer_norm_epsilon: Epsilon of the LayerNorms.
        cross_attention: Whether the block attends to an encoder's outputs.
        kernel_initializer: Initializer of every kernel.
        seed: Integer seed of the dropouts.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Decoder sequence `(batch, time, features)`.
        encoder_outputs: `(batch, source_time, encoder_features)`; required
            when `cross_attention=True`.
        padding_mask: Optional decoder padding mask `(batch, time)`.
        encoder_padding_mask: Optional encoder padding mask
            `(batch, source_time)`, True for real source tokens.
        self_attention_cache: Optional key/value cache of the self-attention,
            `(batch, 2, max_length, num_heads, key_dim)`; see
            `MultiHeadAttention`. With a cache the call returns
            `(outputs, new_cache)`.
        cache_update_index: Position of the first input token in the cache.
        training: Whether dropout is active.

    Returns:
        `(batch, time, features)`, or `(outputs, new_cache)` with a cache.

    Example:

    ```python
    block = TransformerDecoderBlock(4, 256, cross_attention=True)
    y = block(target_embeddings, encoder_outputs=memory,
              encoder_padding_mask=source != 0)
    ```
    """

    def __init__(self, num_heads, intermediate_dim, cross_attention=False, **kwargs):
        super().__init__(num_heads, intermediate_dim, **kwargs)
        self.cross_attention = bool(cross_attention)

    def build(self, inputs_shape, encoder_outputs_shape=None):
        shape = _check_sequence(inputs_shape, "inputs")
        self.self_attention = self._attention(shape[-1], "self_attention", 0)
        self.self_attention.build(shape, shape)
        self.self_attention_norm = self._norm("self_attention_norm")
        self.self_attention_norm.build(shape)
        if self.cross_attention:
            if encoder_outputs_shape is None:
                raise ValueError(
                    "A TransformerDecoderBlock with cross_attention=True is built "
                    "from its first call, which must pass `encoder_outputs`."
                )
            memory = _check_sequence(encoder_outputs_shape, "encoder_outputs")
            self.cross_attention_layer = self._attention(
                shape[-1], "cross_attention", 1
            )
            self.cross_attention_layer.build(shape, memory)
            self.cross_attention_norm = self._norm("cross_attention_norm")
            self.cross_attention_norm.build(shape)
        self._build_feed_forward(shape)

    def call(
        self,
        inputs,
        encoder_outputs=None,
        padding_mask=None,
        encoder_padding_mask=None,
        self_attention_cache=None,
        cache_update_index=None,
        training=None,
        mask=None,
    ):
        _check_sequence(inputs.shape, "inputs")
        if self.cross_attention and encoder_outputs is None:
            raise ValueError(
                "This TransformerDecoderBlock has cross_attention=True; pass "
                "`encoder_outputs`."
            )
        if not self.cross_attention and encoder_outputs is not None:
            raise ValueError(
                "This TransformerDecoderBlock has cross_attention=False; it does "
                "not take `encoder_outputs`."
            )
        self_mask = _key_padding_mask(padding_mask, mask)

        def self_attend(h):
            if self_attention_cache is not None:
                return self.self_attention(
                    h,
                    h,
                    cache=self_attention_cache,
                    cache_update_index=cache_update_index,
                    training=training,
                )
            return self.self_attention(
                h,
                h,
                attention_mask=self_mask,
                use_causal_mask=True,
                training=training,
            )

        if self_attention_cache is not None and self_mask is not None:
            raise ValueError(
                "Decoding with `self_attention_cache` does not take a decoder "
                "`padding_mask` (or a masked input); the cache masks by position."
            )
        x = self._residual(inputs, self.self_attention_norm, self_attend, training)
        cache = None
        if self_attention_cache is not None:
            x, cache = x

        if self.cross_attention:
            memory_mask = _key_padding_mask(encoder_padding_mask, None)

            def cross_attend(h):
                return self.cross_attention_layer(
                    h, encoder_outputs, attention_mask=memory_mask, training=training
                )

            x = self._residual(x, self.cross_attention_norm, cross_attend, training)
        x = self._feed_forward(x, training)
        return (x, cache) if cache is not None else x

    def get_config(self):
        config = super().get_config()
        config["cross_attention"] = self.cross_attention
        return config
