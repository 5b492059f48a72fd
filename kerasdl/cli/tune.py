"""`kerasdl tune`: search a model family's hyperparameters with Keras Tuner
(`kerasdl.hypermodels.search.run_search`) and print the best trial."""

from __future__ import annotations

from pathlib import Path

from kerasdl.cli.common import CLIError, add_data_source, load_dataset_arg

NAME = "tune"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="search a model family's hyperparameters with Keras Tuner",
        description="Search the hyperparameters of a model family (mlp, cnn, "
        "resnet, recurrent, transformer; tabular_mlp and ft_transformer for "
        "tables, classification or regression) with Keras Tuner (hyperband, random or "
        "bayesian) on a validation part of the training data; score the best "
        "model once on a held-out test part; write DIR/tune.json, trials.csv, "
        "trials.png and best_model.keras. Run it again without --overwrite to "
        "resume an interrupted search.",
    )
    p.add_argument(
        "--family",
        required=True,
        help="mlp, cnn, resnet, recurrent or transformer (classifiers on arrays); "
        "tabular_mlp or ft_transformer (tables, raw or numeric, classification "
        "or regression)",
    )
    add_data_source(p)
    p.add_argument(
        "--tuner", default="hyperband", help="hyperband (default), random, bayesian"
    )
    p.add_argument(
        "--max-trials",
        type=int,
        default=None,
        help="trials in all (default 10; hyperband: one full iteration, 23 for "
        "--epochs 9)",
    )
    p.add_argument(
        "--epochs", type=int, default=9, help="epochs per trial, at most (default 9)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-size", type=float, default=0.2, help="of the training part")
    p.add_argument("--test-size", type=float, default=0.2, help="held out (0.2)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="narrow the search space: a range (width=32:256), choices "
        "(optimizer=adam,sgd) or one value (depth=2); repeatable",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh (default: resume the search found in --out)",
    )
    p.add_argument("--quiet", action="store_true", help="no line per trial")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default runs/tune/<family>-<data>-<tuner>",
    )
    return p


def run(args) -> int:
    from kerasdl.hypermodels.registry import check_family
    from kerasdl.hypermodels.search import run_search
    from kerasdl.hypermodels.tuners import check_tuner, parse_search_space

    family = check_family(args.family)
    tuner = check_tuner(args.tuner)
    space = parse_search_space(args.set)
    dataset = load_dataset_arg(args)
    out = args.out or Path("runs") / "tune" / f"{family}-{dataset.name}-{tuner}"
    try:
        result = run_search(
            family,
            dataset,
            tuner=tuner,
            max_trials=args.max_trials,
            epochs=args.epochs,
            out_dir=out,
            seed=args.seed,
            overwrite=args.overwrite,
            val_size=args.val_size,
            test_size=args.test_size,
            search_space=space,
            verbose=not args.quiet,
        )
    except RuntimeError as error:  # no trial completed
        raise CLIError(str(error)) from error
    best = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in result["best_hyperparameters"].items()
    )
    if result.get("task") == "regression":
        rmse, r2 = result["test_rmse"], result["test_r2"]
        test = "" if rmse is None else f"; test RMSE {rmse:.4g}, R² {r2:.4f}"
    else:
        accuracy = result["test_accuracy"]
        test = "" if accuracy is None else f"; test accuracy {accuracy:.4f}"
    done = result["completed_trials"]
    score = result["best_score"]
    print(
        f"{family} on {result['dataset']} ({tuner}, {done} trial{'s' * (done != 1)}"
        f"): best {result['objective']['name']} "
        + ("n/a" if score is None else f"{score:.4f}")
        + f" (trial {result['best_trial_id']}){test}; {result['backend']}"
    )
    print(f"best: {best}")
    print(f"wrote {out}/tune.json, trials.csv, trials.png, best_model.keras")
    return 0
