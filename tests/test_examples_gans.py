"""examples/dcgan.py, conditional_gan.py, wgan.py and wgan_gp.py run (tiny settings)
and deliver what they promise."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# One epoch on 128 digits (two steps of 64): the compile dominates.
TINY = ("--epochs", "1", "--train-size", "128", "--batch-size", "64")
SMALL_GRID = ("--grid-size", "16", "--samples", "64")


def run_example(name: str, *args: str):
    """Import examples/<name>.py without running it, then call its main(argv)."""
    namespace = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="not_main")
    return namespace["main"](list(args))


def check_fid(results):
    reference = results["fid_reference"]
    assert reference["real_vs_real"] < reference["real_vs_noise"]
    assert np.isfinite(results["fid_digits"]) and results["fid_digits"] > 0


def check_files(results, tmp_path):
    for png in results["pngs"].values():
        for path in [png] if isinstance(png, str) else png:
            assert path.endswith(".png") and Path(path).stat().st_size > 0
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["fid_digits"] == results["fid_digits"]


def test_dcgan(tmp_path, capsys):
    results = run_example(
        "dcgan", *TINY, *SMALL_GRID, "--sample-every", "1", "--out", str(tmp_path)
    )
    printed = capsys.readouterr().out
    assert results["epochs"] == 1 and results["n_train"] == 128
    assert len(results["discriminator_loss"]) == len(results["generator_loss"]) == 1
    assert np.isfinite(results["discriminator_loss"] + results["generator_loss"]).all()
    check_fid(results)
    assert sum(results["class_counts"]) == results["n_samples"] == 64
    assert 0.0 < results["mode_coverage"] <= 1.0
    # The saved and reloaded generator makes the same images from the same noise.
    assert results["save_load_max_abs_diff"] < 1e-6
    assert Path(results["generator_path"]).is_file()
    assert len(results["pngs"]["grids"]) == 1  # GANSampleGrid, every epoch
    check_files(results, tmp_path)
    assert "FID-digits of 64 samples" in printed and "mode coverage" in printed


def test_conditional_gan(tmp_path, capsys):
    results = run_example(
        "conditional_gan",
        *TINY,
        *("--per-class", "3", "--check-per-class", "10", "--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    assert results["n_checked"] == 100
    per_class = results["label_agreement_per_class"]
    assert len(per_class) == 10 and all(0.0 <= a <= 1.0 for a in per_class)
    # Ten classes, equally many images each: the overall rate is the mean.
    assert np.isclose(np.mean(per_class), results["label_agreement"])
    check_fid(results)
    check_files(results, tmp_path)
    assert "agrees with the requested digit" in printed


def test_wgan_keeps_every_critic_weight_inside_the_clip(tmp_path, capsys):
    results = run_example(
        "wgan", *TINY, *SMALL_GRID, "--clip-value", "0.01", "--out", str(tmp_path)
    )
    printed = capsys.readouterr().out
    # Glorot-initialised conv kernels reach ~0.1: only the clipping keeps them here.
    assert 0.0 < results["critic_max_abs_weight"] <= results["clip_value"] == 0.01
    assert results["weights_inside_clip"]
    assert len(results["wasserstein"]) == 1 and np.isfinite(results["wasserstein"][0])
    check_fid(results)
    check_files(results, tmp_path)
    assert "inside: True" in printed


def test_wgan_gp(tmp_path, capsys):
    results = run_example("wgan_gp", *TINY, *SMALL_GRID, "--out", str(tmp_path))
    printed = capsys.readouterr().out
    history = results["history"]
    assert all(len(values) == 1 for values in history.values())
    assert np.isfinite(sum(history.values(), [])).all()
    assert history["gradient_penalty"][0] >= 0
    # Ten penalised critic updates already pull the gradient norm towards 1.
    before, after = results["grad_norm_mean_before"], results["grad_norm_mean"]
    assert abs(after - 1.0) < abs(before - 1.0)
    check_fid(results)
    check_files(results, tmp_path)
    assert "the penalty's target is 1" in printed
