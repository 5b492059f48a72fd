"""VAE: the model contract, the negative ELBO against NumPy, training, reload."""

import keras
import numpy as np
import pytest

from kerasdl import backend
from kerasdl.data import load_digits
from kerasdl.layers import Sampling
from kerasdl.models import (
    VAE,
    Autoencoder,
    build_vae,
    vae_decoder,
    vae_encoder,
)
from kerasdl.models.autoencoders.vae import kl_divergence
from kerasdl.testing import check_model

DIGITS = load_digits()
X = DIGITS.x[:64]  # (64, 8, 8, 1) in [0, 1]
TINY = {"hidden": (8,)}  # one small shape set, reused: JAX compiles per shape
EPS = 1e-7  # keras.config.epsilon(): the Bernoulli mean is clipped to [EPS, 1 - EPS]


def _np(tensor):
    return keras.ops.convert_to_numpy(tensor)


def _neg_elbo_numpy(x, mean, z_mean, z_log_var, likelihood):
    """Per-sample reconstruction NLL and KL, written independently in NumPy."""
    x, mean = x.reshape(len(x), -1), mean.reshape(len(x), -1).astype("float64")
    if likelihood == "bernoulli":
        p = np.clip(mean, EPS, 1 - EPS)
        recon = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    else:
        recon = 0.5 * ((x - mean) ** 2).sum(axis=1)
    variance = np.exp(z_log_var.astype("float64"))
    kl = 0.5 * (variance + z_mean**2 - 1.0 - z_log_var).sum(axis=1)
    return recon, kl


# --- VAE ---


def test_vae_contract_dense_and_conv(tmp_path):
    vae = build_vae((8, 8, 1), 2, **TINY)
    output = check_model(vae, X[:16], train=True, tmp_dir=tmp_path)
    # call(x, training=False) decodes z_mean: deterministic, equal to decode(encode).
    np.testing.assert_allclose(output, vae.decode(vae.encode(X[:16])[0]), atol=1e-6)
    np.testing.assert_allclose(vae.predict(X[:16], verbose=0), output, atol=1e-6)
    conv = build_vae((8, 8, 1), 3, kind="conv", hidden=(4,), likelihood="gaussian")
    check_model(conv, X[:8], train=True, tmp_dir=tmp_path)
    assert conv.decoder.get_layer("pixels").activation is keras.activations.linear


@pytest.mark.parametrize("likelihood, beta", [("bernoulli", 1.0), ("gaussian", 0.5)])
def test_vae_loss_is_the_hand_computed_negative_elbo(likelihood, beta):
    vae = build_vae((8, 8, 1), 2, likelihood=likelihood, beta=beta, seed=3, **TINY)
    x = X[:16]
    sampled = vae(x, training=True)  # one forward pass, as in a train step
    loss = float(_np(vae.compute_loss(x=x, y_pred=sampled)))

    # Re-draw the same eps with an identically seeded Sampling layer.
    z_mean, z_log_var = vae.encode(x)
    z = _np(Sampling(seed=3)([z_mean, z_log_var]))
    mean = vae.decode(z)
    np.testing.assert_allclose(_np(sampled), mean, atol=1e-6)
    assert np.abs(mean - vae.decode(z_mean)).max() > 1e-4  # z was sampled
    recon, kl = _neg_elbo_numpy(x, mean, z_mean, z_log_var, likelihood)
    np.testing.assert_allclose(loss, np.mean(recon + beta * kl), rtol=1e-5)
    np.testing.assert_allclose(
        float(vae.reconstruction_tracker.result()), recon.mean(), rtol=1e-5
    )
    np.testing.assert_allclose(float(vae.kl_tracker.result()), kl.mean(), rtol=1e-5)
    # neg_elbo is the beta = 1 bound whatever beta is.
    np.testing.assert_allclose(
        float(vae.neg_elbo_tracker.result()), np.mean(recon + kl), rtol=1e-5
    )


