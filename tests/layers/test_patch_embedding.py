"""kerasdl.layers.patch_embedding: PatchEmbedding and ClassToken."""

import keras
import numpy as np
import pytest

from kerasdl.layers.patch_embedding import ClassToken, PatchEmbedding
from kerasdl.testing import check_layer


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


# ---------------------------------------------------------------------------
# PatchEmbedding
# ---------------------------------------------------------------------------


def test_patch_embedding_contract(tmp_path):
    layer = PatchEmbedding(2, 5, kernel_initializer="he_normal")
    out = check_layer(
        layer, (3, 4, 6, 2), expected_output_shape=(3, 6, 5), tmp_dir=tmp_path
    )
    assert np.all(np.isfinite(out))


def test_patch_order_is_row_major():
    """With an identity projection, token i * (W / p) + j is pixel block (i, j)."""
    p, height, width, channels = 2, 4, 6, 3
    images = _normal(2, height, width, channels)
    layer = PatchEmbedding(p, p * p * channels, use_bias=False)
    layer.build(images.shape)
    layer.set_weights([np.eye(p * p * channels, dtype="float32")])
    tokens = _np(layer(images))
    assert tokens.shape == (2, (height // p) * (width // p), p * p * channels)
    for i in range(height // p):
        for j in range(width // p):
            block = images[:, i * p : (i + 1) * p, j * p : (j + 1) * p, :]
            np.testing.assert_array_equal(
                tokens[:, i * (width // p) + j], block.reshape(2, -1)
            )
    np.testing.assert_array_equal(_np(layer.patchify(images)), tokens)


def test_patch_embedding_equals_strided_conv2d():
    """Same as Conv2D(kernel = stride = p) with the kernel reshaped."""
    p, channels, hidden = 2, 3, 7
    images = _normal(2, 4, 6, channels, seed=1)
    layer = PatchEmbedding(p, hidden)
    conv = keras.layers.Conv2D(hidden, p, strides=p)
    conv.build(images.shape)
    kernel, bias = _normal(p, p, channels, hidden, seed=2), _normal(hidden, seed=3)
    conv.set_weights([kernel, bias])
    layer.build(images.shape)
    layer.set_weights([kernel.reshape(-1, hidden), bias])
    expected = _np(conv(images)).reshape(2, -1, hidden)
    np.testing.assert_allclose(_np(layer(images)), expected, atol=1e-5)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((2, 5, 4, 1), "divisible by patch_size=2"),
        ((2, 4, 7, 1), "divisible by patch_size=2"),
        ((2, 16, 1), "rank 4"),
    ],
)
def test_patch_embedding_rejects_bad_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        PatchEmbedding(2, 4)(np.zeros(shape, "float32"))
    with pytest.raises(ValueError, match=message):
        PatchEmbedding(2, 4).compute_output_shape(shape)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"patch_size": 0, "hidden_dim": 4}, "patch_size"),
        ({"patch_size": 2.0, "hidden_dim": 4}, "patch_size"),
        ({"patch_size": 2, "hidden_dim": 0}, "hidden_dim"),
    ],
)
def test_patch_embedding_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        PatchEmbedding(**kwargs)


# ---------------------------------------------------------------------------
# ClassToken
# ---------------------------------------------------------------------------


def test_class_token_contract(tmp_path):
    check_layer(
        ClassToken("random_normal"),
        (2, 5, 4),
        expected_output_shape=(2, 6, 4),
        tmp_dir=tmp_path,
    )
    assert ClassToken().compute_output_shape((None, None, 4)) == (None, None, 4)


def test_class_token_is_the_same_learned_vector_for_every_input():
    x = _normal(3, 5, 4)
    layer = ClassToken("random_normal")
    out = _np(layer(x))
    token = _np(layer.token)
    assert np.any(token != 0.0)
    for row in out:
        np.testing.assert_array_equal(row[0], token)
    np.testing.assert_array_equal(out[:, 1:], x)
    # Other inputs, same token.
    np.testing.assert_array_equal(
        _np(layer(_normal(2, 5, 4, seed=9)))[:, 0], out[:2, 0]
    )


def test_class_token_is_trained():
    inputs = keras.Input((3, 2))
    x = ClassToken(name="cls")(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="ones")(x))
    model.compile(keras.optimizers.SGD(0.1), "mse")
    before = _np(model.get_layer("cls").token).copy()
    model.fit(np.zeros((4, 3, 2), "float32"), np.ones((4, 1)), epochs=1, verbose=0)
    assert np.all(_np(model.get_layer("cls").token) != before)


def test_class_token_rejects_bad_rank():
    with pytest.raises(ValueError, match="rank 3"):
        ClassToken()(np.zeros((2, 4), "float32"))
