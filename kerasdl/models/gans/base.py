"""The GAN base class: a generator and a discriminator trained by two optimizers.

Every GAN in kerasdl is a `kerasdl.backend.MultiOptimizerModel`: it lists its train
step as phases (discriminator or critic first, then generator), each with its own
loss, variables and optimizer. The backend seam runs them on TensorFlow (a
`tf.function`) and on JAX (stateless and jit-compiled), so the same class trains
with `fit()` on both.
"""

from __future__ import annotations

import copy

import keras
import numpy as np
from keras import ops

from kerasdl import backend as kb
from kerasdl._checks import check_int
from kerasdl.data.dataset import check_value_range
from kerasdl.models.base import SubclassedModel, composed_dtype_policy

_SIGMOIDS = (keras.activations.sigmoid, keras.ops.sigmoid)
_TANHS = (keras.activations.tanh, keras.ops.tanh)


def output_layer(model):
    """The layer that computes `model`'s (first) output; for a nested model, the
    layer inside it. None when it cannot be told."""
    try:
        layer = kb.producing_layer(model.outputs[0])
    except (AttributeError, IndexError, TypeError, ValueError, kb.KerasInternalsError):
        layers = getattr(model, "layers", None)
        layer = layers[-1] if layers else None
    if isinstance(layer, keras.Model) and layer is not model:
        return output_layer(layer)
    return layer


def output_activation(model):
    """`"sigmoid"`, `"tanh"` or None: the activation `model`'s output layer ends
    in (a layer's `activation=` or a final `Activation` layer)."""
    activation = getattr(output_layer(model), "activation", None)
    if any(activation is f for f in _SIGMOIDS):
        return "sigmoid"
    if any(activation is f for f in _TANHS):
        return "tanh"
    return None


