"""The generative job and `kerasdl train gan --model NAME`: the run folder holds the
model, the sample grids, the history and the quality numbers; mistakes exit 2."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from kerasdl.cli import main
from kerasdl.data import Dataset, load_digits
from kerasdl.recipes.generative import GENERATIVE_MODELS, train_generative

# The GAN and VAE runs below take one whole-dataset batch per step (digits: 1797
# images, 1437 for the VAE's training split): on JAX every new batch shape is a
# train-step compile, and a last partial batch of 64 would be a second one. (Not
# the DDPM run: with that batch it once took 789 s on torch, cause not found.)


def test_cli_trains_wgan_gp_and_writes_its_run(tmp_path, capsys):
    out = tmp_path / "wgan_gp"
    code = main(
        [
            *("train", "gan", "--model", "wgan_gp", "--dataset", "digits"),
            *("--epochs", "1", "--sample-every", "1", "--batch-size", "1797"),
            *("--quiet", "--out", str(out)),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "wgan_gp on digits: 1 epoch in" in printed and "critic grad norm" in printed
    run = json.loads((out / "run.json").read_text())
    assert run["model"] == "wgan_gp" and run["settings"]["epochs"] == 1
    assert run["backend"] == keras.backend.backend()
    quality = run["quality"]
    assert quality["n_samples"] == 899
    # One epoch does not make digits: far above the real-vs-real floor.
    assert quality["fid_digits"] > quality["fid_reference_real_vs_real"]
    assert np.isfinite(quality["critic_grad_norm_mean"])
    assert sum(quality["class_histogram"]["counts"]) == 899
    for name in ("samples.png", "history.png", "class_histogram.png"):
        assert (out / name).stat().st_size > 0
    assert [p.name for p in (out / "samples").iterdir()] == ["samples_epoch_001.png"]
    lines = (out / "history.csv").read_text().strip().splitlines()
    assert lines[0].startswith("epoch,") and len(lines) == 2
    generator = keras.saving.load_model(out / "generator.keras")
    assert generator.output_shape == (None, 8, 8, 1)


def test_vae_and_conditional_gan_report_their_own_numbers(tmp_path):
    vae = train_generative(
        "vae",
        epochs=2,
        batch_size=1437,
        out_dir=tmp_path / "vae",
        n_samples=50,
        verbose=0,
    )
    quality = vae["quality"]
    assert vae["n_train"] == 1437 and quality["n_test"] == 360
    assert 0 < quality["test_neg_elbo_per_sample"] < 100
    assert "val_neg_elbo" in vae["final"]
    assert (tmp_path / "vae" / "vae.keras").is_file()

    cgan = train_generative(
        "cgan",
        epochs=1,
        batch_size=1797,
        out_dir=tmp_path / "cgan",
        n_samples=50,
        verbose=0,
    )
    assert 0.0 <= cgan["quality"]["cgan_label_agreement"] <= 1.0


def test_ddpm_run_compares_ddim_with_the_full_chain(tmp_path):
    run = train_generative("ddpm", epochs=1, out_dir=tmp_path, n_samples=8, verbose=0)
    quality = run["quality"]
    assert np.isfinite(quality["fid_digits"]) and np.isfinite(
        quality["fid_digits_ddim50"]
    )
    assert (tmp_path / "samples_ddim.png").stat().st_size > 0
    assert (tmp_path / "ddpm.keras").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "gan"], "needs --model NAME"),
        (["train", "gan", "--model", "stylegan"], "Unknown generative model"),
        (["train", "cnn", "--model", "vae"], "--model is for generative models"),
        (["train", "vae", "--model", "ddpm"], "Two models given"),
        (["train", "dcgan", "--dataset", "wine"], "needs images"),
        (["train", "dcgan", "--epochs", "0"], "`epochs` must be an integer >= 1"),
    ],
)
def test_cli_mistakes_are_one_line_and_exit_2(argv, message, tmp_path, capsys):
    code = main([*argv, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_job_checks_data_before_training(tmp_path):
    digits = load_digits()
    unlabeled = Dataset(
        x=digits.x,
        y=digits.y.astype("float32"),
        name="values",
        task="regression",
        description="digits with float targets",
    )
    with pytest.raises(ValueError, match="cgan needs integer class labels"):
        train_generative("cgan", unlabeled, epochs=1, out_dir=tmp_path)
    scaled = Dataset(
        x=digits.x * 16,
        y=digits.y,
        name="raw",
        task="classification",
        description="digits in 0..16",
    )
    with pytest.raises(ValueError, match=r"scaled to \[0, 1\]"):
        train_generative("dcgan", scaled, epochs=1, out_dir=tmp_path)
    with pytest.raises(ValueError, match="n_samples"):
        train_generative("dcgan", epochs=1, out_dir=tmp_path, n_samples=1)
    assert set(GENERATIVE_MODELS) == {"dcgan", "cgan", "wgan", "wgan_gp", "vae", "ddpm"}


def test_defaults_are_generative_settings_and_overrides_apply(tmp_path):
    from kerasdl.recipes.generative import DEFAULTS, GenerativeSettings

    assert set(DEFAULTS) == set(GENERATIVE_MODELS)
    assert all(isinstance(s, GenerativeSettings) for s in DEFAULTS.values())
    run = train_generative(
        "dcgan",
        load_digits(),
        epochs=1,
        latent_dim=4,
        batch_size=256,
        out_dir=tmp_path,
        evaluate=False,
        n_samples=4,
        verbose=0,
    )
    expected = {**vars(DEFAULTS["dcgan"]), "epochs": 1, "latent_dim": 4}
    assert run["settings"] == {**expected, "batch_size": 256}
    assert "quality" not in run
