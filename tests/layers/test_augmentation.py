"""kerasdl.layers.augmentation: training-only image augmentation and MixUp/CutMix."""

import keras
import numpy as np
import pytest

from kerasdl.layers.augmentation import (
    AUGMENTATIONS,
    Cutout,
    MixedBatch,
    MixUpDataset,
    RandomAffine,
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomShift,
    RandomTranslation,
    RandomZoom,
    make_augmentation,
    mix_batch,
)
from kerasdl.testing import check_layer


def _np(tensor):
    return keras.ops.convert_to_numpy(tensor)


# Few distinct shapes: eager JAX compiles each op once per shape.
N = 16
SHAPE = (6, 7, 2)  # not square, so a swapped height and width shows
SQUARE = (6, 6, 2)


def _images(n=N, shape=SHAPE, seed=0, low=0.2, high=0.8):
    """Values in [low, high]: no zeros, so fill and erased pixels stand out."""
    rng = np.random.default_rng(seed)
    return (low + (high - low) * rng.random((n, *shape))).astype("float32")


def _shifted(image, dy, dx, fill=0.0):
    """`image` (h, w, c) moved down by dy and right by dx, `fill` shifted in."""
    h, w, _ = image.shape
    out = np.full_like(image, fill)
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def _affine(images, transform, fill_value=0.0):
    """Keras's built-in projective transform, the same transform for every image."""
    batch = np.tile(np.asarray(transform, "float32"), (len(images), 1))
    return _np(
        keras.ops.image.affine_transform(
            images, batch, interpolation="bilinear", fill_value=fill_value
        )
    )


def _layers():
    return [
        RandomFlip("horizontal_and_vertical", seed=1),
        RandomRotation(20, seed=1),
        RandomTranslation(0.2, 0.1, seed=1),
        RandomZoom(0.2, (-0.1, 0.3), seed=1),
        RandomAffine(rotation=20, translation=0.1, zoom=(-0.2, 0.1), seed=1),
        RandomBrightness(0.2, seed=1),
        RandomContrast((0.5, 0.2), seed=1),
        Cutout(2, seed=1),
    ]


# ---------------------------------------------------------------------------
# The layer contract, inference and determinism
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layer", _layers(), ids=lambda layer: type(layer).__name__)
def test_contract_identity_at_inference_and_fresh_draws(layer, tmp_path):
    x = _images()
    out = check_layer(layer, x, expected_output_shape=x.shape, tmp_dir=tmp_path)
    np.testing.assert_array_equal(out, x)  # training=False
    np.testing.assert_array_equal(_np(layer(x)), x)  # training defaults to None
    first = _np(layer(x, training=True))
    assert first.shape == x.shape and not np.array_equal(first, x)
    # Seeded: a new layer with the same seed draws the same; the next call differs.
    twin = type(layer).from_config(layer.get_config())
    np.testing.assert_allclose(_np(twin(x, training=True)), first, atol=1e-6)
    assert not np.allclose(_np(layer(x, training=True)), first)
    assert layer.supports_jit  # unlike Keras's geometric layers


@pytest.mark.parametrize("layer", _layers()[1:], ids=lambda layer: type(layer).__name__)
def test_parameters_are_drawn_per_image(layer):
    x = np.repeat(_images(1, seed=3), N, axis=0)  # N copies of one image
    out = _np(layer(x, training=True)).reshape(N, -1)
    assert len({row.tobytes() for row in out.round(5)}) >= 8


def test_integer_images_are_cast_to_float_in_training():
    x = (np.arange(N * 6 * 7 * 2).reshape(N, *SHAPE) % 7).astype("uint8")
    out = RandomRotation((180, 180))(x, training=True)
    assert "float" in keras.backend.standardize_dtype(out.dtype)
    np.testing.assert_allclose(_np(out), np.rot90(x, 2, axes=(1, 2)), atol=1e-4)


# ---------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dy,dx", [(2, -1), (0, 3), (-3, 0)])
def test_integer_translation_is_a_roll_with_zero_fill(dy, dx):
    x = _images()
    layer = RandomTranslation((dy, dy), (dx, dx), unit="pixels")
    expected = np.stack([_shifted(image, dy, dx) for image in x])
    np.testing.assert_allclose(_np(layer(x, training=True)), expected, atol=1e-6)
    # The same move as fractions of the height and width.
    fraction = RandomTranslation((dy / 6, dy / 6), (dx / 7, dx / 7))
    np.testing.assert_allclose(_np(fraction(x, training=True)), expected, atol=1e-5)


