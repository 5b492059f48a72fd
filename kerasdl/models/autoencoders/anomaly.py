"""Anomaly detection with autoencoders: reconstruction error as an anomaly score.

`reconstruction_error` scores samples; `anomaly_detection_auc` trains an
autoencoder (or `VAE`) on normal samples only and scores the held-out normal and
anomalous samples by ROC AUC.
"""

from __future__ import annotations

import keras
import numpy as np

from kerasdl import backend
from kerasdl.models.autoencoders.vae import VAE


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
