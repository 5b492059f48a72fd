"""kerasdl.layers.augmentation.mix: MixUp and CutMix batches and `MixUpDataset`."""

import numpy as np
import pytest
from augmentation_helpers import _images

from kerasdl.layers.augmentation import MixedBatch, MixUpDataset, mix_batch

# ---------------------------------------------------------------------------
# MixUp / CutMix
# ---------------------------------------------------------------------------


def test_mixup_mixes_images_and_labels_with_the_same_weights():
    n = 12
    x = np.eye(n, dtype="float32")  # image i is e_i, so a mixed image = its label
    batch = mix_batch(x, np.arange(n), alpha=1.0, num_classes=n, rng=0)
    assert isinstance(batch, MixedBatch)
    np.testing.assert_allclose(batch.x, batch.y, atol=1e-6)
    np.testing.assert_allclose(batch.y.sum(axis=1), 1.0, atol=1e-6)
    assert batch.y.min() >= 0.0 and np.all((batch.y > 0).sum(axis=1) <= 2)
    expected = batch.lam[:, None] * x + (1 - batch.lam[:, None]) * x[batch.partner]
    np.testing.assert_allclose(batch.y, expected, atol=1e-6)
    assert batch.lam.min() < 0.3 and batch.lam.max() > 0.7  # Beta(1, 1) spread


def test_cutmix_pastes_a_box_and_weights_labels_by_area():
    n = 16
    x = np.broadcast_to(
        np.arange(1, n + 1, dtype="float32")[:, None, None, None], (n, 8, 8, 1)
    )
    batch = mix_batch(x, np.arange(n), alpha=1.0, mode="cutmix", num_classes=n, rng=1)
    for i in range(n):
        own = np.mean(batch.x[i] == i + 1)
        partner = batch.partner[i]
        assert np.all((batch.x[i] == i + 1) | (batch.x[i] == partner + 1))
        if partner != i:
            np.testing.assert_allclose(batch.y[i, i], own, atol=1e-6)
            np.testing.assert_allclose(batch.y[i, partner], 1 - own, atol=1e-6)
            pasted = np.argwhere(batch.x[i, ..., 0] == partner + 1)
            if len(pasted):  # the pasted pixels form one box
                h, w = pasted.max(axis=0) - pasted.min(axis=0) + 1
                assert h * w == len(pasted)
    np.testing.assert_allclose(batch.y.sum(axis=1), 1.0, atol=1e-6)


def test_mixup_dataset_batches_are_seeded_and_reshuffled_each_epoch():
    n, classes = 40, 4
    x = _images(n, (4, 4, 1))
    y = np.arange(n) % classes
    data = MixUpDataset(x, y, batch_size=16, alpha=0.4, num_classes=classes, seed=3)
    assert len(data) == 3
    xb, yb = data[2]
    assert xb.shape == (8, 4, 4, 1) and yb.shape == (8, classes)
    np.testing.assert_allclose(yb.sum(axis=1), 1.0, atol=1e-6)
    twin = MixUpDataset(x, y, batch_size=16, alpha=0.4, num_classes=classes, seed=3)
    np.testing.assert_array_equal(twin[0][0], data[0][0])
    first = data[0][0]
    data.on_epoch_end()
    assert not np.array_equal(data[0][0], first)  # a new epoch, a new order


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"alpha": 0.0}, "`alpha`"),
        ({"batch_size": 0}, "`batch_size`"),
        ({"mode": "mix"}, "`mode`"),
        ({"num_classes": None}, "`num_classes`"),
        ({"seed": -1}, "`seed`"),
    ],
)
def test_mixup_dataset_rejects_bad_arguments(kwargs, match):
    base = {"batch_size": 4, "alpha": 0.2, "num_classes": 3}
    with pytest.raises(ValueError, match=match):
        MixUpDataset(np.zeros((6, 4, 4, 1)), np.arange(6) % 3, **{**base, **kwargs})


def test_mix_batch_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        mix_batch(np.zeros((4, 2)), np.array([0, 1, 2, 3]), num_classes=3)
    with pytest.raises(ValueError, match="rank 4"):
        mix_batch(np.zeros((4, 2)), np.eye(4), mode="cutmix")
