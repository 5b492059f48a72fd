"""kerasdl.layers.attention.scaled_dot_product: the formula by hand, fused and
written out, against a NumPy reference, with every kind of mask."""

import keras
import numpy as np
import pytest
from attention_helpers import (
    ATOL,
    B,
    D,
    H,
    S,
    T,
    _causal,
    _masks,
    _normal,
    _np,
    _reference_attention,
)

from kerasdl import backend
from kerasdl.layers.attention import scaled_dot_product_attention

# ---------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("mask_name", list(_masks()))
def test_sdpa_fused_and_explicit_paths_agree(mask_name, causal):
    q, k, v = (
        _normal(B, T, H, D, seed=2),
        _normal(B, S, H, D, seed=3),
        _normal(B, S, H, D, seed=4),
    )
    mask, allowed = _masks()[mask_name]
    if causal:
        allowed = allowed & _causal(T, S)
    fused = _np(scaled_dot_product_attention(q, k, v, mask=mask, causal=causal))
    explicit, weights = scaled_dot_product_attention(
        q, k, v, mask=mask, causal=causal, return_weights=True
    )
    explicit, weights = _np(explicit), _np(weights)
    assert fused.shape == explicit.shape == (B, T, H, D)
    assert weights.shape == (B, H, T, S)
    assert np.all(np.isfinite(fused)) and np.all(np.isfinite(weights))
    np.testing.assert_allclose(fused, explicit, atol=ATOL, rtol=0)
    expected, expected_weights = _reference_attention(q, k, v, allowed)
    np.testing.assert_allclose(explicit, expected, atol=ATOL, rtol=0)
    np.testing.assert_allclose(weights, expected_weights, atol=ATOL, rtol=0)
    # Rows with a key sum to 1; fully masked rows are all-zero weights and output.
    row_has_key = np.broadcast_to(allowed, weights.shape).any(-1)
    np.testing.assert_allclose(weights.sum(-1)[row_has_key], 1.0, atol=1e-6)
    assert np.all(weights[~row_has_key] == 0.0)
    if mask_name == "rows_fully_masked":
        assert not row_has_key.all()
        assert np.all(fused[0, 2] == 0.0) and np.all(explicit[1, 4] == 0.0)
    if causal:
        upper = ~np.broadcast_to(_causal(T, S), weights.shape)
        assert np.all(weights[upper] == 0.0)


@pytest.mark.parametrize("return_weights", [False, True])
def test_padding_mask_hides_padded_keys(return_weights):
    q, k, v = (
        _normal(B, T, H, D, seed=5),
        _normal(B, S, H, D, seed=6),
        _normal(B, S, H, D, seed=7),
    )
    keys_valid = np.ones((B, S), bool)
    keys_valid[:, 4:] = False
    mask = keys_valid[:, None, None, :]
    k2, v2 = k.copy(), v.copy()
    k2[:, 4:] = 100.0 * _normal(B, S - 4, H, D, seed=8)
    v2[:, 4:] = -50.0

    def run(key, value):
        out = scaled_dot_product_attention(
            q, key, value, mask=mask, return_weights=return_weights
        )
        return _np(out[0] if return_weights else out)

    first, second = run(k, v), run(k2, v2)
    np.testing.assert_allclose(first, second, atol=1e-6, rtol=0)
    # ...and the content does matter without the mask (the test can fail).
    unmasked = _np(scaled_dot_product_attention(q, k2, v2))
    assert np.abs(unmasked - first).max() > 1.0


def test_sdpa_value_dim_may_differ_and_scale_is_used():
    q, k, v = (
        _normal(B, T, H, 4, seed=9),
        _normal(B, S, H, 4, seed=10),
        _normal(B, S, H, 3, seed=11),
    )
    out = _np(scaled_dot_product_attention(q, k, v, scale=0.7))
    # With scale s, the reference sees q * s * sqrt(d) as its query.
    expected, _ = _reference_attention(
        q * 0.7 * np.sqrt(4.0), k, v, np.ones((1, 1, T, S), bool)
    )
    assert out.shape == (B, T, H, 3)
    np.testing.assert_allclose(out, expected, atol=ATOL, rtol=0)


def test_sdpa_dropout_drops_weights_and_returns_them_undropped():
    q, k, v = (
        _normal(B, T, H, D, seed=12),
        _normal(B, S, H, D, seed=13),
        _normal(B, S, H, D, seed=14),
    )
    clean, clean_weights = scaled_dot_product_attention(q, k, v, return_weights=True)
    dropped, weights = scaled_dot_product_attention(
        q, k, v, return_weights=True, dropout=0.5, seed=3
    )
    np.testing.assert_allclose(_np(weights), _np(clean_weights), atol=1e-6)
    assert np.abs(_np(dropped) - _np(clean)).max() > 1e-2
    again = scaled_dot_product_attention(q, k, v, dropout=0.5, seed=3)
    np.testing.assert_allclose(_np(again), _np(dropped), atol=1e-6)


def test_sdpa_bad_input_names_the_argument_and_shape():
    good = _normal(B, T, H, D)
    with pytest.raises(ValueError, match=r"`query` of rank 4 .*\(2, 5, 6\)"):
        scaled_dot_product_attention(_normal(B, T, D), good, good)
    with pytest.raises(ValueError, match=r"`value` of rank 4"):
        scaled_dot_product_attention(good, good, _normal(B, T, H, D, 1))
    with pytest.raises(ValueError, match=r"same time axis"):
        scaled_dot_product_attention(good, good, _normal(B, T + 1, H, D))
    with pytest.raises(ValueError, match=r"same last \(dim\) axis"):
        scaled_dot_product_attention(good, _normal(B, T, H, D + 1), good)
    with pytest.raises(ValueError, match=r"`mask` of rank 2.*received shape \(5,\)"):
        scaled_dot_product_attention(good, good, good, mask=np.ones(T, bool))
    with pytest.raises(ValueError, match=r"`dropout`"):
        scaled_dot_product_attention(good, good, good, dropout=1.0)


@pytest.mark.parametrize("setting", [None, False, True])
def test_fused_path_passes_the_flash_setting_the_backend_accepts(setting, monkeypatch):
    """`keras.config.enable_flash_attention()` is honoured where the backend has a
    flash kernel; TensorFlow has none (and raises for True), so it gets None."""
    monkeypatch.setattr(keras.config, "is_flash_attention_enabled", lambda: setting)
    expected = None if backend.name() == "tensorflow" else setting
    assert backend.flash_attention_flag() is expected
    if expected is not True:  # True needs a GPU/TPU kernel
        q = _normal(B, T, H, D, seed=40)
        reference, _ = _reference_attention(q, q, q, np.ones((1, 1, T, T), bool))
        out = scaled_dot_product_attention(q, q, q)  # the fused path
        np.testing.assert_allclose(_np(out), reference, atol=ATOL)
