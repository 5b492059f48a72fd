"""Grad-CAM: exact gradients on graphs with known answers (skip connections, nested
models, SmallCNN), the heatmap of a trained CNN on the region it learned, errors."""

import keras
import numpy as np
import pytest
from explain_region_task import REGION, NumpyGlorot, around, build_region_cnn
from keras import layers, ops

from kerasdl import backend as kb
from kerasdl.explain import (
    activations_and_gradients,
    conv_layer_names,
    default_target_layer,
    grad_cam,
)
from kerasdl.explain.gradcam import LayerGradients
from kerasdl.models import SmallCNN

RNG = np.random.default_rng(0)
INIT = NumpyGlorot(0)  # NumPy-drawn weights: cheap to build on JAX (see conftest)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


# --- Behaviour: the learned region ----------------------------------------------------


def test_grad_cam_points_at_the_stroke_that_decides_the_class(region_task):
    model, x = region_task["model"], region_task["x"]
    assert region_task["accuracy"] >= 0.9
    beats, mass, peaks = [], [], []
    for i in range(len(x)):
        heatmap = grad_cam(model, x[i])
        assert heatmap.shape == (16, 16) and heatmap.dtype == np.float32
        assert heatmap.min() >= 0.0 and heatmap.max() == pytest.approx(1.0)
        stroke = around(heatmap, region_task["strokes"][i])
        beats.append(
            all(stroke > around(heatmap, d) for d in region_task["distractors"][i])
        )
        mass.append(heatmap[REGION].sum() / heatmap.sum())
        peaks.append(np.unravel_index(heatmap.argmax(), heatmap.shape) < (8, 8))
    # Chance levels: 1/3 (stroke vs two equally bright distractors), 1/4 (area).
    # Measured: beats 0.88-1.0, mass 0.58-0.59, peaks 0.92-1.0 (TensorFlow, JAX);
    # an untrained network: 0.21, 0.31, 0.62.
    assert np.mean(beats) >= 0.75, beats
    assert np.mean(mass) >= 0.45, mass
    assert np.mean(peaks) >= 0.75, peaks


def test_untrained_model_does_not_pass_the_same_bar(region_task):
    # The control that shows the test above can fail: same images, random weights.
    model = build_region_cnn("glorot", seed=1)
    x = region_task["x"]
    mass = [grad_cam(model, x[i]) for i in range(len(x))]
    mass = [h[REGION].sum() / max(h.sum(), 1e-9) for h in mass]
    assert np.mean(mass) < 0.45


# --- Exactness on graphs with a known answer -----------------------------------------


def _gap_dense_model(head_activation=None, stride=1):
    inputs = keras.Input((6, 6, 2))
    conv = layers.Conv2D(
        3, 3, strides=stride, padding="same", kernel_initializer=INIT, name="conv"
    )
    features = conv(inputs)
    pooled = layers.GlobalAveragePooling2D()(features)
    dense = layers.Dense(
        4, activation=head_activation, kernel_initializer=INIT, name="head"
    )
    return keras.Model(inputs, dense(pooled)), conv, dense


def test_gap_dense_weights_are_the_dense_weights_over_the_area():
    # score_c = sum_k W[k, c] * mean_ij A_ijk + b_c, so dscore/dA_ijk = W[k, c] / (h*w)
    # and the Grad-CAM heatmap is ReLU(A @ W[:, c]) / (h*w), normalized.
    model, conv, dense = _gap_dense_model()
    x = RNG.normal(size=(6, 6, 2)).astype("float32")
    kernel = _np(dense.kernel)
    activations = _np(keras.Model(model.input, conv.output)(x[None]))[0]
    for c in range(4):
        result = activations_and_gradients(model, x, "conv", class_index=c)
        assert result.class_index == c and result.layer_name == "conv"
        np.testing.assert_allclose(result.activations, activations, atol=1e-5)
        expected = np.broadcast_to(kernel[:, c] / 36.0, (6, 6, 3))
        np.testing.assert_allclose(result.gradients, expected, rtol=1e-5, atol=1e-8)
        cam = np.maximum(activations @ kernel[:, c], 0.0)
        heatmap = grad_cam(model, x, class_index=c, upsample=False)
        np.testing.assert_allclose(heatmap, cam / cam.max(), atol=1e-5)


