"""Generative models on the embedded digits, on every backend: FID-digits and friends.

Issue #5, "Must show". For each backend (each in a fresh process) and each model,
`kerasdl.recipes.generative.train_generative` trains with its defaults on
scikit-learn's 1,797 8x8 digits (the same job as `kerasdl train gan --model NAME`)
and measures:

- FID-digits of 899 samples against one real half of the digits, next to the two
  reference values of the metric (the other real half: the floor; uniform noise:
  useless), and the predicted-class histogram (mode coverage);
- WGAN-GP: the critic's mean gradient norm on real/fake interpolates (the penalty
  works when it is within 0.8-1.2);
- conditional GAN: how often the FID-digits classifier agrees with the requested
  class (100 samples per class);
- VAE: the negative ELBO per sample (nats) on a held-out 20% of the digits, with 10
  samples of z per image;
- DDPM: FID of DDIM with 50 steps next to the full 1,000-step ancestral chain, and
  both sampling times;
- the anomaly detector: a convolutional autoencoder trained on the digits other
  than one class (normal data only), scored by reconstruction error; ROC AUC on
  held-out normal digits plus every digit of the held-out class, for each of the
  ten classes in turn.

    python benchmarks/bench_generative.py                      # both backends
    python benchmarks/bench_generative.py --backends jax --models wgan_gp,vae

The table is printed; the numbers go to `benchmarks/results/bench_generative.json`
and the run folders (sample grids, histories, class histograms) to
`runs/bench_generative/<backend>/<model>/`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from _workers import run_in_fresh_process

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = ROOT / "runs" / "bench_generative"
MODELS = ("dcgan", "cgan", "wgan", "wgan_gp", "vae", "ddpm")
GRAD_NORM_RANGE = (0.8, 1.2)


def run_here(args) -> dict:
    """The benchmark on the current backend, in this process."""
    import keras
    import numpy as np

    from kerasdl.recipes.generative import train_generative

    backend = keras.backend.backend()
    rows = []
    for name in args.models:
        start = time.perf_counter()
        record = train_generative(
            name,
            epochs=args.epochs,
            seed=args.seed,
            out_dir=RUNS / backend / name,
            verbose=0,
        )
        record["wall_seconds"] = round(time.perf_counter() - start, 1)
        rows.append(record)
        quality = record["quality"]
        print(
            f"  {backend} {name}: FID-digits {quality['fid_digits']:.2f} after "
            f"{record['settings']['epochs']} epochs ({record['train_seconds']:.0f} s)",
            flush=True,
        )
    anomaly = None
    if args.anomaly:
        anomaly = anomaly_benchmark(args, backend)
        print(
            f"  {backend} anomaly AUC: mean {anomaly['mean_auc']:.3f} over the ten "
            f"held-out classes (min {anomaly['min_auc']:.3f})",
            flush=True,
        )
    return {
        "backend": backend,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "rows": rows,
        "anomaly": anomaly,
    }


def anomaly_benchmark(args, backend) -> dict:
    from kerasdl.data import load_digits
    from kerasdl.models import Autoencoder, anomaly_detection_auc

    digits = load_digits()
    per_class = []
    for anomaly_class in range(10):
        result = anomaly_detection_auc(
            lambda: Autoencoder((8, 8, 1), latent_dim=8, kind="conv", seed=args.seed),
            digits.x,
            digits.y,
            anomaly_class=anomaly_class,
            epochs=args.anomaly_epochs,
            seed=args.seed,
        )
        per_class.append(
            {
                key: result[key]
                for key in (
                    "anomaly_class",
                    "auc",
                    "n_train",
                    "n_normal",
                    "n_anomalous",
                    "fpr",
                    "tpr",
                )
            }
        )
    aucs = [row["auc"] for row in per_class]
    return {
        "model": "Autoencoder((8, 8, 1), latent_dim=8, kind='conv')",
        "epochs": args.anomaly_epochs,
        "per_class": per_class,
        "mean_auc": float(sum(aucs) / len(aucs)),
        "min_auc": float(min(aucs)),
    }


def run_subprocess(backend: str, argv: list[str]) -> dict:
    """The benchmark in a fresh process with `KERAS_BACKEND=backend`."""
    return run_in_fresh_process(__file__, backend, argv)


def _fmt(value, spec):
    return format(value, spec) if value is not None else "-"


def print_table(results: list[dict]) -> None:
    header = (
        f"{'model':<8} {'backend':<10} {'epochs':>6} {'train s':>7} {'FID':>7} "
        f"{'modes':>5} {'DDIM50':>7} {'grad|':>6} {'agree':>6} {'-ELBO':>6}"
    )
    print("\n" + header)
    reference = None
    for result in results:
        for row in result["rows"]:
            q = row["quality"]
            reference = q
            print(
                f"{row['model']:<8} {row['backend']:<10} "
                f"{row['settings']['epochs']:>6} {row['train_seconds']:>7.0f} "
                f"{q['fid_digits']:>7.2f} "
                f"{q['class_histogram']['mode_coverage'] * 10:>5.0f} "
                f"{_fmt(q.get('fid_digits_ddim50'), '7.2f'):>7} "
                f"{_fmt(q.get('critic_grad_norm_mean'), '6.3f'):>6} "
                f"{_fmt(q.get('cgan_label_agreement'), '6.3f'):>6} "
                f"{_fmt(q.get('test_neg_elbo_per_sample'), '6.2f'):>6}"
            )
    if reference:
        print(
            f"FID-digits references (899 images per set): real vs real "
            f"{reference['fid_reference_real_vs_real']:.2f}, real vs noise "
            f"{reference['fid_reference_real_vs_noise']:.2f}. modes: digits "
            f"covered of 10; grad|: WGAN-GP critic gradient norm (target "
            f"{GRAD_NORM_RANGE[0]}-{GRAD_NORM_RANGE[1]})."
        )
    for result in results:
        anomaly = result.get("anomaly")
        if anomaly:
            aucs = " ".join(f"{row['auc']:.3f}" for row in anomaly["per_class"])
            print(
                f"anomaly AUC on {result['backend']} (held-out class 0..9): {aucs}; "
                f"mean {anomaly['mean_auc']:.3f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backends",
        default="tensorflow,jax,torch",
        help="comma-separated backends, each run in a fresh process",
    )
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument(
        "--epochs", type=int, default=None, help="override every model's epochs"
    )
    parser.add_argument("--anomaly-epochs", type=int, default=30)
    parser.add_argument(
        "--no-anomaly", dest="anomaly", action="store_false", help="skip the AUC"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--row-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.models = [m for m in args.models.split(",") if m]
    unknown = set(args.models) - set(MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {MODELS}")

    if args.row_json:  # a worker started by main
        Path(args.row_json).write_text(json.dumps(run_here(args)))
        return 0

    argv = [arg for arg in sys.argv[1:] if not arg.startswith("--backends")]
    if "--backends" in sys.argv:
        index = sys.argv.index("--backends")
        argv = sys.argv[1:index] + sys.argv[index + 2 :]
    results = [run_subprocess(b, argv) for b in args.backends.split(",") if b]
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench_generative.json"
    existing = json.loads(out.read_text()) if out.is_file() else {}
    by_backend = existing.get("by_backend", {})
    for result in results:
        previous = by_backend.get(result["backend"], {"rows": [], "anomaly": None})
        rows = {row["model"]: row for row in previous.get("rows", [])}
        rows.update({row["model"]: row for row in result["rows"]})
        result["rows"] = [rows[m] for m in MODELS if m in rows]
        if result.get("anomaly") is None:
            result["anomaly"] = previous.get("anomaly")
        by_backend[result["backend"]] = result
    out.write_text(
        json.dumps(
            {
                "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                "by_backend": by_backend,
            },
            indent=2,
        )
    )
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
