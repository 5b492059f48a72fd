"""`kerasdl compare`: classical scikit-learn baselines vs deep Keras models on the same
folds (`kerasdl.baselines.compare`); `--list` lists the models."""

from __future__ import annotations

from pathlib import Path

from kerasdl.cli.common import add_data_source, load_dataset_arg, names

NAME = "compare"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="classical ML vs deep learning on the same folds",
        description="Score classical scikit-learn baselines and deep Keras models "
        "on the same k folds (classification or regression; images, numeric or raw "
        "tables with strings and missing cells); print a table and write "
        "compare.json and compare.png.",
    )
    add_data_source(p)
    p.add_argument(
        "--folds",
        type=int,
        default=5,
        help="folds (default 5): stratified for classification, shuffled for "
        "regression, grouped with --groups",
    )
    p.add_argument(
        "--metric",
        default=None,
        help="ranking metric: accuracy, balanced_accuracy, f1_macro, roc_auc, "
        "log_loss (classification; default balanced_accuracy when the classes "
        "are imbalanced, else accuracy) or rmse, mae, r2 (regression; default rmse)",
    )
    p.add_argument(
        "--classical",
        type=names,
        default=None,
        help="comma-separated classical models, or 'none' (default: all)",
    )
    p.add_argument(
        "--deep",
        type=names,
        default=None,
        help="comma-separated deep models, or 'none' "
        "(default: mlp,cnn for images, mlp for tables)",
    )
    p.add_argument(
        "--epochs", type=int, default=None, help="override deep-model epochs"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out", type=Path, default=None, help="default runs/compare/<dataset>"
    )
    p.add_argument(
        "--learning-curve",
        action="store_true",
        help="also plot accuracy against training-set size (best classical vs deep)",
    )
    p.add_argument(
        "--tuned",
        type=names,
        default=None,
        help="comma-separated HyperModel families (e.g. cnn) to add as "
        "<family>-tuned, searched inside each training fold only",
    )
    p.add_argument(
        "--tuned-trials", type=int, default=5, help="search trials per fold (5)"
    )
    p.add_argument(
        "--tuned-epochs", type=int, default=20, help="epochs per trial and final fit"
    )
    p.add_argument(
        "--tuner", default="random", help="random, hyperband or bayesian (random)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--list", action="store_true", help="list the models and exit")
    return p


def _print_models() -> None:
    from kerasdl.baselines import TABULAR_DESCRIPTIONS, classical_descriptions
    from kerasdl.models.registry import get_model_spec, list_models

    for task in ("classification", "regression"):
        print(f"classical ({task}):")
        for name, text in classical_descriptions(task).items():
            print(f"  {name:<18} {text}")
    print("deep (tables: classification and regression, raw columns):")
    for name, text in TABULAR_DESCRIPTIONS.items():
        print(f"  {name:<18} {text}")
    print("deep (classification of images or numeric arrays):")
    for name in list_models():
        spec = get_model_spec(name)
        print(f"  {name:<18} {spec.description} [{'/'.join(spec.inputs)}]")


def run(args) -> int:
    if args.list:
        _print_models()
        return 0
    from kerasdl.baselines import compare, format_table

    dataset = load_dataset_arg(args)
    out = args.out or Path("runs") / "compare" / dataset.name
    report = compare(
        dataset,
        classical=args.classical,
        deep=args.deep,
        folds=args.folds,
        seed=args.seed,
        epochs=args.epochs,
        metric=args.metric,
        out_dir=out,
        learning_curve=args.learning_curve,
        tuned=args.tuned,
        tuned_trials=args.tuned_trials,
        tuned_epochs=args.tuned_epochs,
        tuner=args.tuner,
        verbose=not args.quiet,
    )
    if dataset.feature_types is not None:
        from kerasdl.data import describe_table

        print(describe_table(dataset))
    print(format_table(report))
    written = ["compare.json", "compare.png"]
    if args.learning_curve:
        written += ["learning_curve.json", "learning_curve.png"]
    print(f"wrote {', '.join(str(out / w) for w in written)}")
    return 0
