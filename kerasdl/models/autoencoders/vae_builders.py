"""Builders of the variational autoencoder: its encoder, its decoder, the `VAE`.

`vae_encoder` maps samples to `(z_mean, z_log_var)`, `vae_decoder` maps a latent
code back to a sample, and `build_vae` joins the two in a `VAE`.
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_int, check_sample_shape
from kerasdl.models.autoencoders.trunks import (
    LIKELIHOODS,
    _check_activation,
    _check_kind,
    _decoder_model,
    _encoder_features,
    _kernel_init,
    _resolve_hidden,
)
from kerasdl.models.autoencoders.vae import VAE
from kerasdl.models.base import dtype_policy_scope


def vae_encoder(
    input_shape,
    latent_dim,
    *,
    kind="dense",
    hidden=None,
    seed=0,
    name="encoder",
    dtype=None,
):
    """Builds a VAE encoder: sample -> `[z_mean, z_log_var]`, each `(batch, latent)`.

    Args:
        input_shape: Shape of one sample, e.g. `(8, 8, 1)`.
        latent_dim: Size of the latent space (>= 1).
        kind: `"dense"` or `"conv"` (see `Autoencoder`).
        hidden: Hidden units (dense) or filters (conv); default as `Autoencoder`.
        seed: Seed of the kernel initializers, or None.
        name: Name of the model.
        dtype: Dtype policy of every layer (e.g. `"mixed_bfloat16"`), or None
            for the global policy.

    Returns:
        A functional `keras.Model` with two linear outputs `z_mean`, `z_log_var`.

    Example:

    ```python
    encoder = vae_encoder((8, 8, 1), latent_dim=2)
    z_mean, z_log_var = encoder(x)
    ```
    """
    sample_shape = check_sample_shape(input_shape)
    check_int("latent_dim", latent_dim, 1)
    _check_kind(kind)
    hidden = _resolve_hidden(hidden, kind, sample_shape)
    with dtype_policy_scope(dtype):
        inputs = keras.Input(shape=sample_shape, name="pixels")
        features = _encoder_features(inputs, kind, hidden, seed)
        z_mean = keras.layers.Dense(
            latent_dim,
            kernel_initializer=_kernel_init(seed, 0, "glorot_uniform"),
            name="z_mean",
        )(features)
        # Zero-initialised: the posterior starts with unit variance for every input.
        z_log_var = keras.layers.Dense(
            latent_dim, kernel_initializer="zeros", name="z_log_var"
        )(features)
        return keras.Model(inputs, [z_mean, z_log_var], name=name)


def vae_decoder(
    latent_dim,
    output_shape,
    *,
    kind="dense",
    hidden=None,
    output_activation="sigmoid",
    seed=0,
    name="decoder",
    dtype=None,
):
    """Builds a VAE decoder: `z` -> mean of `p(x|z)`, shaped like one sample.

    Args:
        latent_dim: Size of the latent space (>= 1).
        output_shape: Shape of one sample, e.g. `(8, 8, 1)`.
        kind: `"dense"` or `"conv"`, mirroring `vae_encoder`.
        hidden: The encoder's `hidden`, in encoder order (mirrored here).
        output_activation: `"sigmoid"` (pixel probabilities, for the Bernoulli
            likelihood) or None (a linear mean, for the Gaussian likelihood).
        seed: Seed of the kernel initializers, or None.
        name: Name of the model.
        dtype: Dtype policy of every layer (e.g. `"mixed_bfloat16"`), or None
            for the global policy.

    Returns:
        A functional `keras.Model` from `(batch, latent_dim)` to
        `(batch, *output_shape)`.

    Example:

    ```python
    decoder = vae_decoder(2, (8, 8, 1))
    images = decoder(np.zeros((4, 2), "float32"))
    ```
    """
    check_int("latent_dim", latent_dim, 1)
    sample_shape = check_sample_shape(output_shape, "output_shape")
    _check_kind(kind)
    hidden = _resolve_hidden(hidden, kind, sample_shape)
    _check_activation(output_activation)
    with dtype_policy_scope(dtype):
        return _decoder_model(
            latent_dim, sample_shape, kind, hidden, output_activation, seed, name
        )


def build_vae(
    input_shape=(8, 8, 1),
    latent_dim=2,
    *,
    kind="dense",
    hidden=None,
    beta=1.0,
    likelihood="bernoulli",
    seed=0,
    name="vae",
    dtype=None,
):
    """Builds a `VAE` from `vae_encoder` and a mirrored `vae_decoder`.

    The decoder ends in a sigmoid for the Bernoulli likelihood and is linear for
    the Gaussian one.

    Args:
        input_shape: Shape of one sample.
        latent_dim: Size of the latent space (>= 1); 2 allows `plot_latent_grid`.
        kind: `"dense"` or `"conv"`.
        hidden: Hidden units (dense) or filters (conv) of the encoder.
        beta: Weight of the KL term (>= 0); 1 is the plain VAE.
        likelihood: `"bernoulli"` or `"gaussian"` (see `VAE`).
        seed: Seed of the initializers and of the sampling layer.
        name: Name of the model.
        dtype: Dtype policy of the VAE, its encoder and its decoder (e.g.
            `"mixed_bfloat16"`), or None for the global policy.

    Returns:
        An uncompiled `VAE`; compile it with an optimizer only.

    Example:

    ```python
    vae = build_vae((8, 8, 1), latent_dim=2)
    vae.compile(keras.optimizers.Adam(1e-3))
    vae.fit(x_train, epochs=50, validation_data=(x_val,))
    ```
    """
    if likelihood not in LIKELIHOODS:
        raise ValueError(
            f"`likelihood` must be one of {LIKELIHOODS}; received "
            f"likelihood={likelihood!r}."
        )
    encoder = vae_encoder(
        input_shape, latent_dim, kind=kind, hidden=hidden, seed=seed, dtype=dtype
    )
    decoder = vae_decoder(
        latent_dim,
        input_shape,
        kind=kind,
        hidden=hidden,
        seed=seed,
        output_activation="sigmoid" if likelihood == "bernoulli" else None,
        dtype=dtype,
    )
    return VAE(
        encoder,
        decoder,
        beta=beta,
        likelihood=likelihood,
        seed=seed,
        name=name,
        dtype=dtype,
    )


# === VAE loss terms (per sample, keras.ops: any backend) ===
