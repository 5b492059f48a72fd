"""Transformer encoder/decoder blocks: contract, masks, causality, pre/post-norm
and the key/value cache (cached step-by-step decoding equals the full pass)."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from kerasdl.layers import (
    MultiHeadAttention,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
from kerasdl.testing import check_layer

RNG = np.random.default_rng(0)


def _x(batch=2, time=6, features=16):
    return RNG.standard_normal((batch, time, features)).astype("float32")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


@pytest.mark.parametrize("norm_first", [True, False])
def test_encoder_block_contract(norm_first, tmp_path):
    block = TransformerEncoderBlock(4, 32, norm_first=norm_first, dropout=0.1, seed=1)
    check_layer(block, _x(), expected_output_shape=(2, 6, 16), tmp_dir=tmp_path)


def test_pre_and_post_norm_place_the_layer_norm_differently():
    x = _x()
    pre = TransformerEncoderBlock(2, 32, norm_first=True)
    post = TransformerEncoderBlock(2, 32, norm_first=False)
    pre(x), post(x)
    post.set_weights(pre.get_weights())
    y_pre, y_post = _np(pre(x)), _np(post(x))
    # Post-norm ends with a LayerNorm (zero mean, unit variance per token);
    # pre-norm ends with a residual sum, which keeps the input's scale.
    np.testing.assert_allclose(y_post.mean(-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y_post.std(-1), 1.0, atol=1e-2)
    assert np.abs(y_pre.mean(-1)).max() > 1e-3
    assert not np.allclose(y_pre, y_post, atol=1e-3)


def test_encoder_padding_mask_hides_padded_tokens():
    block = TransformerEncoderBlock(2, 32)
    x = _x(batch=1, time=5)
    padding = np.array([[1, 1, 1, 0, 0]], bool)
    y = _np(block(x, padding_mask=padding))
    changed = x.copy()
    changed[:, 3:] = RNG.standard_normal(changed[:, 3:].shape)
    y_changed = _np(block(changed, padding_mask=padding))
    np.testing.assert_allclose(y[:, :3], y_changed[:, :3], atol=1e-5)
    # Without the mask the padded tokens do leak into the real ones.
    assert not np.allclose(_np(block(x))[:, :3], _np(block(changed))[:, :3], atol=1e-4)


def test_encoder_returns_attention_scores_that_respect_the_mask():
    block = TransformerEncoderBlock(2, 32)
    padding = np.array([[1, 1, 0], [1, 1, 1]], bool)
    y, scores = block(_x(time=3), padding_mask=padding, return_attention_scores=True)
    scores = _np(scores)
    assert scores.shape == (2, 2, 3, 3)
    np.testing.assert_allclose(scores[0, :, :, 2], 0.0, atol=1e-7)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)


def test_decoder_block_is_causal():
    block = TransformerDecoderBlock(2, 32)
    x = _x(time=7)
    y = _np(block(x))
    later = x.copy()
    later[:, 4:] += 1.0
    y_later = _np(block(later))
    np.testing.assert_allclose(y[:, :4], y_later[:, :4], atol=1e-5)
    assert not np.allclose(y[:, 4:], y_later[:, 4:], atol=1e-4)


@pytest.mark.parametrize("norm_first", [True, False])
def test_decoder_block_with_cross_attention_contract(norm_first, tmp_path):
    block = TransformerDecoderBlock(2, 32, cross_attention=True, norm_first=norm_first)
    memory = _x(time=4, features=12)
    check_layer(
        block, (_x(), memory), expected_output_shape=(2, 6, 16), tmp_dir=tmp_path
    )


def test_cross_attention_ignores_padded_source_tokens():
    block = TransformerDecoderBlock(2, 32, cross_attention=True)
    x, memory = _x(time=3), _x(time=5)
    source_mask = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], bool)
    y = _np(block(x, memory, encoder_padding_mask=source_mask))
    noisy = memory + 5.0 * (~source_mask)[..., None]
    y_noisy = _np(block(x, noisy, encoder_padding_mask=source_mask))
    np.testing.assert_allclose(y, y_noisy, atol=1e-5)


def test_cached_decoding_equals_the_full_causal_pass():
    block = TransformerDecoderBlock(2, 32, key_dim=8)
    x = _x(time=6)
    full = _np(block(x))
    cache = ops.zeros((2, 2, 10, 2, 8))
    # Prefill 3 tokens, then one token at a time.
    y, cache = block(x[:, :3], self_attention_cache=cache, cache_update_index=0)
    steps = [_np(y)]
    for t in range(3, 6):
        y, cache = block(
            x[:, t : t + 1], self_attention_cache=cache, cache_update_index=t
        )
        steps.append(_np(y))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    # Slots after the last written position are still empty.
    np.testing.assert_array_equal(_np(cache)[:, :, 6:], 0.0)


def test_attention_cache_checks_its_arguments():
    mha = MultiHeadAttention(2, 4)
    x = _x(time=3, features=8)
    with pytest.raises(ValueError, match=r"cache.*\(batch, 2, max_length, 2, 4\)"):
        mha(x, x, cache=np.zeros((2, 2, 5, 3, 4), "float32"))
    with pytest.raises(ValueError, match="holds 4 positions"):
        mha(x, x, cache=np.zeros((2, 2, 4, 2, 4), "float32"), cache_update_index=2)
    with pytest.raises(ValueError, match="cannot be combined"):
        mha(
            x,
            x,
            attention_mask=np.ones((2, 3, 3), bool),
            cache=np.zeros((2, 2, 4, 2, 4), "float32"),
        )
    with pytest.raises(ValueError, match="value_dim == key_dim"):
        MultiHeadAttention(2, 4, value_dim=3)(
            x, x, cache=np.zeros((2, 2, 4, 2, 4), "float32")
        )


def test_blocks_check_their_arguments():
    with pytest.raises(ValueError, match="num_heads"):
        TransformerEncoderBlock(0, 32)
    with pytest.raises(ValueError, match="dropout"):
        TransformerEncoderBlock(2, 32, dropout=1.5)
    with pytest.raises(ValueError, match="activation"):
        TransformerEncoderBlock(2, 32, activation="no_such_thing")
    with pytest.raises(ValueError, match=r"features \(15\) must divide"):
        TransformerEncoderBlock(2, 32)(_x(features=15))
    with pytest.raises(ValueError, match="rank 3"):
        TransformerEncoderBlock(2, 32)(np.zeros((2, 16), "float32"))
    with pytest.raises(ValueError, match="pass `encoder_outputs`"):
        TransformerDecoderBlock(2, 32, cross_attention=True)(_x())
    with pytest.raises(ValueError, match="does not take `encoder_outputs`"):
        TransformerDecoderBlock(2, 32)(_x(), _x())
