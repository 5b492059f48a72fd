"""kerasdl.layers.attention_plots: one head's attention map as PNG and JSON."""

import json

import keras
import numpy as np
import pytest

from kerasdl.layers.attention import MultiHeadAttention
from kerasdl.layers.attention_plots import plot_attention_map

B, T = 2, 5


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def test_plot_attention_map_writes_png_and_json(tmp_path):
    x = _normal(B, T, 4, seed=31)
    _, scores = MultiHeadAttention(2, 3)(
        x, x, return_attention_scores=True, use_causal_mask=True
    )
    words = ["the", "cat", "sat", "on", "mats"]
    png = plot_attention_map(
        scores, tmp_path / "maps" / "attention.png", tokens=words, head=1, sample=1
    )
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(png.with_suffix(".json").read_text())
    np.testing.assert_allclose(data["weights"], _np(scores)[1, 1], atol=1e-7)
    assert data["query_tokens"] == words and data["key_tokens"] == words
    assert (data["head"], data["sample"]) == (1, 1)

    cross = np.full((3, 4), 0.25)
    png = plot_attention_map(
        cross, tmp_path / "cross.png", tokens=list("abc"), key_tokens=list("wxyz")
    )
    assert png.exists()
    with pytest.raises(ValueError, match=r"`weights` of shape.*\(4,\)"):
        plot_attention_map(np.ones(4), tmp_path / "bad.png")
    with pytest.raises(ValueError, match=r"`tokens` must have one label"):
        plot_attention_map(cross, tmp_path / "bad.png", tokens=["a"])
    with pytest.raises(ValueError, match=r"`head` must be in \[0, 2\)"):
        plot_attention_map(_np(scores)[0], tmp_path / "bad.png", head=2)
