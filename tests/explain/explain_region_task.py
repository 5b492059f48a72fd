"""A synthetic task whose evidence lies in one known region, and a CNN trained on it.

Each 16x16 image is faint noise with a 3-pixel diagonal stroke somewhere in the
top-left quadrant (`REGION`): "\\" for class 0, "/" for class 1. Two distractor
strokes, horizontal or vertical, just as bright and as long, lie in two of the other
quadrants of every image, whatever its class. Only the top-left stroke decides the
class, so an explanation of the prediction should point at it and not at the
distractors. (Synthetic data: no shipped dataset has a known answer region.)
"""

import keras
import numpy as np

from kerasdl import backend as kb

SIZE = 16
REGION = (slice(0, 8), slice(0, 8))
_STROKES = {
    "\\": np.eye(3),
    "/": np.fliplr(np.eye(3)),
    "-": np.pad(np.ones((1, 3)), ((1, 1), (0, 0))),
    "|": np.pad(np.ones((3, 1)), ((0, 0), (1, 1))),
}


def _draw(image, stroke, top, left):
    patch = image[top : top + 3, left : left + 3, 0]
    np.maximum(patch, _STROKES[stroke], out=patch)


def make_region_task(n, seed):
    """`(x, y, strokes, distractors)`: images `(n, 16, 16, 1)` in [0, 1], labels,
    the (top, left) corner of each deciding stroke and of its two distractors."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.3, size=(n, SIZE, SIZE, 1)).astype("float32")
    y = rng.integers(0, 2, size=n).astype("int64")
    strokes, distractors = [], []
    for i in range(n):
        top, left = rng.integers(0, 6, size=2)
        _draw(x[i], "/" if y[i] else "\\", top, left)
        strokes.append((top, left))
        corners = []
        for quadrant in rng.choice([1, 2, 3], size=2, replace=False):
            top = rng.integers(0, 6) + (8 if quadrant >= 2 else 0)
            left = rng.integers(0, 6) + (8 if quadrant in (1, 3) else 0)
            _draw(x[i], rng.choice(["-", "|"]), top, left)
            corners.append((top, left))
        distractors.append(corners)
    return x, y, strokes, distractors


class NumpyGlorot(keras.initializers.Initializer):
    """Glorot-uniform weights drawn by NumPy: on JAX, Keras's own initializers compile
    random-number kernels for every new weight shape (about a second each on CPU),
    which would dominate these tests."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def __call__(self, shape, dtype=None):
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return self.rng.uniform(-limit, limit, size=shape).astype("float32")


def around(heatmap, corner):
    """Mean of `heatmap` over a stroke's 3x3 box and a 1-pixel margin."""
    top, left = corner
    return float(heatmap[max(top - 1, 0) : top + 4, max(left - 1, 0) : left + 4].mean())


def build_region_cnn(head_initializer="zeros", seed=0):
    # A zero-initialized head: softmax cross-entropy moves the two class columns in
    # opposite directions, so their common part keeps its initial value; zero, it
    # adds no class-unrelated channels to the logits that Grad-CAM weighs.
    inputs = keras.Input((SIZE, SIZE, 1))
    init = NumpyGlorot(seed)
    x = keras.layers.Conv2D(
        16, 3, padding="same", activation="relu", kernel_initializer=init, name="conv1"
    )(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(
        16, 3, padding="same", kernel_initializer=init, name="conv2"
    )(x)
    x = keras.layers.Activation("relu", name="conv2_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(
        2,
        activation="softmax",
        kernel_initializer=init if head_initializer == "glorot" else head_initializer,
        name="predictions",
    )(x)
    return keras.Model(inputs, outputs, name="region_cnn")


def train_region_cnn():
    """The CNN trained on the region task and 24 test images: a dict with `model`,
    `accuracy`, `x`, `y`, `strokes`, `distractors`."""
    kb.set_random_seed(0)
    x, y, _, _ = make_region_task(512, seed=0)
    x_test, y_test, strokes, distractors = make_region_task(24, seed=1)
    model = build_region_cnn()
    model.compile(
        keras.optimizers.Adam(0.005),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    return {
        "model": model,
        "accuracy": accuracy,
        "x": x_test,
        "y": y_test,
        "strokes": strokes,
        "distractors": distractors,
    }