def check_positive(name, value, *, allow_zero=False):
    """Raise a ValueError naming `name` unless `value` is a (non-)positive number."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not (value >= 0 if allow_zero else value > 0):
        kind = "a number >= 0" if allow_zero else "a positive number"
        raise ValueError(f"`{name}` must be {kind}; received {name}={value!r}.")


class GAN(SubclassedModel, kb.MultiOptimizerModel):
    """Base class: holds the two networks, the noise and the data checks.

    Subclasses define `discriminator_loss(data)`, `generator_loss(data)` and
    `train_phases()`; `compile` takes one optimizer per network and defaults to the
    ones their papers use (`default_optimizers`).

    Args:
        generator: A Keras model mapping noise `(batch, latent_dim)` (and, for a
            conditional GAN, labels `(batch, 1)`) to images.
        discriminator: A Keras model mapping images (and labels) to `(batch, 1)`
            scores (logits for the DCGAN, critic values for the WGANs). One that
            ends in a sigmoid is refused (the losses take raw scores).
        latent_dim: Size of the noise vector; must match the generator's input.
        seed: Seed of the noise drawn inside the train step.
        dtype: Dtype policy of the GAN (e.g. `"mixed_bfloat16"`), which must be
            the two networks' (build them with the same `dtype=`, e.g.
            `dcgan_generator(..., dtype=...)`); None takes theirs. The losses
            are computed in float32 whatever the policy.
        **kwargs: Passed to `SubclassedModel`: `name`, `trainable`.

    Call arguments:
        inputs: Noise `(batch, latent_dim)` (conditional GAN: `[noise, labels]`).

    Returns:
        The generated images.
    """

    conditional = False
    discriminator_name = "discriminator"

    def __init__(
        self, generator, discriminator, latent_dim, *, seed=0, dtype=None, **kwargs
    ):
        check_int("latent_dim", latent_dim)
        for arg, net in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(net, keras.Model):
                raise ValueError(
                    f"`{arg}` must be a keras.Model; received {type(net).__name__}."
                )
        dtype = composed_dtype_policy(
            dtype,
            {"generator": generator, self.discriminator_name: discriminator},
            type(self).__name__,
        )
        super().__init__(dtype=dtype, **kwargs)
        self._check_networks(generator, discriminator, latent_dim)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Both networks are built functional models, so this model is too; saying
        # so stops `fit` from tracing `call` on a data batch (images, not noise).
        self.built = True

    # -- networks and data ---------------------------------------------------------

    def _check_networks(self, generator, discriminator, latent_dim):
        n_inputs = 2 if self.conditional else 1
        for arg, net in (("generator", generator), ("discriminator", discriminator)):
            if len(net.inputs) != n_inputs:
                kind = "conditional" if self.conditional else "unconditional"
                raise ValueError(
                    f"A {kind} {type(self).__name__} needs a `{arg}` with "
                    f"{n_inputs} input(s); received one with {len(net.inputs)}."
                )
        z_dim = generator.inputs[0].shape[-1]
        if z_dim != latent_dim:
            raise ValueError(
                f"`latent_dim`={latent_dim} does not match the generator's noise "
                f"input of size {z_dim}."
            )
        if output_activation(discriminator) == "sigmoid":
            arg, layer = self.discriminator_name, output_layer(discriminator)
            if self.discriminator_name == "critic":
                why = (
                    "a Wasserstein critic must output unbounded scores (a sigmoid "
                    "bounds them to (0, 1) and flattens its gradients)"
                )
            else:
                why = (
                    f"{type(self).__name__}'s losses take logits (binary "
                    "cross-entropy from logits), so the sigmoid would be applied "
                    "twice"
                )
            raise ValueError(
                f"The `{arg}` ends in a sigmoid, but {why}; received a {arg} whose "
                f"output layer {layer.name!r} ({type(layer).__name__}) applies a "
                "sigmoid. Remove the final sigmoid (activation=None on the last "
                "layer, as dcgan_discriminator does): kerasdl's GAN losses work on "
                "the raw scores."
            )
        image_shape = tuple(generator.outputs[0].shape[1:])
        expected = tuple(discriminator.inputs[0].shape[1:])
        if image_shape != expected:
            raise ValueError(
                f"The generator makes images of shape {image_shape} but the "
                f"`discriminator` takes {expected}."
            )

    @property
    def image_shape(self) -> tuple:
        """Shape of one generated image (without the batch axis)."""
        return tuple(self.generator.outputs[0].shape[1:])

    def noise(self, batch_size):
        """Standard-normal noise `(batch_size, latent_dim)` from the model's seed."""
        return keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def compute_output_shape(self, input_shape):
        return self.generator.compute_output_shape(input_shape)

    def _check_images(self, x, arg="x"):
        x = np.asarray(x)
        if x.ndim == 0 or x.shape[1:] != self.image_shape:
            raise ValueError(
                f"`{arg}` must be images of shape (n, *{self.image_shape}) like the "
                f"generator's output; received shape {x.shape}."
            )
        if len(x) == 0:
            raise ValueError(
                f"`{arg}` is empty; a GAN needs real images to learn; received "
                f"shape {x.shape}."
            )
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(
                f"`{arg}` must be floating point images (e.g. scaled to [0, 1]); "
                f"received dtype {x.dtype}."
            )
        finite = np.isfinite(x)
        if not finite.all():
            first = tuple(int(i) for i in np.argwhere(~finite)[0])
            raise ValueError(
                f"`{arg}` holds {x.size - int(np.count_nonzero(finite))} NaN or inf "
                f"value(s), the first at index {first}."
            )
        low, high = self.pixel_range
        activation = output_activation(self.generator)
        why = (
            f"(the generator's output activation is {activation})"
            if activation
            else "(kerasdl's GANs take images scaled to [-1, 1] or [0, 1])"
        )
        check_value_range(x, low, high, name=arg, why=why)

    @property
    def pixel_range(self) -> tuple:
        """The range real images must lie in: the range of the generator's output
        activation (sigmoid: [0, 1]; tanh: [-1, 1]), else [-1, 1]."""
        if output_activation(self.generator) == "sigmoid":
            return (0.0, 1.0)
        return (-1.0, 1.0)

    def fit(self, x=None, y=None, **kwargs):
        """`keras.Model.fit`, after checking NumPy images (and labels) up front.

        A shape or dtype mistake, NaN/inf, or images on another scale than the
        generator's output (`pixel_range`: 0..255 for a sigmoid generator's
        [0, 1]) then fail here in one clear line, once per call, rather than
        inside the compiled train step or not at all. Datasets and generators
        pass unchecked.
        """
        if isinstance(x, np.ndarray):
            self._check_images(x)
            if self.conditional:
                self._check_labels(y, len(x))
            elif y is not None:
                raise ValueError(
                    f"{type(self).__name__} is unconditional and takes no labels; "
                    "received y. Use ConditionalGAN to condition on classes."
                )
        return super().fit(x, y, **kwargs)

    # -- compile ----------------------------------------------------------------------

    def default_optimizers(self) -> dict:
        """The optimizers `compile` uses when none are given."""
        raise NotImplementedError

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, **kwargs):
        """One optimizer per network (defaults: `default_optimizers()`).

        Args:
            generator_optimizer: Optimizer (or name) for the generator.
            discriminator_optimizer: Optimizer (or name) for the discriminator /
                critic.
            **kwargs: Passed to `keras.Model.compile` (e.g. `jit_compile`).
        """
        defaults = self.default_optimizers()
        super().compile(
            optimizers={
                "generator": generator_optimizer or defaults["generator"],
                "discriminator": discriminator_optimizer or defaults["discriminator"],
            },
            **kwargs,
        )

    # -- sampling ---------------------------------------------------------------------

    def generate(self, n, *, seed=None, noise=None, batch_size=256):
        """Generate `n` images (NumPy) from seeded standard-normal noise.

        Args:
            n: Number of images.
            seed: Seed of the NumPy noise (the same seed gives the same images).
            noise: Explicit noise `(n, latent_dim)` instead of a seed.
            batch_size: Images generated per forward pass.

        Returns:
            `(n, *image_shape)` float32 images.
        """
        z = self._noise_array(n, seed, noise)
        return self.generator.predict(z, batch_size=batch_size, verbose=0)

    def _noise_array(self, n, seed, noise):
        if noise is not None:
            z = np.asarray(noise, dtype="float32")
            if z.ndim != 2 or z.shape[1] != self.latent_dim:
                raise ValueError(
                    f"`noise` must have shape (n, {self.latent_dim}); received "
                    f"shape {z.shape}."
                )
            return z
        check_int("n", n)
        rng = np.random.default_rng(seed)
        return rng.standard_normal((n, self.latent_dim)).astype("float32")

    # -- config -----------------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(
                    self.discriminator
                ),
                "latent_dim": self.latent_dim,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator", "critic"):
            if key in config:
                # Deserialising consumes parts of the dict it is given: copy it.
                config[key] = keras.saving.deserialize_keras_object(
                    copy.deepcopy(config[key])
                )
        return cls(**config)


def bce_from_logits(logits, label):
    """Mean binary cross-entropy of `logits` against a constant `label`, in
    float32 whatever dtype the logits are in."""
    logits = ops.cast(logits, "float32")
    targets = ops.full_like(logits, label)
    return ops.mean(keras.losses.binary_crossentropy(targets, logits, from_logits=True))


def wasserstein_terms(real_scores, fake_scores):
    """`(critic loss, Wasserstein estimate)` from critic scores on real and fake,
    in float32 whatever dtype the scores are in."""
    real_scores = ops.cast(real_scores, "float32")
    fake_scores = ops.cast(fake_scores, "float32")
    estimate = ops.mean(real_scores) - ops.mean(fake_scores)
    return -estimate, estimate
