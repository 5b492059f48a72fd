"""The `kerasdl train` options that fill `kerasdl.training.TrainingConfig` (schedule,
optimizer, clipping, callbacks, distribution), and their checks: each flag is
refused, in one line, by the jobs that do not take it.
"""

from __future__ import annotations

import argparse

from kerasdl.cli.common import CLIError

# `kerasdl train` flags that fill `TrainingConfig.schedule_kwargs`: flag -> (the
# schedule argument, its type, the schedules that take it, help).
SCHEDULE_OPTIONS = {
    "--warmup-steps": (
        "warmup_steps",
        int,
        ("warmup_cosine",),
        "warmup_cosine: optimizer updates of linear warm-up (required there)",
    ),
    "--decay-steps": (
        "decay_steps",
        int,
        ("cosine", "warmup_cosine"),
        "cosine, warmup_cosine: updates of cosine decay (default: to the end of "
        "training)",
    ),
    "--drop-every": (
        "drop_every",
        int,
        ("step",),
        "step: updates between two drops of the rate (required there)",
    ),
    "--drop-factor": (
        "factor",
        float,
        ("step",),
        "step: multiply the rate by this at each drop, in (0, 1] (0.5)",
    ),
    "--min-lr-fraction": (
        "alpha",
        float,
        ("cosine", "warmup_cosine"),
        "cosine, warmup_cosine: the final rate as a fraction of the starting "
        "(cosine) or peak (warmup_cosine) rate, in [0, 1] (0)",
    ),
    "--warmup-start-lr": (
        "initial_learning_rate",
        float,
        ("warmup_cosine",),
        "warmup_cosine: the rate at step 0, warming up to --learning-rate (0)",
    ),
}
# The flag each schedule cannot do without.
SCHEDULE_REQUIRES = {"warmup_cosine": "--warmup-steps", "step": "--drop-every"}

# The other `TrainingConfig` fields `kerasdl train` sets: flag -> (field,
# add_argument keywords). Every default is None: TrainingConfig's own.
CONFIG_OPTIONS = {
    "--momentum": ("momentum", dict(type=float, help="sgd, rmsprop: in [0, 1) (0)")),
    "--nesterov": (
        "nesterov",
        dict(action="store_const", const=True, help="sgd: Nesterov momentum"),
    ),
    "--weight-decay": (
        "weight_decay",
        dict(type=float, help="decoupled weight decay (default: the optimizer's)"),
    ),
    "--clipnorm": (
        "clipnorm",
        dict(type=float, help="clip each variable's gradient to this L2 norm"),
    ),
    "--clipvalue": (
        "clipvalue",
        dict(type=float, help="clip gradient elements to [-VALUE, VALUE]"),
    ),
    "--global-clipnorm": (
        "global_clipnorm",
        dict(
            type=float,
            help="clip all gradients jointly to this L2 norm (one clipping mode "
            "at most)",
        ),
    ),
    "--gradient-accumulation-steps": (
        "gradient_accumulation_steps",
        dict(type=int, help="average the gradients of N batches per update"),
    ),
    "--deterministic": (
        "deterministic",
        dict(
            action=argparse.BooleanOptionalAction,
            help="deterministic backend kernels with the seed (default: on)",
        ),
    ),
    "--monitor": (
        "monitor",
        dict(
            help="what early stopping and the best-model checkpoint watch: "
            "val_loss (default), val_accuracy, loss or accuracy",
        ),
    ),
    "--checkpoint": (
        "checkpoint",
        dict(
            action=argparse.BooleanOptionalAction,
            help="keep the best model in OUT/best.keras (default: on)",
        ),
    ),
    "--csv-log": (
        "csv_log",
        dict(
            action=argparse.BooleanOptionalAction,
            help="log each epoch to OUT/log.csv (default: on)",
        ),
    ),
    "--tensorboard": (
        "tensorboard",
        dict(
            action=argparse.BooleanOptionalAction,
            help="write TensorBoard logs to OUT/tensorboard/ (default: off)",
        ),
    ),
    "--backup": (
        "backup",
        dict(
            action=argparse.BooleanOptionalAction,
            help="back up every epoch to OUT/backup/ and resume an interrupted "
            "run from it (default: on)",
        ),
    ),
    "--terminate-on-nan": (
        "terminate_on_nan",
        dict(
            action=argparse.BooleanOptionalAction,
            help="stop at the first NaN/inf loss (default: on)",
        ),
    ),
    "--verbose": (
        "verbose",
        dict(
            choices=("auto", "0", "1", "2"),
            help="fit's progress output: auto (default), 0, 1 or 2",
        ),
    ),
    "--distribution": (
        "distribution",
        dict(
            choices=("data_parallel", "model_parallel"),
            help="spread training over every device: data_parallel, or "
            "model_parallel (JAX only); default: one device",
        ),
    ),
}

