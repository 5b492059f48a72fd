"""A variational autoencoder on the 8x8 digits, with a 2-D latent space you can see.

Shows:

- `build_vae` trained with a plain `compile(optimizer)` / `fit(x)`: the VAE's
  `compute_loss` returns the negative ELBO (Bernoulli reconstruction summed over
  pixels + KL to N(0, I)), and `fit` logs `reconstruction_loss`, `kl_loss` and
  `neg_elbo` per sample, on the training and the held-out digits;
- the held-out negative ELBO per digit (`VAE.negative_elbo`, several samples of
  z), in nats: an upper bound on -log p(x);
- PNGs under `--out`: the decoded latent grid (2-D latent only), samples from
  the prior, an interpolation between two held-out digits, the latent means
  coloured by digit; and `results.json`.

Run:

    python examples/vae.py
    KERAS_BACKEND=jax python examples/vae.py --latent-dim 8 --epochs 100
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np

from kerasdl import backend, data
from kerasdl.models import (
    build_vae,
    plot_interpolation,
    plot_latent_grid,
    plot_latent_samples,
    plot_latent_space,
)

NAME = "vae"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50, help="default: 50")
    parser.add_argument("--latent-dim", type=int, default=2, help="default: 2")
    parser.add_argument("--kind", choices=("dense", "conv"), default="dense")
    parser.add_argument("--beta", type=float, default=1.0, help="KL weight")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--elbo-samples", type=int, default=10, help="z draws per held-out digit"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    digits = data.load_digits()
    parts = data.train_val_test_split(
        digits.x, digits.y, val_size=0.1, test_size=0.2, seed=args.seed
    )
    # The VAE needs no early stopping here: train on train + val, test on test.
    x_train = np.concatenate([parts.x_train, parts.x_val])
    x_test, y_test = parts.x_test, parts.y_test

    backend.set_random_seed(args.seed)
    vae = build_vae(
        x_train.shape[1:],
        args.latent_dim,
        kind=args.kind,
        beta=args.beta,
        seed=args.seed,
    )
    vae.compile(keras.optimizers.Adam(args.learning_rate))
    start = time.perf_counter()
    history = vae.fit(
        x_train,
        validation_data=(x_test,),
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    ).history
    seconds = time.perf_counter() - start
    test_neg_elbo = vae.negative_elbo(x_test, samples=args.elbo_samples, seed=1)
    train_neg_elbo = vae.negative_elbo(x_train, samples=args.elbo_samples, seed=1)
    last = {key: float(values[-1]) for key, values in history.items()}
    results = {
        "backend": backend.name(),
        "latent_dim": args.latent_dim,
        "kind": args.kind,
        "beta": args.beta,
        "epochs": args.epochs,
        "n_train": len(x_train),
        "n_test": len(x_test),
        "train_seconds": round(seconds, 1),
        "history_last": last,
        "neg_elbo_first_epoch": float(history["neg_elbo"][0]),
        "test_neg_elbo_mean": float(test_neg_elbo.mean()),
        "test_neg_elbo_std": float(test_neg_elbo.std()),
        "train_neg_elbo_mean": float(train_neg_elbo.mean()),
        "elbo_samples": args.elbo_samples,
    }
    print(
        f"VAE ({args.kind}, latent {args.latent_dim}, beta {args.beta:g}), "
        f"{args.epochs} epochs in {seconds:.1f} s on {backend.name()}: "
        f"neg_elbo {history['neg_elbo'][0]:.2f} -> {last['neg_elbo']:.2f} nats "
        f"(reconstruction {last['reconstruction_loss']:.2f} + KL "
        f"{last['kl_loss']:.2f})"
    )
    print(
        f"Held-out negative ELBO per digit ({args.elbo_samples} z samples): "
        f"{results['test_neg_elbo_mean']:.2f} ± {results['test_neg_elbo_std']:.2f} "
        f"nats (training digits: {results['train_neg_elbo_mean']:.2f})"
    )

    # Interpolate between the first two held-out digits of different classes.
    a = 0
    b = int(np.flatnonzero(y_test != y_test[a])[0])
    pngs = [
        plot_latent_samples(vae, out / "samples.png", n=25, seed=args.seed),
        plot_interpolation(vae, x_test[a], x_test[b], out / "interpolation.png"),
        plot_latent_space(vae, x_test, y_test, out / "latent_space.png"),
    ]
    if args.latent_dim == 2:
        pngs.append(plot_latent_grid(vae, out / "latent_grid.png", n=15))
    results["interpolation_labels"] = [int(y_test[a]), int(y_test[b])]
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"Wrote {', '.join(map(str, pngs))}, {out / 'results.json'}")
    return results


if __name__ == "__main__":
    main()