def test_upsampling_resizes_the_layer_map_to_the_image():
    model, _, _ = _gap_dense_model(stride=2)
    x = RNG.normal(size=(6, 6, 2)).astype("float32")
    small = grad_cam(model, x, class_index=1, upsample=False)
    large = grad_cam(model, x, class_index=1)
    assert small.shape == (3, 3) and large.shape == (6, 6)
    assert 0.0 <= large.min() and large.max() == pytest.approx(1.0)
    resized = _np(ops.image.resize(small[None, :, :, None], (6, 6)))[0, :, :, 0]
    np.testing.assert_allclose(large, resized / resized.max(), atol=1e-5)


@pytest.mark.parametrize(
    "ending", ["dense_softmax", "activation_layer", "softmax_layer"]
)
def test_score_is_the_logit_before_a_softmax(ending):
    inputs = keras.Input((6, 6, 2))
    conv = layers.Conv2D(3, 3, padding="same", kernel_initializer=INIT, name="conv")
    pooled = layers.GlobalAveragePooling2D()(conv(inputs))
    dense = layers.Dense(
        4,
        activation="softmax" if ending == "dense_softmax" else None,
        kernel_initializer=INIT,
    )
    outputs = dense(pooled)
    if ending == "activation_layer":
        outputs = layers.Activation("softmax")(outputs)
    elif ending == "softmax_layer":
        outputs = layers.Softmax()(outputs)
    model = keras.Model(inputs, outputs)
    x = RNG.normal(size=(6, 6, 2)).astype("float32")
    result = activations_and_gradients(model, x, "conv", class_index=2)
    assert isinstance(result, LayerGradients)
    np.testing.assert_allclose(
        result.gradients,
        np.broadcast_to(_np(dense.kernel)[:, 2] / 36.0, (6, 6, 3)),
        rtol=1e-5,
    )
    np.testing.assert_allclose(result.predictions.sum(), 1.0, atol=1e-5)
    assert dense.activation.__name__ == (
        "softmax" if ending == "dense_softmax" else "linear"
    )


def test_saturated_softmax_needs_the_logit():
    # A confident model: the other classes' probabilities underflow to exactly 0, so
    # the probability's gradient, and its heatmap, vanish; the logit's does not.
    model, conv, dense = _gap_dense_model(head_activation="softmax")
    kernel = np.zeros((3, 4), "float32")
    kernel[:, 0] = [500.0, -300.0, 400.0]
    dense.kernel.assign(kernel)
    conv.kernel.assign(np.abs(_np(conv.kernel)))
    x = np.abs(RNG.normal(size=(6, 6, 2))).astype("float32") + 0.5
    assert _np(model(x[None]))[0, 0] == 1.0
    assert np.all(grad_cam(model, x, class_index=0, use_logits=False) == 0.0)
    logit_map = grad_cam(model, x, class_index=0, upsample=False)
    activations = activations_and_gradients(model, x, "conv").activations
    cam = np.maximum(activations @ kernel[:, 0], 0.0)
    np.testing.assert_allclose(logit_map, cam / cam.max(), atol=1e-5)


def _residual_model():
    """conv `c1` feeds both `c2` and the shortcut `Add`: h + relu(c2(h))."""
    inputs = keras.Input((8, 8, 2))
    c1 = layers.Conv2D(4, 3, padding="same", kernel_initializer=INIT, name="c1")
    c2 = layers.Conv2D(
        4, 3, padding="same", activation="relu", kernel_initializer=INIT, name="c2"
    )
    head = layers.Dense(3, kernel_initializer=INIT, name="head")
    h = c1(inputs)
    z = layers.Add(name="add")([h, c2(h)])
    z = layers.Activation("relu", name="block_out")(z)
    outputs = head(layers.GlobalAveragePooling2D()(z))
    return keras.Model(inputs, outputs, name="residual"), c2, head


