"""kerasdl.layers.attention.axes and .masks: 4-D masks and attention over
`attention_axes` against Keras, and the seed generator."""

import re

import keras
import numpy as np
import pytest
from attention_helpers import ATOL, B, S, T, _inputs, _normal, _np, _pair

from kerasdl.layers.attention import MultiHeadAttention
from kerasdl.testing import check_layer

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
