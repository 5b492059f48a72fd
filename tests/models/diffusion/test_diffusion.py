"""Diffusion: noise schedules, the timestep embedding, the U-Net, DDPM training and
DDPM/DDIM sampling, on every backend (tiny networks, T = 20)."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from kerasdl.data import load_digits
from kerasdl.models import DDPM, NoiseSchedule, SinusoidalTimeEmbedding, diffusion_unet
from kerasdl.models.diffusion import (
    DiffusionUNet,
    Trajectory,
    plot_denoising_trajectory,
)
from kerasdl.testing import check_layer, check_model

T = 20


def tiny_unet(image_shape=(8, 8, 1), **kwargs):
    kwargs = {"base_filters": 8, "time_embedding_dim": 16, "norm_groups": 4, **kwargs}
    return diffusion_unet(image_shape, **kwargs)


def tiny_ddpm(seed=0, **kwargs):
    # One resolution level: a U-Net without down-sampling, quick to compile.
    keras.utils.set_random_seed(0)
    network = tiny_unet(channel_mults=(1,))
    return DDPM(network, NoiseSchedule("linear", T, 1e-3, 0.3), seed=seed, **kwargs)


@pytest.fixture(scope="module")
def digits():
    return load_digits().x[:256]


# --- NoiseSchedule -------------------------------------------------------------------


def test_linear_schedule_matches_ho_et_al():
    s = NoiseSchedule("linear", 1000)
    assert s.betas.dtype == np.float32 and s.betas.shape == (1000,)
    assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    np.testing.assert_allclose(np.diff(s.betas), (0.02 - 1e-4) / 999, rtol=1e-3)
    abar = s.alphas_cumprod
    assert np.all(np.diff(abar) < 0) and np.all((abar > 0) & (abar < 1))
    np.testing.assert_allclose(abar, np.cumprod(1 - s.betas.astype("float64")), 1e-5)
    assert abar[0] == pytest.approx(1 - 1e-4)
    assert abar[-1] < 1e-4  # almost pure noise at t = T
    assert s.alphas_cumprod_prev[0] == 1.0
    np.testing.assert_allclose(s.alphas_cumprod_prev[1:], abar[:-1])


def test_cosine_schedule_matches_nichol_and_dhariwal():
    s = NoiseSchedule("cosine", 1000)
    abar = s.alphas_cumprod
    assert abar[0] > 0.9999 and abar[-1] < 1e-6
    assert np.all(np.diff(abar) < 0) and np.all((abar > 0) & (abar < 1))
    assert s.betas.max() == pytest.approx(0.999)  # clipped at the end
    # Away from the clipped end, abar_t = f(t + 1) / f(0) (steps counted from 1).
    f = np.cos((np.arange(1001) / 1000 + 0.008) / 1.008 * np.pi / 2) ** 2
    np.testing.assert_allclose(abar[:990], (f / f[0])[1:991], rtol=1e-4)
    # The cosine schedule keeps more signal in the middle than the linear one.
    assert abar[500] > NoiseSchedule("linear", 1000).alphas_cumprod[500] * 5


def test_posterior_variance():
    s = NoiseSchedule("linear", T, 1e-3, 0.3)
    assert s.posterior_variance[0] == 0.0
    assert np.all(s.posterior_variance[1:] < s.betas[1:])
    abar, abar_prev = s.alphas_cumprod, s.alphas_cumprod_prev
    expected = s.betas * (1 - abar_prev) / (1 - abar)
    np.testing.assert_allclose(s.posterior_variance, expected, rtol=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"timesteps": 0}, "timesteps"),
        ({"timesteps": 2.5}, "timesteps"),
        ({"beta_start": 0.02, "beta_end": 0.01}, "beta_start"),
        ({"beta_start": 0.02, "beta_end": 0.02}, "beta_start"),
        ({"beta_end": 1.5}, r"\(0, 1\)"),
        ({"beta_start": 0.0}, r"\(0, 1\)"),
        ({"kind": "quadratic"}, "kind"),
        ({"kind": "cosine", "cosine_s": -0.1}, "cosine_s"),
        ({"beta_end": float("nan")}, "beta_end"),
    ],
)
def test_schedule_rejects_impossible_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NoiseSchedule(**kwargs)


def test_schedule_config_round_trip():
    s = NoiseSchedule("cosine", 50, cosine_s=0.01)
    clone = NoiseSchedule.from_config(s.get_config())
    assert clone.get_config() == s.get_config()
    np.testing.assert_array_equal(clone.betas, s.betas)


def test_q_sample_has_the_forward_process_statistics():
    s = NoiseSchedule("linear", 1000)
    rng = np.random.default_rng(0)
    n = 20000
    x0 = np.full((n, 2, 2, 1), 0.6, dtype="float32")
    t = np.full((n,), 300)
    noise = rng.standard_normal(x0.shape).astype("float32")
    x_t = ops.convert_to_numpy(
        s.q_sample(ops.convert_to_tensor(x0), ops.convert_to_tensor(t), noise)
    )
    abar = float(s.alphas_cumprod[300])
    tolerance = 5 / math.sqrt(x0.size)  # 5 standard errors
    assert x_t.mean() == pytest.approx(math.sqrt(abar) * 0.6, abs=tolerance)
    assert x_t.std() == pytest.approx(math.sqrt(1 - abar), abs=tolerance)
    # Per-sample timesteps: t = 0 keeps almost all signal, t = T-1 almost none.
    x_t = ops.convert_to_numpy(
        s.q_sample(x0[:2], np.array([0, 999]), np.zeros_like(x0[:2]))
    )
    np.testing.assert_allclose(x_t[0], 0.6 * math.sqrt(1 - 1e-4), rtol=1e-6)
    assert np.all(np.abs(x_t[1]) < 0.01)


# --- SinusoidalTimeEmbedding and the U-Net -------------------------------------------


def test_time_embedding_layer_contract_and_values():
    layer = SinusoidalTimeEmbedding(16)
    t = np.array([0.0, 1.0, 10.0, 999.0], dtype="float32")
    out = check_layer(layer, t, expected_output_shape=(4, 16))
    np.testing.assert_allclose(out[0], [0.0] * 8 + [1.0] * 8, atol=1e-7)
    # Frequency i is max_period ** (-i / 8): the first pair is sin(t), cos(t).
    np.testing.assert_allclose(out[:, 0], np.sin(t), atol=1e-4)
    np.testing.assert_allclose(out[:, 8], np.cos(t), atol=1e-4)
    np.testing.assert_allclose(out[:, 7], np.sin(t * 10000 ** (-7 / 8)), atol=1e-5)
    # Integer timesteps embed like the same float ones.
    ints = ops.convert_to_numpy(layer(np.array([0, 1, 10, 999], dtype="int32")))
    np.testing.assert_allclose(ints, out, atol=1e-6)


@pytest.mark.parametrize("dim", [0, 7, 2.0, True])
def test_time_embedding_rejects_bad_dim(dim):
    with pytest.raises(ValueError, match="dim"):
        SinusoidalTimeEmbedding(dim)


@pytest.mark.parametrize(
    "image_shape, mults",
    [((8, 8, 1), (1, 2)), ((28, 28, 1), (1, 2, 2)), ((32, 32, 3), (1, 2, 2, 2))],
)
def test_unet_output_is_shaped_like_its_input(image_shape, mults):
    network = tiny_unet(image_shape, channel_mults=mults)
    assert isinstance(network, DiffusionUNet)
    assert network.output_shape == (None, *image_shape)
    assert [tuple(i.shape) for i in network.inputs] == [(None, *image_shape), (None,)]
    # The bottleneck is 2 ** (levels - 1) times smaller.
    bottleneck = network.get_layer("middle_block0_out").output.shape
    assert bottleneck[1] == image_shape[0] // 2 ** (len(mults) - 1)


def test_unet_uses_the_timestep():
    network = tiny_unet()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 8, 8, 1)).astype("float32")
    t = np.array([3.0, 17.0, 0.0, 5.0, 9.0, 19.0], "float32")
    out = network.predict_on_batch([x, t])
    assert out.shape == x.shape and np.all(np.isfinite(out))
    # The same images at other timesteps give other outputs.
    other = network.predict_on_batch([x, t + 1.0])
    assert np.abs(out - other).max() > 1e-4


def test_unet_passes_check_model(tmp_path):
    network = tiny_unet(dropout=0.1)
    rng = np.random.default_rng(0)
    x = [
        rng.standard_normal((6, 8, 8, 1)).astype("float32"),
        rng.integers(0, T, 6).astype("float32"),
    ]
    # (The fit step is left to the DDPM tests: one compile less per backend.)
    out = check_model(network, x, tmp_dir=tmp_path, train=False)
    assert out.shape == (6, 8, 8, 1)
    config = network.get_config()
    assert config["channel_mults"] == (1, 2) and config["norm_groups"] == 4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"image_shape": (10, 10, 1), "channel_mults": (1, 2, 2)}, "multiples of 4"),
        ({"image_shape": (28, 30, 1), "channel_mults": (1, 2, 2, 2)}, "minimum 8x8"),
        ({"image_shape": (8, 8)}, "image_shape"),
        ({"channel_mults": ()}, "channel_mults"),
        ({"channel_mults": 2}, "channel_mults"),
        ({"base_filters": 12, "norm_groups": 8}, "norm_groups"),
        ({"time_embedding_dim": 15}, "time_embedding_dim"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_unet_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        diffusion_unet(**kwargs)


# --- DDPM: training ------------------------------------------------------------------
# One trained model serves the training and sampling tests: on JAX every new model
# costs a compile of its train step (~10 s on a 2-core CPU).


def fixed_denoising_loss(model, x, seed=1):
    """The DDPM loss on fixed (t, noise) draws, so before/after are comparable."""
    rng = np.random.default_rng(seed)
    x0 = x * 2.0 - 1.0
    t = rng.integers(0, T, len(x))
    noise = rng.standard_normal(x.shape).astype("float32")
    x_t = ops.convert_to_numpy(model.schedule.q_sample(x0, t, noise))
    predicted = model.predict_on_batch([x_t, t.astype("float32")])
    return float(np.mean((noise - predicted) ** 2))


@pytest.fixture(scope="module")
def trained(digits):
    model = tiny_ddpm()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.loss_before = fixed_denoising_loss(model, digits)
    model.history = model.fit(digits, batch_size=32, epochs=4, verbose=0).history
    model.loss_after = fixed_denoising_loss(model, digits)
    return model


def test_training_lowers_the_denoising_loss(trained):
    losses = trained.history["denoise_loss"]
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    assert trained.loss_after < 0.7 * trained.loss_before, (
        trained.loss_before,
        trained.loss_after,
    )


def test_training_noise_comes_from_the_model_seed(digits):
    # Same weights (tiny_ddpm seeds them), same model seed: the same t and eps are
    # drawn, so the same loss; another model seed draws others.
    x = digits[:6]
    same = [float(tiny_ddpm(seed=3).denoising_loss(x)) for _ in range(2)]
    other = float(tiny_ddpm(seed=4).denoising_loss(x))
    assert np.isfinite(same[0]) and same[0] == pytest.approx(same[1], rel=1e-6)
    assert abs(other - same[0]) > 1e-4


def test_call_and_predict_return_the_network_noise_estimate(trained):
    rng = np.random.default_rng(0)
    x_t = rng.standard_normal((6, 8, 8, 1)).astype("float32")
    t = np.array([0, 5, 10, 19, 3, 3])
    expected = trained.network.predict_on_batch([x_t, t.astype("float32")])
    np.testing.assert_allclose(trained.predict_on_batch([x_t, t]), expected, atol=1e-5)
    np.testing.assert_allclose(
        ops.convert_to_numpy(trained([x_t, t])), expected, atol=1e-5
    )


def test_ddpm_config_round_trip_and_save_load(tmp_path, trained):
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((6, 8, 8, 1)).astype("float32"), np.arange(6.0) * 3]
    check_model(trained, x, tmp_dir=tmp_path, train=False, atol=1e-5)

    path = tmp_path / "ddpm.keras"
    trained.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, DDPM) and isinstance(loaded.network, DiffusionUNet)
    assert loaded.schedule.get_config() == trained.schedule.get_config()
    assert loaded.get_config() == trained.get_config()
    np.testing.assert_allclose(
        loaded.predict_on_batch(x), trained.predict_on_batch(x), atol=1e-6
    )
    np.testing.assert_allclose(
        loaded.sample_ddim(6, steps=5, seed=4),
        trained.sample_ddim(6, steps=5, seed=4),
        atol=1e-5,
    )
    # It comes back compiled, with the optimizer state, so training can go on.
    assert loaded.compiled
    optimizer = loaded.optimizer.optimizers["denoise"]
    assert int(optimizer.iterations) == 4 * 8
    for a, b in zip(loaded.optimizer.variables, trained.optimizer.variables):
        np.testing.assert_allclose(
            ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-7
        )


def test_training_rejects_images_of_another_shape_or_scale(digits):
    model = tiny_ddpm()
    model.compile()
    with pytest.raises(ValueError, match=r"images of shape \(batch, 8, 8, 1\)"):
        model.fit(np.zeros((8, 4, 4, 1), "float32"), batch_size=8, verbose=0)
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*\[0, 255\]"):
        model.fit((digits[:8] * 255).astype("uint8"), batch_size=8, verbose=0)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        model.fit(digits[:8] * 2.0 - 1.0, batch_size=8, verbose=0)


def test_ddpm_rejects_bad_arguments():
    with pytest.raises(ValueError, match="network"):
        DDPM(keras.layers.Dense(3))
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="two inputs"):
        DDPM(dense)
    with pytest.raises(ValueError, match="does not fit"):
        DDPM(tiny_unet(), image_shape=(16, 16, 1))
    with pytest.raises(ValueError, match="schedule"):
        DDPM(tiny_unet(), schedule="cosine")
    model = tiny_ddpm()
    with pytest.raises(ValueError, match="not both"):
        model.compile(optimizer="adam", optimizers={"denoise": "adam"})
    with pytest.raises(ValueError, match="optimizer"):
        model.compile(optimizers={"other": "adam"})


# --- DDPM: sampling ------------------------------------------------------------------


def test_ddim_with_eta_zero_is_deterministic(trained):
    a = trained.sample_ddim(6, steps=7, seed=11)
    b = trained.sample_ddim(6, steps=7, seed=11)
    c = trained.sample_ddim(6, steps=7, seed=12)
    assert a.shape == (6, 8, 8, 1) and a.dtype == np.float32
    assert np.all(np.isfinite(a)) and a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    # method="ddim" is the same sampler (with min(50, T) steps).
    np.testing.assert_array_equal(
        trained.sample(6, seed=11, method="ddim"),
        trained.sample_ddim(6, steps=T, seed=11),
    )


def test_ddim_with_all_steps_and_eta_one_is_the_ddpm_sampler(trained):
    # DDIM's sigma at eta = 1 is the posterior std sqrt(beta_tilde_t), and it draws
    # the same noise in the same order: the two code paths give the same images.
    ddpm = trained.sample(6, seed=5)
    ddim = trained.sample_ddim(6, steps=T, eta=1.0, seed=5)
    np.testing.assert_allclose(ddim, ddpm, atol=1e-4)
    assert np.all(np.isfinite(ddpm)) and ddpm.min() >= 0 and ddpm.max() <= 1
    # ... and another eta is another sampler.
    assert np.abs(trained.sample_ddim(6, steps=T, eta=0.0, seed=5) - ddpm).max() > 1e-3


def test_sampling_in_batches_gives_all_images(trained):
    images = trained.sample_ddim(9, steps=3, seed=0, batch_size=6)
    assert images.shape == (9, 8, 8, 1)
    # With eta = 0 the images depend only on the starting noise, drawn in order.
    np.testing.assert_allclose(
        images[:6], trained.sample_ddim(6, steps=3, seed=0), atol=1e-5
    )


def test_trajectory_and_its_plot(trained, tmp_path):
    images, trajectory = trained.sample(
        6, seed=0, return_trajectory=True, trajectory_frames=5
    )
    assert isinstance(trajectory, Trajectory)
    assert trajectory.timesteps.tolist() == sorted(trajectory.timesteps, reverse=True)
    assert trajectory.timesteps[0] == T - 1 and trajectory.timesteps[-1] == 0
    assert trajectory.x_t.shape == trajectory.x0.shape == (5, 6, 8, 8, 1)
    np.testing.assert_array_equal(images, trained.sample(6, seed=0))
    png = plot_denoising_trajectory(
        trajectory, tmp_path / "trajectory.png", num_samples=3
    )
    assert png.stat().st_size > 0
    _, ddim_trajectory = trained.sample_ddim(
        6, steps=4, seed=0, return_trajectory=True, trajectory_frames=10
    )
    assert ddim_trajectory.timesteps.tolist() == [19, 13, 6, 0]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m: m.sample(0), "n"),
        (lambda m: m.sample(2, method="euler"), "method"),
        (lambda m: m.sample(2, seed=1.5), "seed"),
        (lambda m: m.sample_ddim(2, steps=T + 1), "at most"),
        (lambda m: m.sample_ddim(2, steps=0), "steps"),
        (lambda m: m.sample_ddim(2, steps=5, eta=-0.5), "eta"),
        (lambda m: m.sample_ddim(2, steps=5, batch_size=0), "batch_size"),
    ],
)
def test_sampling_rejects_bad_arguments(trained, call, match):
    with pytest.raises(ValueError, match=match):
        call(trained)


# --- dtype ---------------------------------------------------------------------------


def test_mixed_precision_ddpm_computes_in_bfloat16_with_a_float32_loss(
    tmp_path, digits
):
    keras.utils.set_random_seed(0)
    network = tiny_unet(channel_mults=(1,), dtype="mixed_bfloat16")
    model = DDPM(network, NoiseSchedule("linear", T, 1e-3, 0.3))
    assert model.dtype_policy.name == "mixed_bfloat16"  # taken from the network
    assert {keras.backend.standardize_dtype(w.dtype) for w in model.weights} == {
        "float32"
    }
    x_t = ops.convert_to_tensor(np.zeros((4, 8, 8, 1), "float32"))
    eps = model([x_t, ops.convert_to_tensor(np.arange(4.0))])
    assert keras.backend.standardize_dtype(eps.dtype) == "bfloat16"
    loss = model.denoising_loss(ops.convert_to_tensor(digits[:8]))
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    model.compile()
    # On torch's CPU build the backward of a bfloat16 transposed convolution fails
    # ("grad_weight needs to be contiguous", plain Keras too): no fit step there.
    if keras.backend.backend() != "torch":
        history = model.fit(digits[:16], batch_size=8, epochs=1, verbose=0)
        assert np.isfinite(history.history["denoise_loss"][-1])
    images = model.sample_ddim(2, steps=2, seed=0)
    assert images.shape == (2, 8, 8, 1) and np.all(np.isfinite(images))
    path = str(tmp_path / "ddpm_mixed.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.dtype_policy.name == "mixed_bfloat16"
    assert {
        layer.dtype_policy.name
        for layer in loaded.network.layers
        if not isinstance(layer, keras.layers.InputLayer)
    } == {"mixed_bfloat16"}


def test_ddpm_dtype_must_match_its_network():
    with pytest.raises(ValueError, match="`network` computes with"):
        DDPM(tiny_unet(channel_mults=(1,)), dtype="mixed_bfloat16")
