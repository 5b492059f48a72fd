"""kerasdl.layers.attention: scaled dot-product and multi-head attention by hand,
proven against keras.layers.MultiHeadAttention with copied weights."""

import json
import re

import keras
import numpy as np
import pytest

from kerasdl.layers.attention import MultiHeadAttention, scaled_dot_product_attention
from kerasdl.layers.attention_plots import plot_attention_map
from kerasdl.testing import check_layer

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


# ---------------------------------------------------------------------------
# MultiHeadAttention against keras.layers.MultiHeadAttention
# ---------------------------------------------------------------------------


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


CASES = {
    "self": dict(cross=False),
    "self_mask": dict(cross=False, mask=True),
    "self_causal": dict(cross=False, call=dict(use_causal_mask=True)),
    "self_causal_mask": dict(cross=False, mask=True, call=dict(use_causal_mask=True)),
    "cross": dict(cross=True),
    "cross_mask": dict(cross=True, mask=True),
    "cross_causal": dict(cross=True, call=dict(use_causal_mask=True)),
    "no_bias_output_shape": dict(cross=True, init=dict(use_bias=False, output_shape=8)),
    "output_shape_2d": dict(cross=False, init=dict(output_shape=(2, 3))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_keras_multi_head_attention(case):
    spec = CASES[case]
    query, value, key = _inputs(spec["cross"])
    reference, ours = _pair(query=query, value=value, key=key, **spec.get("init", {}))
    call = dict(spec.get("call", {}))
    if spec.get("mask"):
        mask = np.random.default_rng(23).random((B, T, value.shape[1])) > 0.5
        mask[:, :, 0] = True  # no fully masked row: see the test below
        call["attention_mask"] = mask
    expected = _np(reference(query, value, key, **call))
    np.testing.assert_allclose(
        _np(ours(query, value, key, **call)), expected, atol=ATOL
    )

    expected, expected_scores = reference(
        query, value, key, return_attention_scores=True, **call
    )
    output, scores = ours(query, value, key, return_attention_scores=True, **call)
    np.testing.assert_allclose(_np(output), _np(expected), atol=ATOL)
    np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=ATOL)
    assert _np(scores).shape == (B, 3, T, value.shape[1])


def test_value_dim_differs_from_key_dim():
    query, value, key = _inputs(cross=True)
    reference, ours = _pair(2, 3, query, value, key, value_dim=5)
    # Keras' fused path fails on JAX when value_dim != key_dim, so compare with
    # its explicit path on every backend.
    expected, expected_scores = reference(
        query, value, key, return_attention_scores=True, use_causal_mask=True
    )
    output = ours(query, value, key, use_causal_mask=True)
    np.testing.assert_allclose(_np(output), _np(expected), atol=ATOL)
    _, scores = ours(
        query, value, key, return_attention_scores=True, use_causal_mask=True
    )
    np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=ATOL)


def test_fully_masked_query_rows_give_the_output_bias_on_both_paths():
    query, value, key = _inputs(cross=True)
    reference, ours = _pair(query=query, value=value, key=key)
    mask = np.random.default_rng(24).random((B, T, S)) > 0.5
    mask[:, :, 0] = True
    mask[0, 3] = False  # query 3 of sample 0 may attend to nothing
    fused = _np(ours(query, value, key, attention_mask=mask))
    explicit, scores = ours(
        query, value, key, attention_mask=mask, return_attention_scores=True
    )
    keras_explicit, _ = reference(
        query, value, key, attention_mask=mask, return_attention_scores=True
    )
    assert np.all(np.isfinite(fused))
    np.testing.assert_allclose(fused, _np(explicit), atol=ATOL)
    np.testing.assert_allclose(fused, _np(keras_explicit), atol=ATOL)
    np.testing.assert_allclose(fused[0, 3], _np(ours.output_bias), atol=1e-6)
    assert np.all(_np(scores)[0, :, 3] == 0.0)