def test_translation_fill_value_and_nearest_fill_mode():
    x = _images()
    filled = RandomTranslation((1, 1), (-2, -2), unit="pixels", fill_value=0.5)
    expected = np.stack([_shifted(image, 1, -2, fill=0.5) for image in x])
    np.testing.assert_allclose(_np(filled(x, training=True)), expected, atol=1e-6)
    edge = RandomTranslation((2, 2), (0, 0), unit="pixels", fill_mode="nearest")
    padded = np.pad(x, ((0, 0), (2, 0), (0, 0), (0, 0)), mode="edge")[:, :6]
    np.testing.assert_allclose(_np(edge(x, training=True)), padded, atol=1e-6)


def test_nearest_interpolation_moves_by_whole_pixels():
    x = _images()
    out = _np(
        RandomTranslation(1.4, unit="pixels", interpolation="nearest", seed=0)(
            x, training=True
        )
    )
    seen = set()
    for image, moved in zip(x, out):
        matches = [
            (dy, dx)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if np.array_equal(moved, _shifted(image, dy, dx))
        ]
        assert len(matches) == 1, "not a whole-pixel move within +-1"
        seen.add(matches[0])
    assert len(seen) >= 5


def test_fractional_translation_matches_keras_affine_transform():
    x = _images()
    layer = RandomTranslation((0.25, 0.25), (-0.3, -0.3), fill_value=0.2)
    # Keras maps output (col, row) to input (col - dx, row - dy).
    expected = _affine(x, [1, 0, 0.3 * 7, 0, 1, -0.25 * 6, 0, 0], fill_value=0.2)
    np.testing.assert_allclose(_np(layer(x, training=True)), expected, atol=1e-5)


@pytest.mark.parametrize("degrees,k", [(90, 1), (-90, -1), (180, 2)])
def test_right_angle_rotations_equal_np_rot90(degrees, k):
    x = _images(shape=SQUARE)
    out = _np(RandomRotation((degrees, degrees))(x, training=True))
    np.testing.assert_allclose(out, np.rot90(x, k, axes=(1, 2)), atol=1e-5)


@pytest.mark.parametrize("fill_value", [0.0, 0.3])
def test_rotation_matches_keras_affine_transform(fill_value):
    x = _images()
    theta = np.radians(30.0)
    c, s, cy, cx = np.cos(theta), np.sin(theta), 2.5, 3.0
    transform = [c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy, 0, 0]
    out = _np(RandomRotation((30, 30), fill_value=fill_value)(x, training=True))
    np.testing.assert_allclose(out, _affine(x, transform, fill_value), atol=1e-5)


def test_rotation_nearest_modes_keep_values_from_the_image():
    x = _images()
    layer = RandomRotation(40, interpolation="nearest", fill_mode="nearest", seed=0)
    out = _np(layer(x, training=True))
    for image, rotated in zip(x, out):
        assert set(rotated.ravel()) <= set(image.ravel())


@pytest.mark.parametrize("factor", [0.3, -0.4])
def test_zoom_matches_keras_affine_transform(factor):
    x = _images()
    zoom = 1.0 + factor
    transform = [zoom, 0, 3.0 * (1 - zoom), 0, zoom, 2.5 * (1 - zoom), 0, 0]
    out = _np(RandomZoom((factor, factor), fill_value=0.1)(x, training=True))
    np.testing.assert_allclose(out, _affine(x, transform, 0.1), atol=1e-5)


def test_affine_composes_zoom_rotation_and_translation_in_one_interpolation():
    x = _images()  # 6 x 7: a 10% move is 0.6 pixels down and 0.7 right
    z, theta, ty, tx = 1.2, np.radians(25.0), 0.6, 0.7
    layer = RandomAffine(rotation=(25, 25), translation=(0.1, 0.1), zoom=(0.2, 0.2))
    c, s, cy, cx = np.cos(theta), np.sin(theta), 2.5, 3.0
    # Output (col, row) reads input z R(-theta) (p - shift), as Keras's matrix.
    transform = [
        z * c,
        -z * s,
        cx - z * c * (cx + tx) + z * s * (cy + ty),
        z * s,
        z * c,
        cy - z * s * (cx + tx) - z * c * (cy + ty),
        0,
        0,
    ]
    out = _np(layer(x, training=True))
    np.testing.assert_allclose(out, _affine(x, transform), atol=1e-5)
    # One step alone is the single-step layer.
    alone = RandomAffine(rotation=(25, 25))(x, training=True)
    single = RandomRotation((25, 25))(x, training=True)
    np.testing.assert_allclose(_np(alone), _np(single), atol=1e-6)


