"""kerasdl.layers.positional: sinusoidal, learned and rotary position information."""

import keras
import numpy as np
import pytest

from kerasdl.layers.attention import scaled_dot_product_attention
from kerasdl.layers.positional import (
    LearnedPositionEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
)
from kerasdl.testing import check_layer


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _sinusoid_reference(positions, dim, base=10000.0):
    """The table of Vaswani et al. (2017), section 3.5, in float64."""
    pe = np.zeros((len(positions), dim))
    for i in range(dim):
        angle = np.asarray(positions) / base ** (2 * (i // 2) / dim)
        pe[:, i] = np.sin(angle) if i % 2 == 0 else np.cos(angle)
    return pe


def _rope_reference(x, positions, base=10000.0):
    """Rotate-half RoPE of `x` (time, dim) at `positions`, in float64."""
    dim = x.shape[-1]
    inv_freq = base ** (-np.arange(0, dim, 2) / dim)
    angles = np.asarray(positions, "float64")[:, None] * inv_freq
    cos, sin = np.cos(angles), np.sin(angles)
    first, second = x[..., : dim // 2], x[..., dim // 2 :]
    return np.concatenate([first * cos - second * sin, second * cos + first * sin], -1)


# ---------------------------------------------------------------------------
# SinusoidalPositionalEncoding
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [8, 7])
def test_sinusoidal_values_follow_the_paper(dim):
    x = _normal(2, 6, dim)
    layer = SinusoidalPositionalEncoding()
    np.testing.assert_allclose(
        _np(layer(x)) - x,
        np.broadcast_to(_sinusoid_reference(range(6), dim), x.shape),
        atol=1e-5,
    )
    alone = _np(SinusoidalPositionalEncoding(add_to_inputs=False)(x))
    np.testing.assert_allclose(alone[1], _sinusoid_reference(range(6), dim), atol=1e-5)
    # Decoding: positions 10..15 via start_index or explicit positions.
    later = _sinusoid_reference(range(10, 16), dim)
    np.testing.assert_allclose(
        _np(layer(x, start_index=10)) - x, later[None] + 0 * x, atol=1e-5
    )
    np.testing.assert_allclose(
        _np(layer(x, positions=np.arange(10, 16))) - x, later[None] + 0 * x, atol=1e-5
    )


def test_sinusoidal_similarity_depends_only_on_the_offset():
    table = _np(
        SinusoidalPositionalEncoding(add_to_inputs=False)(np.zeros((1, 64, 16), "f4"))
    )[0]
    for offset in (1, 3, 10):
        dots = np.sum(table[:-offset] * table[offset:], axis=-1)
        np.testing.assert_allclose(dots, dots[0], atol=1e-4)
    near, far = table[0] @ table[1], table[0] @ table[20]
    assert near > far


def test_sinusoidal_layer_contract(tmp_path):
    check_layer(
        SinusoidalPositionalEncoding(max_wavelength=100.0),
        (3, 5, 6),
        expected_output_shape=(3, 5, 6),
        tmp_dir=tmp_path,
    )


# ---------------------------------------------------------------------------
# LearnedPositionEmbedding
# ---------------------------------------------------------------------------


def test_learned_embedding_adds_rows_of_its_table():
    layer = LearnedPositionEmbedding(max_length=10)
    x = _normal(2, 4, 3)
    out = _np(layer(x))
    table = _np(layer.embeddings)
    assert table.shape == (10, 3) and len(layer.trainable_weights) == 1
    np.testing.assert_allclose(out, x + table[:4], atol=1e-6)
    np.testing.assert_allclose(_np(layer(x, start_index=6)), x + table[6:], atol=1e-6)
    np.testing.assert_allclose(
        _np(layer(x, positions=np.array([[0, 2, 4, 6], [1, 1, 1, 1]]))),
        x + table[[[0, 2, 4, 6], [1, 1, 1, 1]]],
        atol=1e-6,
    )
    alone = _np(LearnedPositionEmbedding(10, add_to_inputs=False)(x))
    assert alone.shape == x.shape and np.array_equal(alone[0], alone[1])
    with pytest.raises(
        ValueError, match=r"max_length=10.*length 4 starting at position 7"
    ):
        layer(x, start_index=7)
    with pytest.raises(ValueError, match=r"max_length=3.*length 4"):
        LearnedPositionEmbedding(3)(x)


def test_learned_embedding_layer_contract(tmp_path):
    check_layer(
        LearnedPositionEmbedding(8, embeddings_initializer="random_normal"),
        (3, 5, 4),
        expected_output_shape=(3, 5, 4),
        tmp_dir=tmp_path,
    )


# ---------------------------------------------------------------------------
# RotaryEmbedding
# ---------------------------------------------------------------------------


def test_rope_score_depends_only_on_the_relative_offset():
    rope = RotaryEmbedding()
    q, k = _normal(1, 1, 2, 16, seed=1), _normal(1, 1, 2, 16, seed=2)

    def score(m, n):
        q_m = _np(rope(q, positions=np.array([m])))
        k_n = _np(rope(k, start_index=n))
        return np.sum(q_m * k_n, axis=-1)  # one score per head

    for m, n in [(0, 0), (3, 1), (2, 9), (7, 7)]:
        for shift in (1, 5, 40):
            np.testing.assert_allclose(
                score(m + shift, n + shift), score(m, n), atol=1e-4
            )
    # ...while the offset itself does change it (the test can fail).
    assert np.abs(score(0, 3) - score(0, 0)).max() > 1e-2


def test_rope_matches_the_formula_and_keeps_norms():
    x = _normal(2, 6, 3, 8, seed=3)
    out = _np(RotaryEmbedding()(x))
    for h in range(3):
        np.testing.assert_allclose(
            out[1, :, h], _rope_reference(x[1, :, h], range(6)), atol=1e-5
        )
    np.testing.assert_allclose(
        np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1), atol=1e-5
    )
    np.testing.assert_allclose(out[:, 0], x[:, 0], atol=1e-6)  # position 0: identity
    # Position interpolation: scaling_factor 2 at position 2p equals position p.
    np.testing.assert_allclose(
        _np(RotaryEmbedding(scaling_factor=2.0)(x, positions=2 * np.arange(6))),
        out,
        atol=1e-5,
    )
    rank3 = _np(RotaryEmbedding()(x[:, :, 0]))
    np.testing.assert_allclose(rank3, out[:, :, 0], atol=1e-6)


def test_rope_start_index_matches_the_full_sequence_for_kv_cache_decoding():
    x = _normal(2, 9, 2, 6, seed=4)
    rope = RotaryEmbedding()
    full = _np(rope(x))
    for start in (0, 4, 8):
        step = _np(rope(x[:, start : start + 1], start_index=start))
        np.testing.assert_allclose(step, full[:, start : start + 1], atol=1e-6)
    per_sample = np.array([[3, 4], [7, 8]])  # (batch, time) positions
    out = _np(rope(np.stack([x[0, 3:5], x[1, 7:9]]), positions=per_sample))
    np.testing.assert_allclose(out[0], full[0, 3:5], atol=1e-6)
    np.testing.assert_allclose(out[1], full[1, 7:9], atol=1e-6)


def test_rope_attention_is_unchanged_by_a_global_shift():
    rope = RotaryEmbedding()
    q, k, v = (_normal(2, 5, 2, 8, seed=s) for s in (5, 6, 7))

    def attend(start):
        _, weights = scaled_dot_product_attention(
            rope(q, start_index=start),
            rope(k, start_index=start),
            v,
            causal=True,
            return_weights=True,
        )
        return _np(weights)

    np.testing.assert_allclose(attend(100), attend(0), atol=1e-4)


def test_rope_layer_contract(tmp_path):
    check_layer(
        RotaryEmbedding(max_wavelength=500.0, scaling_factor=1.5),
        (2, 4, 3, 6),
        expected_output_shape=(2, 4, 3, 6),
        tmp_dir=tmp_path,
    )


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_bad_inputs_name_the_argument_and_shape():
    with pytest.raises(ValueError, match=r"`inputs` of rank 3 .*\(4, 6\)"):
        SinusoidalPositionalEncoding()(_normal(4, 6))
    with pytest.raises(ValueError, match=r"`inputs` of rank 3 .*\(2, 4, 6, 1\)"):
        LearnedPositionEmbedding(8)(_normal(2, 4, 6, 1))
    with pytest.raises(ValueError, match=r"`inputs` of rank 3 or 4 .*\(2, 4\)"):
        RotaryEmbedding()(_normal(2, 4))
    with pytest.raises(ValueError, match=r"even last axis.*\(2, 4, 1, 5\)"):
        RotaryEmbedding()(_normal(2, 4, 1, 5))
    with pytest.raises(ValueError, match=r"either `start_index` or `positions`"):
        RotaryEmbedding()(_normal(2, 4, 1, 4), start_index=2, positions=np.arange(4))
    with pytest.raises(ValueError, match=r"`positions` of shape"):
        RotaryEmbedding()(_normal(2, 4, 1, 4), positions=np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"`inputs` of rank 3"):
        RotaryEmbedding().compute_output_shape((None, 4))


@pytest.mark.parametrize("max_length", [0, -1, 2.5, True])
def test_bad_max_length(max_length):
    with pytest.raises(ValueError, match=r"`max_length` must be an integer >= 1"):
        LearnedPositionEmbedding(max_length)


def test_bad_wavelengths():
    with pytest.raises(ValueError, match=r"`max_wavelength`"):
        SinusoidalPositionalEncoding(max_wavelength=0)
    with pytest.raises(ValueError, match=r"`scaling_factor`"):
        RotaryEmbedding(scaling_factor=-1.0)