def test_implicit_keras_masks_from_masking_layers():
    """Masks set by keras.layers.Masking reach our layer as they reach Keras'."""
    query, value, _ = _inputs(cross=True)
    query, value = query.copy(), value.copy()
    query[0, 4:] = 0.0  # padded query positions
    value[0, 5:] = 0.0  # padded key/value positions
    value[1, 3:] = 0.0
    q_in, v_in = keras.Input((T, 4)), keras.Input((S, 6))
    q_masked = keras.layers.Masking(0.0)(q_in)
    v_masked = keras.layers.Masking(0.0)(v_in)
    reference, ours = _pair(query=query, value=value)
    ref_out, ref_scores = reference(q_masked, v_masked, return_attention_scores=True)
    out, scores = ours(q_masked, v_masked, return_attention_scores=True)
    assert out._keras_mask is not None  # the query's mask is passed on
    model = keras.Model([q_in, v_in], [ref_out, ref_scores, out, scores])
    ref_out, ref_scores, out, scores = (_np(t) for t in model([query, value]))
    np.testing.assert_allclose(out, ref_out, atol=ATOL)
    np.testing.assert_allclose(scores, ref_scores, atol=ATOL)
    assert np.all(scores[0, :, :, 5:] == 0.0) and np.all(scores[1, :, :, 3:] == 0.0)
    assert np.all(scores[0, :, 4:] == 0.0)  # padded queries attend to nothing
    # Without scores, Keras' fused path averages the values for padded queries;
    # on the real query positions the two layers agree.
    fused = keras.Model([q_in, v_in], ours(q_masked, v_masked))([query, value])
    keras_fused = keras.Model([q_in, v_in], reference(q_masked, v_masked))(
        [query, value]
    )
    np.testing.assert_allclose(_np(fused)[0, :4], _np(keras_fused)[0, :4], atol=ATOL)
    np.testing.assert_allclose(_np(fused)[1], _np(keras_fused)[1], atol=ATOL)
    np.testing.assert_allclose(_np(fused), out, atol=ATOL)


def test_attention_mask_hides_padded_keys_and_causal_hides_the_future():
    query, value, key = _inputs(cross=True)
    layer = MultiHeadAttention(2, 4)
    keys_valid = np.ones((B, S), bool)
    keys_valid[:, 5:] = False
    mask = np.broadcast_to(keys_valid[:, None, :], (B, T, S))
    value2, key2 = value.copy(), key.copy()
    value2[:, 5:] += 10.0
    key2[:, 5:] -= 10.0
    first = _np(layer(query, value, key, attention_mask=mask))
    second = _np(layer(query, value2, key2, attention_mask=mask))
    np.testing.assert_allclose(first, second, atol=1e-6)
    assert np.abs(_np(layer(query, value2, key2)) - first).max() > 1e-2

    layer = MultiHeadAttention(2, 4)
    x = _normal(B, T, 4, seed=25)
    x2 = x.copy()
    x2[:, 3:] = _normal(B, T - 3, 4, seed=26)
    causal = _np(layer(x, x, use_causal_mask=True))
    causal2 = _np(layer(x2, x2, use_causal_mask=True))
    np.testing.assert_allclose(causal[:, :3], causal2[:, :3], atol=1e-6)
    assert np.abs(causal[:, 3:] - causal2[:, 3:]).max() > 1e-2


def test_dropout_only_in_training():
    x = _normal(B, T, 4, seed=27)
    layer = MultiHeadAttention(2, 4, dropout=0.5, seed=1)
    twin = MultiHeadAttention(2, 4)
    inference = _np(layer(x, x, training=False))
    twin(x, x)
    twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(inference, _np(twin(x, x)), atol=ATOL)
    assert np.abs(_np(layer(x, x, training=True)) - inference).max() > 1e-3