def test_zero_ranges_resample_to_the_identity():
    x = _images()
    # `augment` skips the shortcut that returns the inputs for a zero range.
    zero = (0.0, 0.0)
    for layer in (
        RandomZoom(zero),
        RandomRotation(zero),
        RandomAffine(rotation=zero, translation=zero, zoom=zero),
    ):
        assert layer.is_identity()
        np.testing.assert_array_equal(_np(layer(x, training=True)), x)
        np.testing.assert_allclose(_np(layer.augment(x)), x, atol=1e-6)


def test_zoom_keeps_the_aspect_ratio_unless_a_width_factor_is_given():
    x = np.zeros((N, *SQUARE), "float32")
    x[:, 1:5, 1:5] = 1.0  # a centred square stays square with one draw
    square = _np(RandomZoom((-0.4, 0.4), seed=0)(x, training=True))[..., 0]
    np.testing.assert_allclose(square, np.transpose(square, (0, 2, 1)), atol=1e-6)
    free = _np(RandomZoom((-0.4, 0.4), (-0.4, 0.4), seed=0)(x, training=True))
    assert not np.allclose(free[..., 0], np.transpose(free[..., 0], (0, 2, 1)))


def test_flip_is_per_image_and_the_same_flip_twice_is_the_identity():
    x = _images()
    out = _np(RandomFlip("horizontal_and_vertical", seed=4)(x, training=True))
    kinds = []
    for image, flipped in zip(x, out):
        candidates = {
            "none": image,
            "h": image[:, ::-1],
            "v": image[::-1],
            "hv": image[::-1, ::-1],
        }
        kinds += [k for k, c in candidates.items() if np.array_equal(flipped, c)]
    assert len(kinds) == N and set(kinds) == {"none", "h", "v", "hv"}
    again = _np(RandomFlip("horizontal_and_vertical", seed=4)(out, training=True))
    np.testing.assert_array_equal(again, x)  # same seed, same flips: undone
    only_h = _np(RandomFlip("horizontal", seed=1)(x, training=True))
    assert all(
        np.array_equal(o, i) or np.array_equal(o, i[:, ::-1]) for o, i in zip(only_h, x)
    )


# ---------------------------------------------------------------------------
# Photometric and cutout
# ---------------------------------------------------------------------------


def test_brightness_adds_one_delta_per_image_within_the_range():
    x = _images(low=0.3, high=0.7)
    delta = _np(RandomBrightness(0.2, seed=0)(x, training=True)) - x
    per_image = delta.reshape(N, -1)
    np.testing.assert_allclose(per_image - per_image[:, :1], 0.0, atol=1e-6)
    assert np.all(np.abs(per_image) <= 0.2 + 1e-6)
    assert per_image[:, 0].min() < -0.1 and per_image[:, 0].max() > 0.1
    # A value range of width 10 scales the delta; the result is clipped to it.
    wide = RandomBrightness((0.5, 0.5), value_range=(0, 10))(x * 10, training=True)
    np.testing.assert_allclose(_np(wide), np.minimum(x * 10 + 5, 10), atol=1e-5)
    clipped = _np(RandomBrightness((0.9, 0.9))(x, training=True))
    np.testing.assert_array_equal(clipped, np.ones_like(x))


