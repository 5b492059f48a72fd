"""The variational autoencoder (Kingma & Welling, 2014): loss terms and model.

Its builders (`vae_encoder`, `vae_decoder`, `build_vae`) live in `vae_builders.py`.

Shares the encoder/decoder trunks of the `autoencoders` module beside it; trained on
the negative ELBO through `compute_loss`, so on every backend.
"""

from __future__ import annotations

import copy

import keras
import numpy as np
from keras import ops

from kerasdl._checks import check_int
from kerasdl.layers.sampling import Sampling
from kerasdl.models.autoencoders.trunks import (
    LIKELIHOODS,
)
from kerasdl.models.base import SubclassedModel, composed_dtype_policy

_MAX_PENDING = 8


# === VAE builders ===
def reconstruction_nll(x, mean, likelihood="bernoulli"):
    """Per-sample `-log p(x|z)` given the decoder mean, summed over all pixels.

    Bernoulli: binary cross-entropy with the mean clipped to
    `[eps, 1 - eps]` (`keras.config.epsilon()`). Gaussian with unit variance:
    `0.5 * sum((x - mean)**2)`; the constant `0.5 * D * log(2 * pi)` (D pixels)
    is dropped.

    Args:
        x: Data, `(batch, ...)`.
        mean: Decoder output, shaped like `x`.
        likelihood: `"bernoulli"` or `"gaussian"`.

    Returns:
        A float32 tensor `(batch,)`.
    """
    # In float32 whatever the model computes in (a mixed policy's bfloat16 would
    # round the per-pixel terms before they are summed).
    x = ops.cast(x, "float32")
    mean = ops.cast(mean, "float32")
    if likelihood == "bernoulli":
        per_pixel = ops.binary_crossentropy(x, mean, from_logits=False)
    else:
        per_pixel = 0.5 * ops.square(x - mean)
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=1)


def kl_divergence(z_mean, z_log_var):
    """Per-sample `KL(N(z_mean, exp(z_log_var)) || N(0, I))`, summed over latents.

    Returns:
        A tensor `(batch,)`: `-0.5 * sum(1 + log_var - mean**2 - exp(log_var))`,
        in float32.
    """
    z_mean = ops.cast(z_mean, "float32")
    z_log_var = ops.cast(z_log_var, "float32")
    return -0.5 * ops.sum(
        1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1
    )


