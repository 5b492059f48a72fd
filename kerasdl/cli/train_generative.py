"""`kerasdl train gan --model NAME` (and `kerasdl train dcgan|cgan|wgan|wgan_gp|vae|
ddpm`): train a generative model with `kerasdl.recipes.generative` and print its
FID-digits quality line."""

from __future__ import annotations

from pathlib import Path

from kerasdl.cli.common import load_dataset_arg
from kerasdl.cli.train_options import refuse_training_options


def run(args, name: str) -> int:
    from kerasdl.recipes.generative import train_generative

    refuse_training_options(args, f"the generative model {name}")
    dataset = load_dataset_arg(args)
    out = args.out or Path("runs") / "train" / name
    record = train_generative(
        name,
        dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        latent_dim=args.latent_dim,
        learning_rate=args.learning_rate,
        seed=args.seed,
        out_dir=out,
        sample_every=args.sample_every,
        verbose=0 if args.quiet else 1,
    )
    epochs = record["settings"]["epochs"]
    line = (
        f"{name} on {record['dataset']}: {epochs} epoch{'s' * (epochs != 1)} in "
        f"{record['train_seconds']:.1f} s on {record['backend']}"
    )
    quality = record.get("quality")
    if quality:
        line += (
            f"; FID-digits {quality['fid_digits']:.2f} (real vs real "
            f"{quality['fid_reference_real_vs_real']:.2f}, real vs noise "
            f"{quality['fid_reference_real_vs_noise']:.1f})"
        )
        extras = {
            "fid_digits_ddim50": "DDIM-50 FID-digits {:.2f}",
            "critic_grad_norm_mean": "critic grad norm {:.3f}",
            "cgan_label_agreement": "requested-class agreement {:.3f}",
            "test_neg_elbo_per_sample": "held-out -ELBO {:.2f} nats/sample",
        }
        for key, text in extras.items():
            if key in quality:
                line += "; " + text.format(quality[key])
    print(line)
    print(f"wrote {out}/run.json, samples.png, history.csv, {record['files'][0]}")
    return 0
