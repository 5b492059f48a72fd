"""The key/value cache of causal self-attention decoding: write this call's keys
and values at `cache_update_index`, read back all the cached positions, and the
mask that lets each query see the cached positions up to its own.
"""

from __future__ import annotations

from keras import ops

from kerasdl.layers.attention.masks import shape_of

__all__ = ["update_cache"]


def update_cache(k, v, cache, cache_update_index, *, num_heads, key_dim, value_dim):
    """Writes the new keys/values into `cache` at `cache_update_index` and
    returns the full cached keys and values, the new cache, and the mask
    that lets query `i` (at position `index + i`) see cached positions
    `0..index + i` only."""
    if value_dim != key_dim:
        raise ValueError(
            "A key/value cache needs value_dim == key_dim; this layer has "
            f"key_dim={key_dim} and value_dim={value_dim}."
        )
    expected = (2, num_heads, key_dim)
    shape = shape_of(cache)
    if len(shape) != 5 or (shape[1], shape[3], shape[4]) != expected:
        raise ValueError(
            "Expected `cache` of shape (batch, 2, max_length, "
            f"{num_heads}, {key_dim}) (keys then values); received "
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
