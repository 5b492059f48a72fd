"""DCGAN and the conditional GAN: the non-saturating GAN loss on two networks."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl import backend as kb
from kerasdl._checks import check_int
from kerasdl.models.gans.base import GAN, bce_from_logits, check_positive


@keras.saving.register_keras_serializable(package="kerasdl")
class DCGAN(GAN):
    """A GAN trained with the non-saturating loss (Goodfellow et al., 2014).

    Each train step updates the discriminator on a batch of real images (target
    1) and generated ones (target 0) with binary cross-entropy on its logits, then
    the generator to make the discriminator call its images real (the
    "non-saturating" generator loss, -log D(G(z)), which keeps gradients alive
    early in training when D easily wins). With `dcgan_generator` /
    `dcgan_discriminator` (transposed convolutions, batch norm, LeakyReLU) it is
    the DCGAN of Radford et al. (2016).

    Args:
        generator: Noise `(batch, latent_dim)` -> images.
        discriminator: Images -> `(batch, 1)` logits.
        latent_dim: Size of the noise vector.
        label_smoothing: Target for real images is `1 - label_smoothing`
            (one-sided smoothing, Salimans et al. 2016); 0 disables it.
        seed: Seed of the noise drawn inside the train step.

    Logs `discriminator_loss` and `generator_loss` (epoch means); 2 log 2 ~ 1.386
    and log 2 ~ 0.693 are their values when D cannot tell real from fake.

    Example:

    ```python
    gan = DCGAN(dcgan_generator(32), dcgan_discriminator(), latent_dim=32)
    gan.compile()  # Adam(2e-4, beta_1=0.5) for both, as in the DCGAN paper
    gan.fit(digits.x, batch_size=64, epochs=100)
    images = gan.generate(16, seed=0)
    ```
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        *,
        label_smoothing=0.0,
        seed=0,
        **kwargs,
    ):
        super().__init__(generator, discriminator, latent_dim, seed=seed, **kwargs)
        check_positive("label_smoothing", label_smoothing, allow_zero=True)
        if label_smoothing >= 0.5:
            raise ValueError(
                "`label_smoothing` must be in [0, 0.5); received "
                f"label_smoothing={label_smoothing!r}."
            )
        self.label_smoothing = label_smoothing

    def default_optimizers(self):
        return {
            "generator": keras.optimizers.Adam(2e-4, beta_1=0.5),
            "discriminator": keras.optimizers.Adam(2e-4, beta_1=0.5),
        }

    # The two inputs of each network, for the unconditional and conditional cases.
    def _fake(self, real, labels):
        z = self.noise(ops.shape(real)[0])
        return self.generator(z if labels is None else [z, labels], training=True)

    def _score(self, images, labels):
        inputs = images if labels is None else [images, labels]
        return self.discriminator(inputs, training=True)

    def _unpack(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return x, None

    def discriminator_loss(self, data):
        real, labels = self._unpack(data)
        fake = self._fake(real, labels)
        real_loss = bce_from_logits(
            self._score(real, labels), 1.0 - self.label_smoothing
        )
        fake_loss = bce_from_logits(self._score(fake, labels), 0.0)
        return real_loss + fake_loss

    def generator_loss(self, data):
        real, labels = self._unpack(data)
        return bce_from_logits(self._score(self._fake(real, labels), labels), 1.0)

    def train_phases(self):
        return [
            kb.Phase(
                "discriminator",
                "discriminator",
                lambda: self.discriminator.trainable_variables,
                self.discriminator_loss,
            ),
            kb.Phase(
                "generator",
                "generator",
                lambda: self.generator.trainable_variables,
                self.generator_loss,
            ),
        ]

    def get_config(self):
        config = super().get_config()
        config["label_smoothing"] = self.label_smoothing
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class ConditionalGAN(DCGAN):
    """A GAN conditioned on class labels (Mirza & Osindero, 2014).

    Both networks take the label as a second input: the generator learns p(x | y)
    and the discriminator judges (image, label) pairs, so a generator that ignores
    the label is caught. Train with `fit(images, labels)`; generate a chosen class
    with `generate(n, labels=k)`.

    Args:
        generator: `[noise (batch, latent_dim), labels (batch, 1) int]` -> images
            (e.g. `dcgan_generator(latent_dim, num_classes=10)`).
        discriminator: `[images, labels (batch, 1) int]` -> `(batch, 1)` logits
            (e.g. `dcgan_discriminator(num_classes=10)`).
        latent_dim: Size of the noise vector.
        num_classes: Number of classes; labels are integers in `[0, num_classes)`.
        label_smoothing: As for `DCGAN`.
        seed: Seed of the noise drawn inside the train step.

    Call arguments:
        inputs: `[noise, labels]`.

    Example:

    ```python
    gan = ConditionalGAN(dcgan_generator(32, num_classes=10),
                         dcgan_discriminator(num_classes=10), 32, num_classes=10)
    gan.compile()
    gan.fit(digits.x, digits.y, batch_size=64, epochs=100)
    sevens = gan.generate(16, labels=7, seed=0)
    ```
    """

    conditional = True

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        num_classes,
        *,
        label_smoothing=0.0,
        seed=0,
        **kwargs,
    ):
        check_int("num_classes", num_classes, minimum=2)
        self.num_classes = num_classes
        super().__init__(
            generator,
            discriminator,
            latent_dim,
            label_smoothing=label_smoothing,
            seed=seed,
            **kwargs,
        )

    def _unpack(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError(
                "ConditionalGAN trains on (images, labels); call fit(x, y)."
            )
        return x, ops.reshape(ops.cast(y, "int32"), (-1, 1))

    def _check_labels(self, y, n):
        if y is None:
            raise ValueError(
                "ConditionalGAN needs labels: call fit(x, y) with integer class "
                f"labels in [0, {self.num_classes}); received y=None."
            )
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.shape != (n,):
            raise ValueError(
                f"`y` must hold one integer label per image, shape ({n},); "
                f"received shape {y.shape}."
            )
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                f"`y` must be integer class labels; received dtype {y.dtype}."
            )
        if y.min() < 0 or y.max() >= self.num_classes:
            raise ValueError(
                f"`y` labels must be in [0, {self.num_classes}); received values "
                f"from {y.min()} to {y.max()}."
            )
        return y.astype("int32")

    def generate(self, n, *, labels=None, seed=None, noise=None, batch_size=256):
        """Generate `n` images of the given classes.

        Args:
            n: Number of images.
            labels: One class for all (`int`), one label per image (length `n`),
                or None for classes 0, 1, ..., num_classes - 1 in turn.
            seed: Seed of the NumPy noise.
            noise: Explicit noise `(n, latent_dim)` instead of a seed.
            batch_size: Images generated per forward pass.

        Returns:
            `(n, *image_shape)` float32 images.
        """
        z = self._noise_array(n, seed, noise)
        n = len(z)
        if labels is None:
            labels = np.arange(n) % self.num_classes
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full((n,), labels)
        labels = self._check_labels(labels, n)[:, None]
        return self.generator.predict([z, labels], batch_size=batch_size, verbose=0)

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
