"""Scaled dot-product attention and multi-head attention, written with keras.ops.

`scaled_dot_product_attention` is the formula of Vaswani et al. (2017),
`softmax(Q K^T / sqrt(d_k)) V`, on tensors laid out as `(batch, time, heads,
dim)` (the layout of `keras.ops.dot_product_attention`). `MultiHeadAttention`
wraps it in the learned projections of the paper and holds the same weights, in
the same order and shapes, as `keras.layers.MultiHeadAttention`, so weights copy
across with `set_weights` (the tests prove the outputs equal within 1e-5).

Masks follow one rule everywhere: **True means "may attend"**. A query row whose
keys are all masked out (a padded query, or a padding mask that hides every key)
gets all-zero attention weights and an all-zero attention output on both paths
(no NaN): the softmax runs over a large negative number, not `-inf`, and the
masked weights are then set to zero, as `keras.layers.Softmax` does.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasdl._checks import check_int

__all__ = ["MultiHeadAttention", "scaled_dot_product_attention"]

# Filled into masked logits before the softmax: large enough to give a zero
# weight, finite so that a fully masked row is no NaN (as in keras.layers.Softmax).
_LARGE_NEGATIVE = -1e9
_LOW_PRECISION = ("float16", "bfloat16")


def _shape(x):
    return tuple(x.shape)


def _check_rank(x, name, rank, layout):
    if len(x.shape) != rank:
        raise ValueError(
            f"Expected `{name}` of rank {rank} {layout}; received shape {_shape(x)}."
        )


def _dims_clash(a, b):
    return a is not None and b is not None and a != b


def _causal_mask(q_len, k_len):
    """Boolean `(1, 1, q_len, k_len)`: query i sees keys 0..i (top-left aligned)."""
    rows = ops.expand_dims(ops.arange(q_len), 1)
    cols = ops.expand_dims(ops.arange(k_len), 0)
    allowed = ops.greater_equal(rows, cols)
    return ops.expand_dims(ops.expand_dims(allowed, 0), 0)


def _rank4_mask(mask):
    """A boolean mask of rank 2 `(q, k)`, 3 `(batch, q, k)` or 4, made rank 4."""
    mask = ops.convert_to_tensor(mask)
    if keras.backend.standardize_dtype(mask.dtype) != "bool":
        mask = ops.not_equal(mask, ops.zeros((), dtype=mask.dtype))
    rank = len(mask.shape)
    if rank == 2:  # (q_time, k_time)
        return ops.expand_dims(ops.expand_dims(mask, 0), 0)
    if rank == 3:  # (batch, q_time, k_time): insert the heads axis
        return ops.expand_dims(mask, 1)
    if rank == 4:
        return mask
    raise ValueError(
        "Expected `mask` of rank 2 (q_time, k_time), 3 (batch, q_time, k_time) or "
        f"4 (batch, heads, q_time, k_time); received shape {_shape(mask)}."
    )


def _validate_qkv(query, key, value):
    layout = "(batch, time, heads, dim)"
    for name, x in (("query", query), ("key", key), ("value", value)):
        _check_rank(x, name, 4, layout)
    q, k, v = _shape(query), _shape(key), _shape(value)
    if _dims_clash(q[-1], k[-1]):
        raise ValueError(
            "`query` and `key` must have the same last (dim) axis; received "
            f"query shape {q} and key shape {k}."
        )
    if _dims_clash(k[1], v[1]):
        raise ValueError(
            "`key` and `value` must have the same time axis; received key shape "
            f"{k} and value shape {v}."
        )
    for axis, what in ((0, "batch"), (2, "heads")):
        if any(_dims_clash(a[axis], b[axis]) for a, b in ((q, k), (k, v), (q, v))):
            raise ValueError(
                f"`query`, `key` and `value` must have the same {what} axis; "
                f"received shapes {q}, {k} and {v}."
            )


def scaled_dot_product_attention(
    query,
    key,
    value,
    mask=None,
    causal=False,
    return_weights=False,
    dropout=0.0,
    scale=None,
    seed=None,
):
    """Computes `softmax(Q K^T * scale) V` for every batch element and head.

    Two paths give the same numbers (the tests hold them within 1e-5):

    * weights not requested and no dropout: the fused
      `keras.ops.dot_product_attention` (flash attention on a GPU/TPU where the
      backend, dtype and shapes allow it; `keras.config.enable_flash_attention()`
      / `disable_flash_attention()` steer it), which never stores the
      `(q_time, k_time)` matrix;
    * `return_weights=True`, `dropout > 0`, or a value `dim` that differs from
      the query's (which the fused op does not accept on every backend): the
      formula written out, which stores the weights and can drop some of them.

    Masking: `mask` is True where a query may attend to a key. Rank 2 masks are
    `(q_time, k_time)`, rank 3 masks `(batch, q_time, k_time)` (shared by all
    heads, the convention of `keras.layers.MultiHeadAttention`), rank 4 masks
    broadcast to `(batch, heads, q_time, k_time)` (e.g. a padding mask
    `keys_valid[:, None, None, :]`). Non-boolean masks count non-zero as True.
    `causal=True` lets query `i` see keys `0..i`, aligned at the top-left (the
    convention of `keras.ops.dot_product_attention`); it combines with `mask`.
    A fully masked query row gives zero weights and a zero output (no NaN).

    Args:
        query: `(batch, q_time, heads, dim)`.
        key: `(batch, k_time, heads, dim)`.
        value: `(batch, k_time, heads, value_dim)`.
        mask: Optional boolean mask (see above).
        causal: Whether to add a causal mask.
        return_weights: Whether to also return the attention weights.
        dropout: Rate at which attention weights are dropped (inverted dropout,
            the kept ones scaled by `1 / (1 - dropout)`). Pass 0 at inference.
            The returned weights are the ones before dropout.
        scale: Factor of the logits; default `1 / sqrt(dim)`.
        seed: Seed of the dropout: an int or a `keras.random.SeedGenerator`
            (layers pass the one they hold).

    Returns:
        The output `(batch, q_time, heads, value_dim)`, or the pair
        `(output, weights)` with weights `(batch, heads, q_time, k_time)` when
        `return_weights=True`.

    Raises:
        ValueError: When a tensor has the wrong rank or shapes disagree.

    Example:

    ```python
    q = k = v = keras.random.normal((2, 5, 4, 8))  # (batch, time, heads, dim)
    out = scaled_dot_product_attention(q, k, v, causal=True)  # fused
    out, weights = scaled_dot_product_attention(
        q, k, v, causal=True, return_weights=True
    )
    # out: (2, 5, 4, 8); weights: (2, 4, 5, 5), rows sum to 1, zero above the
    # diagonal.
    ```
    """
    query = ops.convert_to_tensor(query)
    key = ops.convert_to_tensor(key)
    value = ops.convert_to_tensor(value)
    _validate_qkv(query, key, value)
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"`dropout` must be in [0, 1); received dropout={dropout}.")
    if scale is None:
        head_dim = query.shape[-1]
        if head_dim is None:
            raise ValueError(
                "The last axis of `query` must be known to derive the default "
                f"`scale`; received query shape {_shape(query)}. Pass `scale`."
            )
        scale = 1.0 / math.sqrt(head_dim)
    q_len, k_len = ops.shape(query)[1], ops.shape(key)[1]

    allowed = None  # the full mask, rank 4, with the causal part folded in
    if mask is not None:
        allowed = _rank4_mask(mask)
        if causal:
            allowed = ops.logical_and(allowed, _causal_mask(q_len, k_len))
    elif causal:
        allowed = _causal_mask(q_len, k_len)

    # keras.ops.dot_product_attention on JAX needs value dim == key dim.
    same_dims = query.shape[-1] == value.shape[-1]
    if return_weights or dropout > 0 or not same_dims:
        output, weights = _explicit_attention(
            query, key, value, allowed, float(scale), float(dropout), seed
        )
        return (output, weights) if return_weights else output

    flash = None
    if keras.backend.backend() != "tensorflow":  # TF has no flash kernel
        flash = keras.config.is_flash_attention_enabled()
    if mask is None:
        # Pure causal (or no) masking: let the backend use its native kernel.
        return ops.dot_product_attention(
            query, key, value, scale=scale, is_causal=causal, flash_attention=flash
        )
    # Make the mask full-sized in (q_time, k_time) so every backend accepts it.
    if not causal:
        allowed = ops.logical_and(allowed, ops.ones((1, 1, q_len, k_len), "bool"))
    output = ops.dot_product_attention(
        query, key, value, mask=allowed, scale=scale, flash_attention=flash
    )
    # A fully masked row would be a uniform average of the values here; zero it
    # so that both paths agree.
    has_key = ops.transpose(ops.any(allowed, axis=-1), (0, 2, 1))
    return output * ops.cast(ops.expand_dims(has_key, -1), output.dtype)


def _explicit_attention(query, key, value, allowed, scale, dropout, seed):
    logits = ops.einsum("btnh,bsnh->bnts", query, key)
    # The softmax runs in float32 even for float16/bfloat16 inputs.
    if keras.backend.standardize_dtype(logits.dtype) in _LOW_PRECISION:
        logits = ops.cast(logits, "float32")
    logits = logits * ops.cast(scale, logits.dtype)
    if allowed is not None:
        logits = ops.where(allowed, logits, ops.cast(_LARGE_NEGATIVE, logits.dtype))
    weights = ops.softmax(logits, axis=-1)
    if allowed is not None:
        # A fully masked row was softmaxed to a uniform distribution; zero it.
        weights = ops.where(allowed, weights, ops.zeros((), weights.dtype))
    weights = ops.cast(weights, value.dtype)
    used = weights
    if dropout > 0:
        used = keras.random.dropout(weights, dropout, seed=seed)
    return ops.einsum("bnts,bsnh->btnh", used, value), weights


def _check_mask_shape(mask_shape, batch, q_time, k_time, num_heads):
    """Static check of a MultiHeadAttention `attention_mask` (rank-3 inputs):
    `(q_time, k_time)`, `(batch, q_time, k_time)` or `(batch, heads, q_time,
    k_time)`, where every axis may also be 1 (broadcast) and None (unknown)."""
    mask_shape = tuple(mask_shape)
    forms = {
        2: ((q_time, "q_time"), (k_time, "k_time")),
        3: ((batch, "batch"), (q_time, "q_time"), (k_time, "k_time")),
        4: (
            (batch, "batch"),
            (num_heads, "num_heads"),
            (q_time, "q_time"),
            (k_time, "k_time"),
        ),
    }
    expected = forms.get(len(mask_shape))
    fits = expected is not None and all(
        got in (None, 1) or want is None or got == want
        for got, (want, _) in zip(mask_shape, expected)
    )
    if not fits:
        described = " or ".join(
            "(" + ", ".join(f"{name}={size}" for size, name in form) + ")"
            for form in (forms[3], forms[4], forms[2])
        )
        raise ValueError(
            f"Expected `attention_mask` of shape {described} (any axis may be 1 to "
            f"broadcast); received shape {mask_shape}."
        )


def _check_axes_mask_shape(shape, expected):
    """Static check of an `attention_mask` for attention over `attention_axes`."""
    if len(shape) != len(expected) or any(
        got not in (None, 1) and want is not None and got != want
        for got, want in zip(shape, expected)
    ):
        raise ValueError(
            "Expected `attention_mask` of shape (batch, *query_attention_axes, "
            f"*key_attention_axes) = {expected} (any axis may be 1 to "
            f"broadcast); received shape {tuple(shape)}."
        )


def _normalize_attention_axes(attention_axes):
    if attention_axes is None:
        return None
    if isinstance(attention_axes, int) and not isinstance(attention_axes, bool):
        attention_axes = (attention_axes,)
    if (
        not isinstance(attention_axes, (list, tuple))
        or not attention_axes
        or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in attention_axes
        )
    ):
        raise ValueError(
            "`attention_axes` must be None, an int or a non-empty tuple of ints "
            f"(axes of `query`); received attention_axes={attention_axes!r}."
        )
    return tuple(attention_axes)


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
class MultiHeadAttention(keras.layers.Layer):
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
        self.attention_axes = _normalize_attention_axes(attention_axes)
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

    # ---- shapes -------------------------------------------------------------

    def _check_shapes(self, query_shape, value_shape, key_shape=None):
        query_shape = tuple(query_shape)
        rank = len(query_shape)
        if rank < 3:
            raise ValueError(
                "Expected `query` of rank 3 (batch, time, features) or more "
                f"(batch, *index_axes, features); received shape {query_shape}."
            )
        if rank == 3 and self.attention_axes is None:
            layout = "rank 3 (batch, time, features)"
        else:
            layout = f"rank {rank} (the rank of `query`)"
        named = [("query", query_shape), ("value", value_shape)]
        if key_shape is not None:
            named.append(("key", key_shape))
        for name, shape in named:
            shape = tuple(shape)
            if len(shape) != rank:
                raise ValueError(
                    f"Expected `{name}` of {layout}; received shape {shape}."
                )
            if shape[-1] is None:
                raise ValueError(
                    f"The last axis of `{name}` must be known; received shape {shape}."
                )
        axes = self._axes_for(rank)
        if key_shape is not None and any(
            _dims_clash(a, b) for a, b in zip(value_shape[1:-1], key_shape[1:-1])
        ):
            what = "time axis" if rank == 3 else "axes except the last"
            raise ValueError(
                f"`key` and `value` must have the same {what}; received value "
                f"shape {tuple(value_shape)} and key shape {tuple(key_shape)}."
            )
        if rank > 3 or axes != (1,):
            for name, shape in named:
                if any(size is None for size in tuple(shape)[1:-1]):
                    raise ValueError(
                        f"Attention over `attention_axes` needs every axis of "
                        f"`{name}` but batch known; received shape {tuple(shape)}."
                    )
            others = [a for a in range(1, rank - 1) if a not in axes]
            if any(query_shape[a] != value_shape[a] for a in others):
                raise ValueError(
                    f"`query` and `value` must agree on the axes not attended over "
                    f"({others}, with attention_axes={axes}); received query "
                    f"shape {query_shape} and value shape {tuple(value_shape)}."
                )

    def _axes_for(self, rank):
        """The attention axes, non-negative, for inputs of rank `rank`."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = tuple(a % rank if -rank <= a < rank else a for a in self.attention_axes)
        if any(not 1 <= a <= rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(
                f"`attention_axes` must be distinct axes of `query` other than "
                f"batch (0) and features (-1), i.e. in [1, {rank - 2}] for inputs "
                f"of rank {rank}; received attention_axes={self.attention_axes}."
            )
        return tuple(sorted(axes))

    def _features_out(self, query_shape):
        return self._output_shape or (query_shape[-1],)

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
        self._check_shapes(_shape(query), _shape(value), _shape(key))
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
        mask = self._combine_masks(
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
            k, v, cache, mask = self._update_cache(k, v, cache, cache_update_index)
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

    def _call_over_axes(
        self,
        query,
        value,
        key,
        attention_mask,
        return_attention_scores,
        training,
        use_causal_mask,
        unsupported,
    ):
        """Attention of rank > 3 inputs over `attention_axes` (Keras's
        semantics): the other index axes join the batch, the attention axes are
        flattened into one time axis, `scaled_dot_product_attention` runs, and
        the results are unflattened."""
        rank = len(query.shape)
        axes = self._axes_for(rank)
        if any(m is not None for m in unsupported):
            raise ValueError(
                "Padding masks (`query_mask`, `value_mask`, `key_mask`, implicit "
                "Keras masks) and `cache` need rank 3 inputs attending over axis "
                f"1; received query shape {_shape(query)} with attention_axes="
                f"{axes}. Pass an `attention_mask` instead."
            )
        if use_causal_mask and len(axes) != 1:
            raise ValueError(
                "`use_causal_mask=True` needs a single attention axis; received "
                f"attention_axes={axes}."
            )
        others = [a for a in range(1, rank - 1) if a not in axes]
        letters = "tuvwxyz"[: rank - 2]
        projections = []
        for x, kernel, bias in (
            (query, self.query_kernel, self.query_bias),
            (key, self.key_kernel, self.key_bias),
            (value, self.value_kernel, self.value_bias),
        ):
            y = ops.einsum(f"b{letters}d,dnh->b{letters}nh", x, kernel)
            projections.append(y + bias if self.use_bias else y)

        def flatten(y):
            # (b, *index, n, h) -> (b * others, prod(attention axes), n, h)
            y = ops.transpose(y, (0, *others, *axes, rank - 1, rank))
            length = math.prod(y.shape[1 + len(others) : -2])
            return ops.reshape(y, (-1, length, y.shape[-2], y.shape[-1]))

        q, k, v = (flatten(y) for y in projections)
        batch = ops.shape(query)[0]
        other_sizes = tuple(query.shape[a] for a in others)
        q_sizes = tuple(query.shape[a] for a in axes)
        k_sizes = tuple(key.shape[a] for a in axes)
        mask = None
        if attention_mask is not None:
            mask = self._flat_axes_mask(
                attention_mask, query.shape[0], other_sizes, q_sizes, k_sizes
            )
        rate = self.dropout if training else 0.0
        result = scaled_dot_product_attention(
            q,
            k,
            v,
            mask=mask,
            causal=use_causal_mask,
            return_weights=return_attention_scores,
            dropout=rate,
            scale=1.0 / math.sqrt(self.key_dim),
            seed=getattr(self, "seed_generator", None),
        )
        heads, scores = result if return_attention_scores else (result, None)
        # (b * others, q_len, n, v) -> (b, *others, *q_axes, n, v) -> input order
        heads = ops.reshape(
            heads, (batch, *other_sizes, *q_sizes, self.num_heads, self.value_dim)
        )
        order = [*others, *axes]
        inverse = [1 + order.index(a) for a in range(1, rank - 1)]
        heads = ops.transpose(heads, (0, *inverse, rank - 1, rank))
        output = self._output_projection(heads)
        if not return_attention_scores:
            return output
        scores = ops.reshape(
            scores, (batch, *other_sizes, self.num_heads, *q_sizes, *k_sizes)
        )
        return output, scores

    @staticmethod
    def _flat_axes_mask(attention_mask, batch, other_sizes, q_sizes, k_sizes):
        """`(batch, *q_axes, *k_axes)` -> `(batch * others, 1, q_len, k_len)`."""
        mask = ops.convert_to_tensor(attention_mask)
        _check_axes_mask_shape(_shape(mask), (batch, *q_sizes, *k_sizes))
        if keras.backend.standardize_dtype(mask.dtype) != "bool":
            mask = ops.not_equal(mask, ops.zeros((), dtype=mask.dtype))
        full = (ops.shape(mask)[0], *q_sizes, *k_sizes)
        mask = ops.broadcast_to(mask, full)
        q_len, k_len = math.prod(q_sizes), math.prod(k_sizes)
        mask = ops.reshape(mask, (-1, 1, 1, q_len, k_len))
        if other_sizes:
            n_other = math.prod(other_sizes)
            mask = ops.broadcast_to(
                mask, (ops.shape(mask)[0], n_other, 1, q_len, k_len)
            )
        return ops.reshape(mask, (-1, 1, q_len, k_len))

    def _update_cache(self, k, v, cache, cache_update_index):
        """Writes the new keys/values into `cache` at `cache_update_index` and
        returns the full cached keys and values, the new cache, and the mask
        that lets query `i` (at position `index + i`) see cached positions
        `0..index + i` only."""
        if self.value_dim != self.key_dim:
            raise ValueError(
                "A key/value cache needs value_dim == key_dim; this layer has "
                f"key_dim={self.key_dim} and value_dim={self.value_dim}."
            )
        expected = (2, self.num_heads, self.key_dim)
        shape = _shape(cache)
        if len(shape) != 5 or (shape[1], shape[3], shape[4]) != expected:
            raise ValueError(
                "Expected `cache` of shape (batch, 2, max_length, "
                f"{self.num_heads}, {self.key_dim}) (keys then values); received "
                f"shape {shape}."
            )
        index = 0 if cache_update_index is None else cache_update_index
        if isinstance(index, int) and index + k.shape[1] > shape[2]:
            raise ValueError(
                f"The cache holds {shape[2]} positions; received "
                f"{k.shape[1]} new ones at cache_update_index={index}."
            )
        start = (0, index, 0, 0)
        key_cache = ops.slice_update(cache[:, 0], start, ops.cast(k, cache.dtype))
        value_cache = ops.slice_update(cache[:, 1], start, ops.cast(v, cache.dtype))
        cache = ops.stack([key_cache, value_cache], axis=1)
        query_positions = ops.arange(ops.shape(k)[1]) + index
        allowed = ops.less_equal(
            ops.expand_dims(ops.arange(shape[2]), 0),
            ops.expand_dims(query_positions, 1),
        )  # (q_time, max_length)
        key_cache = ops.cast(key_cache, k.dtype)
        value_cache = ops.cast(value_cache, v.dtype)
        return key_cache, value_cache, cache, allowed

    def _check_built_for(self, query, value, key):
        for name, x, kernel in (
            ("query", query, self.query_kernel),
            ("value", value, self.value_kernel),
            ("key", key, self.key_kernel),
        ):
            if _dims_clash(x.shape[-1], kernel.shape[0]):
                raise ValueError(
                    f"This layer was built for `{name}` with {kernel.shape[0]} "
                    f"features; received `{name}` of shape {_shape(x)}."
                )

    @staticmethod
    def _combine_masks(query_mask, value_mask, key_mask, attention_mask, sizes):
        """AND of all masks as one mask broadcastable to `(batch, heads, q_time,
        k_time)`; `sizes` = (batch, q_time, k_time, heads) for the checks."""
        combined = None

        def both(a, b):
            return b if a is None else ops.logical_and(a, b)

        if query_mask is not None:  # (batch, q_time) -> (batch, 1, q_time, 1)
            combined = ops.cast(query_mask, "bool")[:, None, :, None]
        for padding in (value_mask, key_mask):  # -> (batch, 1, 1, k_time)
            if padding is not None:
                combined = both(combined, ops.cast(padding, "bool")[:, None, None, :])
        if attention_mask is not None:
            attention_mask = ops.convert_to_tensor(attention_mask)
            batch, q_time, k_time, heads = sizes
            _check_mask_shape(_shape(attention_mask), batch, q_time, k_time, heads)
            attention_mask = _rank4_mask(attention_mask)
            combined = both(combined, attention_mask)
        return combined

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
                _check_mask_shape(mask_shape, *sizes, self.num_heads)
            else:
                expected = (
                    query.shape[0],
                    *(query.shape[a] for a in axes),
                    *(value.shape[a] for a in axes),
                )
                _check_axes_mask_shape(mask_shape, expected)
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
