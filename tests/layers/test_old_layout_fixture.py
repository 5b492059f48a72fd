"""A `.keras` file saved before the layers moved (issue 18) still loads and gives
the same outputs: the registered names (`kerasdl>LSTMCell`, ...) did not change.

The fixture holds every layer class whose module moved (augmentation layers,
`RandomShift`, the recurrent cells, `MultiHeadAttention`); see
`fixtures/make_old_layout_layers.py` for how it was made.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras
import numpy as np

import kerasdl.layers  # noqa: F401  (registers the kerasdl layers)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
KERAS_FILE = FIXTURES / "old_layout_layers.keras"


def test_fixture_was_saved_at_the_old_layout():
    # Guards the test below against a fixture regenerated at the new layout.
    with zipfile.ZipFile(KERAS_FILE) as archive:
        config = json.loads(archive.read("config.json"))
    text = json.dumps(config)
    for old_module in (
        "kerasdl.layers.recurrent",
        "kerasdl.layers.attention",
        "kerasdl.layers.augmentation_geometric",
        "kerasdl.layers.augmentation_affine",
        "kerasdl.layers.augmentation_photometric",
        "kerasdl.layers.random_shift",
    ):
        assert f'"module": "{old_module}"' in text


def test_old_layout_file_loads_with_the_same_outputs():
    data = np.load(FIXTURES / "old_layout_layers.npz")
    model = keras.saving.load_model(KERAS_FILE)
    names = {type(layer).__name__ for layer in model.layers}
    assert {"RandomShift", "RandomAffine", "Cutout", "MultiHeadAttention"} <= names
    out = model([data["image"], data["sequence"]], training=False)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out), data["expected"], rtol=1e-5, atol=1e-5
    )
