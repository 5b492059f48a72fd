"""Vanishing and exploding gradients in recurrent networks, measured.

Shows `kerasdl.recipes.gradient_flow`:

(a) Vanishing: for freshly initialised recurrent layers (Keras's default
    initialisers), the norm of d(final output)/d(input t), by distance from the
    end, averaged over a few random batches and seeds. A SimpleRNN's gradient
    falls by orders of magnitude within a few dozen steps; an LSTM's, whose
    forget-gate bias starts at 1 (`unit_forget_bias=True`), falls much more
    slowly; the same LSTM with forget bias 0 is shown for comparison, and a GRU
    (at initialisation its update gate is about 0.5, so each step keeps about
    half of the carried state: it starts out forgetting faster than the
    SimpleRNN; what a gate learns is another matter). Plot: `gradient_norms.png`
    (log scale).
(b) Exploding, tamed by clipping: a linear SimpleRNN whose recurrent matrix is
    orthogonal times 2 (state and gradients grow like 2^t) is trained by SGD on
    the digits read row by row (real data), from the same weights and batches,
    without clipping and with `global_clipnorm`. Unclipped, the loss goes to
    inf/NaN within a few steps; clipped, every step has length lr * clipnorm and
    the loss falls. Plot: `clipping.png`.

Writes `results.json` (the numbers behind both plots).

Run:

    python examples/vanishing_gradients.py
    KERAS_BACKEND=jax python examples/vanishing_gradients.py --time-steps 100
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from kerasdl import backend
from kerasdl.layers import LSTMCell
from kerasdl.recipes import gradient_flow

NAME = "vanishing_gradients"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-steps", type=int, default=60)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5, help="seeds averaged")
    parser.add_argument("--steps", type=int, default=60, help="SGD steps per run")
    parser.add_argument("--clipnorm", type=float, default=1.0)
    parser.add_argument("--recurrent-gain", type=float, default=2.0)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(f"runs/examples/{NAME}"))
    return parser.parse_args(argv)


def vanishing(args) -> dict:
    cells = {
        "SimpleRNN": "rnn",
        "LSTM (forget bias 1)": "lstm",
        "LSTM (forget bias 0)": LSTMCell(args.units, unit_forget_bias=False),
        "GRU": "gru",
    }
    curves = {
        label: gradient_flow.gradient_norm_by_distance(
            cell,
            time_steps=args.time_steps,
            units=args.units,
            repeats=args.repeats,
            seed=args.seed,
        )
        for label, cell in cells.items()
    }
    gradient_flow.plot_gradient_norms(curves, args.out / "gradient_norms.png")
    distances = [d for d in (10, 20, 40) if d < args.time_steps]
    ratios = {
        label: {str(d): float(curve[d] / curve[0]) for d in distances}
        for label, curve in curves.items()
    }
    print("(a) ||d output / d x_t|| relative to the last step, by distance:")
    print("    " + " " * 22 + "".join(f"{d:>11d}" for d in distances))
    for label, row in ratios.items():
        print(f"    {label:<22}" + "".join(f"{row[str(d)]:>11.2e}" for d in distances))
    return {
        "time_steps": args.time_steps,
        "units": args.units,
        "repeats": args.repeats,
        "ratio_to_distance_0": ratios,
        "curves": {label: curve.tolist() for label, curve in curves.items()},
    }


def clipping(args) -> dict:
    results = gradient_flow.clipping_experiment(
        clipnorm=args.clipnorm,
        steps=args.steps,
        learning_rate=args.learning_rate,
        recurrent_gain=args.recurrent_gain,
        units=args.units,
        seed=args.seed,
    )
    gradient_flow.plot_clipping(results, args.out / "clipping.png")
    print(
        f"(b) linear SimpleRNN, recurrent gain {args.recurrent_gain}, SGD lr "
        f"{args.learning_rate}, {args.steps} steps:"
    )
    for run in ("unclipped", "clipped"):
        record = results[run]
        loss = np.asarray(record["loss"])
        finite = loss[np.isfinite(loss)]
        where = record["diverged_at"]
        fate = f"non-finite at step {where}" if where is not None else "finite"
        print(
            f"    {run:<10} loss {loss[0]:.3g} -> "
            f"{finite[-1] if len(finite) else float('nan'):.3g} ({fate}); "
            f"first gradient norm {record['grad_norm'][0]:.3g}, "
            f"first step length {record['update_norm'][0]:.3g}"
        )
    return results


def _strict(value):
    """NaN/inf (a diverged run) as null, so that the file is strict JSON."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def main(argv=None) -> dict:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {
        "backend": backend.name(),
        "vanishing": vanishing(args),
        "clipping": clipping(args),
    }
    (args.out / "results.json").write_text(json.dumps(_strict(results), indent=2))
    print(f"Wrote {args.out / 'results.json'} and the two PNGs")
    return results


if __name__ == "__main__":
    main()
