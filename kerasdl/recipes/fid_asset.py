"""Building the FID-digits asset: train the digits classifier and store its weights
and the reference feature statistics beside `kerasdl.evaluation.fid`
(`kerasdl fid-asset`).
"""

from __future__ import annotations

import json
from pathlib import Path

from kerasdl.evaluation.fid import FIDDigits
from kerasdl.evaluation.fid_classifier import (
    train_digits_classifier,
)


def build_fid_asset(out=None, *, seed: int = 0, epochs: int = 40) -> dict:
    """Train the FID-digits classifier; with `out`, store it with its reference values.

    This is how the asset kerasdl ships (`ASSET_WEIGHTS`, `ASSET_METADATA`) was made;
    the command line runs it as `kerasdl fid-asset --write-asset`.

    Args:
        out: The `.npz` file to write (with a `.json` of metadata beside it), e.g.
            `ASSET_WEIGHTS`; None trains and measures only.
        seed: Seed of the classifier's initial weights and training.
        epochs: Training epochs.

    Returns:
        The metadata (`accuracy` on the held-out split, seed, backend, ...); with
        `out`, also `reference_values` (`FIDDigits.reference_values(seed=0)`), and
        `weights_file` / `weights_bytes`, what was written.
    """
    _, metadata = train_digits_classifier(seed=seed, epochs=epochs, out=out)
    if out is None:
        return metadata
    fid = FIDDigits(out)
    metadata["reference_values"] = fid.reference_values(seed=0)
    Path(out).with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n")
    weights = Path(out).with_suffix(".npz")
    return {
        **metadata,
        "weights_file": str(weights),
        "weights_bytes": Path(out).stat().st_size,
    }