#: What `kerasdl train` logs for a classifier, so what --monitor may watch.
MONITORED = ("val_loss", "val_accuracy", "loss", "accuracy")


def add_training_options(p) -> None:
    """The `TrainingConfig` options of `kerasdl train` beyond the common ones."""
    group = p.add_argument_group(
        "training settings (image and array classifiers: kerasdl.training."
        "TrainingConfig; not for tables, gpt or generative models)"
    )
    for flag, (_, kind, _, text) in SCHEDULE_OPTIONS.items():
        group.add_argument(flag, type=kind, default=None, help=text)
    for flag, (field, options) in CONFIG_OPTIONS.items():
        group.add_argument(flag, dest=field, default=None, **options)


def option_value(args, flag: str):
    """The value of a `SCHEDULE_OPTIONS` or `CONFIG_OPTIONS` flag (None: not
    given)."""
    if flag in CONFIG_OPTIONS:
        return getattr(args, CONFIG_OPTIONS[flag][0])
    return getattr(args, flag[2:].replace("-", "_"))


def refuse_training_options(args, what: str, *, common: bool = True) -> None:
    """A one-line error if a classifier-only training flag was given to `what`
    (with `common`, also --optimizer, --schedule, --precision, --early-stopping
    and --diagnose)."""
    given = [(flag, option_value(args, flag)) for flag in SCHEDULE_OPTIONS]
    given += [(flag, option_value(args, flag)) for flag in CONFIG_OPTIONS]
    if common:
        given += [
            ("--optimizer", None if args.optimizer == "adam" else args.optimizer),
            ("--schedule", args.schedule),
            ("--precision", None if args.precision == "float32" else args.precision),
            ("--early-stopping", args.early_stopping),
            ("--diagnose", args.diagnose or None),
        ]
    for flag, value in given:
        if value is not None:
            shown = "" if value is True else f" {value!r}"
            raise CLIError(
                f"{flag}{shown} applies to image and array classifiers; {what} "
                f"does not take it; drop {flag}."
            )


def schedule_kwargs(args) -> dict:
    """`TrainingConfig.schedule_kwargs` from the schedule flags, each checked
    against --schedule (an unknown --schedule is TrainingConfig's to report)."""
    given = {
        flag: option_value(args, flag)
        for flag in SCHEDULE_OPTIONS
        if option_value(args, flag) is not None
    }
    schedule = args.schedule
    kwargs = {}
    for flag, value in given.items():
        argument, _, schedules, _ = SCHEDULE_OPTIONS[flag]
        if schedule not in schedules:
            received = (
                "no --schedule" if schedule is None else f"--schedule {schedule!r}"
            )
            raise CLIError(
                f"{flag} {value} applies to --schedule {' or '.join(schedules)}; "
                f"received {received}."
            )
        kwargs[argument] = value
    needed = SCHEDULE_REQUIRES.get(schedule)
    if needed is not None and needed not in given:
        raise CLIError(
            f"--schedule {schedule} needs {needed} N; received --schedule "
            f"{schedule} without {needed}."
        )
    return kwargs
