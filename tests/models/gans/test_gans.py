"""GANs: one train step on each backend moves both networks, the Lipschitz devices
(clipping, gradient penalty) do what they claim, samples survive save/load, and
mistakes are named."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from kerasdl import backend as kb
from kerasdl.data import load_digits
from kerasdl.models.gans import (
    DCGAN,
    WGAN,
    WGANGP,
    ConditionalGAN,
    GANSampleGrid,
    dcgan_discriminator,
    dcgan_generator,
)
from kerasdl.testing import check_model

LATENT = 8


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.x[:128], data.y[:128]


def small_gan(kind, seed=0, dtype=None):
    kb.set_random_seed(seed)
    conditional = kind == "cgan"
    generator = dcgan_generator(
        LATENT, base_filters=8, num_classes=10 if conditional else None, dtype=dtype
    )
    normalization = {"dcgan": "batch", "cgan": "batch", "wgan": None}.get(kind, "layer")
    critic = dcgan_discriminator(
        base_filters=8,
        normalization=normalization,
        num_classes=10 if conditional else None,
        dtype=dtype,
    )
    if kind == "dcgan":
        return DCGAN(generator, critic, LATENT, seed=seed)
    if kind == "cgan":
        return ConditionalGAN(generator, critic, LATENT, 10, seed=seed)
    if kind == "wgan":
        return WGAN(generator, critic, LATENT, n_critic=2, seed=seed)
    return WGANGP(generator, critic, LATENT, n_critic=2, seed=seed)


def weights(model):
    return [np.array(keras.ops.convert_to_numpy(w)) for w in model.weights]


@pytest.mark.parametrize("kind", ["dcgan", "cgan", "wgan", "wgan_gp"])
def test_one_train_step_moves_both_networks_and_stays_finite(kind, digits):
    x, y = digits
    gan = small_gan(kind)
    gan.compile()
    g0, d0 = weights(gan.generator), weights(gan.discriminator)
    history = gan.fit(
        x[:32], y[:32] if kind == "cgan" else None, batch_size=32, epochs=1, verbose=0
    )
    g1, d1 = weights(gan.generator), weights(gan.discriminator)
    for before, after, net in ((g0, g1, "generator"), (d0, d1, "discriminator")):
        assert all(np.all(np.isfinite(w)) for w in after), f"{net} holds NaN/inf"
        assert any(not np.array_equal(a, b) for a, b in zip(before, after)), (
            f"{kind}: one train step left the {net} unchanged"
        )
    for key, values in history.history.items():
        assert np.isfinite(values).all(), key
    expected = {
        "dcgan": {"discriminator_loss"},
        "cgan": {"discriminator_loss"},
        "wgan": {"critic_loss", "wasserstein"},
        "wgan_gp": {"critic_loss", "wasserstein", "gradient_penalty", "grad_norm"},
    }[kind] | {"generator_loss"}
    assert set(history.history) == expected


def test_wgan_gp_interpolates_with_uniform_alpha():
    gan = small_gan("wgan_gp")
    # alpha is uniform per sample: the interpolates span the segment real -> fake.
    real = ops.zeros((4000, 1, 1, 1))
    fake = ops.ones((4000, 1, 1, 1))
    alpha = 1.0 - ops.convert_to_numpy(gan.interpolate(real, fake)).ravel()
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0
    assert abs(alpha.mean() - 0.5) < 0.03 and abs(alpha.std() - 12**-0.5) < 0.03


def test_wgan_keeps_every_critic_weight_inside_the_clip(digits):
    x, _ = digits
    gan = small_gan("wgan")
    gan.compile(discriminator_optimizer=keras.optimizers.RMSprop(0.05))
    gan.fit(x, batch_size=32, epochs=1, verbose=0)
    largest = max(np.abs(w).max() for w in weights(gan.critic))
    assert largest <= gan.clip_value + 1e-7
    # Not trivially: with this learning rate the weights do hit the bound.
    assert largest == pytest.approx(gan.clip_value)


def test_gradient_norms_of_a_linear_critic_are_its_weight_norm():
    generator = keras.Sequential(
        [
            keras.Input((LATENT,)),
            keras.layers.Dense(16),
            keras.layers.Reshape((4, 4, 1)),
        ]
    )
    critic = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    gan = WGANGP(generator, critic, LATENT)
    points = np.random.default_rng(0).normal(size=(5, 4, 4, 1)).astype("float32")
    norms = ops.convert_to_numpy(gan.gradient_norms(points))
    expected = np.linalg.norm(ops.convert_to_numpy(critic.layers[-1].kernel))
    np.testing.assert_allclose(norms, np.full(5, expected), rtol=1e-5)


def test_gradient_penalty_drives_the_critic_gradient_norm_to_one():
    # A critic that starts with gradient norms ~10 on the interpolates; the penalty
    # alone (gp_weight large, the Wasserstein term small in comparison) must bring
    # them to ~1 within a short training run.
    kb.set_random_seed(0)
    generator = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(16), keras.layers.Reshape((4, 4, 1))]
    )
    critic = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="tanh", kernel_initializer="he_normal"),
            keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(2.0)),
        ]
    )
    gan = WGANGP(generator, critic, 4, n_critic=5, gp_weight=100.0)
    real = np.random.default_rng(1).uniform(size=(256, 4, 4, 1)).astype("float32")
    before = gan.interpolate_gradient_norms(real).mean()
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(1e-4),
        discriminator_optimizer=keras.optimizers.Adam(1e-2, beta_1=0.5, beta_2=0.9),
    )
    gan.fit(real, batch_size=64, epochs=15, verbose=0)
    after = gan.interpolate_gradient_norms(real)
    assert before > 3.0
    assert 0.8 < after.mean() < 1.2, (before, after.mean())


@pytest.mark.parametrize("kind", ["dcgan", "cgan", "wgan", "wgan_gp"])
def test_gan_model_contract(kind, tmp_path, digits):
    # Config round trip and .keras save/load of the whole GAN (both networks).
    gan = small_gan(kind)
    noise = np.random.default_rng(0).standard_normal((4, LATENT)).astype("float32")
    inputs = [noise, np.arange(4)[:, None]] if kind == "cgan" else noise
    check_model(gan, inputs, tmp_dir=tmp_path, train=False)


def test_trained_generator_and_gan_save_load_and_resume(tmp_path, digits):
    x, _ = digits
    gan = small_gan("wgan_gp")
    gan.compile()
    gan.fit(x[:64], batch_size=32, epochs=1, verbose=0)
    # The trained generator alone: identical samples for the same noise.
    gan.generator.save(tmp_path / "generator.keras")
    generator = keras.saving.load_model(tmp_path / "generator.keras")
    noise = np.random.default_rng(3).standard_normal((8, LATENT)).astype("float32")
    np.testing.assert_array_equal(
        gan.generate(8, noise=noise), generator.predict(noise, verbose=0)
    )
    np.testing.assert_array_equal(gan.generate(8, seed=5), gan.generate(8, seed=5))
    # The whole GAN, compiled: same class, settings and optimizer state; resumes.
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    assert isinstance(loaded, WGANGP) and loaded.n_critic == 2
    for a, b in zip(gan.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
    assert int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)) == 2
    history = loaded.fit(x[:64], batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["critic_loss"]).all()


def test_conditional_gan_generates_requested_classes_and_checks_labels(digits):
    x, y = digits
    gan = small_gan("cgan")
    gan.compile()
    same_noise = np.tile(np.ones((1, LATENT), "float32"), (2, 1))
    three, seven = gan.generate(2, labels=[3, 7], noise=same_noise)
    assert not np.allclose(three, seven), "the label must change the image"
    assert gan.generate(5, labels=4, seed=0).shape == (5, 8, 8, 1)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 10\)"):
        gan.generate(2, labels=10)
    with pytest.raises(ValueError, match="needs labels"):
        gan.fit(x[:32], None, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="one integer label per image"):
        gan.fit(x[:32], y[:31], epochs=1, verbose=0)


def test_sample_grid_callback_writes_pngs(tmp_path, digits):
    x, y = digits
    gan = small_gan("cgan")
    gan.compile()
    grid = GANSampleGrid(tmp_path, n=10, every=2)
    gan.fit(x[:32], y[:32], batch_size=32, epochs=3, verbose=0, callbacks=[grid])
    assert [p.name for p in grid.paths] == ["samples_epoch_002.png"]
    assert grid.paths[0].stat().st_size > 0
    # Unconditional GANs draw the same fixed noise each time.
    unconditional = small_gan("dcgan")
    unconditional.compile()
    grid = GANSampleGrid(tmp_path / "dcgan", n=4)
    grid.set_model(unconditional)
    first, second = grid.save(0), grid.save(1)
    assert first.name == "samples_epoch_001.png" and second.stat().st_size > 0


def test_bad_input_is_named(digits):
    x, y = digits
    gan = small_gan("dcgan")
    gan.compile()
    with pytest.raises(ValueError, match=r"images of shape \(n, \*\(8, 8, 1\)\)"):
        gan.fit(x[:, :4], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="unconditional and takes no labels"):
        gan.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="NaN"):
        gan.fit(np.full_like(x, np.nan), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="floating point"):
        gan.fit((x * 16).astype("int32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="does not match the generator's noise"):
        DCGAN(dcgan_generator(16), dcgan_discriminator(), latent_dim=8)
    with pytest.raises(ValueError, match="must not use BatchNormalization"):
        WGANGP(dcgan_generator(8), dcgan_discriminator(), 8)
    with pytest.raises(ValueError, match="makes images of shape"):
        DCGAN(dcgan_generator(8), dcgan_discriminator((16, 16, 1)), 8)
    with pytest.raises(ValueError, match="multiples of 4"):
        dcgan_generator(8, image_shape=(10, 10, 1))
    with pytest.raises(ValueError, match="n_critic"):
        WGAN(dcgan_generator(8), dcgan_discriminator(normalization=None), 8, n_critic=0)
    with pytest.raises(ValueError, match="clip_value"):
        WGAN(dcgan_generator(8), dcgan_discriminator(), 8, clip_value=-1)
    with pytest.raises(ValueError, match="label_smoothing"):
        DCGAN(dcgan_generator(8), dcgan_discriminator(), 8, label_smoothing=0.7)
    with pytest.raises(ValueError, match="1 input"):
        DCGAN(dcgan_generator(8, num_classes=10), dcgan_discriminator(), 8)
    with pytest.raises(ValueError, match="normalization"):
        dcgan_discriminator(normalization="group")


def _dtype_name(tensor):
    return keras.backend.standardize_dtype(tensor.dtype)


# TORCH_BF16_TRANSPOSED_CONV: on torch's CPU build the backward of a bfloat16
# transposed convolution fails ("grad_weight needs to be contiguous", plain Keras
# too), so there the mixed-precision tests check everything but the fit step.


@pytest.mark.parametrize("kind", ["dcgan", "cgan", "wgan", "wgan_gp"])
def test_mixed_precision_gan_computes_in_bfloat16_and_saves_its_policy(
    kind, tmp_path, digits
):
    gan = small_gan(kind, dtype="mixed_bfloat16")
    assert gan.dtype_policy.name == "mixed_bfloat16"  # taken from the networks
    for network in (gan.generator, gan.discriminator):
        for layer in network.layers:
            if not isinstance(layer, keras.layers.InputLayer):
                assert layer.compute_dtype == "bfloat16", (network.name, layer.name)
    assert {_dtype_name(w) for w in gan.weights} == {"float32"}
    x, y = digits
    real = x[:8]
    labels = y[:8, None].astype("int32")
    noise = np.random.default_rng(0).standard_normal((8, LATENT)).astype("float32")
    inputs = [noise, labels] if kind == "cgan" else noise
    inputs = keras.tree.map_structure(ops.convert_to_tensor, inputs)
    fake = gan(inputs)
    assert _dtype_name(fake) == "bfloat16"
    images, labels = ops.convert_to_tensor(real), ops.convert_to_tensor(labels)
    scores = gan.discriminator([images, labels] if kind == "cgan" else images)
    assert _dtype_name(scores) == "bfloat16"
    # The losses are computed in float32 from the bfloat16 scores.
    data = (images, labels) if kind == "cgan" else images
    d_loss = gan.discriminator_loss(data) if kind in ("dcgan", "cgan") else None
    if d_loss is None:
        d_loss = gan.critic_loss(data)
        d_loss = d_loss[0] if isinstance(d_loss, tuple) else d_loss
    assert _dtype_name(d_loss) == "float32"
    assert _dtype_name(gan.generator_loss(data)) == "float32"
    gan.compile()
    if keras.backend.backend() != "torch":  # TORCH_BF16_TRANSPOSED_CONV
        history = gan.fit(
            real, y[:8] if kind == "cgan" else None, batch_size=8, verbose=0
        )
        assert all(np.isfinite(v[-1]) for v in history.history.values())
    path = str(tmp_path / f"{kind}_mixed.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(gan)
    assert loaded.dtype_policy.name == "mixed_bfloat16"
    for network in (loaded.generator, loaded.discriminator):
        assert {
            layer.dtype_policy.name
            for layer in network.layers
            if not isinstance(layer, keras.layers.InputLayer)
        } == {"mixed_bfloat16"}
    np.testing.assert_allclose(
        ops.convert_to_numpy(ops.cast(loaded(inputs), "float32")),
        ops.convert_to_numpy(ops.cast(gan(inputs), "float32")),
        atol=1e-6,
    )


def test_gan_dtype_must_match_its_networks():
    generator = dcgan_generator(LATENT, base_filters=4)
    critic = dcgan_discriminator(base_filters=4, normalization="layer")
    with pytest.raises(ValueError, match="`generator` computes with"):
        DCGAN(generator, critic, LATENT, dtype="mixed_bfloat16")
    mixed_critic = dcgan_discriminator(
        base_filters=4, normalization="layer", dtype="mixed_bfloat16"
    )
    with pytest.raises(ValueError, match="share one dtype policy"):
        WGANGP(generator, mixed_critic, LATENT)
    assert DCGAN(generator, critic, LATENT, dtype="float32").dtype_policy.name == (
        "float32"
    )