def test_mixed_precision_runs_in_low_precision_close_to_float32():
    x = _normal(B, T, 4, seed=32)
    mask = np.ones((B, T, T), bool)
    mask[0, :, 3:] = False
    full = MultiHeadAttention(2, 3)
    expected, expected_scores = full(
        x, x, attention_mask=mask, return_attention_scores=True
    )
    half = MultiHeadAttention(2, 3, dtype="mixed_bfloat16")
    half(x, x)
    half.set_weights(full.get_weights())
    for scores in (False, True):
        result = half(x, x, attention_mask=mask, return_attention_scores=scores)
        output = result[0] if scores else result
        assert keras.backend.standardize_dtype(output.dtype) == "bfloat16"
        np.testing.assert_allclose(
            _np(output).astype("float32"), _np(expected), atol=2e-2
        )
    np.testing.assert_allclose(
        _np(result[1]).astype("float32"), _np(expected_scores), atol=1e-2
    )


@pytest.mark.parametrize(
    "inputs, kwargs, expected",
    [
        ((B, T, 4), {}, (B, T, 4)),
        ("cross", {"use_causal_mask": True}, (B, T, 4)),
    ],
)
def test_layer_contract(tmp_path, inputs, kwargs, expected):
    if inputs == "cross":
        query, value, key = _inputs(cross=True)
        args = (query, value, key)
        layer = MultiHeadAttention(2, 3, value_dim=4, seed=0)
    else:
        x = _normal(*inputs, seed=28)
        args = (x, x)
        layer = MultiHeadAttention(2, 3, output_shape=None, dropout=0.1)
    check_layer(
        layer,
        args,
        expected_output_shape=expected,
        call_kwargs=kwargs,
        atol=1e-6,
        tmp_dir=tmp_path,
    )
    config = layer.get_config()
    assert {"num_heads", "key_dim", "value_dim", "dropout", "seed"} <= set(config)


def test_symbolic_scores_shape_and_one_fit_step():
    q_in, v_in = keras.Input((T, 4)), keras.Input((S, 6))
    out, scores = MultiHeadAttention(2, 3)(q_in, v_in, return_attention_scores=True)
    assert tuple(out.shape) == (None, T, 4)
    assert tuple(scores.shape) == (None, 2, T, S)  # (q_time, k_time)

    tokens = keras.Input((T, 4))
    y = MultiHeadAttention(2, 3, dropout=0.1, seed=0)(
        tokens, tokens, use_causal_mask=True
    )
    model = keras.Model(tokens, keras.layers.GlobalAveragePooling1D()(y))
    model.compile(optimizer="adam", loss="mse")
    x, target = _normal(8, T, 4, seed=29), _normal(8, 4, seed=30)
    before = model.evaluate(x, target, verbose=0)
    model.fit(x, target, epochs=3, batch_size=8, verbose=0)
    after = model.evaluate(x, target, verbose=0)
    assert np.isfinite(after) and after < before


@pytest.mark.parametrize("num_heads", [0, -1, 1.5, True])
def test_bad_num_heads(num_heads):
    with pytest.raises(ValueError, match=r"`num_heads` must be an integer >= 1"):
        MultiHeadAttention(num_heads, 4)


