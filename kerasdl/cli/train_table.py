"""`kerasdl train [mlp|ft_transformer]` on a table (a CSV or a table dataset):
`kerasdl.recipes.table.train_tabular`, with the checks of the options a
table's estimator does not take."""

from __future__ import annotations

import sys
from pathlib import Path

from kerasdl.cli.common import CLIError
from kerasdl.cli.train_options import refuse_training_options


def run(args, dataset, architecture: str) -> int:
    """`kerasdl train [mlp|ft_transformer]` on a table: `train_tabular`."""
    from kerasdl.recipes.table import train_tabular

    # Options of the image/array classifier job that the tabular estimator (AdamW,
    # float32, early stopping on its own validation rows) has no use for.
    unsupported = (
        ("--diagnose", args.diagnose),
        ("--precision", args.precision != "float32"),
        ("--optimizer", args.optimizer != "adam"),
        ("--schedule", args.schedule is not None),
        ("--latent-dim", args.latent_dim is not None),
        ("--sample-every", args.sample_every is not None),
        ("--groups", args.groups is not None),
    )
    for flag, given in unsupported:
        if given:
            raise CLIError(
                f"{flag} is not supported when training a table: {dataset.name!r} "
                f"is a {dataset.task} table, trained by the tabular {architecture} "
                "(AdamW, float32, early stopping); drop " + flag + "."
            )
    refuse_training_options(
        args,
        f"a table ({dataset.name!r}, trained by the tabular {architecture})",
        common=False,
    )
    for flag, value in (("--test-size", args.test_size), ("--val-size", args.val_size)):
        if not 0 < value < 1:
            raise CLIError(
                f"{flag} must be a fraction strictly between 0 and 1; received {value}."
            )
    if args.val_size + args.test_size >= 1:
        raise CLIError(
            "--val-size + --test-size must be below 1 to leave training rows; "
            f"received {args.val_size} and {args.test_size}."
        )
    # --val-size is a fraction of all rows; the estimator holds it out of the
    # training rows (what is left after the test rows).
    fraction = args.val_size / (1 - args.test_size)
    if fraction > 0.5:
        raise CLIError(
            f"--val-size {args.val_size} is {fraction:.0%} of the training rows left "
            f"by --test-size {args.test_size}; a table's validation part is at most "
            "half of them."
        )
    kwargs = {"validation_fraction": fraction}
    for key, value in (
        ("batch_size", args.batch_size),
        ("learning_rate", args.learning_rate),
        ("patience", args.early_stopping),
    ):
        if value is not None:
            kwargs[key] = value
    out = args.out or Path("runs") / "train" / architecture
    from kerasdl.data import describe_table

    print(describe_table(dataset))
    record = train_tabular(
        dataset,
        architecture,
        out_dir=out,
        test_size=args.test_size,
        seed=args.seed,
        epochs=args.epochs,
        **kwargs,
    )
    if record["status"] == "diverged":
        print(
            "kerasdl train: training diverged (NaN/inf predictions); nothing was "
            "measured. Lower --learning-rate (e.g. 10x); the record is in "
            f"{out}/run.json (learning curves: history.png).",
            file=sys.stderr,
        )
        return 1
    metrics = record["metrics"]

    def number(key, spec=".4f"):
        value = metrics.get(key)
        return "n/a" if value is None else format(value, spec)

    if record["task"] == "classification":
        scores = (
            f"test accuracy {number('test_accuracy')}, balanced accuracy "
            f"{number('test_balanced_accuracy')}, macro-F1 "
            f"{number('test_f1_macro')}, log loss {number('test_log_loss')}, "
            f"ROC-AUC {number('test_roc_auc')}"
        )
    else:
        scores = (
            f"test RMSE {number('test_rmse', '.4g')}, MAE "
            f"{number('test_mae', '.4g')}, R² {number('test_r2')}"
        )
    epochs = record["epochs_run"]
    print(
        f"{architecture} on {dataset.name} ({record['task']}): {scores} "
        f"({metrics['measured_on']}); {epochs} epoch{'s' * (epochs != 1)}, "
        f"{record['train_seconds']:.1f} s on {record['backend']}"
    )
    print(
        f"wrote {out}/model.keras, run.json, metrics.json, history.png, "
        "history.json, model_card.md, errors/"
    )
    return 0
