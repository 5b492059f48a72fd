"""`.keras` files saved before the modules moved (issue 18) still load, with the same
outputs, on every backend.

The fixtures were written by `tests/fixtures/old_layout/make_fixtures.py` at commit
05d1465 (the layout before the move) on JAX: one small model per family. Besides the
model's call, deterministic inference methods (greedy and beam decoding, seeded
samplers, a GAN's discriminator on its generated images, a table model's raw-row
predictions) must give the outputs they gave then (`NAME/extra_WHAT` keys).
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


def _table_frame(columns):
    """The DataFrame the stored columns stand for ("" = a missing cell), as
    `make_fixtures.table_frame` builds it."""
    import pandas as pd

    return pd.DataFrame(
        {
            "age": columns["age"],
            "city": [None if c == "" else str(c) for c in columns["city"]],
            "seen": pd.to_datetime(
                [None if d == "" else str(d) for d in columns["seen"]]
            ),
            "note": [str(t) for t in columns["note"]],
        }
    )


def _inputs(name):
    """The stored input: one array, a tuple of arrays, or a table's columns."""
    if f"{name}/input" in OUTPUTS.files:
        return OUTPUTS[f"{name}/input"]
    prefix = f"{name}/column_"
    columns = {
        k[len(prefix) :]: OUTPUTS[k] for k in OUTPUTS.files if k.startswith(prefix)
    }
    if columns:
        return columns
    parts = sorted(k for k in OUTPUTS.files if k.startswith(f"{name}/input_"))
    return tuple(OUTPUTS[k] for k in parts)


def _scores(model, z):
    images = model.generator.predict(z, verbose=0)
    return model.discriminator.predict(images, verbose=0)


# The same deterministic calls as make_fixtures.EXTRAS, on the loaded model.
EXTRAS = {
    "dcgan": {
        "generate": lambda model, z: model.generate(2, seed=0),
        "scores": _scores,
    },
    "wgan": {"scores": _scores},
    "wgan_gp": {"scores": _scores},
    "ddpm": {
        "sample_ddim": lambda model, x: model.sample_ddim(2, steps=4, seed=0),
        "sample": lambda model, x: model.sample(2, seed=0),
    },
    "transformer_seq2seq": {
        "greedy": lambda model, x: model.greedy_decode(x[0]),
        "beam": lambda model, x: model.beam_search_decode(x[0], beam_width=2),
    },
    "seq2seq_lstm": {"greedy": lambda model, x: model.greedy_decode(x[0])},
    "tabular_mlp": {"logits": lambda model, x: model.predict_logits(_table_frame(x))},
    "tabular_ft_transformer": {
        "logits": lambda model, x: model.predict_logits(_table_frame(x)),
    },
}
EXTRA_CASES = [(name, what) for name in sorted(EXTRAS) for what in sorted(EXTRAS[name])]


def test_every_family_has_a_fixture():
    assert len(NAMES) >= 21
    for name in NAMES:
        assert (FIXTURES / f"{name}.keras").is_file()
    for family in (
        "dcgan",
        "wgan",
        "wgan_gp",
        "ddpm",
        "transformer_seq2seq",
        "seq2seq_lstm",
        "tabular_mlp",
        "tabular_ft_transformer",
    ):
        assert family in NAMES


def test_every_stored_extra_output_is_checked():
    stored = {tuple(key.split("/extra_")) for key in OUTPUTS.files if "/extra_" in key}
    assert stored == set(EXTRA_CASES)


@pytest.mark.parametrize("name", NAMES)
def test_a_model_saved_at_the_old_layout_loads_with_the_same_outputs(name):
    model = keras.saving.load_model(FIXTURES / f"{name}.keras")
    inputs = _inputs(name)
    if isinstance(inputs, dict):  # raw table rows: TabularModel.predict encodes them
        output = model.predict(_table_frame(inputs))
    else:
        # One compiled call (an eager call on JAX compiles op by op: ~10x slower).
        output = model.predict(inputs, verbose=0)
    if isinstance(output, (list, tuple)):
        output = output[0]
    if isinstance(output, dict):
        output = output[sorted(output)[0]]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(output), OUTPUTS[f"{name}/output"], atol=1e-5
    )


@pytest.mark.parametrize(("name", "what"), EXTRA_CASES)
def test_deterministic_inference_of_an_old_layout_model_gives_the_same_outputs(
    name, what
):
    model = keras.saving.load_model(FIXTURES / f"{name}.keras")
    output = np.asarray(EXTRAS[name][what](model, _inputs(name)))
    expected = OUTPUTS[f"{name}/extra_{what}"]
    assert output.shape == expected.shape
    if expected.dtype.kind in "iu":  # decoded tokens
        np.testing.assert_array_equal(output, expected)
    else:
        np.testing.assert_allclose(output, expected, atol=1e-5)


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