def test_contrast_scales_deviations_per_image_within_the_range():
    x = _images(low=0.3, high=0.7)
    out = _np(RandomContrast(0.3, value_range=None, seed=0)(x, training=True))
    mean_in, mean_out = x.mean(axis=(1, 2)), out.mean(axis=(1, 2))
    np.testing.assert_allclose(mean_out, mean_in, atol=1e-5)  # mean kept
    ratio = out.std(axis=(1, 2)) / x.std(axis=(1, 2))  # (N, channels)
    np.testing.assert_allclose(ratio - ratio[:, :1], 0.0, atol=1e-4)
    assert ratio.min() >= 0.7 - 1e-4 and ratio.max() <= 1.3 + 1e-4
    assert ratio.min() < 0.85 and ratio.max() > 1.15
    # (lower, upper) = (0, 5): only stronger contrast, clipped to [0, 1].
    strong = _np(RandomContrast((0.0, 5.0), seed=0)(x, training=True))
    assert strong.min() >= 0.0 and strong.max() <= 1.0
    assert np.mean((strong == 0.0) | (strong == 1.0)) > 0.2


@pytest.mark.parametrize("size,side", [(3, 3), (1, 1), (0.5, 3), (0.01, 1)])
def test_cutout_erases_exactly_one_square_per_image(size, side):
    x = _images()
    out = _np(Cutout(size, fill_value=-1.0, seed=0)(x, training=True))
    corners = set()
    for image, cut in zip(x, out):
        erased = np.any(cut != image, axis=-1)
        rows, cols = np.nonzero(erased)
        assert erased.sum() == side * side
        assert rows.max() - rows.min() + 1 == side == cols.max() - cols.min() + 1
        assert np.all(cut[erased] == -1.0)
        np.testing.assert_array_equal(cut[~erased], image[~erased])
        corners.add((rows.min(), cols.min()))
    assert len(corners) >= 6  # placed per image


def test_cutout_larger_than_the_image_is_rejected():
    with pytest.raises(ValueError, match="`size`=7"):
        Cutout(7)(np.zeros((1, 6, 8, 1), "float32"), training=True)


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


# ---------------------------------------------------------------------------
# Pipeline, arguments, RandomShift's home
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


@pytest.mark.parametrize(
    "make,name",
    [
        (lambda: make_augmentation(["rotate"]), "steps"),
        (lambda: make_augmentation("flip"), "steps"),
        (lambda: make_augmentation(["flip"], seed=1.5), "seed"),
        (lambda: make_augmentation(["zoom"], fuse_geometric=1), "fuse_geometric"),
        (lambda: RandomAffine(rotation=-1), "rotation"),
        (lambda: RandomAffine(translation=2.0), "translation"),
        (lambda: RandomAffine(zoom=(-1.5, 0)), "zoom"),
        (lambda: RandomFlip("diagonal"), "mode"),
        (lambda: RandomRotation(-5), "degrees"),
        (lambda: RandomRotation((10, 5)), "degrees"),
        (lambda: RandomRotation(10, interpolation="cubic"), "interpolation"),
        (lambda: RandomRotation(10, fill_mode="reflect"), "fill_mode"),
        (lambda: RandomRotation(10, seed=-1), "seed"),
        (lambda: RandomTranslation(1.5), "height_factor"),
        (lambda: RandomTranslation(0.1, "x"), "width_factor"),
        (lambda: RandomTranslation(3, unit="cm"), "unit"),
        (lambda: RandomZoom((-1.0, 0.5)), "height_factor"),
        (lambda: RandomZoom(0.2, (-2, 0)), "width_factor"),
        (lambda: RandomZoom(0.2, fill_value=float("nan")), "fill_value"),
        (lambda: RandomBrightness(1.5), "factor"),
        (lambda: RandomBrightness(0.1, value_range=(1, 0)), "value_range"),
        (lambda: RandomContrast(-0.1), "factor"),
        (lambda: RandomContrast((2.0, 0.1)), "factor"),
        (lambda: Cutout(0), "size"),
        (lambda: Cutout(1.5), "size"),
        (lambda: Cutout(True), "size"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(make, name):
    with pytest.raises(ValueError, match=f"`{name}`.*received"):
        make()


@pytest.mark.parametrize("layer", _layers(), ids=lambda layer: type(layer).__name__)
def test_bad_input_rank_is_a_clear_error(layer):
    with pytest.raises(ValueError, match=r"rank 4.*\(2, 4, 4\)"):
        layer(np.zeros((2, 4, 4), "float32"), training=True)


def test_random_shift_lives_here_and_keeps_its_name():
    from kerasdl.layers import random_shift
    from kerasdl.models.transformers import vit

    assert vit.RandomShift is RandomShift is random_shift.RandomShift
    assert keras.saving.get_registered_name(RandomShift) == "kerasdl>RandomShift"
