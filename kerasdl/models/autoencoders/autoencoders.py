"""Autoencoders: undercomplete and denoising autoencoders, and anomaly detection.

- `Autoencoder`: encoder -> small latent code -> decoder, dense or convolutional;
  with `noise="gaussian"` or `"masking"` it is a *denoising* autoencoder (the noise
  layer sits at the input and is active only in training).
- The variational autoencoder (`VAE`, `build_vae`) is in the `vae` module beside
  this one and shares this module's encoder/decoder trunks.
- `reconstruction_error` and `anomaly_detection_auc`: reconstruction error as an
  anomaly score, trained on normal data only and scored by ROC AUC.

Plots of reconstructions, samples and latent spaces live in
`kerasdl.models.autoencoders.plots`.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from kerasdl import backend
from kerasdl.layers.noise import ClippedGaussianNoise, MaskingNoise
from kerasdl.models._checks import check_int as _check_int
from kerasdl.models._checks import check_sample_shape as _check_sample_shape
from kerasdl.models.base import FunctionalModel

KINDS = ("dense", "conv")
NOISES = ("gaussian", "masking")
LIKELIHOODS = ("bernoulli", "gaussian")
DEFAULT_HIDDEN = {"dense": (128,), "conv": (16, 32)}
DEFAULT_NOISE_LEVEL = {"gaussian": 0.25, "masking": 0.3}


# === Validation ===
def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; received kind={kind!r}.")


def _resolve_hidden(hidden, kind, sample_shape):
    """Checks `hidden` (units for dense, filters for conv) and the conv geometry."""
    hidden = DEFAULT_HIDDEN[kind] if hidden is None else hidden
    if isinstance(hidden, int) or not isinstance(hidden, (tuple, list)):
        raise ValueError(
            "`hidden` must be a tuple of positive integers (units per dense layer, "
            f"or filters per stride-2 convolution); received hidden={hidden!r}."
        )
    if not all(
        isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden
    ):
        raise ValueError(
            f"`hidden` must contain positive integers; received hidden={hidden!r}."
        )
    hidden = tuple(int(h) for h in hidden)
    if kind == "conv":
        if len(sample_shape) != 3:
            raise ValueError(
                'kind="conv" needs images: `input_shape` must be (height, width, '
                f"channels); received input_shape={sample_shape!r}."
            )
        if not hidden:
            raise ValueError('kind="conv" needs at least one entry in `hidden`.')
        factor = 2 ** len(hidden)
        if sample_shape[0] % factor or sample_shape[1] % factor:
            raise ValueError(
                f"With {len(hidden)} stride-2 convolutions (hidden={hidden!r}) the "
                f"height and width must be divisible by 2**{len(hidden)} = {factor}; "
                f"received input_shape={sample_shape!r}. Use fewer entries in "
                "`hidden` or pad the images."
            )
    return hidden


def _check_activation(output_activation):
    try:
        keras.activations.get(output_activation)
    except (ValueError, TypeError) as error:
        raise ValueError(
            "`output_activation` must be a Keras activation name or None; received "
            f"output_activation={output_activation!r}."
        ) from error


def _kernel_init(seed, index, kind="he_normal"):
    if seed is None:
        return kind
    cls = (
        keras.initializers.HeNormal
        if kind == "he_normal"
        else (keras.initializers.GlorotUniform)
    )
    return cls(seed=seed + index)


# === Encoder / decoder trunks (shared by the autoencoder and the VAE) ===
def _encoder_features(inputs, kind, hidden, seed):
    """Flat features of `inputs`: dense layers, or stride-2 3x3 convolutions."""
    if kind == "dense":
        x = keras.layers.Flatten(name="flatten")(inputs)
        for i, units in enumerate(hidden, start=1):
            x = keras.layers.Dense(
                units,
                "relu",
                kernel_initializer=_kernel_init(seed, i),
                name=f"dense_{i}",
            )(x)
        return x
    x = inputs
    for i, filters in enumerate(hidden, start=1):
        x = keras.layers.Conv2D(
            filters,
            3,
            strides=2,
            padding="same",
            activation="relu",
            kernel_initializer=_kernel_init(seed, i),
            name=f"conv_{i}",
        )(x)
    return keras.layers.Flatten(name="flatten")(x)


def _decoder_outputs(latent, sample_shape, kind, hidden, output_activation, seed):
    """Mirror of `_encoder_features`: from a latent vector to a sample."""
    offset = 100  # decoder initializer seeds differ from the encoder's
    if kind == "dense":
        x = latent
        for i, units in enumerate(reversed(hidden), start=1):
            x = keras.layers.Dense(
                units,
                "relu",
                kernel_initializer=_kernel_init(seed, offset + i),
                name=f"dense_{i}",
            )(x)
        x = keras.layers.Dense(
            math.prod(sample_shape),
            output_activation,
            kernel_initializer=_kernel_init(seed, offset, "glorot_uniform"),
            name="pixels",
        )(x)
        return keras.layers.Reshape(sample_shape, name="reshape")(x)
    factor = 2 ** len(hidden)
    small = (sample_shape[0] // factor, sample_shape[1] // factor, hidden[-1])
    x = keras.layers.Dense(
        math.prod(small),
        "relu",
        kernel_initializer=_kernel_init(seed, offset + 50),
        name="project",
    )(latent)
    x = keras.layers.Reshape(small, name="reshape")(x)
    for i, filters in enumerate(reversed(hidden), start=1):
        x = keras.layers.Conv2DTranspose(
            filters,
            3,
            strides=2,
            padding="same",
            activation="relu",
            kernel_initializer=_kernel_init(seed, offset + i),
            name=f"deconv_{i}",
        )(x)
    return keras.layers.Conv2D(
        sample_shape[-1],
        3,
        padding="same",
        activation=output_activation,
        kernel_initializer=_kernel_init(seed, offset, "glorot_uniform"),
        name="pixels",
    )(x)


def _decoder_model(
    latent_dim, sample_shape, kind, hidden, output_activation, seed, name
):
    latent = keras.Input(shape=(latent_dim,), name="latent")
    outputs = _decoder_outputs(
        latent, sample_shape, kind, hidden, output_activation, seed
    )
    return keras.Model(latent, outputs, name=name)


# === Autoencoder ===
@keras.saving.register_keras_serializable(package="kerasdl")
class Autoencoder(FunctionalModel):
    """An undercomplete autoencoder, optionally denoising: input -> code -> input.

    The encoder maps a sample to a `latent_dim` code (linear); the decoder maps
    the code back to a sample. The code must be smaller than the input
    (undercomplete), so the network cannot learn the identity and must keep what
    matters. `kind="dense"` uses `hidden` Dense(ReLU) layers; `kind="conv"` uses
    one 3x3 stride-2 convolution per entry of `hidden` (filters) and mirrored
    transposed convolutions, so it works on 8x8 digits and 28x28 images.

    With `noise` set it is a denoising autoencoder (Vincent et al., 2008): a
    `ClippedGaussianNoise` (`"gaussian"`, std `noise_level`, clipped to [0, 1]
    when `output_activation="sigmoid"`) or `MaskingNoise` (`"masking"`, a fraction
    `noise_level` of the pixels set to 0) layer corrupts the input *in training
    only*. Train with `fit(x, x)`: the model learns to reconstruct the clean
    input from a corrupted one, and `predict(x)` reconstructs clean inputs.

    Args:
        input_shape: Shape of one sample without the batch axis, e.g. `(8, 8, 1)`.
        latent_dim: Size of the code, >= 1 and smaller than the input size.
        kind: `"dense"` or `"conv"` (needs `(height, width, channels)` with
            height and width divisible by `2 ** len(hidden)`).
        hidden: Units of the hidden Dense layers (dense) or filters of the
            stride-2 convolutions (conv), encoder order; the decoder mirrors
            them. Default: `(128,)` for dense, `(16, 32)` for conv.
        noise: None, `"gaussian"` or `"masking"`.
        noise_level: Standard deviation (gaussian) or rate (masking); default
            0.25 (gaussian) or 0.3 (masking). Must be None when `noise` is None.
        output_activation: Activation of the decoder's last layer: `"sigmoid"`
            for data in [0, 1] (pair with `binary_crossentropy` or `mse`), None
            (linear) for standardized data.
        seed: Seed of the kernel initializers and of the noise, or None.
        name: Name of the model.
        **kwargs: Passed to `keras.Model` (e.g. `trainable`).

    Call arguments:
        inputs: Tensor of shape `(batch, *input_shape)`.
        training: Python bool; the noise layer is active only when True.

    Returns:
        The reconstruction, shaped like `inputs`.

    Example:

    ```python
    model = kerasdl.models.Autoencoder((8, 8, 1), latent_dim=8, noise="masking")
    model.compile("adam", "binary_crossentropy")
    model.fit(x, x, epochs=30)
    codes = model.encoder.predict(x)
    ```
    """

    def __init__(
        self,
        input_shape,
        latent_dim=16,
        *,
        kind="dense",
        hidden=None,
        noise=None,
        noise_level=None,
        output_activation="sigmoid",
        seed=0,
        name="autoencoder",
        **kwargs,
    ):
        sample_shape = _check_sample_shape(input_shape)
        _check_int("latent_dim", latent_dim, 1)
        if latent_dim >= math.prod(sample_shape):
            raise ValueError(
                "An undercomplete autoencoder needs `latent_dim` smaller than the "
                f"input size {math.prod(sample_shape)} (input_shape="
                f"{sample_shape!r}); received latent_dim={latent_dim}."
            )
        _check_kind(kind)
        hidden = _resolve_hidden(hidden, kind, sample_shape)
        if noise is not None and noise not in NOISES:
            raise ValueError(
                f"`noise` must be None or one of {NOISES}; received noise={noise!r}."
            )
        if noise is None and noise_level is not None:
            raise ValueError(
                "`noise_level` is only used with `noise`; received "
                f"noise_level={noise_level!r} with noise=None."
            )
        if noise is not None and noise_level is None:
            noise_level = DEFAULT_NOISE_LEVEL[noise]
        if noise is not None:
            low, high, what = (
                (0.0, 1.0, "rate")
                if noise == "masking"
                else (0.0, math.inf, "standard deviation")
            )
            if (
                isinstance(noise_level, bool)
                or not isinstance(noise_level, (int, float))
                or not low <= noise_level < high
            ):
                raise ValueError(
                    f"`noise_level` (the {what} of the {noise} noise) must be in "
                    f"[{low:g}, {high:g}); received noise_level={noise_level!r}."
                )
        _check_activation(output_activation)

        # === Layers ===
        if noise == "gaussian":
            clip = (0.0, 1.0) if output_activation == "sigmoid" else (None, None)
            noise_layer = ClippedGaussianNoise(
                noise_level, *clip, seed=seed, name="noise"
            )
        elif noise == "masking":
            noise_layer = MaskingNoise(noise_level, seed=seed, name="noise")
        else:
            noise_layer = None
        encoder_inputs = keras.Input(shape=sample_shape, name="pixels")
        features = _encoder_features(encoder_inputs, kind, hidden, seed)
        code = keras.layers.Dense(
            latent_dim,
            kernel_initializer=_kernel_init(seed, 0, "glorot_uniform"),
            name="code",
        )(features)
        encoder = keras.Model(encoder_inputs, code, name="encoder")
        decoder = _decoder_model(
            latent_dim,
            sample_shape,
            kind,
            hidden,
            output_activation,
            seed,
            name="decoder",
        )

        # === Functional model ===
        inputs = keras.Input(shape=sample_shape, name="inputs")
        x = noise_layer(inputs) if noise_layer is not None else inputs
        outputs = decoder(encoder(x))
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.sample_shape = sample_shape
        self.latent_dim = latent_dim
        self.kind = kind
        self.hidden = hidden
        self.noise = noise
        self.noise_level = noise_level
        self.output_activation = output_activation
        self.seed = seed

    @property
    def encoder(self):
        """The encoder sub-model: sample -> code `(batch, latent_dim)`."""
        return self.get_layer("encoder")

    @property
    def decoder(self):
        """The decoder sub-model: code -> reconstruction."""
        return self.get_layer("decoder")

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self.sample_shape,
            "latent_dim": self.latent_dim,
            "kind": self.kind,
            "hidden": self.hidden,
            "noise": self.noise,
            "noise_level": self.noise_level,
            "output_activation": self.output_activation,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["input_shape"] = tuple(config["input_shape"])
        config["hidden"] = tuple(config["hidden"])
        return cls(**config)


# === Anomaly detection ===
def reconstruction_error(model, x, batch_size=256):
    """Per-sample mean squared reconstruction error, an anomaly score.

    Args:
        model: An autoencoder (any model whose `predict(x)` has the shape of `x`;
            a `VAE` reconstructs from `z_mean`).
        x: Samples `(n, ...)`.
        batch_size: Batch size of `predict`.

    Returns:
        A float64 NumPy array `(n,)`: the mean over each sample's entries of
        `(x - model.predict(x))**2`.
    """
    x = np.asarray(x, dtype="float32")
    reconstruction = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    if reconstruction.shape != x.shape:
        raise ValueError(
            f"The model's reconstructions have shape {reconstruction.shape}, not the "
            f"shape of `x` {x.shape}; is it an autoencoder?"
        )
    diff = (reconstruction.astype("float64") - x) ** 2
    return diff.reshape(len(x), -1).mean(axis=1)


def anomaly_detection_auc(
    model,
    x,
    y,
    anomaly_class,
    *,
    test_fraction=0.2,
    epochs=20,
    batch_size=32,
    learning_rate=1e-3,
    loss="binary_crossentropy",
    target_fpr=0.05,
    seed=0,
    verbose=0,
):
    """Trains an autoencoder on normal data only and scores anomalies by ROC AUC.

    The samples of `anomaly_class` are the anomalies; all others are normal. A
    seeded fraction `test_fraction` of the normal samples is held out; the model
    trains on the remaining normal samples only (never on an anomaly). The test
    set is the held-out normal samples plus *all* anomalous samples, scored by
    `reconstruction_error`. The alarm threshold is the `1 - target_fpr` quantile
    of the training samples' errors (chosen without test data); the realised test
    false-positive and detection rates at that threshold are reported.

    Args:
        model: An uncompiled autoencoder, or a zero-argument callable returning
            one (e.g. `lambda: Autoencoder((8, 8, 1), 8)`). A `VAE` is compiled
            with the optimizer only; other models with `loss`.
        x: All samples `(n, ...)`, e.g. digits in [0, 1].
        y: Integer labels `(n,)`.
        anomaly_class: The label treated as anomalous.
        test_fraction: Fraction of normal samples held out for testing, in (0, 1).
        epochs: Training epochs.
        batch_size: Training batch size.
        learning_rate: Adam learning rate.
        loss: Training loss for non-VAE models.
        target_fpr: False-positive rate on training data that sets the threshold.
        seed: Seed of the split and of `kerasdl.backend.set_random_seed`.
        verbose: Verbosity of `fit`.

    Returns:
        A dict with `auc`, `anomaly_class`, `n_train`, `n_normal` and
        `n_anomalous` (test counts), `threshold`, `target_fpr`, `fpr` and `tpr`
        (test rates at the threshold), `mean_error_normal`,
        `mean_error_anomalous`, `final_loss` and the trained `model`.

    Example:

    ```python
    ds = kerasdl.data.load_digits()
    result = anomaly_detection_auc(
        lambda: Autoencoder((8, 8, 1), 8), ds.x, ds.y, anomaly_class=0
    )
    print(result["auc"])
    ```
    """
    from sklearn.metrics import roc_auc_score

    x = np.asarray(x, dtype="float32")
    y = np.asarray(y)
    if len(x) != len(y) or y.ndim != 1:
        raise ValueError(
            "`x` and `y` must hold the same number of samples and `y` must be 1-D; "
            f"received x {x.shape} and y {y.shape}."
        )
    anomalous = y == anomaly_class
    if not anomalous.any() or anomalous.all():
        raise ValueError(
            f"`anomaly_class` must be a label present in `y` with other labels "
            f"beside it; received anomaly_class={anomaly_class!r}, labels "
            f"{sorted(np.unique(y).tolist())}."
        )
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"`test_fraction` must be in (0, 1); received {test_fraction!r}."
        )
    if not 0.0 < target_fpr < 1.0:
        raise ValueError(f"`target_fpr` must be in (0, 1); received {target_fpr!r}.")

    normal = np.flatnonzero(~anomalous)
    normal = normal[np.random.default_rng(seed).permutation(len(normal))]
    n_test = max(1, int(round(test_fraction * len(normal))))
    test_normal, train = normal[:n_test], normal[n_test:]
    backend.set_random_seed(seed)
    if callable(model) and not isinstance(model, keras.Model):
        model = model()
    optimizer = keras.optimizers.Adam(learning_rate)
    from kerasdl.models.autoencoders.vae import VAE

    if isinstance(model, VAE):
        model.compile(optimizer=optimizer)
        history = model.fit(
            x[train], epochs=epochs, batch_size=batch_size, verbose=verbose
        )
    else:
        model.compile(optimizer=optimizer, loss=loss)
        history = model.fit(
            x[train], x[train], epochs=epochs, batch_size=batch_size, verbose=verbose
        )

    threshold = float(
        np.quantile(reconstruction_error(model, x[train]), 1.0 - target_fpr)
    )
    scores_normal = reconstruction_error(model, x[test_normal])
    scores_anomalous = reconstruction_error(model, x[anomalous])
    scores = np.concatenate([scores_normal, scores_anomalous])
    labels = np.concatenate(
        [np.zeros(len(scores_normal)), np.ones(len(scores_anomalous))]
    )
    return {
        "auc": float(roc_auc_score(labels, scores)),
        "anomaly_class": anomaly_class.item()
        if hasattr(anomaly_class, "item")
        else anomaly_class,
        "n_train": int(len(train)),
        "n_normal": int(len(scores_normal)),
        "n_anomalous": int(len(scores_anomalous)),
        "threshold": threshold,
        "target_fpr": float(target_fpr),
        "fpr": float(np.mean(scores_normal > threshold)),
        "tpr": float(np.mean(scores_anomalous > threshold)),
        "mean_error_normal": float(scores_normal.mean()),
        "mean_error_anomalous": float(scores_anomalous.mean()),
        "final_loss": float(history.history["loss"][-1]),
        "model": model,
    }
