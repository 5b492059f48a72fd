"""Shared by the attention tests: random inputs, a NumPy reference of the
formula, masks in every accepted form, and a Keras/kerasdl layer pair with the
same weights."""

import keras
import numpy as np

from kerasdl.layers.attention import MultiHeadAttention

ATOL = 1e-5
B, T, S, H, D = 2, 5, 7, 3, 6


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _reference_attention(q, k, v, allowed):
    """NumPy softmax(QK^T / sqrt(d)) V in float64; masked-out rows give zero."""
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    logits = np.where(allowed, logits, -np.inf)
    peak = np.max(logits, axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    e = np.exp(logits - peak)
    total = e.sum(axis=-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return np.einsum("bnts,bsnh->btnh", weights, v), weights


def _masks():
    """Masks True = attend, each given as the function takes it and as rank 4."""
    rng = np.random.default_rng(1)
    keys_valid = np.ones((B, S), bool)
    keys_valid[0, 4:] = False
    keys_valid[1, 6:] = False
    per_query = rng.random((B, T, S)) > 0.5
    per_query[:, :, 0] = True  # every row keeps a key
    shared = rng.random((T, S)) > 0.3
    shared[:, 0] = True
    some_rows_empty = per_query.copy()
    some_rows_empty[0, 2] = False
    some_rows_empty[1, 4] = False
    return {
        "none": (None, np.ones((1, 1, T, S), bool)),
        "padding_rank4": (keys_valid[:, None, None, :], keys_valid[:, None, None, :]),
        "per_query_rank3": (per_query, per_query[:, None]),
        "shared_rank2": (shared, shared[None, None]),
        "rows_fully_masked": (some_rows_empty, some_rows_empty[:, None]),
    }


def _causal(q_len, k_len):
    return np.tril(np.ones((q_len, k_len), bool))[None, None]


def _pair(num_heads=3, key_dim=5, query=None, value=None, key=None, **kwargs):
    """A Keras MHA and ours with the Keras weights copied into ours."""
    reference = keras.layers.MultiHeadAttention(num_heads, key_dim, **kwargs)
    ours = MultiHeadAttention(num_heads, key_dim, **kwargs)
    # Keras' explicit path builds on every backend (its fused one on JAX does not
    # take value_dim != key_dim).
    reference(query, value, key, return_attention_scores=True)
    ours(query, value, key)
    assert [w.shape for w in ours.get_weights()] == [
        w.shape for w in reference.get_weights()
    ]
    ours.set_weights(reference.get_weights())
    return reference, ours


def _inputs(cross):
    query = _normal(B, T, 4, seed=20)
    if not cross:
        return query, query, None
    return query, _normal(B, S, 6, seed=21), _normal(B, S, 3, seed=22)
