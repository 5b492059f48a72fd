"""Data loading: kerasdl's offline datasets, leak-free splits and scaling.

Shows:

- the embedded real datasets: digits (8x8 images), wine (tabular), sunspots (a
  yearly time series) and a text corpus (Python's own help topics), each a
  `kerasdl.data.Dataset` of NumPy arrays plus metadata;
- a stratified train/validation/test split that keeps the class proportions;
- 5 stratified folds for cross-validation (every sample is tested exactly once);
- a `Standardizer` fitted on the *training* part only and applied unchanged to the
  validation and test parts (so no test statistics leak into training);
- a time series split the honest way: by time, never at random.

Nothing here needs the network or a backend-specific import.

Run:

    python examples/data_loading.py
    python examples/data_loading.py --dataset wine --folds 3 --out runs/examples/data
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from kerasdl import data

NAME = "data_loading"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        default="digits",
        choices=["digits", "wine", "breast_cancer", "iris"],
        help="classification set to split, fold and scale (default: digits)",
    )
    parser.add_argument("--val-size", type=float, default=0.15)
    parser.add_argument("--test-size", type=float, default=0.15)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def class_fractions(y, num_classes):
    """Fraction of each class in `y`, as a list rounded for printing."""
    counts = np.bincount(y, minlength=num_classes)
    return np.round(counts / counts.sum(), 3)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # --- The embedded datasets -------------------------------------------------------
    print("Embedded datasets (all offline):")
    digits = data.load_digits()
    wine = data.load_wine()
    sunspots = data.load_sunspots()
    corpus = data.load_text_corpus()
    for ds in (digits, wine, sunspots, corpus):
        print(f"  {ds.summary()}")
    print(
        f"  digits pixel range [{digits.x.min():.1f}, {digits.x.max():.1f}], "
        f"dtype {digits.x.dtype}"
    )
    print(f"  wine features: {', '.join(wine.feature_names[:4])}, ...")
    years = sunspots.extra["years"]
    print(
        f"  sunspots {years[0]}-{years[-1]}: mean {sunspots.x.mean():.1f}, "
        f"max {sunspots.x.max():.1f}"
    )
    n_chars = sum(len(doc) for doc in corpus.x)
    print(
        f"  text corpus: {len(corpus)} documents, {n_chars:,} characters; first "
        f"titles {corpus.extra['titles'][:3]}"
    )

    # --- A stratified train / validation / test split --------------------------------
    ds = data.load_dataset(args.dataset)
    split = data.train_val_test_split(
        ds.x,
        ds.y,
        val_size=args.val_size,
        test_size=args.test_size,
        seed=args.seed,
    )
    k = ds.num_classes
    print(f"\nStratified split of {ds.name} (seed {args.seed}):")
    print(f"  {'part':<6}{'samples':>8}  class fractions")
    parts = {
        "all": ds.y,
        "train": split.y_train,
        "val": split.y_val,
        "test": split.y_test,
    }
    for part, y in parts.items():
        print(f"  {part:<6}{len(y):>8}  {class_fractions(y, k).tolist()}")
    sizes = {part: int(len(y)) for part, y in parts.items()}

    # --- Stratified k folds ----------------------------------------------------------
    folds = data.stratified_kfold(ds.y, n_splits=args.folds, seed=args.seed)
    print(f"\n{args.folds} stratified folds of {ds.name}:")
    tested = np.zeros(len(ds.y), dtype=int)
    for i, (train_idx, test_idx) in enumerate(folds, start=1):
        tested[test_idx] += 1
        print(
            f"  fold {i}: train {len(train_idx):>5}, test {len(test_idx):>4}, "
            f"test class fractions {class_fractions(ds.y[test_idx], k).tolist()}"
        )
    print(f"  every sample tested exactly once: {bool(np.all(tested == 1))}")

    # --- Standardizer: fitted on the training part only ------------------------------
    scaler = data.Standardizer().fit(split.x_train)
    x_train = scaler.transform(split.x_train)
    x_val = scaler.transform(split.x_val)
    x_test = scaler.transform(split.x_test)
    print(
        f"\n{scaler!r} fitted on the training part ({len(x_train)} samples; "
        "per channel for images, per column for tables):"
    )
    for part, x in (("train", x_train), ("val", x_val), ("test", x_test)):
        print(f"  {part:<6} mean {x.mean():+.3f}  std {x.std():.3f}")
    print("  (the training part is centred exactly; val and test only roughly)")

    # --- A time series is split by time, not at random -------------------------------
    cut = int(len(sunspots.x) * 0.8)
    series_scaler = data.Standardizer().fit(sunspots.x[:cut])
    scaled = series_scaler.transform(sunspots.x)
    print(
        f"\nsunspots split by time: train {years[0]}-{years[cut - 1]} "
        f"({cut} years), test {years[cut]}-{years[-1]} ({len(years) - cut} years); "
        f"scaled test mean {scaled[cut:].mean():+.3f}"
    )

    summary = {
        "datasets": {
            ds_.name: {"task": ds_.task, "shape": list(ds_.x.shape)}
            for ds_ in (digits, wine, sunspots, corpus)
        },
        "split": {"dataset": ds.name, "sizes": sizes},
        "folds": [{"train": int(len(tr)), "test": int(len(te))} for tr, te in folds],
        "standardizer": {
            "n_features_in": int(scaler.n_features_in_),
            "train_mean": float(x_train.mean()),
            "test_mean": float(x_test.mean()),
        },
    }
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2))
    print(f"\nWrote {path}")
    return summary


if __name__ == "__main__":
    main()
