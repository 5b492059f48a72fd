"""The HyperModels: defaults equal the untuned models, every family builds and
trains, and bad search spaces are refused in one line naming the argument."""

from __future__ import annotations

import math

import keras
import keras_tuner as kt
import numpy as np
import pytest

from kerasdl.hypermodels import (
    ClassifierHyperModel,
    CNNHyperModel,
    MLPHyperModel,
    RecurrentHyperModel,
    TransformerHyperModel,
    get_hypermodel,
    list_hypermodels,
)

N = 1000  # training-set size the schedules are sized for


def _without_name(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "name"}


def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_registry_lists_the_families_and_refuses_unknown_ones():
    assert list_hypermodels()[:4] == ["mlp", "cnn", "recurrent", "transformer"]
    assert isinstance(get_hypermodel("mlp", (4,), 2), MLPHyperModel)
    assert isinstance(get_hypermodel("mlp", (4,), 2), ClassifierHyperModel)
    with pytest.raises(ValueError) as error:
        get_hypermodel("gan", (8, 8, 1), 10)
    assert _one_line(error) == (
        "Unknown family 'gan'; choose one of: mlp, cnn, recurrent, transformer, "
        "resnet, tabular_mlp, ft_transformer."
    )


@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_defaults_equal_the_untuned_registry_model(family):
    from kerasdl.baselines.keras_classifier import build_compiled_model
    from kerasdl.models.registry import get_model_spec

    spec = get_model_spec(family)
    hypermodel = get_hypermodel(
        family, (8, 8, 1), 10, flat_input=True, num_train_samples=N
    )
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    reference = build_compiled_model(
        np.zeros((N, 64), "float32"),
        np.eye(10)[np.arange(N) % 10],
        name=family,
        input_shape=(8, 8, 1),
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
    )
    assert model.count_params() == reference.count_params()
    assert model.get_config() == reference.get_config()
    assert _without_name(model.optimizer.get_config()) == _without_name(
        reference.optimizer.get_config()
    )
    assert model.loss.get_config() == reference.loss.get_config()
    assert hp.values["learning_rate"] == spec.learning_rate
    assert hp.values["batch_size"] == spec.batch_size
    assert (hp.values["optimizer"], hp.values["schedule"]) == ("adam", "cosine")
    assert hypermodel.default_standardize == spec.standardize


def test_mlp_default_values_are_the_registry_builder_kwargs():
    values = MLPHyperModel((30,), 2).default_values()
    assert {k: values[k] for k in ("width", "depth", "dropout", "batch_norm")} == {
        "width": 512,
        "depth": 2,
        "dropout": 0.3,
        "batch_norm": True,
    }


def test_recurrent_defaults_equal_the_untuned_sequence_classifier():
    from kerasdl.models import build_sequence_classifier

    keras.backend.clear_session()  # same automatic layer names in both builds
    model = RecurrentHyperModel((8, 8), 10).build(kt.HyperParameters())
    keras.backend.clear_session()
    reference = build_sequence_classifier((8, 8), num_classes=10, compiled=True)
    assert model.count_params() == reference.count_params()
    assert model.get_config() == reference.get_config()
    assert _without_name(model.optimizer.get_config()) == _without_name(
        reference.optimizer.get_config()
    )


def test_recurrent_reads_images_row_by_row():
    hypermodel = RecurrentHyperModel((8, 8, 1), 10)
    model = hypermodel.build(kt.HyperParameters())
    assert model.input_shape == (None, 8, 8, 1)
    assert model.get_layer("reshape").output.shape == (None, 8, 8)
    keras.backend.clear_session()
    reference = RecurrentHyperModel((8, 8), 10).build(kt.HyperParameters())
    assert model.count_params() == reference.count_params()


def test_transformer_defaults_equal_vit_classifier_trained_as_in_bench_vit():
    from kerasdl.models.transformers.vit import ViTClassifier

    model = TransformerHyperModel((8, 8, 1), 10, num_train_samples=N).build(
        kt.HyperParameters()
    )
    reference = ViTClassifier((8, 8, 1), 10)
    assert model.count_params() == reference.count_params()
    assert model.get_config() == reference.get_config()
    # bench_vit.py: AdamW(0.05), 1e-3, warm-up 3 of 60 epochs, batch 64, cosine.
    steps = math.ceil(N / 64)
    expected = keras.optimizers.AdamW(
        keras.optimizers.schedules.CosineDecay(
            0.0, 57 * steps, warmup_target=1e-3, warmup_steps=3 * steps
        ),
        weight_decay=0.05,
    )
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert _without_name(model.optimizer.get_config()) == _without_name(
        expected.get_config()
    )


def test_transformer_patch_sizes_divide_the_image():
    space = TransformerHyperModel((8, 8, 1), 10).space["patch_size"]
    assert space.values == (2, 4) and space.default == 4
    assert TransformerHyperModel((12, 12, 3), 10).space["patch_size"].values == (
        2,
        3,
        4,
        6,
    )


# Small models whose weight shapes mostly repeat those built above: on JAX every
# new weight shape costs a compilation of its initializer.
TINY = {
    "mlp": {"width": 8, "depth": 1},
    "cnn": {"num_blocks": 1, "convs_per_block": 1, "dense_units": 0},
    "recurrent": {"bidirectional": False},
    "transformer": {"num_layers": 1},
}