def test_kl_term_is_zero_for_the_prior_and_matches_the_closed_form():
    zeros = np.zeros((3, 4), "float32")
    np.testing.assert_array_equal(_np(kl_divergence(zeros, zeros)), np.zeros(3))
    rng = np.random.default_rng(0)
    mean, log_var = rng.standard_normal((2, 5, 4)).astype("float32")
    _, expected = _neg_elbo_numpy(zeros[:1], zeros[:1], mean, log_var, "gaussian")
    np.testing.assert_allclose(_np(kl_divergence(mean, log_var)), expected, rtol=1e-5)

    # An encoder that outputs z_mean = 0, z_log_var = 0 for every input: KL = 0
    # and the negative ELBO is the reconstruction term alone.
    vae = build_vae((8, 8, 1), 2, **TINY)
    for name in ("z_mean", "z_log_var"):
        layer = vae.encoder.get_layer(name)
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    vae.compile(keras.optimizers.Adam(1e-3))
    result = vae.evaluate(X[:16], verbose=0, return_dict=True)
    assert result["kl_loss"] == 0.0
    np.testing.assert_allclose(
        result["neg_elbo"], result["reconstruction_loss"], rtol=1e-6
    )


def test_vae_fit_lowers_the_loss_and_logs_per_sample_terms():
    backend.set_random_seed(0)
    vae = build_vae((8, 8, 1), 2, beta=0.5, **TINY)
    vae.compile(keras.optimizers.Adam(3e-3))
    history = vae.fit(
        X, epochs=5, batch_size=16, validation_data=(DIGITS.x[64:96],), verbose=0
    ).history
    for key in ("loss", "reconstruction_loss", "kl_loss", "neg_elbo"):
        assert key in history and f"val_{key}" in history
    assert history["loss"][-1] < history["loss"][0]
    assert history["neg_elbo"][-1] < history["neg_elbo"][0]
    # Epoch means of per-sample terms: loss = recon + beta * KL, neg_elbo = recon + KL.
    recon, kl = np.array(history["reconstruction_loss"]), np.array(history["kl_loss"])
    np.testing.assert_allclose(history["loss"], recon + 0.5 * kl, rtol=1e-4)
    np.testing.assert_allclose(history["neg_elbo"], recon + kl, rtol=1e-4)


def test_evaluate_and_negative_elbo_agree_when_the_posterior_is_a_point():
    vae = build_vae((8, 8, 1), 2, **TINY)
    # z_log_var = -30: the posterior std is 3e-7, so every z equals z_mean and the
    # Monte-Carlo estimates of evaluate and negative_elbo coincide.
    log_var = vae.encoder.get_layer("z_log_var")
    kernel, bias = log_var.get_weights()
    log_var.set_weights([np.zeros_like(kernel), np.full_like(bias, -30.0)])
    vae.compile(keras.optimizers.Adam(1e-3))
    evaluated = vae.evaluate(X, batch_size=16, verbose=0, return_dict=True)
    per_sample = vae.negative_elbo(X, samples=2)
    assert per_sample.shape == (64,) and np.all(per_sample > 0)
    np.testing.assert_allclose(evaluated["neg_elbo"], per_sample.mean(), rtol=1e-4)
    recon, kl = _neg_elbo_numpy(
        X, vae.predict(X, verbose=0), *vae.encode(X), "bernoulli"
    )
    np.testing.assert_allclose(per_sample, recon + kl, rtol=1e-4)


def test_trained_vae_reloads_compiled_and_resumes_training(tmp_path):
    vae = build_vae((8, 8, 1), 2, **TINY)
    vae.compile(keras.optimizers.Adam(1e-3))
    vae.fit(X, epochs=1, batch_size=32, verbose=0)
    vae.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    assert isinstance(loaded, VAE) and loaded.compiled
    assert int(loaded.optimizer.iterations) == int(vae.optimizer.iterations) == 2
    np.testing.assert_array_equal(
        loaded.predict(X, verbose=0), vae.predict(X, verbose=0)
    )
    history = loaded.fit(X, epochs=1, batch_size=32, verbose=0).history
    assert np.isfinite(history["neg_elbo"][0])


def test_sample_decode_and_interpolate():
    vae = build_vae((8, 8, 1), 2, **TINY)
    samples = vae.sample(5, seed=1)
    assert samples.shape == (5, 8, 8, 1) and np.all((samples > 0) & (samples < 1))
    np.testing.assert_array_equal(samples, vae.sample(5, seed=1))
    path = vae.interpolate(X[0], X[1], steps=4)
    assert path.shape == (4, 8, 8, 1)
    z_a, z_b = vae.encode(X[:2])[0]
    np.testing.assert_allclose(
        path[[0, -1]], vae.decode(np.stack([z_a, z_b])), atol=1e-6
    )


