"""`kerasdl train`: the parser and the dispatch to the training jobs.

MODEL picks the job: a registered classifier (`kerasdl.recipes.classifier`, below), a
table (`train_table`), a generative model (`train_generative`) or the character GPT
(`train_gpt`). `--model NAME` is always a registered model name: the convnet of
`train cnn`, the generative model of `train gan`, or a table's architecture.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kerasdl.cli import train_generative, train_gpt, train_table
from kerasdl.cli.common import CLIError, add_data_source, load_dataset_arg
from kerasdl.cli.train_options import (
    CONFIG_OPTIONS,
    MONITORED,
    add_training_options,
    schedule_kwargs,
)

NAME = "train"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="train a deep model (images or tables), evaluate it, write a model card",
        description="Train a registered deep model (see `kerasdl compare --list`) on "
        "a stratified train/val/test split with the training toolkit; write "
        "model.keras, run.json, the learning curves (history.png, history.json), "
        "the final numbers (metrics.json), the error analysis (errors/) and "
        "model_card.md. `kerasdl train cnn --model NAME` trains the convnet NAME "
        "(lenet5, alexnet, vgg11/16/19, googlenet, resnet18/34/50, "
        "efficientnet_b0..b3; default cnn, the SmallCNN). Tables (--csv FILE "
        "--target COLUMN, raw columns with strings and missing cells welcome; a "
        "table dataset such as penguins or cars; any regression data) are "
        "trained by the tabular "
        "mlp (default) or ft_transformer, for classification or regression: "
        "model.keras then predicts on raw rows, and a regressor's errors/ holds "
        "residual plots and the errors per target range.",
    )
    p.add_argument(
        "model",
        nargs="?",
        default=None,
        help="registered model name (e.g. mlp, cnn), 'cnn' with --model NAME for a "
        "registered convnet, 'gan' with --model NAME for a generative model "
        "(dcgan, cgan, wgan, wgan_gp, vae, ddpm; those names also work here "
        "directly), or 'gpt' for the character-level GPT language model (with "
        "--corpus). For a table: mlp (the default there) or ft_transformer",
    )
    p.add_argument(
        "--model",
        dest="model_option",
        default=None,
        help="with 'train cnn': a registered image model (lenet5, alexnet, vgg16, "
        "googlenet, resnet18, efficientnet_b0, ...; default cnn); with 'train "
        "gan': dcgan, cgan, wgan, wgan_gp, vae or ddpm; with a table: mlp or "
        "ft_transformer",
    )
    p.add_argument(
        "--latent-dim", type=int, default=None, help="generative models: noise size"
    )
    p.add_argument(
        "--sample-every",
        type=int,
        default=None,
        help="GANs: save a sample grid every N epochs (0: never)",
    )
    add_data_source(p)
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="default: the registry's; tables: at most 200, with early stopping",
    )
    p.add_argument(
        "--batch-size", type=int, default=None, help="tables: default about 8 steps"
    )
    p.add_argument(
        "--optimizer",
        default="adam",
        help="sgd, rmsprop, adam, adamw (not for tables: AdamW)",
    )
    p.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="tables: default 1e-3 (mlp), 3e-4 (ft_transformer)",
    )
    p.add_argument(
        "--schedule",
        default=None,
        help="step, cosine or warmup_cosine (not for tables)",
    )
    p.add_argument(
        "--precision",
        default="float32",
        help="or mixed_float16/bfloat16 (not for tables)",
    )
    p.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without a better validation loss "
        "(tables: default 16)",
    )
    add_training_options(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--val-size",
        type=float,
        default=0.15,
        help="fraction of all rows for validation (0.15); tables: taken from the "
        "training rows, for early stopping",
    )
    p.add_argument(
        "--test-size",
        type=float,
        default=0.15,
        help="fraction of all rows held out for the test (0.15)",
    )
    p.add_argument(
        "--diagnose",
        action="store_true",
        help="watch the run with kerasdl.doctor.TrainingDiagnostics (not for tables)",
    )
    p.add_argument(
        "--quiet", action="store_true", help="generative models: no progress bar"
    )
    p.add_argument(
        "--corpus",
        default=None,
        help="'train gpt': 'builtin' (the embedded help-topic corpus, default) or "
        "the path of a UTF-8 text file",
    )
    p.add_argument(
        "--max-len", type=int, default=128, help="'train gpt': context length (128)"
    )
    p.add_argument("--layers", type=int, default=4, help="'train gpt': blocks (4)")
    p.add_argument("--hidden-dim", type=int, default=128, help="'train gpt': width")
    p.add_argument("--heads", type=int, default=4, help="'train gpt': heads (4)")
    p.add_argument("--out", type=Path, default=None, help="default runs/train/<model>")
    return p


def _generative_name(args):
    """The generative model a `train` command asks for, or None for a classifier."""
    from kerasdl.recipes.generative import GENERATIVE_MODELS, check_model_name

    if args.model == "gan":
        if args.model_option is None:
            raise CLIError(
                "kerasdl train gan needs --model NAME, one of "
                f"{', '.join(GENERATIVE_MODELS)}."
            )
        return check_model_name(args.model_option)
    if args.model in GENERATIVE_MODELS:
        if args.model_option not in (None, args.model):
            raise CLIError(
                f"Two models given: {args.model!r} and --model {args.model_option!r}."
            )
        return args.model
    if args.model_option is not None and args.model != "cnn":
        raise CLIError(
            "--model is for `kerasdl train cnn --model NAME` (a convnet) and "
            "`kerasdl train gan --model NAME` (a generative model); received "
            f"--model {args.model_option!r} with {args.model!r}."
        )
    return None


def _classifier_name(args) -> str:
    """The registered model a classifier `train` command trains: MODEL, or for
    `train cnn --model NAME` the image model NAME (checked)."""
    if args.model != "cnn" or args.model_option is None:
        return args.model
    from kerasdl.models.registry import get_model_spec, list_models
    from kerasdl.recipes.generative import GENERATIVE_MODELS

    name = args.model_option
    choices = [
        m for m in list_models("image") if get_model_spec(m).inputs == ("image",)
    ]
    if name in choices:
        return name
    listed = ", ".join(choices)
    if name in GENERATIVE_MODELS:
        # (The wording "--model is for generative models" is what scripts and
        # tests matched before `train cnn --model` existed.)
        raise CLIError(
            f"--model {name!r}: --model is for generative models only with "
            f"`kerasdl train gan --model {name}`; `kerasdl train cnn --model` "
            f"takes one of: {listed}."
        )
    if name in list_models():
        raise CLIError(
            f"--model {name!r} is not a convolutional image model (it takes "
            f"{'/'.join(get_model_spec(name).inputs)} inputs); `kerasdl train cnn "
            f"--model` takes one of: {listed}."
        )
    raise CLIError(
        f"Unknown convnet --model {name!r}; `kerasdl train cnn --model` takes one "
        f"of: {listed}."
    )


def run(args) -> int:
    if args.model == "gpt":
        return train_gpt.run(args)
    from kerasdl.baselines.keras_tabular import TABULAR_ARCHITECTURES
    from kerasdl.recipes.table import is_table

    dataset = None
    asked = [m for m in (args.model, args.model_option) if m is not None]
    if all(m in TABULAR_ARCHITECTURES for m in asked):
        # mlp / ft_transformer / nothing: a table goes to the tabular job; mlp on
        # images (or a numeric classification array) stays the registry MLP.
        if len(set(asked)) > 1:
            raise CLIError(
                f"Two models given: {args.model!r} and --model {args.model_option!r}."
            )
        dataset = load_dataset_arg(args)
        architecture = asked[0] if asked else None
        if is_table(dataset):
            return train_table.run(args, dataset, architecture or "mlp")
        kind = "images" if dataset.is_image else f"a {dataset.task} dataset"
        if architecture is None:
            raise CLIError(
                f"kerasdl train needs a MODEL for {dataset.name!r} ({kind}), e.g. "
                "`kerasdl train mlp` or `kerasdl train cnn`; only tables default "
                "to mlp."
            )
        if architecture != "mlp":
            raise CLIError(
                f"{architecture} trains tables (--csv FILE --target COLUMN, or a "
                f"table dataset such as penguins or cars); {dataset.name!r} is "
                f"{kind}, not a table."
            )
        model_name = architecture
    elif args.model is None:
        raise CLIError(
            f"--model {args.model_option!r} needs a MODEL before it: `kerasdl "
            "train cnn --model NAME` or `kerasdl train gan --model NAME` (tables "
            "take --model mlp or ft_transformer)."
        )
    else:
        name = _generative_name(args)
        if name is not None:
            return train_generative.run(args, name)
        model_name = _classifier_name(args)
    if dataset is None:
        dataset = load_dataset_arg(args)
    return _train_classifier(args, model_name, dataset)


def _train_classifier(args, model_name: str, dataset) -> int:
    """`kerasdl train MODEL` for a registered classifier: `train_classifier`."""
    from kerasdl.models.registry import get_model_spec
    from kerasdl.recipes.classifier import train_classifier
    from kerasdl.training import TrainingConfig

    spec = get_model_spec(model_name)
    if args.monitor is not None and args.monitor not in MONITORED:
        raise CLIError(
            f"--monitor must be one of {', '.join(MONITORED)} (what `kerasdl "
            f"train` logs); received {args.monitor!r}."
        )
    options = {
        field: getattr(args, field)
        for field, _ in CONFIG_OPTIONS.values()
        if getattr(args, field) is not None
    }
    if "verbose" in options and options["verbose"] != "auto":
        options["verbose"] = int(options["verbose"])
    config = TrainingConfig(
        optimizer=args.optimizer,
        learning_rate=(
            spec.learning_rate if args.learning_rate is None else args.learning_rate
        ),
        schedule=args.schedule,
        schedule_kwargs=schedule_kwargs(args),
        precision=args.precision,
        seed=args.seed,
        epochs=spec.epochs if args.epochs is None else args.epochs,
        batch_size=spec.batch_size if args.batch_size is None else args.batch_size,
        early_stopping_patience=args.early_stopping,
        **options,
    )
    out = args.out or Path("runs") / "train" / model_name
    record = train_classifier(
        dataset,
        model_name,
        config=config,
        out_dir=out,
        val_size=args.val_size,
        test_size=args.test_size,
        diagnose=args.diagnose,
    )
    if record["status"] == "diverged":
        print(
            f"kerasdl train: training diverged (NaN/inf predictions); nothing was "
            f"measured. Lower --learning-rate (e.g. 10x) or use --diagnose; the "
            f"record is in {out}/run.json (learning curves: history.png).",
            file=sys.stderr,
        )
        _print_diagnostics(record)
        return 1
    metrics = record["metrics"]
    print(
        f"{model_name} on {dataset.name}: test accuracy {metrics['test_accuracy']:.4f}"
        f", macro-F1 {metrics['test_f1_macro']:.4f} ({metrics['measured_on']}); "
        f"{record['train_seconds']:.1f} s on {record['backend']}"
    )
    _print_diagnostics(record)
    print(
        f"wrote {out}/model.keras, run.json, metrics.json, history.png, "
        "history.json, model_card.md, errors/"
    )
    return 0


def _print_diagnostics(run: dict) -> None:
    if "diagnostics" in run:
        from kerasdl.doctor import Finding, format_findings

        findings = [Finding(**f) for f in run["diagnostics"]]
        print(format_findings(findings, title="training diagnostics"))
