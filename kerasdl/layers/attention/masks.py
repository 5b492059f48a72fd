"""Masks and shape helpers of the attention layers.

One rule everywhere: **True means "may attend"**. A query row whose keys are all
masked out gets all-zero attention weights (the softmax runs over a large negative
number, not `-inf`, and the masked weights are then set to zero, as
`keras.layers.Softmax` does), so a fully masked row is no NaN.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = [
    "LARGE_NEGATIVE",
    "causal_mask",
    "check_axes_mask_shape",
    "check_mask_shape",
    "combine_masks",
    "dims_clash",
    "rank4_mask",
    "shape_of",
]

# Filled into masked logits before the softmax: large enough to give a zero
# weight, finite so that a fully masked row is no NaN (as in keras.layers.Softmax).
LARGE_NEGATIVE = -1e9


def shape_of(x):
    return tuple(x.shape)


def dims_clash(a, b):
    return a is not None and b is not None and a != b


def causal_mask(q_len, k_len):
    """Boolean `(1, 1, q_len, k_len)`: query i sees keys 0..i (top-left aligned)."""
    rows = ops.expand_dims(ops.arange(q_len), 1)
    cols = ops.expand_dims(ops.arange(k_len), 0)
    allowed = ops.greater_equal(rows, cols)
    return ops.expand_dims(ops.expand_dims(allowed, 0), 0)


def rank4_mask(mask):
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
        f"4 (batch, heads, q_time, k_time); received shape {shape_of(mask)}."
    )


def check_mask_shape(mask_shape, batch, q_time, k_time, num_heads):
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


def check_axes_mask_shape(shape, expected):
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


def combine_masks(query_mask, value_mask, key_mask, attention_mask, sizes):
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
        check_mask_shape(shape_of(attention_mask), batch, q_time, k_time, heads)
        attention_mask = rank4_mask(attention_mask)
        combined = both(combined, attention_mask)
    return combined
