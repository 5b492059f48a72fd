"""A Wasserstein GAN with weight clipping on the 8x8 digits.

Shows, on scikit-learn's 1,797 real 8x8 digits (`kerasdl.data.load_digits()`,
pixels in [0, 1]):

- a critic instead of a discriminator: `dcgan_discriminator(normalization=None)`
  outputs an unbounded score, and `mean(critic(real)) - mean(critic(fake))`
  estimates the Wasserstein-1 distance between real and generated images, but
  only for a 1-Lipschitz critic (up to a constant factor);
- `WGAN(generator, critic, latent_dim, n_critic=5, clip_value=0.01)`, the
  paper's crude way to keep the critic Lipschitz: after every critic update
  each of its weights is clipped to [-clip, clip]; the critic is updated
  `n_critic` times per generator update, with RMSProp (Arjovsky et al.,
  2017). The paper's learning rate, 5e-5, learns slowly on a budget of 60
  epochs; this script defaults to 2e-4 (see the numbers below). It checks the
  clipping: the largest |w| over all critic weights after training is printed
  next to the clip;
- the Wasserstein estimate per epoch (`wasserstein.png`, with the losses). With
  weights this small the critic's scores, and so the estimate, are small
  numbers: the estimate is the distance times an unknown constant. It falls as
  the generator catches up (at the paper's slower rate it first rises while
  the critic learns to tell real from generated images);
- samples (`samples.png`) and FID-digits of 899 of them
  (`kerasdl.evaluation.FIDDigits`) next to the metric's two reference values.

Measured with the defaults (60 epochs, seed 0, CPU): every critic weight ends
inside the clip (max |w| = 0.010000: weights sit on the bound), on TensorFlow
and JAX. FID-digits 24.80 on TensorFlow and 22.50 on JAX, all ten digits
covered; the estimate falls about tenfold (0.0092 -> 0.0010 on TensorFlow).
With the paper's learning rate 5e-5 the same 60 epochs reach only 64.0
(TensorFlow) and 74.6 (JAX), with 7 of 10 digits covered (real vs real 1.02,
real vs noise 79.4; examples/wgan_gp.py: about 8 in the same epochs). Wall
time on a shared, busy 2-core machine (a rough guide): 2 min on TensorFlow,
8 min on JAX.

Run:

    python examples/wgan.py
    KERAS_BACKEND=jax python examples/wgan.py --learning-rate 5e-5 --epochs 150
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras
import numpy as np

from kerasdl import backend as kb
from kerasdl import data, plotting
from kerasdl.evaluation import FIDDigits
from kerasdl.models.gans import WGAN, dcgan_discriminator, dcgan_generator

NAME = "wgan"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60, help="default: 60")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-4, help="paper: 5e-5")
    parser.add_argument("--n-critic", type=int, default=5)
    parser.add_argument("--clip-value", type=float, default=0.01)
    parser.add_argument(
        "--samples", type=int, default=899, help="generated images for FID-digits"
    )
    parser.add_argument(
        "--grid-size", type=int, default=64, help="images per sample grid"
    )
    parser.add_argument(
        "--train-size", type=int, default=None, help="first N digits (default: all)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def plot_wasserstein(history, path):
    fig, axes = plotting.plt.subplots(1, 2, figsize=(10, 3.4))
    epochs = np.arange(1, len(history["wasserstein"]) + 1)
    axes[0].plot(epochs, history["wasserstein"], color="C2")
    axes[0].set_title("Wasserstein estimate: mean D(real) - mean D(fake)")
    axes[1].plot(epochs, history["critic_loss"], label="critic")
    axes[1].plot(epochs, history["generator_loss"], label="generator")
    axes[1].set_title("losses (epoch means)")
    axes[1].legend(fontsize="small")
    for ax in axes:
        ax.set_xlabel("epoch")
    fig.tight_layout()
    return plotting.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"backend: {kb.name()}")
    kb.set_random_seed(args.seed)
    x = data.load_digits().x[: args.train_size]

    # 1. A critic: no sigmoid, no batch norm; its weights will be clipped.
    generator = dcgan_generator(args.latent_dim, x.shape[1:])
    critic = dcgan_discriminator(x.shape[1:], normalization=None, name="critic")
    gan = WGAN(
        generator,
        critic,
        args.latent_dim,
        n_critic=args.n_critic,
        clip_value=args.clip_value,
        seed=args.seed,
    )
    gan.compile(
        generator_optimizer=keras.optimizers.RMSprop(args.learning_rate),
        discriminator_optimizer=keras.optimizers.RMSprop(args.learning_rate),
    )

    # 2. fit(): each step is n_critic clipped critic updates, then one generator one.
    history = gan.fit(
        x, batch_size=args.batch_size, epochs=args.epochs, verbose=args.verbose
    ).history
    estimate = [float(v) for v in history["wasserstein"]]
    print(f"WGAN, {args.epochs} epochs on {len(x)} digits")
    print("epoch  wasserstein  critic_loss  generator_loss")
    every = max(1, args.epochs // 6)
    for epoch in range(args.epochs):
        if (epoch + 1) % every == 0 or epoch in (0, args.epochs - 1):
            print(
                f"{epoch + 1:5d}  {estimate[epoch]:11.5f}  "
                f"{history['critic_loss'][epoch]:11.5f}  "
                f"{history['generator_loss'][epoch]:14.5f}"
            )

    # 3. The clipping held: no critic weight outside [-clip, clip].
    max_abs_weight = max(
        float(np.max(np.abs(keras.ops.convert_to_numpy(w))))
        for w in gan.critic.trainable_weights
    )
    inside = max_abs_weight <= args.clip_value
    print(
        f"largest |w| over all {len(gan.critic.trainable_weights)} critic weight "
        f"tensors: {max_abs_weight:.6f} (clip {args.clip_value}; inside: {inside})"
    )

    # 4. Samples and their quality.
    samples = gan.generate(args.samples, seed=args.seed)
    samples_png = plotting.save_image_grid(
        samples[: args.grid_size], out / "samples.png", title=f"WGAN, {args.epochs} ep."
    )
    fid = FIDDigits()
    reference = fid.reference_values()
    score = fid.score_vs_digits(samples)
    hist = fid.class_histogram(samples)
    print(
        f"FID-digits of {len(samples)} samples: {score:.2f} (real vs real "
        f"{reference['real_vs_real']:.2f}, real vs noise "
        f"{reference['real_vs_noise']:.1f}); mode coverage {hist['mode_coverage']:.1f}"
    )

    results = {
        "backend": kb.name(),
        "epochs": args.epochs,
        "n_train": int(len(x)),
        "n_critic": args.n_critic,
        "clip_value": args.clip_value,
        "critic_max_abs_weight": max_abs_weight,
        "weights_inside_clip": bool(inside),
        "wasserstein": estimate,
        "critic_loss": [float(v) for v in history["critic_loss"]],
        "generator_loss": [float(v) for v in history["generator_loss"]],
        "fid_digits": float(score),
        "fid_reference": reference,
        "mode_coverage": hist["mode_coverage"],
        "pngs": {
            "wasserstein": str(plot_wasserstein(history, out / "wasserstein.png")),
            "samples": str(samples_png),
        },
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out}/results.json and PNGs")
    return results


if __name__ == "__main__":
    main()