def _explicit_gradient(tail, activations):
    grad = kb.input_gradient(tail, ops.convert_to_tensor(activations[None]))
    return _np(grad)[0]


def test_skip_connection_gradient_counts_both_paths():
    model, c2, head = _residual_model()
    x = RNG.normal(size=(8, 8, 2)).astype("float32")
    assert conv_layer_names(model) == ["c1", "c2"]
    assert default_target_layer(model) == "block_out"

    result = activations_and_gradients(model, x, "c1", class_index=1)

    def tail(a):  # everything after c1, written out by hand: both paths
        z = ops.relu(a + c2(a))
        return ops.sum(head(ops.mean(z, axis=(1, 2)))[:, 1])

    expected = _explicit_gradient(tail, result.activations)
    np.testing.assert_allclose(result.gradients, expected, rtol=1e-5, atol=1e-7)

    def shortcut_only(a):  # what a probe that missed the second consumer would give
        return ops.sum(head(ops.mean(ops.relu(a), axis=(1, 2)))[:, 1])

    assert not np.allclose(
        result.gradients, _explicit_gradient(shortcut_only, result.activations)
    )
    assert grad_cam(model, x).shape == (8, 8)


def test_nested_and_sequential_models():
    inner, c2, head = _residual_model()
    inputs = keras.Input((8, 8, 2))
    outer_dense = layers.Dense(2, kernel_initializer=INIT, name="outer")
    outer = keras.Model(inputs, outer_dense(inner(inputs)), name="outer_model")
    x = RNG.normal(size=(8, 8, 2)).astype("float32")
    assert conv_layer_names(outer) == ["c1", "c2"]
    result = activations_and_gradients(outer, x, "c1", class_index=0)

    def tail(a):
        z = ops.relu(a + c2(a))
        return ops.sum(outer_dense(head(ops.mean(z, axis=(1, 2))))[:, 0])

    np.testing.assert_allclose(
        result.gradients, _explicit_gradient(tail, result.activations), rtol=1e-5
    )

    sequential = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(3, 3, kernel_initializer=INIT, name="conv"),
            layers.ReLU(name="relu"),
            layers.MaxPooling2D(2, name="pool"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2, activation="softmax", kernel_initializer=INIT),
        ]
    )
    assert default_target_layer(sequential) == "relu"  # not the coarser pool
    heatmap = grad_cam(sequential, RNG.random((8, 8)))  # (h, w) for one channel
    assert heatmap.shape == (8, 8)


def test_small_cnn_gradient_matches_its_head_written_out():
    kb.set_random_seed(0)
    model = SmallCNN((8, 8, 1), 10, filters=(4, 8), dense_units=16)
    assert default_target_layer(model) == "block2_conv2_relu"
    assert conv_layer_names(model) == [
        "block1_conv1",
        "block1_conv2",
        "block2_conv1",
        "block2_conv2",
    ]
    x = RNG.random((8, 8, 1)).astype("float32")
    result = activations_and_gradients(model, x)
    assert result.activations.shape == (4, 4, 8)
    assert result.class_index == int(np.argmax(_np(model(x[None]))[0]))
    predictions = model.get_layer("predictions")

    def tail(a):  # pool -> GAP -> (dropout off) dense -> logits
        h = model.get_layer("block2_pool")(a)
        h = model.get_layer("dense")(ops.mean(h, axis=(1, 2)))
        logits = ops.matmul(h, predictions.kernel) + predictions.bias
        return ops.sum(logits[:, result.class_index])

    np.testing.assert_allclose(
        result.gradients,
        _explicit_gradient(tail, result.activations),
        rtol=1e-4,
        atol=1e-7,
    )
    heatmap = grad_cam(model, x[None])  # a batch of one works too
    assert heatmap.shape == (8, 8) and 0.0 <= heatmap.min() <= heatmap.max() <= 1.0