@pytest.mark.parametrize("key_dim", [0, -3, None])
def test_bad_key_dim(key_dim):
    with pytest.raises(ValueError, match=r"`key_dim` must be an integer >= 1"):
        MultiHeadAttention(2, key_dim)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match=r"`value_dim`"):
        MultiHeadAttention(2, 4, value_dim=0)
    with pytest.raises(ValueError, match=r"`dropout`"):
        MultiHeadAttention(2, 4, dropout=1.5)
    with pytest.raises(ValueError, match=r"`output_shape`"):
        MultiHeadAttention(2, 4, output_shape=(3, 0))
    layer = MultiHeadAttention(2, 4)
    with pytest.raises(
        ValueError, match=r"`query` of rank 3 \(batch, time, features\).*\(5, 4\)"
    ):
        layer(_normal(T, 4), _normal(B, S, 4))
    with pytest.raises(ValueError, match=r"`value` of rank 3.*\(2, 7, 4, 1\)"):
        layer(_normal(B, T, 4), _normal(B, S, 4, 1))
    x = _normal(B, T, 4)
    layer(x, x)  # built: the checks still run on every call
    with pytest.raises(ValueError, match=r"`value` of rank 4 \(the rank of `query`"):
        layer(_normal(B, T, 4, 1), x)  # a rank-4 query attends over 2 axes
    with pytest.raises(ValueError, match=r"same time axis"):
        layer(x, _normal(B, S, 4), _normal(B, S + 1, 4))
    with pytest.raises(ValueError, match=r"built for `value` with 4 features.*6\)"):
        layer(x, _normal(B, S, 6))
    with pytest.raises(ValueError, match=r"`attention_mask` of shape.*\(2, 3, 5, 5\)"):
        layer(x, x, attention_mask=np.ones((B, 3, T, T), bool))  # 3 heads, not 2
    with pytest.raises(ValueError, match=r"`query` of rank 3"):
        layer.compute_output_shape((None, 4), (None, T, 4))


# ---------------------------------------------------------------------------
# 4-D masks, attention_axes, the seed generator
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("heads_axis", [3, 1])
@pytest.mark.parametrize("scores", [False, True])
def test_rank4_attention_mask_matches_keras(heads_axis, scores):
    """(batch, heads, q, k) and (batch, 1, q, k) masks, as Keras takes them."""
    query, value, key = _inputs(cross=True)
    reference, ours = _pair(query=query, value=value, key=key)
    mask = np.random.default_rng(40).random((B, heads_axis, T, S)) > 0.5
    mask[..., 0] = True
    call = dict(attention_mask=mask, return_attention_scores=scores)
    if not scores:  # Keras' fused path needs the mask's head axis spelled out
        call["attention_mask"] = np.broadcast_to(mask, (B, 3, T, S))
    expected = reference(query, value, key, **call)
    call["attention_mask"] = mask
    actual = ours(query, value, key, **call)
    for a, b in zip(keras.tree.flatten(expected), keras.tree.flatten(actual)):
        np.testing.assert_allclose(_np(b), _np(a), atol=ATOL)
    if scores:  # the heads see different keys when the mask says so
        weights = _np(actual[1])
        assert np.all(weights[~np.broadcast_to(mask, weights.shape)] == 0.0)


@pytest.mark.parametrize(
    "shape",
    [(B, 2, T, S), (B, T, S, 1), (T + 1, S), (B + 1, T, S), (B, 3, T, S, 1), (S,)],
)
def test_wrong_attention_mask_shape_names_it(shape):
    query, value, key = _inputs(cross=True)
    layer = MultiHeadAttention(3, 4)
    received = re.escape(str(shape))
    with pytest.raises(ValueError, match=rf"`attention_mask` of shape.*{received}"):
        layer(query, value, key, attention_mask=np.ones(shape, bool))


AXES_CASES = {
    "rank4_default": ((B, 4, 5, 6), (B, 4, 5, 6), None),
    "rank4_axis1": ((B, 4, 5, 6), (B, 3, 5, 6), (1,)),
    "rank4_axis_minus2": ((B, 4, 5, 6), (B, 4, 3, 6), -2),
    "rank5_two_axes": ((B, 3, 4, 5, 6), (B, 3, 2, 4, 7), (2, 3)),
    "rank3_axis1": ((B, T, 4), (B, S, 6), (1,)),
}


@pytest.mark.parametrize("case", list(AXES_CASES))
def test_attention_axes_match_keras(case):
    q_shape, v_shape, axes = AXES_CASES[case]
    query, value = _normal(*q_shape, seed=41), _normal(*v_shape, seed=42)
    reference, ours = _pair(2, 3, query, value, None, attention_axes=axes)
    expected, expected_scores = reference(query, value, return_attention_scores=True)
    output, scores = ours(query, value, return_attention_scores=True)
    assert scores.shape == expected_scores.shape
    np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=ATOL)
    np.testing.assert_allclose(_np(output), _np(expected), atol=ATOL)
    np.testing.assert_allclose(_np(ours(query, value)), _np(expected), atol=ATOL)


