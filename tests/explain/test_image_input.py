"""Flat-input image classifiers (as `kerasdl train` saves them) are explained through
an image-input view that shares their layers: same outputs, same heatmaps as the
image-input twin with the same weights. (SmallCNN and the registry's convnets,
saved and loaded, are explained end to end in tests/cli/test_explain.py.)"""

import keras
import numpy as np
import pytest
from explain_region_task import NumpyGlorot
from keras import layers, ops

from kerasdl.explain import conv_layer_names, default_target_layer, grad_cam, saliency
from kerasdl.explain.image_input import flat_image_reshape, image_input_model

RNG = np.random.default_rng(0)
INIT = NumpyGlorot(0)  # NumPy-drawn weights: cheap to build on JAX (see conftest)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _convnet(x, num_classes=4):
    """Conv-BN-ReLU x2, pool, dense head with softmax (SmallCNN's layout, small)."""
    for i, filters in enumerate((4, 8), start=1):
        x = layers.Conv2D(
            filters, 3, padding="same", kernel_initializer=INIT, name=f"conv{i}"
        )(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.Activation("relu", name=f"relu{i}")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(8, activation="relu", kernel_initializer=INIT)(x)
    return layers.Dense(
        num_classes, activation="softmax", kernel_initializer=INIT, name="predictions"
    )(x)


@pytest.fixture(scope="module")
def twins():
    """A flat-input CNN `(batch, 64) -> Reshape -> convs` (as SmallCNN with
    `flat_input=True`) and its image-input twin with the same weights."""
    flat_in = keras.Input((64,))
    flat = keras.Model(
        flat_in, _convnet(layers.Reshape((8, 8, 1), name="reshape")(flat_in))
    )
    image_in = keras.Input((8, 8, 1))
    image = keras.Model(image_in, _convnet(image_in))
    image.set_weights(flat.get_weights())
    return flat, image


def test_view_of_a_flat_model_matches_the_image_twin(twins):
    flat, image = twins
    assert flat_image_reshape(flat).name == "reshape"
    view = image_input_model(flat)
    assert tuple(view.inputs[0].shape) == (None, 8, 8, 1)
    assert image_input_model(flat) is view  # built once, kept on the model
    x = RNG.random((3, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(
        _np(view(x)), _np(flat(x.reshape(3, -1))), rtol=1e-6, atol=1e-6
    )
    assert default_target_layer(flat) == default_target_layer(image) == "relu2"
    assert conv_layer_names(flat) == conv_layer_names(image) == ["conv1", "conv2"]
    for k in range(4):
        np.testing.assert_allclose(
            grad_cam(flat, x[0], class_index=k),
            grad_cam(image, x[0], class_index=k),
            atol=1e-6,
        )
    np.testing.assert_allclose(
        saliency(flat, x[1], smooth_samples=4, seed=0),
        saliency(image, x[1], smooth_samples=4, seed=0),
        atol=1e-6,
    )
    # Not a trivial agreement: the heatmaps differ between classes.
    maps = [
        saliency(flat, x[1], class_index=k, smooth_samples=4, seed=0) for k in range(4)
    ]
    assert max(np.abs(maps[0] - m).max() for m in maps[1:]) > 1e-3


def test_view_shares_the_weights(twins):
    flat, _ = twins
    view = image_input_model(flat)
    x = RNG.random((2, 8, 8, 1)).astype("float32")
    before = _np(view(x))
    dense = flat.get_layer("predictions")
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel, bias + np.arange(4, dtype="float32")])
    try:
        after = _np(view(x))
        assert np.abs(after - before).max() > 1e-3
        np.testing.assert_allclose(after, _np(flat(x.reshape(2, -1))), atol=1e-6)
    finally:
        dense.set_weights([kernel, bias])


def test_nested_convnet_is_explained_through_the_view():
    # The registry's layout (`flat_convnet`): Input -> Reshape "to_image" -> the
    # convnet as a nested functional model.
    image_in = keras.Input((8, 8, 1))
    inner = keras.Model(image_in, _convnet(image_in, 3), name="inner")
    flat_in = keras.Input((64,), name="flat_images")
    flat = keras.Model(
        flat_in, inner(layers.Reshape((8, 8, 1), name="to_image")(flat_in))
    )
    assert flat_image_reshape(flat).name == "to_image"
    x = RNG.random((8, 8, 1)).astype("float32")
    assert default_target_layer(flat) == default_target_layer(inner)
    for k in range(3):
        np.testing.assert_allclose(
            grad_cam(flat, x, class_index=k),
            grad_cam(inner, x, class_index=k),
            atol=1e-6,
        )


def test_flat_sequential_model():
    flat = keras.Sequential(
        [
            keras.Input((36,)),
            layers.Reshape((6, 6, 1)),
            layers.Conv2D(
                3, 3, padding="same", activation="relu", kernel_initializer=INIT
            ),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2, activation="softmax", kernel_initializer=INIT),
        ]
    )
    view = image_input_model(flat)
    x = RNG.random((6, 6, 1)).astype("float32")
    np.testing.assert_allclose(
        _np(view(x[None])), _np(flat(x.reshape(1, -1))), atol=1e-6
    )
    heatmap = grad_cam(flat, x, class_index=0)
    assert heatmap.shape == (6, 6)
    np.testing.assert_allclose(heatmap, grad_cam(view, x, class_index=0), atol=1e-6)


def test_models_without_a_lone_reshape_are_left_alone():
    image = keras.Input((16,))
    x = layers.Reshape((4, 4, 1))(image)
    x = layers.Conv2D(2, 3, padding="same", kernel_initializer=INIT)(x)
    x = layers.Flatten()(x)
    # The flat input also feeds a second branch: no image view exists.
    both = layers.Concatenate()([x, layers.Dense(2, kernel_initializer=INIT)(image)])
    head = layers.Dense(2, activation="softmax", kernel_initializer=INIT)
    model = keras.Model(image, head(both))
    assert flat_image_reshape(model) is None
    assert image_input_model(model) is model
    with pytest.raises(ValueError, match="flat input that feeds only a Reshape"):
        grad_cam(model, np.zeros((4, 4, 1), "float32"))
    # A Reshape to a non-image shape is not an image view either.
    inputs = keras.Input((16,))
    seq = layers.Reshape((4, 4))(inputs)
    dense = layers.Dense(2, kernel_initializer=INIT)
    other = keras.Model(inputs, dense(layers.Flatten()(seq)))
    assert flat_image_reshape(other) is None
    # Image-input models are returned as they are.
    assert image_input_model(other) is other
    assert image_input_model(None) is None
