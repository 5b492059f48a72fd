"""kerasdl.layers.augmentation.pipeline: `make_augmentation` and a model that
trains on MixUp batches behind it."""

import keras
import numpy as np
from augmentation_helpers import SHAPE, N, _images, _np

from kerasdl.layers.augmentation import (
    AUGMENTATIONS,
    MixUpDataset,
    make_augmentation,
)

# ---------------------------------------------------------------------------
# Pipeline
# ---------------------------------------------------------------------------


def test_augmentation_pipeline_trains_on_mixup_batches_and_saves(tmp_path):
    augment = make_augmentation(list(AUGMENTATIONS), seed=0)
    assert [type(layer).__name__ for layer in augment.layers] == [
        "RandomFlip",
        "RandomAffine",  # rotation, translation, zoom: one interpolation
        "RandomBrightness",
        "RandomContrast",
        "Cutout",
    ]
    assert [layer.seed for layer in augment.layers] == list(range(5))
    affine = augment.layers[1]
    assert (affine.rotation, affine.translation, affine.zoom) == (10.0, 0.1, 0.1)
    x = _images()
    assert not np.allclose(_np(augment(x, training=True)), x)
    model = keras.Sequential(
        [
            keras.Input(SHAPE),
            augment,
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    model.compile("adam", keras.losses.CategoricalCrossentropy(from_logits=True))
    before = model.get_weights()
    data = MixUpDataset(x, np.arange(N) % 3, N // 2, alpha=0.4, num_classes=3, seed=0)
    history = model.fit(data, epochs=1, verbose=0)  # jit-compiled on JAX
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(model.get_weights()[0], before[0])
    path = tmp_path / "augmented.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(_np(loaded(x)), _np(model(x)), atol=1e-6)


def test_make_augmentation_fuses_only_consecutive_geometric_steps():
    def names(steps, **kwargs):
        augment = make_augmentation(steps, **kwargs)
        return [type(layer).__name__ for layer in augment.layers]

    steps = ["rotation", "flip", "zoom", "translation", "zoom", "cutout"]
    assert names(steps) == [
        "RandomRotation",
        "RandomFlip",
        "RandomAffine",
        "RandomZoom",
        "Cutout",
    ]
    assert names(steps, fuse_geometric=False) == [
        "RandomRotation",
        "RandomFlip",
        "RandomZoom",
        "RandomTranslation",
        "RandomZoom",
        "Cutout",
    ]
    fused = make_augmentation(["translation", "zoom"], zoom=0.3).layers[0]
    assert (fused.rotation, fused.translation, fused.zoom) == (0.0, 0.1, 0.3)