def test_attention_axes_with_mask_and_causal_match_keras():
    query, value = _normal(B, 4, 5, 6, seed=43), _normal(B, 3, 5, 6, seed=44)
    reference, ours = _pair(2, 3, query, value, None, attention_axes=1)
    mask = np.random.default_rng(45).random((B, 4, 3)) > 0.4
    mask[..., 0] = True
    for call in (dict(attention_mask=mask), dict(use_causal_mask=True)):
        expected, expected_scores = reference(
            query, value, return_attention_scores=True, **call
        )
        output, scores = ours(query, value, return_attention_scores=True, **call)
        np.testing.assert_allclose(_np(output), _np(expected), atol=ATOL)
        np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=ATOL)


def test_attention_axes_layer_contract_and_symbolic_shapes(tmp_path):
    image = keras.Input((4, 5, 6))
    out, scores = MultiHeadAttention(2, 3, attention_axes=(1, 2))(
        image, image, return_attention_scores=True
    )
    assert tuple(out.shape) == (None, 4, 5, 6)
    assert tuple(scores.shape) == (None, 2, 4, 5, 4, 5)
    x = _normal(B, 4, 5, 6, seed=46)
    check_layer(
        MultiHeadAttention(2, 3, attention_axes=2, output_shape=8, seed=0),
        (x, x),
        expected_output_shape=(B, 4, 5, 8),
        atol=1e-6,
        tmp_dir=tmp_path,
    )


def test_attention_axes_bad_input():
    with pytest.raises(ValueError, match=r"attention_axes='1'"):
        MultiHeadAttention(2, 3, attention_axes="1")
    x = _normal(B, 4, 5, 6)
    with pytest.raises(ValueError, match=r"in \[1, 2\].*attention_axes=\(3,\)"):
        MultiHeadAttention(2, 3, attention_axes=3)(x, x)
    with pytest.raises(ValueError, match=r"attention_axes=\(-1,\)"):
        MultiHeadAttention(2, 3, attention_axes=-1)(x, x)
    layer = MultiHeadAttention(2, 3, attention_axes=1)
    with pytest.raises(ValueError, match=r"`value` of rank 4.*\(2, 5, 6\)"):
        layer(x, _normal(B, 5, 6))
    with pytest.raises(ValueError, match=r"not attended over.*\(2, 4, 3, 6\)"):
        layer(x, _normal(B, 4, 3, 6))
    with pytest.raises(ValueError, match=r"`attention_mask` of shape.*\(2, 4, 5\)"):
        layer(x, x, attention_mask=np.ones((B, 4, 5), bool))
    with pytest.raises(ValueError, match=r"single attention axis.*\(1, 2\)"):
        MultiHeadAttention(2, 3)(x, x, use_causal_mask=True)


def test_seed_generator_only_with_dropout(tmp_path):
    x = _normal(B, T, 4, seed=47)
    plain = MultiHeadAttention(2, 3)
    plain(x, x)
    assert not hasattr(plain, "seed_generator")
    assert len(plain.variables) == len(plain.weights) == 8
    dropped = MultiHeadAttention(2, 3, dropout=0.2, seed=3)
    dropped(x, x)
    assert isinstance(dropped.seed_generator, keras.random.SeedGenerator)
    # Config and .keras round trips, with and without the generator.
    for layer in (plain, dropped):
        inputs = keras.Input((T, 4))
        model = keras.Model(inputs, layer(inputs, inputs))
        path = tmp_path / f"{layer.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_array_equal(_np(loaded(x)), _np(model(x)))
        clone = MultiHeadAttention.from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
        assert hasattr(clone, "seed_generator") == (layer.dropout > 0)


# ---------------------------------------------------------------------------
# plot_attention_map
# ---------------------------------------------------------------------------


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
