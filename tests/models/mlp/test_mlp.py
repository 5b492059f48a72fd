"""kerasdl.models.MLP: shapes, contract, behaviour (learns XOR) and argument checks."""

import keras
import numpy as np
import pytest

from kerasdl.models import MLP
from kerasdl.models.mlp.mlp import ACTIVATIONS
from kerasdl.testing import check_model

RNG = np.random.default_rng(0)


def test_tabular_classifier_contract(tmp_path):
    model = MLP((6,), 3, depth=2, width=16, dropout=0.2, batch_norm=True, l2=1e-4)
    x = RNG.standard_normal((16, 6)).astype("float32")
    y = RNG.integers(0, 3, 16)
    output = check_model(model, x, y, tmp_dir=tmp_path)
    assert output.shape == (16, 3)
    np.testing.assert_allclose(output.sum(axis=1), 1.0, atol=1e-5)


def test_images_are_flattened(tmp_path):
    model = MLP((8, 8, 1), 10, depth=1, width=8)
    x = RNG.random((4, 8, 8, 1)).astype("float32")
    output = check_model(model, x, tmp_dir=tmp_path)
    assert output.shape == (4, 10)
    assert model.get_layer("flatten").output.shape == (None, 64)


def test_binary_and_regression_heads(tmp_path):
    x = RNG.standard_normal((8, 4)).astype("float32")
    binary = MLP((4,), 1, depth=1, width=8, output_activation="sigmoid")
    p = check_model(binary, x, tmp_dir=tmp_path)  # test_learns_xor trains this head
    assert p.shape == (8, 1) and np.all((p > 0) & (p < 1))
    regressor = MLP((4,), 2, depth=1, width=8, output_activation=None)
    out = check_model(regressor, 10 * x, tmp_dir=tmp_path)
    assert out.shape == (8, 2) and np.abs(out).max() > 1.0  # unbounded
    assert regressor.get_layer("predictions").activation is keras.activations.linear


def test_structure_follows_config():
    model = MLP((5,), 2, depth=3, width=7, dropout=0.1, batch_norm=True)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [7, 7, 7, 2]
    assert [d.use_bias for d in dense] == [False, False, False, True]
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("BatchNormalization") == 3 and kinds.count("Dropout") == 3
    assert len(MLP((5,), 2, depth=0).layers) == 3  # Input, Flatten, head


@pytest.mark.parametrize(
    "initializer, expected",
    [("he", "HeNormal"), ("glorot", "GlorotUniform"), ("lecun", "LecunNormal")],
)
def test_initializer_names(initializer, expected):
    model = MLP((3,), 2, depth=1, width=4, initializer=initializer)
    assert type(model.get_layer("dense_1").kernel_initializer).__name__ == expected


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_each_activation_builds_and_runs(activation):
    model = MLP((3,), 2, depth=2, width=4, activation=activation)
    layer = model.get_layer(f"{activation}_1")
    assert layer.activation is keras.activations.get(activation)
    out = keras.ops.convert_to_numpy(model(np.ones((2, 3), "float32")))
    assert out.shape == (2, 2) and np.all(np.isfinite(out))


def test_regularizer_adds_one_loss_per_kernel():
    x = np.ones((2, 3), "float32")
    plain = MLP((3,), 2, depth=2, width=4)
    plain(x)
    assert plain.losses == []
    model = MLP((3,), 2, depth=2, width=4, l1=1e-3, l2=1e-2)
    model(x)
    assert len(model.losses) == 3  # two hidden kernels and the head
    kernels = [model.get_layer(n).kernel for n in ("dense_1", "dense_2", "predictions")]
    expected = sum(
        1e-3 * np.abs(k).sum() + 1e-2 * np.square(k).sum()
        for k in map(keras.ops.convert_to_numpy, kernels)
    )
    total = sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses)
    np.testing.assert_allclose(total, expected, rtol=1e-5)


def test_learns_xor():
    keras.utils.set_random_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
    y = np.array([[0], [1], [1], [0]], "float32")
    model = MLP(
        (2,),
        1,
        depth=1,
        width=8,
        activation="tanh",
        initializer="glorot",
        output_activation="sigmoid",
    )
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    # 20 copies with batch_size=4 and no shuffling: 20 full-batch steps per epoch,
    # 300 in all, without 300 epochs of per-epoch overhead.
    model.fit(
        np.tile(x, (20, 1)),
        np.tile(y, (20, 1)),
        batch_size=4,
        epochs=15,
        shuffle=False,
        verbose=0,
    )
    prediction = model.predict(x, verbose=0)
    np.testing.assert_array_equal(prediction > 0.5, y > 0.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": ()}, r"input_shape=\(\)"),
        ({"input_shape": (0, 3)}, r"input_shape=\(0, 3\)"),
        ({"input_shape": "3"}, r"input_shape='3'"),
        ({"num_classes": 0}, r"num_classes=0"),
        ({"depth": -1}, r"depth=-1"),
        ({"width": 0}, r"width=0"),
        ({"activation": "swishy"}, r"'relu'.*activation='swishy'"),
        ({"initializer": "xavier"}, r"initializer='xavier'"),
        ({"dropout": 1.0}, r"dropout=1.0"),
        ({"dropout": -0.1}, r"dropout=-0.1"),
        ({"l1": -1e-3}, r"l1=-0.001"),
        ({"l2": -1.0}, r"l2=-1.0"),
        ({"output_activation": "relu6"}, r"output_activation='relu6'"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    arguments = {"input_shape": (3,), "num_classes": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        MLP(**arguments)


def test_int_input_shape_is_accepted():
    assert MLP(5, 2, depth=1, width=3).get_config()["input_shape"] == (5,)
