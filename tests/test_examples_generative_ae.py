"""examples/autoencoders.py and examples/vae.py run (tiny settings) and deliver."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str):
    """Import examples/<name>.py without running it, then call its main(argv)."""
    namespace = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="not_main")
    return namespace["main"](list(args))


def test_autoencoders(tmp_path, capsys):
    results = run_example(
        "autoencoders",
        *("--epochs", "3", "--anomaly-epochs", "3", "--batch-size", "64"),
        *("--learning-rate", "3e-3", "--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    under = results["undercomplete"]
    assert 0 < under["test_mse"] < 0.2 and 0 < under["pca_test_mse"] < 0.2
    denoising = results["denoising"]
    assert denoising["corrupted_input_mse"] > 0
    detector = results["anomaly_detection"]
    assert detector["anomaly_class"] == 0
    assert detector["n_normal"] + detector["n_anomalous"] + detector["n_train"] == 1797
    assert 0.0 <= detector["auc"] <= 1.0
    for line in ("Undercomplete dense autoencoder", "denoising autoencoder", "ROC AUC"):
        assert line in printed
    for png in ("reconstructions.png", "denoising.png"):
        assert (tmp_path / png).stat().st_size > 0
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["anomaly_detection"]["auc"] == detector["auc"]


def test_vae(tmp_path, capsys):
    results = run_example(
        "vae",
        *("--epochs", "2", "--batch-size", "64", "--elbo-samples", "2"),
        *("--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    assert results["latent_dim"] == 2 and results["n_test"] == 360
    assert results["n_train"] + results["n_test"] == 1797
    assert (
        np.isfinite(results["test_neg_elbo_mean"]) and results["test_neg_elbo_mean"] > 0
    )
    assert results["history_last"]["neg_elbo"] < results["neg_elbo_first_epoch"]
    assert {"val_neg_elbo", "val_kl_loss"} <= set(results["history_last"])
    assert "Held-out negative ELBO per digit" in printed
    for png in (
        "samples.png",
        "interpolation.png",
        "latent_space.png",
        "latent_grid.png",
    ):
        assert (tmp_path / png).stat().st_size > 0
    assert (tmp_path / "results.json").is_file()
