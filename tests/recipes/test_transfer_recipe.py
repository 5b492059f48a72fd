"""recipes/transfer: `fit_transfer`, the two-phase fit (head, then the top blocks).

Numbers are checked on a tiny ResNet (the helpers are copies of those in
tests/models/transfer/test_transfer.py).
"""

import keras
import numpy as np
import pytest

from kerasdl.models import (
    ResNet,
    backbone_blocks,
    build_transfer_model,
    feature_extractor,
    get_backbone,
)
from kerasdl.recipes import fit_transfer

BN_WEIGHTS = ("gamma", "beta", "moving_mean", "moving_variance")
HEAD = {"head_predictions/kernel", "head_predictions/bias"}


# === Helpers ===


def tiny_resnet(**kwargs):
    """8x8x1 -> stem (8 ch) -> stage1 (8 ch, 8x8) -> stage2 (8 ch, 4x4) [-> head].

    One width and 3 classes, like the new heads: few distinct weight shapes, so
    few initializer compilations on JAX (a truncated normal costs seconds).
    """
    return ResNet(
        (8, 8, 1),
        3,
        stackwise_filters=(8, 8),
        stackwise_depth=(1, 1),
        stem_filters=8,
        **kwargs,
    )


def images(n=32, shape=(8, 8, 1), seed=0):
    # Mean 1, std 2: far from the initial moving statistics (0, 1), so a batch
    # norm in training mode visibly moves them.
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, *shape)) * 2 + 1).astype("float32")


def labels(n=32, num_classes=3, seed=0):
    return np.random.default_rng(seed).integers(0, num_classes, n)


def numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def snapshot(model):
    """`{weight path: value}` of every weight (paths are unique)."""
    values = {w.path: numpy(w.value) for w in model.weights}
    assert len(values) == len(model.weights), "weight paths are not unique"
    return values


def changed(before, after):
    return {path for path in before if not np.array_equal(before[path], after[path])}


def block_paths(backbone, names):
    """Paths of every weight of the named blocks of `backbone`."""
    blocks = dict(backbone_blocks(backbone))
    return {w.path for name in names for layer in blocks[name] for w in layer.weights}


class Snapshots(keras.callbacks.Callback):
    """The weights at the start and end of each `fit` (one entry per phase)."""

    def __init__(self):
        super().__init__()
        self.phases = []

    def on_train_begin(self, logs=None):
        self.phases.append([snapshot(self.model)])

    def on_train_end(self, logs=None):
        self.phases[-1].append(snapshot(self.model))


# === fit_transfer ===


def test_fit_transfer_phases_train_what_they_should():
    model = build_transfer_model(tiny_resnet(), 3)
    backbone = get_backbone(model)
    record = Snapshots()
    result = fit_transfer(
        model,
        images(),
        labels(),
        head_epochs=1,
        fine_tune_blocks=1,
        fine_tune_epochs=1,
        batch_size=16,
        train_batchnorm=True,
        callbacks=[record],
        verbose=0,
    )
    assert len(record.phases) == 2
    (head_start, head_end), (tune_start, tune_end) = record.phases

    # Phase 1: the head only; the backbone is bit-identical.
    assert changed(head_start, head_end) == HEAD

    # Phase 2: the top block's kernels, batch-norm scales and offsets (unfrozen
    # with train_batchnorm=True) and the head; never the lower blocks, and never
    # a moving mean or variance (the backbone runs in inference mode).
    top = block_paths(backbone, ["stage2_block1"])
    expected = {path for path in top if not path.endswith(BN_WEIGHTS[2:])}
    assert any(path.endswith("kernel") for path in expected)
    assert changed(tune_start, tune_end) == expected | HEAD
    assert head_end.keys() == tune_start.keys()
    assert changed(head_end, tune_start) == set()

    assert result["unfrozen_blocks"] == ["stage2_block1"]
    assert len(result["head"]["loss"]) == 1
    assert len(result["fine_tune"]["loss"]) == 1
    assert result["trainable_params"]["head"] == 8 * 3 + 3
    assert result["trainable_params"]["fine_tune"] == sum(
        int(np.prod(w.shape)) for w in model.trainable_weights
    )

    # Positive control: the same layers as a plain graph called with
    # training=True (what a fit step does) move the moving statistics on these
    # images, so the check above can fail.
    control = feature_extractor(backbone)
    before = snapshot(control)
    control(images(), training=True)
    moved = changed(before, snapshot(control))
    assert {path for path in top if path.endswith("moving_mean")} <= moved


def test_fit_transfer_head_only_and_any_image_size():
    # A backbone with no fixed image size (like a keras.applications model
    # built without input_shape) accepts images of any size.
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(8, 3, kernel_initializer="he_normal", name="block1_conv")(
        inputs
    )
    x = keras.layers.BatchNormalization(name="block1_bn")(x)
    model = build_transfer_model(keras.Model(inputs, x), 3)
    before = snapshot(model)
    result = fit_transfer(
        model,
        images(16, (6, 6, 1)),
        labels(16),
        head_epochs=1,
        fine_tune_blocks=0,
        verbose=0,
    )
    assert result["fine_tune"] is None
    assert result["unfrozen_blocks"] == []
    assert changed(before, snapshot(model)) == HEAD
    with pytest.raises(ValueError, match="x.shape"):
        fit_transfer(model, images(16, (6, 6, 2)), labels(16), verbose=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": images(8, (9, 9, 1))}, r"`x` must hold images of shape \(8, 8, 1\)"),
        ({"x": images(8, (8, 8))}, "x.shape"),
        ({"x": np.full((8, 8, 8, 1), np.nan, "float32")}, "NaN"),
        ({"fine_tune_learning_rate": 1e-2}, "fine_tune_learning_rate"),
        ({"fine_tune_blocks": 4}, r"`fine_tune_blocks` must be at most 3"),
        ({"head_epochs": 0}, "head_epochs"),
        ({"learning_rate": 0.0}, "learning_rate"),
    ],
)
def test_fit_transfer_bad_arguments(kwargs, match):
    model = build_transfer_model(tiny_resnet(), 3)
    kwargs = {"x": images(8), "y": labels(8), "verbose": 0, **kwargs}
    before = snapshot(model)
    with pytest.raises(ValueError, match=match):
        fit_transfer(model, **kwargs)
    assert changed(before, snapshot(model)) == set()  # nothing was trained


def test_fit_transfer_needs_a_transfer_model():
    with pytest.raises(ValueError, match="no layer named 'backbone'"):
        fit_transfer(tiny_resnet(), images(8), labels(8), verbose=0)
