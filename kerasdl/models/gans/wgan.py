"""Wasserstein GANs: weight clipping (WGAN) and the gradient penalty (WGAN-GP)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl import backend as kb
from kerasdl._checks import check_int
from kerasdl.models.gans.base import GAN, check_positive, wasserstein_terms


class _WassersteinGAN(GAN):
    """Shared parts: a critic updated `n_critic` times per generator update."""

    discriminator_name = "critic"

    def __init__(self, generator, critic, latent_dim, *, n_critic=5, seed=0, **kwargs):
        super().__init__(generator, critic, latent_dim, seed=seed, **kwargs)
        check_int("n_critic", n_critic)
        self.n_critic = n_critic

    @property
    def critic(self):
        """The critic (stored as `discriminator`, the name the GAN base uses)."""
        return self.discriminator

    def _scores(self, data):
        real = keras.utils.unpack_x_y_sample_weight(data)[0]
        fake = self.generator(self.noise(ops.shape(real)[0]), training=True)
        real_scores = self.critic(real, training=True)
        fake_scores = self.critic(fake, training=True)
        return real, fake, real_scores, fake_scores

    def generator_loss(self, data):
        real = keras.utils.unpack_x_y_sample_weight(data)[0]
        fake = self.generator(self.noise(ops.shape(real)[0]), training=True)
        return -ops.mean(ops.cast(self.critic(fake, training=True), "float32"))

    def _generator_phase(self):
        return kb.Phase(
            "generator",
            "generator",
            lambda: self.generator.trainable_variables,
            self.generator_loss,
        )

    def get_config(self):
        config = super().get_config()
        config["critic"] = config.pop("discriminator")
        config["n_critic"] = self.n_critic
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class WGAN(_WassersteinGAN):
    """Wasserstein GAN with weight clipping (Arjovsky, Chintala & Bottou, 2017).

    The critic estimates the Wasserstein-1 distance between real and generated
    images as `mean(critic(real)) - mean(critic(fake))`, which is only valid for a
    1-Lipschitz critic; this model keeps it Lipschitz (crudely) by clipping every
    critic weight to `[-clip_value, clip_value]` after each critic update (a
    `Phase` constraint of the backend seam, applied on every backend). The critic
    is updated `n_critic` times per generator update. The paper's settings are the
    defaults: RMSProp with learning rate 5e-5, `n_critic=5`, `clip_value=0.01`.

    Args:
        generator: Noise `(batch, latent_dim)` -> images.
        critic: Images -> `(batch, 1)` unbounded scores (no sigmoid).
        latent_dim: Size of the noise vector.
        n_critic: Critic updates per generator update.
        clip_value: Bound of the critic weights after each update.
        seed: Seed of the noise drawn inside the train step.

    Logs `critic_loss`, `generator_loss` and `wasserstein` (the critic's estimate
    of the distance; it should fall as the generator improves).
    """

    def __init__(
        self,
        generator,
        critic,
        latent_dim,
        *,
        n_critic=5,
        clip_value=0.01,
        seed=0,
        **kwargs,
    ):
        super().__init__(
            generator, critic, latent_dim, n_critic=n_critic, seed=seed, **kwargs
        )
        check_positive("clip_value", clip_value)
        self.clip_value = clip_value

    def default_optimizers(self):
        return {
            "generator": keras.optimizers.RMSprop(5e-5),
            "discriminator": keras.optimizers.RMSprop(5e-5),
        }

    def critic_loss(self, data):
        _, _, real_scores, fake_scores = self._scores(data)
        loss, estimate = wasserstein_terms(real_scores, fake_scores)
        return loss, {"wasserstein": estimate}

    def clip(self, weight):
        """The weight-clipping constraint applied after every critic update."""
        return ops.clip(weight, -self.clip_value, self.clip_value)

    def train_phases(self):
        return [
            kb.Phase(
                "critic",
                "discriminator",
                lambda: self.critic.trainable_variables,
                self.critic_loss,
                repeats=self.n_critic,
                metrics=("wasserstein",),
                constraint=self.clip,
            ),
            self._generator_phase(),
        ]

    def get_config(self):
        config = super().get_config()
        config["clip_value"] = self.clip_value
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class WGANGP(_WassersteinGAN):
    """Wasserstein GAN with a gradient penalty (Gulrajani et al., 2017).

    Instead of clipping, the critic is pushed towards unit gradient norm on points
    interpolated between real and generated images: for each real/fake pair,
    `x_hat = alpha * real + (1 - alpha) * fake` with `alpha ~ U[0, 1]` drawn per
    sample, and the critic loss gains `gp_weight * mean((||grad critic(x_hat)||_2
    - 1) ** 2)`. The gradient with respect to `x_hat` is taken through
    `kerasdl.backend.value_and_input_gradient`, and the critic update
    differentiates through it (a gradient of a gradient) on every backend.
    Paper defaults: `gp_weight=10`, `n_critic=5`, Adam(1e-4, beta_1=0.5 (the
    paper uses 0.0 or 0.5), beta_2=0.9).

    The critic must not use batch normalisation (it couples the samples whose
    individual gradients the penalty constrains): `dcgan_discriminator(...,
    normalization="layer")` or `None`.

    Args:
        generator: Noise `(batch, latent_dim)` -> images.
        critic: Images -> `(batch, 1)` unbounded scores, without BatchNormalization.
        latent_dim: Size of the noise vector.
        n_critic: Critic updates per generator update.
        gp_weight: The penalty's weight lambda.
        seed: Seed of the noise and of `alpha` drawn inside the train step.

    Logs `critic_loss` (with the penalty), `generator_loss`, `wasserstein` and
    `gradient_penalty`, and `grad_norm`: the mean gradient norm of the critic at
    the interpolates, which the penalty drives towards 1.
    """

    def __init__(
        self,
        generator,
        critic,
        latent_dim,
        *,
        n_critic=5,
        gp_weight=10.0,
        seed=0,
        **kwargs,
    ):
        super().__init__(
            generator, critic, latent_dim, n_critic=n_critic, seed=seed, **kwargs
        )
        check_positive("gp_weight", gp_weight, allow_zero=True)
        batch_norms = [
            layer.name
            for layer in kb.sublayers(critic, include_self=True)
            if isinstance(layer, keras.layers.BatchNormalization)
        ]
        if batch_norms:
            raise ValueError(
                "A WGAN-GP `critic` must not use BatchNormalization (it mixes the "
                "samples whose own gradient norms the penalty constrains); "
                f"received a critic with {batch_norms}. Use "
                "dcgan_discriminator(normalization='layer') or None."
            )
        self.gp_weight = float(gp_weight)

    def default_optimizers(self):
        return {
            "generator": keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9),
            "discriminator": keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9),
        }

    def interpolate(self, real, fake):
        """Points on the segments between real and fake images, alpha ~ U[0, 1]."""
        batch = ops.shape(real)[0]
        alpha_shape = (batch,) + (1,) * (len(real.shape) - 1)
        alpha = keras.random.uniform(alpha_shape, 0.0, 1.0, seed=self.seed_generator)
        real = ops.cast(real, "float32")
        # A mixed-precision generator's images are bfloat16: mix in float32.
        return alpha * real + (1.0 - alpha) * ops.cast(fake, "float32")

    def gradient_norms(self, points, training=True):
        """Per-sample norm of the critic's gradient with respect to `points`."""
        points = ops.convert_to_tensor(points)

        def total_score(x):
            # The samples do not interact (no batch norm), so the gradient of the
            # sum is each sample's own gradient.
            # Summed in float32 (a mixed-precision critic scores in bfloat16).
            return ops.sum(ops.cast(self.critic(x, training=training), "float32"))

        grads = kb.input_gradient(total_score, points)
        grads = ops.reshape(ops.cast(grads, "float32"), (ops.shape(grads)[0], -1))
        return ops.sqrt(ops.sum(ops.square(grads), axis=1) + 1e-12)

    def critic_loss(self, data):
        real, fake, real_scores, fake_scores = self._scores(data)
        loss, estimate = wasserstein_terms(real_scores, fake_scores)
        norms = self.gradient_norms(self.interpolate(real, fake))
        penalty = ops.mean(ops.square(norms - 1.0))
        logs = {
            "wasserstein": estimate,
            "gradient_penalty": penalty,
            "grad_norm": ops.mean(norms),
        }
        return loss + self.gp_weight * penalty, logs

    def interpolate_gradient_norms(self, real, *, seed=0, batch_size=256):
        """Critic gradient norms on fresh real/fake interpolates (NumPy, no update).

        The check of the penalty after training: their mean should be near 1.

        Args:
            real: Real images `(n, *image_shape)`.
            seed: Seed of the noise and of alpha.
            batch_size: Samples per gradient computation.

        Returns:
            `(n,)` float32 gradient norms.
        """
        self._check_images(real, "real")
        rng = np.random.default_rng(seed)
        fake = self.generate(len(real), seed=seed)
        alpha = rng.uniform(size=(len(real),) + (1,) * (real.ndim - 1))
        points = (alpha * real + (1 - alpha) * fake).astype("float32")
        norms = [
            ops.convert_to_numpy(
                self.gradient_norms(points[i : i + batch_size], training=False)
            )
            for i in range(0, len(points), batch_size)
        ]
        return np.concatenate(norms)

    def train_phases(self):
        return [
            kb.Phase(
                "critic",
                "discriminator",
                lambda: self.critic.trainable_variables,
                self.critic_loss,
                repeats=self.n_critic,
                metrics=("wasserstein", "gradient_penalty", "grad_norm"),
            ),
            self._generator_phase(),
        ]

    def get_config(self):
        config = super().get_config()
        config["gp_weight"] = self.gp_weight
        return config
