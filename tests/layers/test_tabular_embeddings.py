"""Tabular column embeddings: the layer contract, and the maths by hand in NumPy."""

import keras
import numpy as np
import pytest

from kerasdl.layers import CategoricalEmbedding, NumericalEmbedding, PeriodicEmbedding
from kerasdl.testing import check_layer

RNG = np.random.default_rng(0)


def _np(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def _ids(batch, cardinalities, rng=RNG):
    return np.stack([rng.integers(0, c, batch) for c in cardinalities], axis=1).astype(
        "int32"
    )


@pytest.mark.parametrize("use_bias", [True, False])
def test_numerical_embedding_is_per_column_affine(use_bias, tmp_path):
    layer = NumericalEmbedding(6, use_bias=use_bias)
    x = RNG.standard_normal((4, 5)).astype("float32")
    out = check_layer(layer, x, expected_output_shape=(4, 5, 6), tmp_dir=tmp_path)
    kernel = _np(layer.kernel)
    bias = _np(layer.bias) if use_bias else 0.0
    assert kernel.shape == (5, 6) and (layer.bias is None) is not use_bias
    np.testing.assert_allclose(out, x[:, :, None] * kernel + bias, atol=1e-5)
    # FT-Transformer's initialisation: U(-1/sqrt(d), 1/sqrt(d)).
    assert np.abs(kernel).max() <= 1 / np.sqrt(6) and kernel.std() > 0.1


@pytest.mark.parametrize("lite", [False, True])
def test_periodic_embedding_is_plr(lite, tmp_path):
    layer = PeriodicEmbedding(4, n_frequencies=3, sigma=0.5, lite=lite)
    x = RNG.standard_normal((5, 2)).astype("float32")
    out = check_layer(layer, x, expected_output_shape=(5, 2, 4), tmp_dir=tmp_path)
    c = _np(layer.frequencies)  # (2, 3)
    kernel, bias = _np(layer.kernel), _np(layer.bias)
    angles = 2 * np.pi * x[:, :, None] * c  # (5, 2, 3)
    v = np.concatenate([np.cos(angles), np.sin(angles)], axis=-1)  # (5, 2, 6)
    if lite:
        assert kernel.shape == (6, 4) and bias.shape == (4,)
        linear = v @ kernel + bias
    else:
        assert kernel.shape == (2, 6, 4) and bias.shape == (2, 4)
        linear = np.einsum("bnk,nkd->bnd", v, kernel) + bias
    np.testing.assert_allclose(out, np.maximum(linear, 0.0), atol=1e-5)
    np.testing.assert_allclose(_np(layer.periodic(x)), v, atol=1e-5)
    assert len(layer.trainable_weights) == 3  # frequencies are trained too


def test_periodic_frequencies_start_at_scale_sigma():
    keras.utils.set_random_seed(1)
    for sigma in (0.01, 1.0):
        layer = PeriodicEmbedding(2, n_frequencies=32, sigma=sigma)
        layer.build((None, 50))
        std = _np(layer.frequencies).std()
        assert 0.8 * sigma < std < 1.2 * sigma, (sigma, std)


def test_periodic_embedding_fits_a_wiggly_function():
    """A fixed periodic map a plain linear layer cannot fit: PLR learns it."""
    keras.utils.set_random_seed(0)
    x = np.linspace(-2, 2, 128, dtype="float32")[:, None]
    y = np.sin(3 * np.pi * x)
    inputs = keras.Input((1,))
    h = keras.layers.Flatten()(
        PeriodicEmbedding(16, n_frequencies=8, sigma=1.0)(inputs)
    )
    model = keras.Model(inputs, keras.layers.Dense(1)(h))
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    # 50 copies, no shuffling: 50 full-batch steps per epoch, 150 in all.
    model.fit(
        np.tile(x, (50, 1)),
        np.tile(y, (50, 1)),
        epochs=3,
        batch_size=128,
        shuffle=False,
        verbose=0,
    )
    # A linear fit leaves ~90% of the variance (0.45 of 0.5); PLR much less.
    assert model.evaluate(x, y, verbose=0) < 0.1 * y.var()


@pytest.mark.parametrize("use_bias", [True, False])
def test_categorical_embedding_is_table_lookup_plus_bias(use_bias, tmp_path):
    cardinalities = [3, 1, 5]
    layer = CategoricalEmbedding(cardinalities, 4, use_bias=use_bias)
    ids = _ids(6, cardinalities)
    ids[0] = [2, 0, 4]  # the last id of every column
    out = check_layer(layer, ids, expected_output_shape=(6, 3, 4), tmp_dir=tmp_path)
    table = _np(layer.embeddings)
    assert table.shape == (9, 4) and layer.offsets == [0, 3, 4]
    bias = _np(layer.bias) if use_bias else np.zeros((3, 4), "float32")
    tables = np.split(table, np.cumsum(cardinalities)[:-1])  # one per column
    expected = np.stack(
        [tables[j][ids[:, j]] + bias[j] for j in range(len(cardinalities))], axis=1
    )
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_categorical_out_of_range_ids_give_nan_not_another_columns_row():
    layer = CategoricalEmbedding([3, 4], 2)
    ids = np.array([[0, 0], [3, 1], [1, -1], [2, 4]], "int32")
    out = _np(layer(ids))
    bad = np.array([[False, False], [True, False], [False, True], [False, True]])
    assert np.isnan(out[bad]).all()
    assert np.isfinite(out[~bad]).all()
    # The valid entries are unaffected by their neighbours' bad ids.
    np.testing.assert_allclose(out[1, 1], _np(layer(np.array([[0, 1]], "int32")))[0, 1])


def test_categorical_embedding_trains_only_the_rows_it_sees():
    keras.utils.set_random_seed(0)
    layer = CategoricalEmbedding([3, 2], 2, use_bias=False)
    inputs = keras.Input((2,), dtype="int32")
    model = keras.Model(inputs, keras.layers.Flatten()(layer(inputs)))
    before = _np(layer.embeddings).copy()
    model.compile(keras.optimizers.SGD(0.1), "mse")
    ids = np.array([[0, 1], [2, 1]], "int32")  # never row 1 of column 0, row 3
    model.fit(ids, np.ones((2, 4), "float32"), epochs=1, batch_size=2, verbose=0)
    changed = np.abs(_np(layer.embeddings) - before).sum(axis=1) > 0
    np.testing.assert_array_equal(changed, [True, False, True, False, True])


def test_layer_input_checks():
    with pytest.raises(ValueError, match=r"rank 2 \(batch, features\)"):
        NumericalEmbedding(3)(np.ones((2, 3, 1), "float32"))
    layer = PeriodicEmbedding(3)
    layer(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="built for 4 features"):
        layer(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"built for 2 features.*\(2, 3\)"):
        CategoricalEmbedding([2, 2], 3)(np.zeros((2, 3), "int32"))
    with pytest.raises(TypeError, match="integer ids.*float32"):
        CategoricalEmbedding([2, 2], 3)(np.zeros((2, 2), "float32"))


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: NumericalEmbedding(0), r"d_token=0"),
        (lambda: PeriodicEmbedding(4, n_frequencies=0), r"n_frequencies=0"),
        (lambda: PeriodicEmbedding(4, sigma=0.0), r"sigma=0.0"),
        (lambda: PeriodicEmbedding(4, sigma=-1), r"sigma=-1"),
        (lambda: CategoricalEmbedding([], 4), r"cardinalities=\[\]"),
        (lambda: CategoricalEmbedding([3, 0], 4), r"cardinalities=\[3, 0\]"),
        (lambda: CategoricalEmbedding(3, 4), r"cardinalities=3"),
        (lambda: CategoricalEmbedding([2.5], 4), r"cardinalities=\[2.5\]"),
        (lambda: CategoricalEmbedding([3], 0), r"d_token=0"),
    ],
)
def test_bad_arguments_raise(build, match):
    with pytest.raises(ValueError, match=match):
        build()