# === VAE ===
@keras.saving.register_keras_serializable(package="kerasdl")
class VAE(SubclassedModel):
    """A variational autoencoder trained on the negative ELBO via `compute_loss`.

    Encoder `q(z|x) = N(z_mean, diag(exp(z_log_var)))`, prior `p(z) = N(0, I)`,
    decoder mean of `p(x|z)`. The per-sample loss is

        recon + beta * KL,  recon = -log p(x|z) summed over pixels,
                            KL = KL(q(z|x) || N(0, I)) summed over latents,

    averaged over the batch, with one reparameterised sample `z` per input.
    Bernoulli likelihood: recon is the binary cross-entropy summed over pixels
    (the decoder outputs pixel probabilities). Gaussian (unit variance): recon is
    `0.5 * squared error` summed over pixels; the constant `0.5 * D * log(2 pi)`
    is dropped. `fit`/`evaluate` log, per sample: `reconstruction_loss`,
    `kl_loss` and `neg_elbo` = recon + KL, the beta = 1 negative ELBO whatever
    `beta` is (so runs with different beta compare); `loss` is the beta-weighted
    objective plus any regularisation losses.

    The loss is computed in `compute_loss`, so a plain `compile(optimizer)` and
    `fit(x)` train it on every backend (on JAX inside the jit-compiled, stateless
    step). `call` runs the encoder and decoder once and records
    `(z_mean, z_log_var, sampled reconstruction)` keyed by the returned tensor;
    `compute_loss` takes the record of the exact `y_pred` it is given (an
    identity check), so the forward pass is never repeated and a mismatched
    call is an error rather than a wrong loss.

    `call(x, training=True)` returns the reconstruction of a sampled `z`;
    `call(x, training=False)` (and so `predict`) returns the decoder mean at
    `z_mean`, which is deterministic (a saved and reloaded model gives identical
    outputs). For `evaluate` the loss still uses a sampled `z` (one extra decoder
    pass at inference), so validation `neg_elbo` estimates the same quantity as
    in training.

    Args:
        encoder: A functional model `x -> [z_mean, z_log_var]` (see `vae_encoder`).
        decoder: A functional model `z -> mean of p(x|z)` with the encoder's
            input shape as output shape (see `vae_decoder`).
        beta: Weight of the KL term (>= 0); beta > 1 is the beta-VAE.
        likelihood: `"bernoulli"` (data in [0, 1], sigmoid decoder) or
            `"gaussian"` (unit variance).
        seed: Seed of the `Sampling` layer.
        name: Name of the model.
        dtype: Dtype policy of the VAE (e.g. `"mixed_bfloat16"`), which must be
            the encoder's and decoder's (build them with the same `dtype=`, as
            `build_vae(dtype=...)` does); None takes theirs. The loss is computed
            in float32 whatever the policy.
        **kwargs: Passed to `SubclassedModel`: `trainable`.

    Call arguments:
        inputs: Tensor `(batch, *input_shape)`.
        training: Python bool; see above.

    Returns:
        The reconstruction, shaped like `inputs`.

    Example:

    ```python
    vae = kerasdl.models.build_vae((8, 8, 1), latent_dim=2)
    vae.compile(keras.optimizers.Adam(1e-3))
    vae.fit(x_train, epochs=50, validation_data=(x_test,))
    per_sample = vae.negative_elbo(x_test, samples=10)
    ```
    """

    def __init__(
        self,
        encoder,
        decoder,
        *,
        beta=1.0,
        likelihood="bernoulli",
        seed=0,
        name="vae",
        dtype=None,
        **kwargs,
    ):
        dtype = composed_dtype_policy(
            dtype, {"encoder": encoder, "decoder": decoder}, "VAE"
        )
        super().__init__(name=name, dtype=dtype, **kwargs)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta < 0:
            raise ValueError(f"`beta` must be a number >= 0; received beta={beta!r}.")
        if likelihood not in LIKELIHOODS:
            raise ValueError(
                f"`likelihood` must be one of {LIKELIHOODS}; received "
                f"likelihood={likelihood!r}."
            )
        sample_shape, latent_dim = self._check_parts(encoder, decoder)
        self.encoder = encoder
        self.decoder = decoder
        self.sampler = Sampling(seed=seed, name="sampling", dtype=self.dtype_policy)
        self.beta = float(beta)
        self.likelihood = likelihood
        self.seed = seed
        self.sample_shape = sample_shape
        self.latent_dim = latent_dim
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.neg_elbo_tracker = keras.metrics.Mean(name="neg_elbo")
        # Plain attribute (no Keras tracking): id(y_pred) -> (y_pred, stats).
        object.__setattr__(self, "_pending", {})
        self.build((None, *sample_shape))

    @staticmethod
    def _check_parts(encoder, decoder):
        for part, name in ((encoder, "encoder"), (decoder, "decoder")):
            if not isinstance(part, keras.Model) or not hasattr(part, "inputs"):
                raise ValueError(
                    f"`{name}` must be a functional keras.Model; received "
                    f"{type(part).__name__}."
                )
        if len(encoder.inputs) != 1 or len(encoder.outputs) != 2:
            raise ValueError(
                "`encoder` must have one input and two outputs [z_mean, z_log_var]; "
                f"received {len(encoder.inputs)} input(s) and "
                f"{len(encoder.outputs)} output(s)."
            )
        mean_shape, log_var_shape = (tuple(t.shape) for t in encoder.outputs)
        if mean_shape != log_var_shape or len(mean_shape) != 2:
            raise ValueError(
                "`encoder` outputs must both be (batch, latent_dim); received "
                f"z_mean {mean_shape} and z_log_var {log_var_shape}."
            )
        latent_dim = mean_shape[1]
        sample_shape = tuple(encoder.inputs[0].shape[1:])
        if len(decoder.inputs) != 1 or tuple(decoder.inputs[0].shape) != (
            None,
            latent_dim,
        ):
            raise ValueError(
                f"`decoder` must take (batch, {latent_dim}) latents (the encoder's "
                f"latent_dim); received inputs {[t.shape for t in decoder.inputs]}."
            )
        if len(decoder.outputs) != 1 or tuple(decoder.outputs[0].shape[1:]) != (
            sample_shape
        ):
            raise ValueError(
                f"`decoder` must output samples of the encoder's input shape "
                f"{sample_shape}; received outputs "
                f"{[t.shape for t in decoder.outputs]}."
            )
        return sample_shape, latent_dim

    def _check_input_shape(self, shape):
        if tuple(shape[1:]) != self.sample_shape:
            raise ValueError(
                f"{type(self).__name__} expects inputs of shape (batch, "
                f"{', '.join(map(str, self.sample_shape))}); received shape "
                f"{tuple(shape)}."
            )

    def build(self, input_shape):
        self._check_input_shape(input_shape)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        return tuple(input_shape)

    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        if loss is not None:
            raise ValueError(
                "VAE computes its own loss (the negative ELBO); compile it with an "
                f"optimizer only. Received loss={loss!r}."
            )
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        # Keras skips models whose `compile` is overridden; this one takes the
        # saved arguments unchanged (the saved `loss` is None).
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def call(self, inputs, training=None):
        self._check_input_shape(inputs.shape)
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampler([z_mean, z_log_var])
        sampled = self.decoder(z, training=training)
        output = sampled if training else self.decoder(z_mean, training=False)
        pending = self._pending
        while len(pending) >= _MAX_PENDING:  # forward passes never given a loss
            pending.pop(next(iter(pending)))
        pending[id(output)] = (output, (z_mean, z_log_var, sampled))
        return output

    def predict_step(self, *args, **kwargs):
        try:
            return super().predict_step(*args, **kwargs)
        finally:
            self._pending.clear()  # no loss follows a prediction

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        del y, training  # the target is the input itself
        entry = self._pending.pop(id(y_pred), None)
        if entry is None or entry[0] is not y_pred:
            raise ValueError(
                "VAE.compute_loss needs the latent statistics of the forward pass "
                "that produced `y_pred`: pass the output of `vae(x)` for the same "
                "`x` (fit and evaluate do this)."
            )
        z_mean, z_log_var, sampled = entry[1]
        recon = reconstruction_nll(x, sampled, self.likelihood)
        kl = kl_divergence(z_mean, z_log_var)
        neg_elbo = recon + kl
        objective = recon + self.beta * kl
        if sample_weight is not None:
            weight = ops.reshape(ops.cast(sample_weight, objective.dtype), (-1,))
            objective = objective * weight
        loss = ops.mean(objective)
        for extra in self.losses:  # kernel regularizers of the encoder/decoder
            loss = loss + ops.cast(ops.sum(extra), loss.dtype)
        self.reconstruction_tracker.update_state(recon, sample_weight=sample_weight)
        self.kl_tracker.update_state(kl, sample_weight=sample_weight)
        self.neg_elbo_tracker.update_state(neg_elbo, sample_weight=sample_weight)
        return loss

    # --- NumPy helpers ---
    def _as_samples(self, x, name="x"):
        x = np.asarray(x, dtype="float32")
        if x.shape == self.sample_shape:
            x = x[None]
        if x.shape[1:] != self.sample_shape:
            dims = ", ".join(map(str, self.sample_shape))
            raise ValueError(
                f"`{name}` must have shape (n, {dims}); received shape {x.shape}."
            )
        return x

    def _as_latents(self, z):
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"`z` must have shape (n, {self.latent_dim}); received shape {z.shape}."
            )
        return z

    def encode(self, x, batch_size=256):
        """Returns `(z_mean, z_log_var)` of `q(z|x)` as NumPy arrays `(n, latent)`."""
        x = self._as_samples(x)
        means, log_vars = [], []
        for start in range(0, len(x), batch_size):
            mean, log_var = self.encoder(x[start : start + batch_size], training=False)
            means.append(ops.convert_to_numpy(mean))
            log_vars.append(ops.convert_to_numpy(log_var))
        return np.concatenate(means), np.concatenate(log_vars)

    def decode(self, z, batch_size=256):
        """Returns the decoder mean for latents `z` `(n, latent_dim)`, as NumPy."""
        z = self._as_latents(z)
        return np.concatenate(
            [
                ops.convert_to_numpy(
                    self.decoder(z[i : i + batch_size], training=False)
                )
                for i in range(0, len(z), batch_size)
            ]
        )

    def sample(self, n, seed=None):
        """Draws `z ~ N(0, I)` and returns the decoder means, `(n, *input_shape)`."""
        check_int("n", n, 1)
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        return self.decode(z)

    def negative_elbo(self, x, samples=1, seed=0, batch_size=256):
        """Per-sample negative ELBO (beta = 1), for held-out evaluation.

        The reconstruction term is averaged over `samples` reparameterised draws
        of `z` (NumPy noise from `seed`); the KL term is exact. Lower is better;
        it upper-bounds `-log p(x)` (up to the Gaussian constant, see `VAE`).

        Args:
            x: Samples `(n, *input_shape)`.
            samples: Monte-Carlo draws of `z` per sample (>= 1).
            seed: Seed of the draws.
            batch_size: Batch size of the encoder and decoder calls.

        Returns:
            A float64 NumPy array `(n,)`.
        """
        check_int("samples", samples, 1)
        x = self._as_samples(x)
        z_mean, z_log_var = self.encode(x, batch_size)
        rng = np.random.default_rng(seed)
        recon = np.zeros(len(x))
        for _ in range(samples):
            eps = rng.standard_normal(z_mean.shape).astype("float32")
            mean = self.decode(z_mean + np.exp(0.5 * z_log_var) * eps, batch_size)
            recon += ops.convert_to_numpy(
                reconstruction_nll(x, ops.convert_to_tensor(mean), self.likelihood)
            )
        kl = ops.convert_to_numpy(kl_divergence(z_mean, z_log_var))
        return recon / samples + kl.astype("float64")

    def interpolate(self, x_a, x_b, steps=8):
        """Decodes `steps` points on the line between the latent means of two samples.

        Returns:
            NumPy array `(steps, *input_shape)`, from `x_a` to `x_b`.
        """
        check_int("steps", steps, 2)
        z_a = self.encode(self._as_samples(x_a, "x_a")[:1])[0]
        z_b = self.encode(self._as_samples(x_b, "x_b")[:1])[0]
        t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
        return self.decode((1.0 - t) * z_a + t * z_b)

    # --- Config ---
    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta,
            "likelihood": self.likelihood,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        # Deserialising consumes the nested dicts: work on a deep copy.
        config = copy.deepcopy(config)
        for part in ("encoder", "decoder"):
            config[part] = keras.saving.deserialize_keras_object(config[part])
        return cls(**config)
