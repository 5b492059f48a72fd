"""`MultiHeadAttention` written out by hand, with the weights of
`keras.layers.MultiHeadAttention` (same order and shapes, so they copy across with
`set_weights`): projections, `scaled_dot_product_attention`, output projection;
padding and causal masks, attention over axes of rank > 3 inputs, and a key/value
cache for decoding.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasdl._checks import check_int
from kerasdl.layers.attention.axes import AttentionAxes, normalize_attention_axes
from kerasdl.layers.attention.kv_cache import update_cache
from kerasdl.layers.attention.masks import (
    check_axes_mask_shape,
    check_mask_shape,
    combine_masks,
    dims_clash,
    shape_of,
)
from kerasdl.layers.attention.scaled_dot_product import scaled_dot_product_attention

__all__ = ["MultiHeadAttention"]


def _normalize_output_shape(output_shape):
    if output_shape is None:
        return None
    if isinstance(output_shape, int) and not isinstance(output_shape, bool):
        output_shape = (output_shape,)
    if (
        not isinstance(output_shape, (list, tuple))
        or not output_shape
        or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0
            for d in output_shape
        )
    ):
        raise ValueError(
            "`output_shape` must be None, a positive int or a non-empty tuple of "
            f"positive ints; received output_shape={output_shape!r}."
        )
    return tuple(output_shape)


@keras.saving.register_keras_serializable(package="kerasdl")
class MultiHeadAttention(keras.layers.Layer, AttentionAxes):
    """Multi-head attention (Vaswani et al., 2017), written out by hand.

    Each of `num_heads` heads projects the query to `key_dim` features, the key
    to `key_dim` and the value to `value_dim`, attends with
    `scaled_dot_product_attention`, and an output projection maps the
    concatenated heads back to the query's feature size (or `output_shape`):

        head_h = softmax((x_q W_q^h + b_q^h)(x_k W_k^h + b_k^h)^T / sqrt(key_dim))
                 (x_v W_v^h + b_v^h)
        output = sum_h head_h W_o^h + b_o

    The weights are those of `keras.layers.MultiHeadAttention`, in its order and
    shapes: query kernel `(query_dim, heads, key_dim)` and bias `(heads,
    key_dim)`, key kernel `(key_dim_in, heads, key_dim)` and bias, value kernel
    `(value_dim_in, heads, value_dim)` and bias `(heads, value_dim)`, output
    kernel `(heads, value_dim, *output_shape)` and bias `output_shape` (no
    biases with `use_bias=False`). So `layer.set_weights(keras_mha.get_weights())`
    gives Keras' outputs (and attention scores) within float32 rounding.

    Inputs of rank > 3, `(batch, *index_axes, features)` (e.g. images `(batch,
    height, width, channels)`), attend over `attention_axes` (default: all
    index axes, jointly) as in Keras: the other index axes act as extra batch
    axes, the attention axes are flattened into one time axis, and the scores
    come back as `(batch, *other_axes, heads, *query_attention_axes,
    *key_attention_axes)`, Keras's layout.

    Differences from `keras.layers.MultiHeadAttention`: there is no
    `sliding_window`, `use_gate` or `flash_attention` argument (the fused path
    follows `keras.config.is_flash_attention_enabled()`); a fully masked query
    row gives zero attention (so the output is the output bias) on every path,
    where Keras' fused path gives the average of the values; and the returned
    scores have shape `(batch, heads, q_time, k_time)` also when built
    symbolically (Keras declares `(batch, heads, q_time, q_time)`). On JAX,
    Keras' layer fails without `return_attention_scores` when `value_dim !=
    key_dim` (its fused op needs equal sizes); this one then takes the
    explicit path. With rank > 3 inputs the index axes must have known sizes,
    `attention_mask` must be `(batch, *query_attention_axes,
    *key_attention_axes)`, `use_causal_mask` needs a single attention axis, and
    padding masks and the cache are not supported (Keras's implicit masks are
    defined for rank 3 only).

    Args:
        num_heads: Number of attention heads (>= 1).
        key_dim: Size of each head's query and key projections (>= 1).
        value_dim: Size of each head's value projection; default `key_dim`.
        dropout: Rate at which attention weights are dropped in training. The
            layer holds a `keras.random.SeedGenerator` only when it is > 0.
        use_bias: Whether the four projections have biases.
        output_shape: Feature shape of the output (an int or a tuple); default
            the query's last dimension.
        attention_axes: Axes of `query` (and `value`) to attend over, an int or
            a tuple (negative ones count from the end, the features axis -1
            excluded); default all axes but batch and features.
        kernel_initializer: Initializer of the four kernels.
        bias_initializer: Initializer of the biases.
        kernel_regularizer: Regularizer of the kernels.
        bias_regularizer: Regularizer of the biases.
        kernel_constraint: Constraint of the kernels.
        bias_constraint: Constraint of the biases.
        seed: Integer seed of the dropout's `keras.random.SeedGenerator`.
        **kwargs: Passed to `keras.layers.Layer` (e.g. `name`, `dtype`).

    Call arguments:
        query: `(batch, q_time, query_dim)` (or higher rank, see above).
        value: `(batch, k_time, value_dim_in)`.
        key: Optional `(batch, k_time, key_dim_in)`; default `value`.
        attention_mask: Optional boolean mask `(batch, q_time, k_time)`,
            `(batch, num_heads, q_time, k_time)` or `(q_time, k_time)`; an axis
            of size 1 broadcasts (e.g. `(batch, 1, q_time, k_time)` is shared by
            the heads); True = may attend.
        return_attention_scores: Whether to also return the attention weights
            `(batch, num_heads, q_time, k_time)` (the ones before dropout).
        training: Whether dropout is active.
        use_causal_mask: Whether query `i` may see only keys `0..i`.
        query_mask, value_mask, key_mask: Padding masks `(batch, time)` (True =
            real token). Filled in by Keras from the inputs' implicit masks
            (e.g. `Embedding(mask_zero=True)` or `Masking`) as for Keras'
            layer: a padded key is never attended to, a padded query row gets
            zero attention, and the query's mask is passed on to the output.
            All masks are combined with a logical AND.
        cache: Optional key/value cache for causal self-attention decoding,
            `(batch, 2, max_length, num_heads, key_dim)` (keys, then values).
            The keys and values of this call's `value`/`key` are written at
            `cache_update_index`, and the queries attend to cached positions
            up to their own (`index + i`). With a cache the call returns
            `(output, new_cache)` (or `(output, scores, new_cache)`); no other
            mask may be passed. Needs `value_dim == key_dim`.
        cache_update_index: Position of this call's first token in the cache
            (an int or a scalar integer tensor); default 0.

    Returns:
        The output `(batch, q_time, *output_shape)`, or `(output, scores)` when
        `return_attention_scores=True`.

    Raises:
        ValueError: For a bad argument, or inputs or masks whose static shapes
            do not fit (rank, features the layer was built for, mask shape).

    Example:

    ```python
    mha = kerasdl.layers.attention.MultiHeadAttention(num_heads=2, key_dim=8)
    y = mha(x, x, use_causal_mask=True)  # x: (batch, time, features)
    ```
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_int("num_heads", num_heads)
        self.key_dim = check_int("key_dim", key_dim)
        value_dim = check_int("value_dim", value_dim, allow_none=True)
        self.value_dim = value_dim if value_dim is not None else key_dim
        if isinstance(dropout, bool) or not 0.0 <= float(dropout) < 1.0:
            raise ValueError(
                f"`dropout` must be a float in [0, 1); received dropout={dropout!r}."
            )
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self._output_shape = _normalize_output_shape(output_shape)
        self.attention_axes = normalize_attention_axes(attention_axes)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.seed = seed
        if self.dropout > 0:  # no random state to save when nothing is random
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True  # the query's mask passes to the output

    # ---- weights ------------------------------------------------------------

    def _projection(self, name, kernel_shape, bias_shape):
        kernel = self.add_weight(
            name=f"{name}_kernel",
            shape=tuple(kernel_shape),
            initializer=self._fresh(self.kernel_initializer),
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        bias = None
        if self.use_bias:
            bias = self.add_weight(
                name=f"{name}_bias",
                shape=tuple(bias_shape),
                initializer=self._fresh(self.bias_initializer),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        return kernel, bias

    @staticmethod
    def _fresh(initializer):
        # A new initializer per weight, as Keras does, so that seeded ones do not
        # give four identical kernels.
        return initializer.__class__.from_config(initializer.get_config())

    def build(self, query_shape, value_shape, key_shape=None):
        self._check_shapes(query_shape, value_shape, key_shape)
        key_shape = value_shape if key_shape is None else key_shape
        heads, key_dim, value_dim = self.num_heads, self.key_dim, self.value_dim
        # Created in the order of keras.layers.MultiHeadAttention's weights.
        self.query_kernel, self.query_bias = self._projection(
            "query", (query_shape[-1], heads, key_dim), (heads, key_dim)
        )
        self.key_kernel, self.key_bias = self._projection(
            "key", (key_shape[-1], heads, key_dim), (heads, key_dim)
        )
        self.value_kernel, self.value_bias = self._projection(
            "value", (value_shape[-1], heads, value_dim), (heads, value_dim)
        )
        features = tuple(self._features_out(query_shape))
        self.output_kernel, self.output_bias = self._projection(
            "output", (heads, value_dim, *features), features
        )

    # ---- forward ------------------------------------------------------------

    def call(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        cache=None,
        cache_update_index=None,
    ):
        if key is None:
            key = value
        self._check_shapes(shape_of(query), shape_of(value), shape_of(key))
        self._check_built_for(query, value, key)
        rank = len(query.shape)
        if rank > 3 or self._axes_for(rank) != (1,):
            return self._call_over_axes(
                query,
                value,
                key,
                attention_mask,
                return_attention_scores,
                training,
                use_causal_mask,
                (query_mask, value_mask, key_mask, cache),
            )
        mask = combine_masks(
            query_mask,
            value_mask,
            key_mask,
            attention_mask,
            (query.shape[0], query.shape[1], key.shape[1], self.num_heads),
        )
        if cache is not None and mask is not None:
            raise ValueError(
                "A key/value `cache` is for causal self-attention decoding and "
                "cannot be combined with `attention_mask` or padding masks; "
                "received a cache and a mask."
            )

        q = ops.einsum("btd,dnh->btnh", query, self.query_kernel)
        k = ops.einsum("bsd,dnh->bsnh", key, self.key_kernel)
        v = ops.einsum("bsd,dnh->bsnh", value, self.value_kernel)
        if self.use_bias:
            q, k, v = q + self.query_bias, k + self.key_bias, v + self.value_bias

        causal = use_causal_mask
        if cache is not None:
            k, v, cache, mask = update_cache(
                k,
                v,
                cache,
                cache_update_index,
                num_heads=self.num_heads,
                key_dim=self.key_dim,
                value_dim=self.value_dim,
            )
            causal = False  # folded into `mask`, which also hides unfilled slots

        rate = self.dropout if training else 0.0
        result = scaled_dot_product_attention(
            q,
            k,
            v,
            mask=mask,
            causal=causal,
            return_weights=return_attention_scores,
            dropout=rate,
            scale=1.0 / math.sqrt(self.key_dim),
            seed=getattr(self, "seed_generator", None),
        )
        heads, scores = result if return_attention_scores else (result, None)
        output = self._output_projection(heads)
        outputs = (output, scores) if return_attention_scores else (output,)
        if cache is not None:
            outputs = (*outputs, cache)
        return outputs if len(outputs) > 1 else output

    def _output_projection(self, heads):
        """`(batch, *index, heads, value_dim)` -> `(batch, *index, *features)`."""
        index = "ijklm"[: len(heads.shape) - 3]
        features = "xyzpqr"[: len(self.output_kernel.shape) - 2]
        output = ops.einsum(
            f"b{index}nv,nv{features}->b{index}{features}", heads, self.output_kernel
        )
        if self.use_bias:
            output = output + self.output_bias
        return output

    def _check_built_for(self, query, value, key):
        for name, x, kernel in (
            ("query", query, self.query_kernel),
            ("value", value, self.value_kernel),
            ("key", key, self.key_kernel),
        ):
            if dims_clash(x.shape[-1], kernel.shape[0]):
                raise ValueError(
                    f"This layer was built for `{name}` with {kernel.shape[0]} "
                    f"features; received `{name}` of shape {shape_of(x)}."
                )

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        self._check_shapes(query_shape, value_shape, key_shape)
        query_shape = tuple(query_shape)
        return query_shape[:-1] + tuple(self._features_out(query_shape))

    def compute_output_spec(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        cache=None,
        cache_update_index=None,
    ):
        key_shape = None if key is None else key.shape
        if attention_mask is not None:  # the checks of `call`, on static shapes
            rank, mask_shape = len(query.shape), tuple(attention_mask.shape)
            axes = self._axes_for(rank)
            if rank == 3 and axes == (1,):
                sizes = (query.shape[0], query.shape[1], value.shape[1])
                check_mask_shape(mask_shape, *sizes, self.num_heads)
            else:
                expected = (
                    query.shape[0],
                    *(query.shape[a] for a in axes),
                    *(value.shape[a] for a in axes),
                )
                check_axes_mask_shape(mask_shape, expected)
        output = keras.KerasTensor(
            self.compute_output_shape(query.shape, value.shape, key_shape),
            dtype=self.compute_dtype,
        )
        outputs = (output,)
        if return_attention_scores:
            rank = len(query.shape)
            axes = self._axes_for(rank)
            if rank == 3 and axes == (1,):
                k_time = value.shape[1] if cache is None else cache.shape[2]
                scores_shape = (query.shape[0], self.num_heads, query.shape[1], k_time)
            else:
                others = [a for a in range(1, rank - 1) if a not in axes]
                scores_shape = (
                    query.shape[0],
                    *(query.shape[a] for a in others),
                    self.num_heads,
                    *(query.shape[a] for a in axes),
                    *(value.shape[a] for a in axes),
                )
            scores = keras.KerasTensor(scores_shape, dtype=self.compute_dtype)
            outputs = (output, scores)
        if cache is not None:
            outputs = (*outputs, keras.KerasTensor(cache.shape, dtype=cache.dtype))
        return outputs if len(outputs) > 1 else output

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_shape": self._output_shape,
                "attention_axes": self.attention_axes,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(
                    self.kernel_constraint
                ),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "seed": self.seed,
            }
        )
        return config
