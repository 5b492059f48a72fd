"""What several `kerasdl` subcommands share: the one-line error, name lists and the
data-source options (`--dataset` | `--csv --target` | `--images`).

Like every module of `kerasdl.cli`, it imports Keras (and the library modules that
import it) only inside functions, which run after `--backend` is applied.
"""

from __future__ import annotations

from pathlib import Path


class CLIError(Exception):
    """A user mistake the CLI reports in one line (exit code 2)."""


def names(value: str) -> list[str]:
    """Parse `a,b,c` (or `none`) into a list of names."""
    if value.strip().lower() == "none":
        return []
    return [v.strip() for v in value.split(",") if v.strip()]


def add_data_source(p) -> None:
    """--dataset NAME | --csv PATH --target COL | --images DIR [--image-size N]."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--dataset", default=None, help="dataset name (default digits)")
    source.add_argument("--csv", type=Path, help="a CSV file (with --target)")
    source.add_argument("--images", type=Path, help="a folder, one subfolder per class")
    p.add_argument("--target", help="target column of --csv")
    p.add_argument("--image-size", type=int, default=32, help="--images resize (32)")
    table = p.add_argument_group(
        "tables (--csv)",
        "column roles are inferred and printed; these override them",
    )
    table.add_argument(
        "--task",
        choices=("classification", "regression"),
        default=None,
        help="force the task (default: inferred from the target column)",
    )
    table.add_argument(
        "--categorical", type=names, default=(), help="columns to treat as categories"
    )
    table.add_argument(
        "--text", type=names, default=(), help="columns to treat as free text"
    )
    table.add_argument("--ignore", type=names, default=(), help="columns to leave out")
    table.add_argument(
        "--groups",
        default=None,
        metavar="COL",
        help="keep each value of COL in one fold (grouped cross-validation)",
    )
    table.add_argument("--sep", default=None, help="CSV delimiter (default: detected)")


def load_dataset_arg(args):
    """The dataset the data-source options of `add_data_source` name."""
    from kerasdl import data

    table_args = ("task", "categorical", "text", "ignore", "groups", "sep")
    if args.csv is not None:
        if not args.target:
            raise CLIError("--csv needs --target COLUMN (the column to predict).")
        dataset = data.load_csv(
            args.csv,
            args.target,
            task=args.task,
            categorical=args.categorical,
            text=args.text,
            ignore=args.ignore,
            groups=args.groups,
            sep=args.sep,
        )
        return dataset
    if args.target:
        raise CLIError("--target applies to --csv only.")
    given = [a for a in table_args if getattr(args, a, None) not in (None, (), [])]
    if given:
        flag = "--" + given[0]
        raise CLIError(f"{flag} applies to --csv only; received {flag} with --dataset.")
    if args.images is not None:
        size = args.image_size
        if size < 3:
            raise CLIError(f"--image-size must be >= 3; received {size}.")
        return data.load_image_folder(args.images, image_size=(size, size))
    return data.load_dataset(args.dataset or "digits")
