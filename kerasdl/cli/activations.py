"""`kerasdl activations`: plot activation functions and their derivatives to a PNG
and a JSON (`kerasdl.plotting.plot_activations`)."""

from __future__ import annotations

from pathlib import Path

NAME = "activations"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="plot activation functions and their derivatives to PNG",
        description="Plot each activation and its derivative to a PNG (and a JSON).",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs/activations.png"),
        help="the PNG to write, or a folder to write activations.png into "
        "(default runs/activations.png); the JSON goes beside it",
    )
    return p


def run(args) -> int:
    from kerasdl.models.mlp import plot_activations

    out = args.out
    if out.is_dir() or not out.suffix:  # --out DIR
        out = out / "activations.png"
    path = plot_activations(out)
    print(f"wrote {path} and {Path(path).with_suffix('.json')}")
    return 0