# --- Errors --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    return SmallCNN((8, 8, 1), 3, filters=(4,), dense_units=0, dropout=0.0)


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((7, 8, 1)), r"expected \(height, width, channels\) = \(8, 8, 1\)"),
        (np.zeros((2, 8, 8, 1)), r"received shape \(2, 8, 8, 1\)"),
        (np.zeros((8, 8, 3)), "does not match the model's input"),
        (np.zeros(64), r"received shape \(64,\)"),
        (np.array([["a"] * 8] * 8), "hold numbers"),
        (np.full((8, 8, 1), np.nan), "NaN"),
    ],
)
def test_bad_images(small_model, image, message):
    with pytest.raises(ValueError, match=message):
        grad_cam(small_model, image)


@pytest.mark.parametrize("class_index", [3, -1, True, 1.0, "0"])
def test_bad_class_index(small_model, class_index):
    with pytest.raises(ValueError, match=r"class_index.*\[0, 3\)"):
        grad_cam(small_model, np.zeros((8, 8, 1)), class_index=class_index)


def test_bad_layers(small_model):
    x = np.zeros((8, 8, 1))
    with pytest.raises(ValueError, match=r"no layer named 'nope'.*\['block1_conv1'"):
        grad_cam(small_model, x, layer_name="nope")
    with pytest.raises(ValueError, match=r"'avg_pool' has output shape \(None, 4\)"):
        grad_cam(small_model, x, layer_name="avg_pool")
    with pytest.raises(ValueError, match="layer_name"):
        grad_cam(small_model, x, layer_name=3)
    with pytest.raises(ValueError, match="upsample"):
        grad_cam(small_model, x, upsample="yes")
    with pytest.raises(ValueError, match="use_logits"):
        grad_cam(small_model, x, use_logits=1)


def test_models_grad_cam_cannot_explain():
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv2D(2, 3, kernel_initializer=INIT)
            self.head = layers.Dense(2, kernel_initializer=INIT)

        def call(self, x):
            return self.head(ops.mean(self.conv(x), axis=(1, 2)))

    x = np.zeros((8, 8, 1), "float32")
    subclassed = Subclassed()
    subclassed(x[None])
    with pytest.raises(ValueError, match="functional or Sequential.*saliency"):
        grad_cam(subclassed, x)

    inputs = keras.Input((8, 8, 1))
    flat = layers.Dense(2, kernel_initializer=INIT)(layers.Flatten()(inputs))
    with pytest.raises(ValueError, match="no convolutional layer"):
        grad_cam(keras.Model(inputs, flat), x)
    with pytest.raises(ValueError, match="one output"):
        grad_cam(keras.Model(inputs, [flat, flat]), x)

    shared = layers.Conv2D(1, 3, padding="same", kernel_initializer=INIT, name="shared")
    twice = layers.Flatten()(shared(shared(inputs)))
    with pytest.raises(ValueError, match="runs 2 times"):
        model = keras.Model(inputs, layers.Dense(2, kernel_initializer=INIT)(twice))
        grad_cam(model, x, layer_name="shared")
    with pytest.raises(ValueError, match="functional or Sequential"):
        grad_cam(layers.Dense(2), x)
    unbuilt = keras.Sequential([layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(2)])
    with pytest.raises(ValueError, match="keras.Input"):
        grad_cam(unbuilt, x)


def test_default_layer_skips_a_final_1x1_map():
    # ResNet with four stages on 8x8 images: 8 -> 8 -> 4 -> 2 -> 1. The last
    # stage's 1x1 map cannot localise anything (its heatmap is flat), so the
    # default is the end of stage 3, at 2x2.
    from kerasdl.models import ResNet

    model = ResNet(
        (8, 8, 1), 3, stackwise_filters=(4, 4, 4, 4), stackwise_depth=(1, 1, 1, 1)
    )
    assert model.get_layer("stage4_block1").output.shape[1:3] == (1, 1)
    assert default_target_layer(model) == "stage3_block1"
    image = np.random.default_rng(0).random((8, 8, 1)).astype("float32")
    found = activations_and_gradients(model, image)
    assert found.layer_name == "stage3_block1"
    assert found.activations.shape[:2] == found.gradients.shape[:2] == (2, 2)
    assert grad_cam(model, image).shape == (8, 8)
