"""Autoencoders on the 8x8 digits: undercomplete, denoising, and anomaly detection.

Shows:

- an undercomplete `Autoencoder` (64 pixels -> an 8-number code -> 64 pixels) and
  its held-out reconstruction error, next to PCA with as many components (the
  best *linear* code of that size);
- a denoising autoencoder (`noise="masking"`: 30% of the pixels set to 0 in
  training only) against the plain one on corrupted held-out digits;
- anomaly detection: an autoencoder trained without one digit class scores every
  held-out digit by its reconstruction error; the unseen class reconstructs
  worse, measured by ROC AUC;
- PNGs of reconstructions and of denoising, and `results.json`, under `--out`.

Run:

    python examples/autoencoders.py
    KERAS_BACKEND=jax python examples/autoencoders.py --kind conv --anomaly-class 3
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
from sklearn.decomposition import PCA

from kerasdl import backend, data
from kerasdl.models import (
    Autoencoder,
    anomaly_detection_auc,
    plot_reconstructions,
    reconstruction_error,
)

NAME = "autoencoders"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60, help="default: 60")
    parser.add_argument("--latent-dim", type=int, default=8, help="code size")
    parser.add_argument("--kind", choices=("dense", "conv"), default="dense")
    parser.add_argument(
        "--mask-rate", type=float, default=0.3, help="masking noise (default 0.3)"
    )
    parser.add_argument("--anomaly-class", type=int, default=0)
    parser.add_argument(
        "--anomaly-epochs", type=int, default=30, help="epochs of the detector"
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def mask(x, rate, seed):
    """Masking noise in NumPy: each pixel set to 0 with probability `rate`."""
    keep = np.random.default_rng(seed).random(x.shape) >= rate
    return (x * keep).astype("float32")


def train_autoencoder(x_train, args, noise=None):
    backend.set_random_seed(args.seed)
    model = Autoencoder(
        x_train.shape[1:],
        args.latent_dim,
        kind=args.kind,
        noise=noise,
        noise_level=args.mask_rate if noise else None,
        seed=args.seed,
    )
    model.compile(keras.optimizers.Adam(args.learning_rate), "binary_crossentropy")
    history = model.fit(
        x_train,
        x_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )
    return model, history.history


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    digits = data.load_digits()
    parts = data.train_val_test_split(
        digits.x, digits.y, val_size=0.1, test_size=0.2, seed=args.seed
    )
    # No early stopping here: train on train + val, measure on test.
    x_train = np.concatenate([parts.x_train, parts.x_val])
    x_test = parts.x_test
    x_test_noisy = mask(x_test, args.mask_rate, args.seed + 1)
    results = {"backend": backend.name(), "latent_dim": args.latent_dim}

    # 1. Undercomplete autoencoder vs PCA with as many components.
    start = time.perf_counter()
    plain, history = train_autoencoder(x_train, args)
    flat_train = x_train.reshape(len(x_train), -1)
    pca = PCA(args.latent_dim, random_state=args.seed).fit(flat_train)
    x_pca = pca.inverse_transform(pca.transform(x_test.reshape(len(x_test), -1)))
    results["undercomplete"] = {
        "test_mse": float(reconstruction_error(plain, x_test).mean()),
        "pca_test_mse": float(np.mean((x_pca - x_test.reshape(len(x_test), -1)) ** 2)),
        "final_loss": float(history["loss"][-1]),
        "seconds": round(time.perf_counter() - start, 1),
    }
    r = results["undercomplete"]
    print(
        f"Undercomplete {args.kind} autoencoder, 64 -> {args.latent_dim} -> 64, "
        f"{args.epochs} epochs: held-out MSE {r['test_mse']:.4f} "
        f"(PCA with {args.latent_dim} components: {r['pca_test_mse']:.4f})"
    )

    # 2. Denoising: trained on masked inputs, judged on masked held-out digits.
    denoising, _ = train_autoencoder(x_train, args, noise="masking")

    def denoise_mse(model):
        restored = model.predict(x_test_noisy, verbose=0)
        return float(np.mean((restored - x_test) ** 2))

    results["denoising"] = {
        "mask_rate": args.mask_rate,
        "corrupted_input_mse": float(np.mean((x_test_noisy - x_test) ** 2)),
        "plain_autoencoder_mse": denoise_mse(plain),
        "denoising_autoencoder_mse": denoise_mse(denoising),
        "denoising_autoencoder_clean_mse": float(
            reconstruction_error(denoising, x_test).mean()
        ),
    }
    d = results["denoising"]
    print(
        f"Masked held-out digits ({args.mask_rate:.0%} of pixels zeroed), MSE to the "
        f"clean digits: corrupted input {d['corrupted_input_mse']:.4f}, plain "
        f"autoencoder {d['plain_autoencoder_mse']:.4f}, denoising autoencoder "
        f"{d['denoising_autoencoder_mse']:.4f}"
    )

    # 3. Anomaly detection: never trained on the held-out class.
    detector = anomaly_detection_auc(
        lambda: Autoencoder((8, 8, 1), args.latent_dim, kind=args.kind, seed=args.seed),
        digits.x,
        digits.y,
        anomaly_class=args.anomaly_class,
        epochs=args.anomaly_epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )
    detector.pop("model")
    results["anomaly_detection"] = detector
    print(
        f"Anomaly detection, digit {args.anomaly_class} held out of training: ROC AUC "
        f"{detector['auc']:.3f} on {detector['n_normal']} normal + "
        f"{detector['n_anomalous']} anomalous held-out digits; at the threshold "
        f"with {detector['target_fpr']:.0%} false alarms on training data: test "
        f"FPR {detector['fpr']:.3f}, detection rate {detector['tpr']:.3f}"
    )

    pngs = [
        plot_reconstructions(plain, x_test, out / "reconstructions.png", n=12),
        plot_reconstructions(
            denoising, x_test, out / "denoising.png", n=12, x_noisy=x_test_noisy
        ),
    ]
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"Wrote {', '.join(map(str, pngs))}, {out / 'results.json'}")
    return results


if __name__ == "__main__":
    main()
