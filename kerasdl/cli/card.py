"""`kerasdl card`: write the model card of a `kerasdl train` run
(`kerasdl.evaluation.model_card_from_run`)."""

from __future__ import annotations

from pathlib import Path

NAME = "card"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="write the model card of a `kerasdl train` run",
        description="Write model_card.md for a model trained by `kerasdl train`, "
        "from the run.json beside it.",
    )
    p.add_argument("--model", type=Path, required=True, help="model.keras or run dir")
    return p


def run(args) -> int:
    from kerasdl.evaluation import model_card_from_run

    run_dir = args.model if args.model.is_dir() else args.model.parent
    path = model_card_from_run(run_dir)
    print(f"wrote {path}")
    return 0
