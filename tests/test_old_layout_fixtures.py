"""`.keras` files saved before the modules moved (issue 18) still load, with the same
outputs, on every backend.

The fixtures were written by `tests/fixtures/old_layout/make_fixtures.py` at commit
05d1465 (the layout before the move) on JAX: one small model per family.
"""

from pathlib import Path

import keras
import numpy as np
import pytest

import kerasdl  # noqa: F401  (registers the kerasdl classes)
import kerasdl.models  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures" / "old_layout"
OUTPUTS = np.load(FIXTURES / "outputs.npz")
NAMES = sorted({key.split("/")[0] for key in OUTPUTS.files})


def test_every_family_has_a_fixture():
    assert len(NAMES) >= 13
    for name in NAMES:
        assert (FIXTURES / f"{name}.keras").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_a_model_saved_at_the_old_layout_loads_with_the_same_outputs(name):
    model = keras.saving.load_model(FIXTURES / f"{name}.keras")
    if f"{name}/input" in OUTPUTS.files:
        inputs = OUTPUTS[f"{name}/input"]
    else:
        parts = sorted(k for k in OUTPUTS.files if k.startswith(f"{name}/input_"))
        inputs = tuple(OUTPUTS[k] for k in parts)
    # One compiled call (an eager call on JAX compiles op by op: ~10x slower).
    output = model.predict(inputs, verbose=0)
    if isinstance(output, (list, tuple)):
        output = output[0]
    if isinstance(output, dict):
        output = output[sorted(output)[0]]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(output), OUTPUTS[f"{name}/output"], atol=1e-5
    )


def test_the_readme_top_level_model_names_resolve():
    """`kerasdl.models.GPTLanguageModel` and `kerasdl.models.ViTClassifier` did not
    resolve before issue 18; every family is importable from `kerasdl.models`."""
    import kerasdl.models as models

    for name in (
        "GPTLanguageModel",
        "ViTClassifier",
        "BertClassifier",
        "UNet",
        "CenterNet",
        "ResNet18",
        "SmallCNN",
        "MLP",
        "DCGAN",
        "DDPM",
        "Word2Vec",
        "Forecaster",
        "TransformerSeq2Seq",
        "Perceptron",
    ):
        assert hasattr(models, name), name
