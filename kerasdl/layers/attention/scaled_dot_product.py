"""`scaled_dot_product_attention`: `softmax(Q K^T / sqrt(d_k)) V` (Vaswani et al.
2017) on `(batch, time, heads, dim)` tensors, the layout of
`keras.ops.dot_product_attention`: the fused op when the weights are not needed,
the formula written out when they are (or for dropout on them).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasdl import backend
from kerasdl.layers.attention.masks import (
    LARGE_NEGATIVE,
    causal_mask,
    dims_clash,
    rank4_mask,
    shape_of,
)

__all__ = ["scaled_dot_product_attention"]

_LOW_PRECISION = ("float16", "bfloat16")


def _check_rank(x, name, rank, layout):
    if len(x.shape) != rank:
        raise ValueError(
            f"Expected `{name}` of rank {rank} {layout}; received shape {shape_of(x)}."
        )


def _validate_qkv(query, key, value):
    layout = "(batch, time, heads, dim)"
    for name, x in (("query", query), ("key", key), ("value", value)):
        _check_rank(x, name, 4, layout)
    q, k, v = shape_of(query), shape_of(key), shape_of(value)
    if dims_clash(q[-1], k[-1]):
        raise ValueError(
            "`query` and `key` must have the same last (dim) axis; received "
            f"query shape {q} and key shape {k}."
        )
    if dims_clash(k[1], v[1]):
        raise ValueError(
            "`key` and `value` must have the same time axis; received key shape "
            f"{k} and value shape {v}."
        )
    for axis, what in ((0, "batch"), (2, "heads")):
        if any(dims_clash(a[axis], b[axis]) for a, b in ((q, k), (k, v), (q, v))):
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
                f"`scale`; received query shape {shape_of(query)}. Pass `scale`."
            )
        scale = 1.0 / math.sqrt(head_dim)
    q_len, k_len = ops.shape(query)[1], ops.shape(key)[1]

    allowed = None  # the full mask, rank 4, with the causal part folded in
    if mask is not None:
        allowed = rank4_mask(mask)
        if causal:
            allowed = ops.logical_and(allowed, causal_mask(q_len, k_len))
    elif causal:
        allowed = causal_mask(q_len, k_len)

    # keras.ops.dot_product_attention on JAX needs value dim == key dim.
    same_dims = query.shape[-1] == value.shape[-1]
    if return_weights or dropout > 0 or not same_dims:
        output, weights = _explicit_attention(
            query, key, value, allowed, float(scale), float(dropout), seed
        )
        return (output, weights) if return_weights else output

    flash = backend.flash_attention_flag()
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
        logits = ops.where(allowed, logits, ops.cast(LARGE_NEGATIVE, logits.dtype))
    weights = ops.softmax(logits, axis=-1)
    if allowed is not None:
        # A fully masked row was softmaxed to a uniform distribution; zero it.
        weights = ops.where(allowed, weights, ops.zeros((), weights.dtype))
    weights = ops.cast(weights, value.dtype)
    used = weights
    if dropout > 0:
        used = keras.random.dropout(weights, dropout, seed=seed)
    return ops.einsum("bnts,bsnh->btnh", used, value), weights
