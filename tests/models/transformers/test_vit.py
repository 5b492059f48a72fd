"""kerasdl.models.transformers.vit: ViTClassifier and its RandomShift augmentation."""

import keras
import numpy as np
import pytest

from kerasdl.models.transformers.vit import RandomShift, ViTClassifier
from kerasdl.testing import check_layer, check_model

RNG = np.random.default_rng(0)
# 4x4 images, 2x2 patches: 4 patch tokens (+ 1 class token).
TINY = {
    "input_shape": (4, 4, 1),
    "num_classes": 3,
    "patch_size": 2,
    "hidden_dim": 8,
    "num_layers": 1,
    "num_heads": 2,
    "intermediate_dim": 16,
}


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _images(n, shape=(4, 4, 1), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype("float32")


def test_cls_contract(tmp_path):
    model = ViTClassifier(**TINY, seed=0)
    x, y = _images(6), RNG.integers(0, 3, 6)
    out = check_model(model, x, y, tmp_dir=tmp_path)
    assert out.shape == (6, 3)
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)
    assert model.get_layer("class_token") is not None
    assert model.count_params() > 0


def test_mean_pooling_post_norm_logits_contract(tmp_path):
    model = ViTClassifier(
        **TINY,
        pooling="mean",
        norm_first=False,
        rescale=1 / 16,
        augment_shift=0,
        head_activation=None,
    )
    names = [layer.name for layer in model.layers]
    assert "class_token" not in names and "final_norm" not in names
    assert "random_shift" not in names and "rescale" in names
    out = check_model(model, _images(4) * 16, tmp_dir=tmp_path)
    assert not np.allclose(out.sum(-1), 1.0)  # logits, not probabilities


def test_class_token_is_the_same_for_every_input_before_attention():
    model = ViTClassifier(**TINY)
    tokens = keras.Model(model.input, model.get_layer("class_token").output)
    out = _np(tokens(_images(5), training=False))
    assert out.shape == (5, 5, 8)
    np.testing.assert_array_equal(out[:, 0], np.broadcast_to(out[0, 0], (5, 8)))
    assert np.ptp(out[:, 1:], axis=0).max() > 0  # patch tokens differ per image


def test_a_few_fit_steps_lower_the_loss():
    """The class is which of three patches is bright: learnable in a few steps."""
    keras.utils.set_random_seed(0)
    model = ViTClassifier(**TINY, dropout=0.0, augment_shift=0, seed=0)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    y = np.arange(24) % 3
    x = 0.1 * _images(24, seed=1)
    for image, label in zip(x, y):
        row, col = divmod(int(label), 2)
        image[2 * row : 2 * row + 2, 2 * col : 2 * col + 2] += 1.0
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, batch_size=24, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.25 * before


def test_attention_scores_are_softmax_rows_over_all_tokens():
    model = ViTClassifier(**{**TINY, "num_layers": 2})
    x = _images(3)
    scores = _np(model.attention_scores(x))
    assert scores.shape == (3, 2, 5, 5)  # (batch, heads, 1 + 4 tokens, ...)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)
    first = _np(model.attention_scores(x, layer=0))
    assert not np.allclose(first, scores)
    with pytest.raises(ValueError, match="`layer`"):
        model.attention_scores(x, layer=2)
    with pytest.raises(ValueError, match="`images`"):
        model.attention_scores(_images(3, (8, 8, 1)))


@pytest.mark.parametrize(
    "change, name",
    [
        ({"patch_size": 3}, "patch_size"),
        ({"hidden_dim": 6, "num_heads": 4}, "hidden_dim"),
        ({"pooling": "max"}, "pooling"),
        ({"input_shape": (4, 4)}, "input_shape"),
        ({"num_classes": 1}, "num_classes"),
        ({"dropout": 1.0}, "dropout"),
        ({"augment_shift": -1}, "augment_shift"),
        ({"head_activation": "sigmoid"}, "head_activation"),
        ({"rescale": 0.0}, "rescale"),
    ],
)
def test_bad_arguments_name_the_argument(change, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        ViTClassifier(**{**TINY, **change})


# ---------------------------------------------------------------------------
# RandomShift
# ---------------------------------------------------------------------------


def _shifted(image, dy, dx):
    """`image` (h, w, c) moved down by dy and right by dx, zeros shifted in."""
    h, w, _ = image.shape
    out = np.zeros_like(image)
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def test_random_shift_contract_and_inference_identity(tmp_path):
    x = _images(4, (5, 6, 2))
    out = check_layer(RandomShift(1, seed=3), x, tmp_dir=tmp_path)
    np.testing.assert_array_equal(out, x)  # inactive at inference
    np.testing.assert_array_equal(_np(RandomShift(0)(x, training=True)), x)


def test_random_shift_moves_each_image_by_whole_pixels():
    images = _images(64, (5, 5, 1), seed=2) + 0.5  # no zero pixels
    out = _np(RandomShift(1, seed=0)(images, training=True))
    seen = set()
    for image, moved in zip(images, out):
        matches = [
            (dy, dx)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if np.array_equal(moved, _shifted(image, dy, dx))
        ]
        assert len(matches) == 1, "not a whole-pixel shift within +-1"
        seen.add(matches[0])
    assert len(seen) == 9  # each of the 3 x 3 shifts is drawn (64 images)


def test_random_shift_rejects_bad_input():
    with pytest.raises(ValueError, match="`max_shift`"):
        RandomShift(-1)
    with pytest.raises(ValueError, match="rank 4"):
        RandomShift(1)(np.zeros((2, 4, 4), "float32"), training=True)
