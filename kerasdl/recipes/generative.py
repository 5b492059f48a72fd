"""The generative training job behind `kerasdl train gan --model NAME`.

One function, `train_generative`, builds a generative model for an image dataset
(the embedded 8x8 digits by default), trains it with `fit`, and writes what a user
wants to look at and to compare:

- `generator.keras` (GANs), `vae.keras` or `ddpm.keras`: the trained model;
- `samples/samples_epoch_NNN.png` during training (GANs) and `samples.png` at the
  end (for DDPM also `samples_ddim.png`);
- `history.csv` and `history.png`: the logged losses per epoch;
- `run.json`: settings, timings and the quality numbers. On 8x8x1 images these
  are FID-digits against the real digits (with its two reference values), the
  predicted-class histogram of the samples (mode collapse), and per model: the
  critic's gradient norm on interpolates (WGAN-GP), the classifier's agreement
  with the requested class (conditional GAN), the held-out negative ELBO (VAE),
  FID of DDIM-50 next to the full DDPM chain (DDPM).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

GAN_MODELS = ("dcgan", "cgan", "wgan", "wgan_gp")
GENERATIVE_MODELS = (*GAN_MODELS, "vae", "ddpm")


@dataclass(frozen=True)
class GenerativeSettings:
    """Default training settings of one generative model on the 8x8 digits."""

    epochs: int
    batch_size: int
    latent_dim: int
    learning_rate: float
    sample_every: int = 10


# Chosen on the embedded digits (see README, "Generative models", for the measured
# numbers each gives on both backends).
DEFAULTS = {
    "dcgan": GenerativeSettings(
        epochs=100, batch_size=64, latent_dim=32, learning_rate=2e-4
    ),
    "cgan": GenerativeSettings(
        epochs=100, batch_size=64, latent_dim=32, learning_rate=2e-4
    ),
    "wgan": GenerativeSettings(
        epochs=150, batch_size=64, latent_dim=32, learning_rate=5e-5
    ),
    "wgan_gp": GenerativeSettings(
        epochs=100, batch_size=64, latent_dim=32, learning_rate=1e-4
    ),
    "vae": GenerativeSettings(
        epochs=100, batch_size=64, latent_dim=8, learning_rate=1e-3
    ),
    "ddpm": GenerativeSettings(
        epochs=150, batch_size=64, latent_dim=0, learning_rate=1e-3, sample_every=0
    ),
}


def check_model_name(name: str) -> str:
    """Return `name` if it is a generative model of this job, else a clear error."""
    if name not in GENERATIVE_MODELS:
        raise ValueError(
            f"Unknown generative model {name!r}; choose one of "
            f"{', '.join(GENERATIVE_MODELS)}."
        )
    return name


def _check_images(x):
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(
            "A generative model here needs images (n, height, width, 1 or 3); "
            f"received data of shape {x.shape}. Use an image dataset such as digits."
        )
    if len(x) < 2:
        raise ValueError(f"Need at least 2 images to train on; received {len(x)}.")
    if x.min() < -1e-3 or x.max() > 1 + 1e-3:
        raise ValueError(
            "Images must be scaled to [0, 1]; received values from "
            f"{float(x.min()):.3g} to {float(x.max()):.3g}."
        )
    return x.astype("float32")


def build_generative(
    name, image_shape, *, latent_dim, learning_rate, num_classes=10, seed=0
):
    """Build and compile one of `GENERATIVE_MODELS` for images of `image_shape`.

    Networks are the library defaults (`dcgan_generator`/`dcgan_discriminator`,
    `build_vae(kind="conv")`, `diffusion_unet`); optimizers are each paper's.
    """
    import keras

    from kerasdl.models import DDPM, NoiseSchedule, build_vae, diffusion_unet
    from kerasdl.models.gans import (
        DCGAN,
        WGAN,
        WGANGP,
        ConditionalGAN,
        dcgan_discriminator,
        dcgan_generator,
    )

    check_model_name(name)
    image_shape = tuple(int(d) for d in image_shape)
    stages = 2
    if name in GAN_MODELS:
        conditional = name == "cgan"
        generator = dcgan_generator(
            latent_dim,
            image_shape,
            stages=stages,
            num_classes=num_classes if conditional else None,
        )
        normalization = {"wgan": None, "wgan_gp": "layer"}.get(name, "batch")
        critic = dcgan_discriminator(
            image_shape,
            stages=stages,
            normalization=normalization,
            num_classes=num_classes if conditional else None,
        )
        if name == "dcgan":
            model = DCGAN(generator, critic, latent_dim, seed=seed)
        elif name == "cgan":
            model = ConditionalGAN(
                generator, critic, latent_dim, num_classes, seed=seed
            )
        elif name == "wgan":
            model = WGAN(generator, critic, latent_dim, seed=seed)
            optimizer = keras.optimizers.RMSprop
            model.compile(optimizer(learning_rate), optimizer(learning_rate))
            return model
        else:
            model = WGANGP(generator, critic, latent_dim, seed=seed)
            model.compile(
                keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9),
                keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9),
            )
            return model
        model.compile(
            keras.optimizers.Adam(learning_rate, beta_1=0.5),
            keras.optimizers.Adam(learning_rate, beta_1=0.5),
        )
        return model
    if name == "vae":
        model = build_vae(image_shape, latent_dim, kind="conv", seed=seed)
        model.compile(keras.optimizers.Adam(learning_rate))
        return model
    network = diffusion_unet(image_shape, base_filters=16)
    model = DDPM(network, NoiseSchedule("cosine", 1000), seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model


def train_generative(
    name,
    dataset=None,
    *,
    epochs=None,
    batch_size=None,
    latent_dim=None,
    learning_rate=None,
    seed=0,
    out_dir="runs/generative",
    sample_every=None,
    n_samples=899,
    evaluate=True,
    verbose=1,
):
    """Train one generative model on an image dataset and write its run folder.

    Args:
        name: One of `GENERATIVE_MODELS`: `dcgan`, `cgan`, `wgan`, `wgan_gp`,
            `vae`, `ddpm`.
        dataset: A `kerasdl.data.Dataset` of images in [0, 1] (with labels for
            `cgan`); default: the embedded digits.
        epochs, batch_size, latent_dim, learning_rate: Override `DEFAULTS[name]`.
        seed: Seed of weights, noise and splits.
        out_dir: Folder of the run (created).
        sample_every: Save a GAN sample grid every this many epochs (0: never).
        n_samples: Images generated for the evaluation; 899 (the size of the
            FID-digits reference halves) makes FID comparable with its references.
        evaluate: Compute the quality numbers (FID-digits etc.; 8x8x1 only).
        verbose: Keras progress bar (1), one line per epoch (2) or silent (0).

    Returns:
        The run record (also written to `out_dir/run.json`).
    """
    from kerasdl import backend as kb
    from kerasdl.data import load_digits

    check_model_name(name)
    defaults = DEFAULTS[name]
    settings = GenerativeSettings(
        epochs=defaults.epochs if epochs is None else epochs,
        batch_size=defaults.batch_size if batch_size is None else batch_size,
        latent_dim=defaults.latent_dim if latent_dim is None else latent_dim,
        learning_rate=(
            defaults.learning_rate if learning_rate is None else learning_rate
        ),
        sample_every=defaults.sample_every if sample_every is None else sample_every,
    )
    for field in ("epochs", "batch_size"):
        value = getattr(settings, field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{field}` must be an integer >= 1; received {value!r}.")
    if name != "ddpm" and settings.latent_dim < 1:
        raise ValueError(
            f"`latent_dim` must be >= 1; received {settings.latent_dim!r}."
        )
    if not settings.learning_rate > 0:
        raise ValueError(
            f"`learning_rate` must be > 0; received {settings.learning_rate!r}."
        )
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise ValueError(
            f"`n_samples` must be an integer >= 2; received {n_samples!r}."
        )
    dataset = dataset if dataset is not None else load_digits()
    x = _check_images(dataset.x)
    y = None if dataset.y is None else np.asarray(dataset.y)
    if name == "cgan":
        if y is None or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                "cgan needs integer class labels; the dataset "
                f"{dataset.name!r} has none."
            )
        classes = np.unique(y)
        if len(classes) < 2:
            found = classes[0].item()
            names = getattr(dataset, "class_names", None)
            found = names[found] if names and 0 <= found < len(names) else found
            raise ValueError(
                f"cgan needs at least two classes to condition on; the dataset "
                f"{dataset.name!r} has a single class {found!r}."
            )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kb.set_random_seed(seed)

    x_train, x_test = x, None
    if name == "vae":
        # Held-out 20% (stratified when there are class labels) for the ELBO.
        from sklearn.model_selection import train_test_split

        labels = y if y is not None and np.issubdtype(y.dtype, np.integer) else None
        x_train, x_test = train_test_split(
            x, test_size=0.2, random_state=seed, stratify=labels
        )

    num_classes = int(y.max()) + 1 if name == "cgan" else 10
    model = build_generative(
        name,
        x.shape[1:],
        latent_dim=settings.latent_dim,
        learning_rate=settings.learning_rate,
        num_classes=num_classes,
        seed=seed,
    )
    callbacks = []
    if name in GAN_MODELS and settings.sample_every:
        from kerasdl.models.gans import GANSampleGrid

        callbacks.append(
            GANSampleGrid(out / "samples", n=64, every=settings.sample_every, seed=seed)
        )

    fit_kwargs = dict(
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        verbose=verbose,
        callbacks=callbacks,
        shuffle=True,
    )
    if name == "vae":
        fit_kwargs["validation_data"] = (x_test,)
    start = time.perf_counter()
    history = model.fit(x_train, y if name == "cgan" else None, **fit_kwargs)
    train_seconds = time.perf_counter() - start
    history = {k: [float(v) for v in vals] for k, vals in history.history.items()}

    record = {
        "model": name,
        "dataset": dataset.name,
        "backend": kb.name(),
        "seed": seed,
        "settings": asdict(settings),
        "n_train": int(len(x_train)),
        "train_seconds": round(train_seconds, 2),
        "final": {k: v[-1] for k, v in history.items()},
    }
    _write_history(history, out)
    record["files"] = _save_model(name, model, out)

    start = time.perf_counter()
    samples = _samples(name, model, n_samples, seed=seed, num_classes=num_classes)
    record["sample_seconds"] = round(time.perf_counter() - start, 2)
    from kerasdl.plotting import save_image_grid

    save_image_grid(
        samples[:64],
        out / "samples.png",
        ncols=8,
        title=f"{name} on {dataset.name} ({kb.name()})",
    )
    if evaluate and tuple(x.shape[1:]) == (8, 8, 1):
        record["quality"] = _evaluate(name, model, samples, x_test, seed, out)
    (out / "run.json").write_text(json.dumps(record, indent=2))
    return record


def _samples(name, model, n, *, seed, num_classes, ddim_steps=None):
    if name == "cgan":
        return model.generate(n, labels=np.arange(n) % num_classes, seed=seed)
    if name in GAN_MODELS:
        return model.generate(n, seed=seed)
    if name == "vae":
        return model.sample(n, seed=seed)
    if ddim_steps:
        return model.sample_ddim(n, steps=ddim_steps, seed=seed)
    return model.sample(n, seed=seed)


def _save_model(name, model, out: Path) -> list[str]:
    if name in GAN_MODELS:
        model.generator.save(out / "generator.keras")
        return ["generator.keras"]
    filename = f"{name}.keras"
    model.save(out / filename)
    return [filename]


def _write_history(history: dict, out: Path) -> None:
    keys = sorted(history)
    with open(out / "history.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *keys])
        for epoch, row in enumerate(zip(*(history[k] for k in keys)), start=1):
            writer.writerow([epoch, *row])
    from kerasdl.plotting import plt, save_figure

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key in keys:
        if key.endswith("loss") or key in ("wasserstein", "neg_elbo"):
            ax.plot(range(1, len(history[key]) + 1), history[key], label=key)
    ax.set_xlabel("epoch")
    ax.legend(fontsize="small")
    ax.set_title("training history")
    save_figure(fig, out / "history.png")


def _evaluate(name, model, samples, x_test, seed, out: Path) -> dict:
    from kerasdl.evaluation.fid import FIDDigits, plot_class_histogram

    fid = FIDDigits()
    references = fid.reference_values(seed)
    quality = {
        "fid_digits": float(fid.score_vs_digits(samples, seed)),
        "fid_reference_real_vs_real": references["real_vs_real"],
        "fid_reference_real_vs_noise": references["real_vs_noise"],
        "n_samples": int(len(samples)),
    }
    histogram = fid.class_histogram(samples)
    quality["class_histogram"] = {
        "counts": [int(c) for c in histogram["counts"]],
        "mode_coverage": float(histogram["mode_coverage"]),
        "normalized_entropy": float(histogram["normalized_entropy"]),
        "missing": list(histogram["missing"]),
    }
    plot_class_histogram(
        histogram,
        out / "class_histogram.png",
        title=f"{name}: predicted digits of {len(samples)} samples",
    )
    if name == "cgan":
        requested = np.arange(len(samples)) % model.num_classes
        predicted = fid.predict(samples)
        quality["cgan_label_agreement"] = float(np.mean(predicted == requested))
    if name == "wgan_gp":
        from kerasdl.data import load_digits

        norms = model.interpolate_gradient_norms(load_digits().x, seed=seed)
        quality["critic_grad_norm_mean"] = float(norms.mean())
        quality["critic_grad_norm_std"] = float(norms.std())
    if name == "vae":
        neg_elbo = model.negative_elbo(x_test, samples=10, seed=seed)
        quality["test_neg_elbo_per_sample"] = float(np.mean(neg_elbo))
        quality["n_test"] = int(len(x_test))
    if name == "ddpm":
        start = time.perf_counter()
        ddim = model.sample_ddim(len(samples), steps=50, seed=seed)
        quality["ddim50_sample_seconds"] = round(time.perf_counter() - start, 2)
        quality["fid_digits_ddim50"] = float(fid.score_vs_digits(ddim, seed))
        from kerasdl.plotting import save_image_grid

        save_image_grid(
            ddim[:64], out / "samples_ddim.png", ncols=8, title="DDIM, 50 steps"
        )
    return quality
