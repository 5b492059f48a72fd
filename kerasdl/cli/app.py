"""The `kerasdl` command: parse `--backend` (and the subcommand) before Keras is
imported, set up the process (`environment`) and dispatch to the subcommand.

Each subcommand is a module of this package with `NAME`, `add_parser(subparsers)`
(its arguments) and `run(args) -> int` (the library calls); `SUBCOMMANDS` lists them
in the order `kerasdl --help` shows. A user mistake (`CLIError`, `ValueError`,
`OSError`) is reported in one line with exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from kerasdl._backends import SUPPORTED_BACKENDS
from kerasdl.cli import (
    activations,
    card,
    compare,
    datasets,
    doctor,
    environment,
    explain,
    fid_asset,
    generate,
    rl,
    train,
    tune,
    tune_distributed,
)
from kerasdl.cli.common import CLIError

SUBCOMMANDS = (
    compare,
    train,
    tune,
    tune_distributed,
    rl,
    doctor,
    generate,
    explain,
    card,
    datasets,
    activations,
    fid_asset,
)

#: Subcommand name -> its `run(args)`.
COMMANDS = {module.NAME: module.run for module in SUBCOMMANDS}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kerasdl",
        description="Applied deep learning with Keras 3, on TensorFlow and JAX.",
    )
    parser.add_argument(
        "--backend",
        choices=SUPPORTED_BACKENDS,
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the `kerasdl` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.backend:
        if "keras" in sys.modules and os.environ.get("KERAS_BACKEND") != args.backend:
            parser.exit(
                2,
                "kerasdl: error: --backend must be chosen before Keras is "
                "imported (call main() in a fresh process).\n",
            )
        os.environ["KERAS_BACKEND"] = args.backend
    environment.quiet_tensorflow()
    environment.use_jax_compilation_cache()
    environment.use_fast_xla_compilation()
    try:
        return COMMANDS[args.command](args)
    except (CLIError, ValueError, OSError) as error:
        message = (
            str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        )
        print(f"kerasdl {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kerasdl: interrupted", file=sys.stderr)
        return 130