@pytest.mark.parametrize("family", list(TINY))
def test_each_family_builds_and_trains_one_step(family):
    hypermodel = get_hypermodel(
        family, (8, 8, 1), 10, batch_size=16, learning_rate=1e-2, seed=0, **TINY[family]
    )
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    x = np.random.default_rng(0).random((16, 8, 8, 1), dtype="float32")
    y = np.arange(16) % 10  # integer labels: fit one-hot encodes them
    before = [w.copy() for w in model.get_weights()]
    history = hypermodel.fit(
        hp, model, x, y, epochs=1, validation_data=(x, y), verbose=0
    )
    assert np.isfinite(history.history["loss"][0])
    assert 0.0 <= history.history["val_accuracy"][0] <= 1.0
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    assert model.predict(x, verbose=0).shape == (16, 10)


def test_normalization_layer_standardizes_flat_inputs():
    rng = np.random.default_rng(1)
    x = rng.normal(5.0, 3.0, (32, 64)).astype("float32")
    mean, variance = x.mean(0), x.var(0)
    raw = MLPHyperModel(
        (8, 8, 1), 10, flat_input=True, normalization=(mean, variance), seed=0
    ).build(kt.HyperParameters())
    plain = MLPHyperModel((8, 8, 1), 10, flat_input=True, seed=0).build(
        kt.HyperParameters()
    )
    assert raw.input_shape == (None, 64)
    assert raw.count_params() == plain.count_params()  # statistics are constants
    plain.set_weights(raw.layers[-1].get_weights())
    scaled = (x - mean) / np.sqrt(variance)
    np.testing.assert_allclose(
        raw.predict(x, verbose=0), plain.predict(scaled, verbose=0), atol=1e-5
    )


def test_a_user_range_narrows_the_search_and_keeps_the_default_inside():
    hypermodel = MLPHyperModel((30,), 2, width=(32, 128), learning_rate=(1e-4, 1e-2))
    assert hypermodel.default_values()["width"] == 128  # 512 clipped into range
    hp = kt.HyperParameters()
    hypermodel.build(hp)
    width = next(p for p in hp.space if p.name == "width")
    assert (width.min_value, width.max_value, width.sampling) == (32, 128, "log")
    rng = [width.random_sample(seed) for seed in range(20)]
    assert all(32 <= w <= 128 for w in rng)
    fixed = MLPHyperModel((30,), 2, depth=3, optimizer="sgd").default_values()
    assert (fixed["depth"], fixed["optimizer"]) == (3, "sgd")


@pytest.mark.parametrize(
    "family, shape, overrides, message",
    [
        (
            "mlp",
            (30,),
            {"width": (512, 32)},
            "`width` range must be (low, high) with low <= high; received "
            "width=(512, 32).",
        ),
        ("mlp", (30,), {"learning_rate": (1e-2, 1e-4)}, "`learning_rate` range"),
        ("mlp", (30,), {"dropout": (0.1, 1.0)}, "`dropout` must be a number in"),
        ("mlp", (30,), {"width": (0, 8)}, "`width` must be an integer in [1,"),
        ("mlp", (30,), {"optimizer": ["adam", "rmsprop"]}, "`optimizer` choices"),
        ("mlp", (30,), {"batch_size": []}, "`batch_size` needs at least one"),
        ("mlp", (30,), {"height": 3}, "Unknown hyperparameter 'height'"),
        ("cnn", (30,), {}, "The cnn family needs images"),
        ("transformer", (30,), {}, "The transformer family needs images"),
        ("transformer", (8, 8, 1), {"patch_size": [3]}, "`patch_size` choices"),
        (
            "transformer",
            (8, 8, 1),
            {"hidden_dim": [48], "num_heads": [32]},
            "divisible by every `num_heads`",
        ),
        ("recurrent", (30,), {}, "The recurrent family needs sequences"),
    ],
)
def test_bad_search_spaces_and_shapes_raise_one_line(family, shape, overrides, message):
    with pytest.raises(ValueError) as error:
        get_hypermodel(family, shape, 10, **overrides)
    assert message in _one_line(error)


def test_fit_checks_labels_and_keeps_batch_size_a_hyperparameter():
    hypermodel = MLPHyperModel((4,), 3, width=8, depth=1)
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    x = np.zeros((6, 4), "float32")
    with pytest.raises(ValueError, match="`batch_size` is a hyperparameter"):
        hypermodel.fit(hp, model, x, np.zeros(6, "int64"), batch_size=2)
    with pytest.raises(ValueError, match=r"labels in \[0, 2\]"):
        hypermodel.fit(hp, model, x, np.arange(6), epochs=1, verbose=0)


def test_cnn_family_space_follows_small_cnn():
    values = CNNHyperModel((8, 8, 1), 10).default_values()
    assert (values["num_blocks"], values["filters"]) == (2, 32)  # (32, 64)
    model = CNNHyperModel((8, 8, 1), 10, num_blocks=3, filters=16).build(
        kt.HyperParameters()
    )
    assert model.filters == (16, 32, 64)
