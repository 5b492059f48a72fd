"""Attention written with `keras.ops`: `scaled_dot_product_attention` (the formula
of Vaswani et al. 2017) and `MultiHeadAttention` (the learned projections around
it, weight-compatible with `keras.layers.MultiHeadAttention`).

Modules: `scaled_dot_product` (the formula, fused or written out),
`multi_head_attention` (the layer), `masks` (masks; True = may attend), `axes`
(shape checks and attention over several axes), `kv_cache` (decoding cache).
"""

from kerasdl.layers.attention.multi_head_attention import MultiHeadAttention
from kerasdl.layers.attention.scaled_dot_product import scaled_dot_product_attention

__all__ = ["MultiHeadAttention", "scaled_dot_product_attention"]
