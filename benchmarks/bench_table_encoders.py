"""kerasdl's table preprocessing against skrub's `tabular_pipeline`, on raw tables.

Issue 16 names skrub's `TableVectorizer` as a field-made alternative to kerasdl's
own `ColumnTransformer` recipes (`kerasdl.baselines.make_classical`). This measures
both on the raw tables that ship with kerasdl's dependencies (string categories,
missing cells, dates), with the same final estimators and the same folds as
`kerasdl compare` (5 folds, seed 0):

- `kerasdl`: `make_classical(name, feature_types=...)`, the roles inferred by
  `load_dataset` (one-hot / standardise / impute with indicators for the linear
  model; ordinal codes and native categorical splits for the boosted trees);
- `skrub`: `skrub.tabular_pipeline(estimator)` on the same columns, letting skrub
  infer the column types itself (its `TableVectorizer`, with the encoder it picks
  for that estimator).

Models: the linear one (`logreg` / `ridge`) and `HistGradientBoosting`
(`gradient_boosting`). skrub is not a kerasdl dependency; install it to run this:

    pip install skrub==0.11.0
    python benchmarks/bench_table_encoders.py [--datasets penguins,cars,seattle_weather]

Prints a table and writes `benchmarks/results/bench_table_encoders.json`. Fit
seconds are per fold; time on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
LINEAR = {"classification": "logreg", "regression": "ridge"}


def _score(pipeline_factory, x, y, folds, task, metric):
    from sklearn.base import clone

    from kerasdl.baselines.metrics import score_predictions

    labels = np.unique(y) if task == "classification" else None
    scores, fit_seconds = [], []
    for train, test in folds:
        model = clone(pipeline_factory())
        start = time.perf_counter()
        model.fit(x.iloc[train], y[train])
        fit_seconds.append(time.perf_counter() - start)
        pred = model.predict(x.iloc[test])
        proba = model.predict_proba(x.iloc[test]) if task == "classification" else None
        classes = model.classes_ if task == "classification" else None
        fold = score_predictions(
            task, y[test], pred, proba=proba, model_classes=classes, labels=labels
        )
        scores.append(fold[metric])
    return {
        f"{metric}_mean": float(np.mean(scores)),
        f"{metric}_std": float(np.std(scores)),
        "fit_seconds": float(np.mean(fit_seconds)),
    }


def run_dataset(name, folds, seed):
    import skrub
    from sklearn.base import clone

    from kerasdl.baselines import make_classical
    from kerasdl.baselines.classical import _make_model
    from kerasdl.baselines.metrics import default_metric, make_folds
    from kerasdl.data import load_dataset

    dataset = load_dataset(name)
    task = dataset.task
    roles = dataset.feature_types
    x = dataset.x[list(roles)]
    y = np.asarray(dataset.y)
    metric = default_metric(task, y)
    splits = make_folds(task, y, folds, seed=seed)
    rows = []
    for model_name in (LINEAR[task], "gradient_boosting"):
        bare = _make_model(model_name, task, seed, categorical=())
        variants = {
            "kerasdl": lambda m=model_name: make_classical(
                m, task=task, feature_types=roles, random_state=seed
            ),
            "skrub": lambda b=bare: skrub.tabular_pipeline(clone(b)),
        }
        for encoder, factory in variants.items():
            result = _score(factory, x, y, splits, task, metric)
            rows.append({"model": model_name, "encoder": encoder, **result})
            print(
                f"  {name:<16} {model_name:<18} {encoder:<8} "
                f"{metric} {result[f'{metric}_mean']:.4f} ± "
                f"{result[f'{metric}_std']:.4f}  fit {result['fit_seconds']:.2f} s",
                flush=True,
            )
    return {"dataset": name, "task": task, "metric": metric, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="penguins,cars,seattle_weather")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "bench_table_encoders.json"
    )
    args = parser.parse_args()
    try:
        import skrub
    except ImportError:
        print(
            "bench_table_encoders: skrub is not installed (it is not a kerasdl "
            "dependency); run `pip install skrub==0.11.0` first.",
            file=sys.stderr,
        )
        return 2
    runs = [
        run_dataset(name, args.folds, args.seed) for name in args.datasets.split(",")
    ]
    record = {
        "benchmark": "bench_table_encoders",
        "skrub": skrub.__version__,
        "folds": args.folds,
        "seed": args.seed,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