def test_compute_loss_needs_its_own_forward_pass():
    vae = build_vae((8, 8, 1), 2, **TINY)
    with pytest.raises(ValueError, match=r"latent statistics of the forward pass"):
        vae.compute_loss(x=X[:4], y_pred=keras.ops.convert_to_tensor(X[:4]))
    y_pred = vae(X[:4], training=True)
    vae.compute_loss(x=X[:4], y_pred=y_pred)
    with pytest.raises(ValueError, match=r"latent statistics"):  # consumed once
        vae.compute_loss(x=X[:4], y_pred=y_pred)


def test_vae_bad_arguments_raise():
    encoder = vae_encoder((8, 8, 1), 2, **TINY)
    decoder = vae_decoder(2, (8, 8, 1), **TINY)
    with pytest.raises(ValueError, match=r"`beta` must be a number >= 0"):
        VAE(encoder, decoder, beta=-1.0)
    with pytest.raises(ValueError, match=r"`likelihood` must be one of"):
        VAE(encoder, decoder, likelihood="poisson")
    with pytest.raises(ValueError, match=r"`latent_dim` must be an integer >= 1"):
        build_vae((8, 8, 1), 0)
    with pytest.raises(ValueError, match=r"take \(batch, 2\) latents"):
        VAE(encoder, vae_decoder(3, (8, 8, 1), **TINY))
    with pytest.raises(ValueError, match=r"encoder's input shape \(8, 8, 1\)"):
        VAE(encoder, vae_decoder(2, (64,), **TINY))
    with pytest.raises(ValueError, match=r"two outputs \[z_mean, z_log_var\]"):
        VAE(Autoencoder((8, 8, 1), 2, **TINY).encoder, decoder)
    vae = VAE(encoder, decoder)
    with pytest.raises(ValueError, match=r"inputs of shape \(batch, 8, 8, 1\)"):
        vae(np.zeros((2, 64), "float32"))
    with pytest.raises(ValueError, match=r"`x` must have shape \(n, 8, 8, 1\)"):
        vae.negative_elbo(np.zeros((2, 64), "float32"))
    with pytest.raises(ValueError, match=r"`z` must have shape \(n, 2\)"):
        vae.decode(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"optimizer only"):
        vae.compile("adam", loss="mse")


# --- dtype ---


def test_build_vae_dtype_reaches_encoder_decoder_and_loss_is_float32(tmp_path):
    vae = build_vae((8, 8, 1), 2, dtype="mixed_bfloat16", **TINY)
    assert vae.dtype_policy.name == "mixed_bfloat16"
    for part in (vae.encoder, vae.decoder):
        for layer in part.layers[1:]:
            assert layer.compute_dtype == "bfloat16", layer.name
    assert {w.dtype for w in vae.weights} == {"float32"}
    assert keras.backend.standardize_dtype(vae(X[:4]).dtype) == "bfloat16"
    output = vae(X[:8], training=True)
    loss = vae.compute_loss(X[:8], None, output)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    vae.compile(keras.optimizers.Adam(1e-3))
    history = vae.fit(X[:16], batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    path = str(tmp_path / "vae_mixed.keras")
    vae.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.dtype_policy.name == "mixed_bfloat16"
    assert loaded.encoder.get_layer("z_mean").compute_dtype == "bfloat16"
    np.testing.assert_allclose(
        _np(keras.ops.cast(loaded(X[:4]), "float32")),
        _np(keras.ops.cast(vae(X[:4]), "float32")),
        atol=1e-6,
    )


def test_vae_dtype_must_match_its_networks():
    encoder = vae_encoder((8, 8, 1), 2, **TINY)
    decoder = vae_decoder(2, (8, 8, 1), **TINY)
    with pytest.raises(ValueError, match="encoder.*dtype="):
        VAE(encoder, decoder, dtype="mixed_bfloat16")
    mixed = vae_encoder((8, 8, 1), 2, dtype="mixed_bfloat16", **TINY)
    with pytest.raises(ValueError, match="share one dtype policy"):
        VAE(mixed, decoder)
    # dtype=None takes the networks' policy.
    vae = VAE(mixed, vae_decoder(2, (8, 8, 1), dtype="mixed_bfloat16", **TINY))
    assert vae.dtype_policy.name == "mixed_bfloat16"
    assert vae.sampler.dtype_policy.name == "mixed_bfloat16"
