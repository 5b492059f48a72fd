"""A deep Keras model as a scikit-learn estimator, cross-validated like any other.

Shows `kerasdl.baselines.make_deep_estimator`: a registered deep model (the MLP)
wrapped as a scikit-learn `Pipeline([StandardScaler, KerasClassifier])`, so that
`cross_validate` / `cross_val_score` treat it like a classical model. Every fold
clones the pipeline, fits the scaler on that fold's training part only and trains
a fresh Keras model for the configured number of epochs (the clone keeps them).
The deep model and a classical one (`make_classical`, default logistic regression)
are scored on the *same* stratified folds of scikit-learn's breast cancer data
(569 real tumours, 30 features), and each is printed as mean ± std.

Run:

    python examples/sklearn_cross_validation.py
    KERAS_BACKEND=jax python examples/sklearn_cross_validation.py --classical svm
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_validate

from kerasdl import data
from kerasdl.baselines import CLASSICAL_MODELS, make_classical, make_deep_estimator

NAME = "sklearn_cross_validation"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10, help="MLP epochs per fold")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--classical", default="logreg", choices=CLASSICAL_MODELS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    cancer = data.load_breast_cancer()
    print(cancer.summary(), f"(classes: {', '.join(cancer.class_names)})")
    x, y = cancer.x, cancer.y

    deep = make_deep_estimator(
        "mlp",
        x.shape[1:],
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    classical = make_classical(args.classical, random_state=args.seed)
    print("deep pipeline:     ", " -> ".join(name for name, _ in deep.steps))
    print("classical pipeline:", " -> ".join(name for name, _ in classical.steps))

    # One set of folds for both, so the scores are paired.
    cv = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    results = {}
    for name, estimator in (("mlp", deep), (args.classical, classical)):
        scores = cross_validate(
            estimator,
            x,
            y,
            cv=cv,
            scoring=("accuracy", "f1_macro"),
            return_estimator=True,
        )
        accuracy = scores["test_accuracy"]
        row = {
            "accuracy_mean": float(np.mean(accuracy)),
            "accuracy_std": float(np.std(accuracy)),
            "f1_macro_mean": float(np.mean(scores["test_f1_macro"])),
            "fold_accuracies": [float(a) for a in accuracy],
            "fit_seconds": float(np.mean(scores["fit_time"])),
        }
        if name == "mlp":
            # Each fold's clone trained for the configured epochs, not one.
            row["epochs_per_fold"] = [
                len(fitted[-1].history_.history["loss"])
                for fitted in scores["estimator"]
            ]
        results[name] = row
        print(
            f"{name:>16}: accuracy {row['accuracy_mean']:.4f} ± "
            f"{row['accuracy_std']:.4f}, macro-F1 {row['f1_macro_mean']:.4f}, "
            f"fit {row['fit_seconds']:.2f} s/fold, folds "
            f"{np.round(accuracy, 4).tolist()}"
        )
    print(f"MLP epochs trained per fold: {results['mlp']['epochs_per_fold']}")

    path = out / "cross_validation.json"
    path.write_text(json.dumps({"folds": args.folds, "results": results}, indent=2))
    print(f"Wrote {path}")
    return results


if __name__ == "__main__":
    main()
