"""Attention maps as files: a heatmap PNG of one head's weights, plus its JSON.

Kept apart from `kerasdl.layers.attention` so that building a model does not
import matplotlib.
"""

from __future__ import annotations

import json

import keras
import numpy as np

from kerasdl._figures import plt, save_figure

__all__ = ["plot_attention_map"]


def _select_head(weights, sample, head):
    if weights.ndim == 4:  # (batch, heads, q_time, k_time)
        if not 0 <= sample < weights.shape[0]:
            raise ValueError(
                f"`sample` must be in [0, {weights.shape[0]}); received {sample}."
            )
        weights = weights[sample]
    if weights.ndim == 3:  # (heads, q_time, k_time)
        if not 0 <= head < weights.shape[0]:
            raise ValueError(
                f"`head` must be in [0, {weights.shape[0]}); received {head}."
            )
        weights = weights[head]
    return weights


def plot_attention_map(
    weights,
    path,
    tokens=None,
    title="Attention weights",
    *,
    key_tokens=None,
    head=0,
    sample=0,
):
    """Draws one head's `(q_time, k_time)` attention weights as a heatmap PNG.

    Rows are queries, columns keys; a row of softmax weights sums to 1 (0 for a
    fully masked row). A JSON file with the same stem holds the numbers drawn:
    `{"weights": [[...]], "query_tokens": [...], "key_tokens": [...],
    "head": h, "sample": s}`.

    Args:
        weights: Attention weights `(q_time, k_time)`, `(heads, q_time,
            k_time)` or `(batch, heads, q_time, k_time)` (what
            `MultiHeadAttention(..., return_attention_scores=True)` and
            `scaled_dot_product_attention(..., return_weights=True)` return).
        path: Destination PNG (parent folders are created).
        tokens: Optional labels of the query positions; also used for the keys
            when `key_tokens` is None and the map is square.
        title: Figure title.
        key_tokens: Optional labels of the key positions (cross-attention).
        head: Which head to draw from a 3- or 4-axis `weights`.
        sample: Which batch element to draw from a 4-axis `weights`.

    Returns:
        The `pathlib.Path` of the PNG.

    Raises:
        ValueError: For weights of another rank, or labels of the wrong length.

    Example:

    ```python
    _, scores = mha(x, x, return_attention_scores=True)
    plot_attention_map(scores, "runs/plots/attention.png", tokens=words, head=1)
    ```
    """
    weights = np.asarray(keras.ops.convert_to_numpy(weights), dtype="float64")
    if weights.ndim not in (2, 3, 4):
        raise ValueError(
            "Expected `weights` of shape (q_time, k_time), (heads, q_time, k_time) "
            f"or (batch, heads, q_time, k_time); received shape {weights.shape}."
        )
    matrix = _select_head(weights, sample, head)
    q_len, k_len = matrix.shape
    if key_tokens is None and tokens is not None and q_len == k_len:
        key_tokens = tokens
    for name, labels, size in (
        ("tokens", tokens, q_len),
        ("key_tokens", key_tokens, k_len),
    ):
        if labels is not None and len(labels) != size:
            raise ValueError(
                f"`{name}` must have one label per position ({size}); received "
                f"{len(labels)}."
            )

    side = 0.35
    fig, ax = plt.subplots(
        figsize=(max(3.5, 1.5 + side * k_len), max(3.0, 1.2 + side * q_len))
    )
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, aspect="auto")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xlabel("key position")
    ax.set_ylabel("query position")
    if key_tokens is not None:
        ax.set_xticks(range(k_len), [str(t) for t in key_tokens], rotation=90)
    if tokens is not None:
        ax.set_yticks(range(q_len), [str(t) for t in tokens])
    ax.set_title(title)
    png = save_figure(fig, path)
    data = {
        "weights": matrix.tolist(),
        "query_tokens": None if tokens is None else [str(t) for t in tokens],
        "key_tokens": None if key_tokens is None else [str(t) for t in key_tokens],
        "head": head if weights.ndim >= 3 else None,
        "sample": sample if weights.ndim == 4 else None,
    }
    png.with_suffix(".json").write_text(json.dumps(data))
    return png
