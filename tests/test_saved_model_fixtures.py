"""`.keras` files saved elsewhere load, with the same outputs, on every backend.

- `fixtures/old_layout/`: saved before the modules moved (issue 18), by
  `tests/fixtures/old_layout/make_fixtures.py` at commit 05d1465 on JAX, one small
  model per family.
- `fixtures/saved_on_tensorflow/`, `fixtures/saved_on_torch/`: saved by the same
  script at today's layout on TensorFlow and on torch (issue 17), eight families
  whose saved state differs most between backends (a GAN with two optimizers'
  networks, attention, normalization, a table encoder).

Together with the JAX files, a model saved on any backend is loaded on each. Besides
the model's call, deterministic inference methods (greedy and beam decoding, seeded
samplers, a GAN's critic on its generated images, a table model's raw-row
predictions) must give the outputs they gave there (`NAME/extra_WHAT` keys).
"""

from pathlib import Path

import keras
import numpy as np
import pytest

import kerasdl  # noqa: F401  (registers the kerasdl classes)
import kerasdl.models  # noqa: F401

ROOT = Path(__file__).parent / "fixtures"
SETS = ("old_layout", "saved_on_tensorflow", "saved_on_torch")
OUTPUTS = {s: dict(np.load(ROOT / s / "outputs.npz")) for s in SETS}
NAMES = {s: sorted({key.split("/")[0] for key in OUTPUTS[s]}) for s in SETS}
CROSS_BACKEND = [
    "ddpm",
    "gpt",
    "lenet5",
    "tabular_ft_transformer",
    "transformer_seq2seq",
    "unet",
    "vae",
    "wgan_gp",
]


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


def _inputs(stored, name):
    """The stored input: one array, a tuple of arrays, or a table's columns."""
    if f"{name}/input" in stored:
        return stored[f"{name}/input"]
    prefix = f"{name}/column_"
    columns = {k[len(prefix) :]: v for k, v in stored.items() if k.startswith(prefix)}
    if columns:
        return columns
    parts = sorted(k for k in stored if k.startswith(f"{name}/input_"))
    return tuple(stored[k] for k in parts)


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
EXTRA_CASES = [
    (fixture_set, name, what)
    for fixture_set in SETS
    for name in sorted(EXTRAS)
    for what in sorted(EXTRAS[name])
    if name in NAMES[fixture_set]
]
MODEL_CASES = [
    (fixture_set, name) for fixture_set in SETS for name in NAMES[fixture_set]
]


def test_every_family_has_a_fixture():
    assert len(NAMES["old_layout"]) >= 21
    for fixture_set in SETS:
        for name in NAMES[fixture_set]:
            assert (ROOT / fixture_set / f"{name}.keras").is_file()
    for fixture_set in ("saved_on_tensorflow", "saved_on_torch"):
        assert NAMES[fixture_set] == CROSS_BACKEND
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
        assert family in NAMES["old_layout"]


def test_every_stored_extra_output_is_checked():
    stored = {
        (fixture_set, *key.split("/extra_"))
        for fixture_set in SETS
        for key in OUTPUTS[fixture_set]
        if "/extra_" in key
    }
    assert stored == set(EXTRA_CASES)


@pytest.mark.parametrize(("fixture_set", "name"), MODEL_CASES)
def test_a_saved_model_loads_with_the_same_outputs(fixture_set, name):
    model = keras.saving.load_model(ROOT / fixture_set / f"{name}.keras")
    stored = OUTPUTS[fixture_set]
    inputs = _inputs(stored, name)
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
        keras.ops.convert_to_numpy(output), stored[f"{name}/output"], atol=1e-5
    )


@pytest.mark.parametrize(("fixture_set", "name", "what"), EXTRA_CASES)
def test_deterministic_inference_of_a_saved_model_gives_the_same_outputs(
    fixture_set, name, what
):
    model = keras.saving.load_model(ROOT / fixture_set / f"{name}.keras")
    stored = OUTPUTS[fixture_set]
    output = np.asarray(EXTRAS[name][what](model, _inputs(stored, name)))
    expected = stored[f"{name}/extra_{what}"]
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
