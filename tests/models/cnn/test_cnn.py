"""kerasdl.models.SmallCNN: shapes, contract, a few steps on real digits, errors."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from kerasdl.models import SmallCNN
from kerasdl.testing import check_model

RNG = np.random.default_rng(0)
TINY = {"filters": (4, 8), "dense_units": 16}


def _pools(model):
    return [
        layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)
    ]


def test_digits_sized_contract(tmp_path):
    model = SmallCNN((8, 8, 1), 10, **TINY)
    x = RNG.random((8, 8, 8, 1)).astype("float32")
    # No fit step here: the digits test below trains this input kind.
    output = check_model(model, x, tmp_dir=tmp_path)
    assert output.shape == (8, 10)
    np.testing.assert_allclose(output.sum(axis=1), 1.0, atol=1e-5)


def test_flat_input_matches_image_input(tmp_path):
    flat = SmallCNN((8, 8, 1), 10, flat_input=True, **TINY)
    images = SmallCNN((8, 8, 1), 10, **TINY)
    images.set_weights(flat.get_weights())
    x = RNG.random((4, 8, 8, 1)).astype("float32")
    out = check_model(flat, x.reshape(4, 64), RNG.integers(0, 10, 4), tmp_dir=tmp_path)
    np.testing.assert_allclose(
        out, keras.ops.convert_to_numpy(images(x, training=False)), atol=1e-6
    )


# Shapes reuse TINY's kernels where they can: on JAX every new weight shape costs
# an XLA compile of its initializer (~0.5 s).
@pytest.mark.parametrize(
    "input_shape, filters, pooled",
    [
        ((8, 8, 1), (4, 8), (2, 2)),
        ((8, 8, 1), (4, 8, 8, 8), (1, 1)),  # the 4th block is not pooled
        ((28, 28, 1), (4, 8), (7, 7)),
        ((32, 32, 1), (4, 8, 8), (4, 4)),
        ((5, 3, 1), (4, 8), (2, 1)),
    ],
)
def test_pools_while_the_map_is_at_least_2x2(input_shape, filters, pooled):
    model = SmallCNN(input_shape, 10, filters=filters, dense_units=16, pooling="avg")
    pools = _pools(model)
    assert len(pools) == min(len(filters), int(np.log2(min(input_shape[:2]))))
    assert tuple(pools[-1].output.shape[1:3]) == pooled
    assert tuple(model.output.shape) == (None, 10)


def test_flatten_head_sees_the_last_map():
    model = SmallCNN((28, 28, 1), 10, filters=(4, 8), dense_units=16, pooling="flatten")
    assert model.get_layer("flatten").output.shape == (None, 7 * 7 * 8)


def test_structure_follows_config():
    model = SmallCNN(
        (8, 8, 1),
        3,
        filters=(4, 8),
        convs_per_block=3,
        dropout=0.0,
        batch_norm=False,
        pooling="avg",
        dense_units=0,
    )
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [4, 4, 4, 8, 8, 8]
    assert all(c.use_bias for c in convs)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert "GlobalAveragePooling2D" in kinds
    assert not kinds & {"BatchNormalization", "Dropout", "Flatten"}
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [3]


def test_a_few_epochs_on_digits_lower_the_loss():
    keras.utils.set_random_seed(0)
    digits = load_digits()
    x = (digits.images[:320] / 16.0).astype("float32")[..., None]
    y = digits.target[:320]
    model = SmallCNN((8, 8, 1), 10, dropout=0.1, **TINY)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    losses = model.fit(x, y, epochs=4, batch_size=32, verbose=0).history["loss"]
    # Training-mode losses: after only 40 steps the batch-norm moving averages
    # still lag, so an inference-mode evaluate() is not yet a fair judge.
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.7 * losses[0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (2, 8, 1)}, r"too small.*\(2, 8, 1\)"),
        ({"input_shape": (8, 8)}, r"\(height, width, channels\).*\(8, 8\)"),
        ({"input_shape": (1, 8, 8, 1)}, r"input_shape=\(1, 8, 8, 1\)"),
        ({"num_classes": 0}, r"num_classes=0"),
        ({"filters": ()}, r"filters=\(\)"),
        ({"filters": 32}, r"filters=32"),
        ({"filters": (8, 0)}, r"filters=\(8, 0\)"),
        ({"convs_per_block": 0}, r"convs_per_block=0"),
        ({"dense_units": -1}, r"dense_units=-1"),
        ({"dropout": 1.0}, r"dropout=1.0"),
        ({"pooling": "max"}, r"pooling='max'"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    arguments = {"input_shape": (8, 8, 1), "num_classes": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        SmallCNN(**arguments)


def test_wrong_input_rank_at_call_time_raises():
    model = SmallCNN((8, 8, 1), 10, **TINY)
    with pytest.raises(ValueError, match=r"shape|rank|ndim"):
        model(np.zeros((2, 64), "float32"))
