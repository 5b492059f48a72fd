"""kerasdl.layers.attention.multi_head_attention: MultiHeadAttention by hand,
proven against keras.layers.MultiHeadAttention with copied weights."""

import keras
import numpy as np
import pytest
from attention_helpers import ATOL, B, S, T, _inputs, _normal, _np, _pair

from kerasdl.layers.attention import MultiHeadAttention
from kerasdl.testing import check_layer

# ---------------------------------------------------------------------------
# MultiHeadAttention against keras.layers.MultiHeadAttention
# ---------------------------------------------------------------------------


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
