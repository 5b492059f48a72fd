"""Wall time and accuracy of `kerasdl compare` on digits, once per backend.

Runs the same command as `make demo` in a fresh process per backend (so each pays its
own imports, as a user does), prints a table and writes
`benchmarks/results/bench_compare.json`.

    python benchmarks/bench_compare.py [--backends tensorflow,jax,torch] [--folds 5]

Targets (issue #2): each run finishes within 300 s on 2 CPU cores, and the best deep
model's mean accuracy is at least the best classical model's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TARGET_SECONDS = 300.0


def run_backend(backend: str, folds: int, dataset: str) -> dict:
    out = ROOT / "runs" / "bench" / backend
    cmd = [
        sys.executable,
        "-m",
        "kerasdl.cli",
        "--backend",
        backend,
        "compare",
        "--dataset",
        dataset,
        "--folds",
        str(folds),
        "--out",
        str(out),
        "--quiet",
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{backend}: kerasdl compare failed:\n{proc.stderr[-2000:]}")
    report = json.loads((out / "compare.json").read_text())
    best = {}
    for kind in ("classical", "deep"):
        rows = [r for r in report["results"] if r["kind"] == kind]
        best[kind] = max(rows, key=lambda r: r["accuracy_mean"])
    return {
        "backend": backend,
        "wall_seconds": round(wall, 1),
        "within_target": wall <= TARGET_SECONDS,
        "best_classical": best["classical"]["model"],
        "best_classical_accuracy": best["classical"]["accuracy_mean"],
        "best_deep": best["deep"]["model"],
        "best_deep_accuracy": best["deep"]["accuracy_mean"],
        "deep_at_least_classical": (
            best["deep"]["accuracy_mean"] >= best["classical"]["accuracy_mean"]
        ),
        "results": report["results"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--dataset", default="digits")
    args = parser.parse_args()
    rows = []
    for backend in args.backends.split(","):
        print(
            f"running kerasdl compare on {args.dataset} with {backend} ...", flush=True
        )
        rows.append(run_backend(backend, args.folds, args.dataset))
    header = f"{'backend':<11} {'wall s':>7} {'≤300s':>6}  {'best classical':<24} "
    header += f"{'best deep':<18} deep≥classical"
    print(header)
    for r in rows:
        print(
            f"{r['backend']:<11} {r['wall_seconds']:>7.1f} "
            f"{str(r['within_target']):>6}  "
            f"{r['best_classical']:<14} {r['best_classical_accuracy']:.4f}   "
            f"{r['best_deep']:<8} {r['best_deep_accuracy']:.4f}   "
            f"{r['deep_at_least_classical']}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_compare.json"
    payload = {
        "benchmark": "kerasdl compare wall time",
        "dataset": args.dataset,
        "folds": args.folds,
        "target_seconds": TARGET_SECONDS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": rows,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
