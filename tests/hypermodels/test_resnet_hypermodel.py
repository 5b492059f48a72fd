"""ResNetHyperModel: its defaults are the registry's untuned resnet18, its space
narrows by keyword and follows ResNet's configurations, bad spaces and shapes are
refused in one line, and a one-trial search runs end to end."""

from __future__ import annotations

import keras
import keras_tuner as kt
import numpy as np
import pytest

from kerasdl.hypermodels import ClassifierHyperModel, get_hypermodel, run_search
from kerasdl.hypermodels.registry import check_family, list_hypermodels
from kerasdl.hypermodels.resnet import ResNetHyperModel

N = 1000  # training-set size the schedules are sized for


def _without_name(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "name"}


def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def _layers(model) -> list[tuple]:
    """(class, output shape, parameter count) of every layer, nested models
    expanded: the architecture, names left out."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            rows.extend(_layers(layer))
        else:
            rows.append(
                (type(layer).__name__, tuple(layer.output.shape), layer.count_params())
            )
    return rows


def test_resnet_is_a_registered_family():
    assert "resnet" in list_hypermodels()
    assert check_family("resnet") == "resnet"  # what `tune` and `compare` call
    hypermodel = get_hypermodel("resnet", (8, 8, 1), 10)
    assert isinstance(hypermodel, ResNetHyperModel)
    assert isinstance(hypermodel, ClassifierHyperModel)
    assert hypermodel.name == "resnet"


@pytest.fixture(scope="module")
def untuned():
    """The default HyperModel's model (flat inputs, as compare passes them) and the
    registry's resnet18 as `kerasdl compare` builds and compiles it."""
    from kerasdl.baselines.keras_classifier import build_compiled_model
    from kerasdl.models.registry import get_model_spec

    spec = get_model_spec("resnet18")
    hypermodel = get_hypermodel(
        "resnet", (8, 8, 1), 10, flat_input=True, num_train_samples=N
    )
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    reference = build_compiled_model(
        np.zeros((N, 64), "float32"),
        np.eye(10)[np.arange(N) % 10],
        name="resnet18",
        input_shape=(8, 8, 1),
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
    )
    return spec, hypermodel, hp, model, reference


def test_defaults_equal_the_untuned_registry_resnet18(untuned):
    spec, hypermodel, hp, model, reference = untuned
    assert _layers(model) == _layers(reference)
    assert model.count_params() == reference.count_params() > 0
    assert model.get_config() == reference.get_config()
    assert _without_name(model.optimizer.get_config()) == _without_name(
        reference.optimizer.get_config()
    )
    assert model.loss.get_config() == reference.loss.get_config()
    assert hp.values["learning_rate"] == spec.learning_rate == 1e-3
    assert hp.values["batch_size"] == spec.batch_size
    assert (hp.values["optimizer"], hp.values["schedule"]) == ("adam", "cosine")
    assert hypermodel.epochs == spec.epochs == 30
    assert hypermodel.default_standardize is spec.standardize is False
    assert {k: hp.values[k] for k in hypermodel.model_space()} == {
        "depth": 18,
        "width_multiplier": spec.builder_kwargs["width_multiplier"],
        "dropout": 0.0,
        "zero_init_residual": spec.builder_kwargs["zero_init_residual"],
    }


def test_image_inputs_get_the_same_network_without_the_reshape(untuned):
    reference = untuned[4]
    model = ResNetHyperModel((8, 8, 1), 10).build(kt.HyperParameters())
    assert model.input_shape == (None, 8, 8, 1)
    assert model.get_config() == reference.get_layer("resnet18").get_config()
    assert _layers(model) == _layers(reference)[2:]  # less Input and Reshape


def test_the_values_choose_the_resnet_variant():
    model = ResNetHyperModel(
        (8, 8, 1),
        10,
        depth=34,
        width_multiplier=0.25,
        zero_init_residual=False,
        dropout=0.2,
    ).build(kt.HyperParameters())
    config = model.get_config()
    assert model.name == "resnet34"
    assert config["stackwise_depth"] == (3, 4, 6, 3)
    assert config["block_kind"] == "basic"
    assert config["width_multiplier"] == 0.25
    assert model.get_layer("stem_conv").filters == 16  # 64 * 0.25
    assert config["zero_init_residual"] is False
    assert model.get_layer("head_dropout").rate == 0.2
    blocks = [layer for layer in model.layers if layer.name.startswith("stage")]
    assert len(blocks) == 16


def test_a_keyword_narrows_the_search_and_keeps_the_default_inside():
    hypermodel = ResNetHyperModel(
        (8, 8, 1), 10, width_multiplier=[0.25, 0.5], dropout=(0.1, 0.3), depth=34
    )
    values = hypermodel.default_values()
    assert values["width_multiplier"] == 0.5  # the untuned width is still searched
    assert values["dropout"] == 0.1  # 0.0 clipped into the range
    assert values["depth"] == 34
    hp = kt.HyperParameters()
    hypermodel._declare(hp)
    space = {p.name: p for p in hp.space}
    assert list(space["width_multiplier"].values) == [0.25, 0.5]
    assert (space["dropout"].min_value, space["dropout"].max_value) == (0.1, 0.3)
    assert type(space["depth"]).__name__ == "Fixed"
    samples = [space["dropout"].random_sample(seed) for seed in range(20)]
    assert all(0.1 <= d <= 0.3 for d in samples)
    # A narrowing that leaves the untuned width out defaults to its first choice.
    assert (
        ResNetHyperModel((8, 8, 1), 10, width_multiplier=[1.0, 0.25]).default_values()[
            "width_multiplier"
        ]
        == 1.0
    )
    assert hypermodel.search_space_summary()["depth"] == "fixed 34"


@pytest.mark.parametrize(
    "shape, overrides, message",
    [
        (
            (8, 8, 1),
            {"dropout": (0.4, 0.1)},
            "`dropout` range must be (low, high) with low <= high; received "
            "dropout=(0.4, 0.1).",
        ),
        ((8, 8, 1), {"learning_rate": (1e-2, 1e-4)}, "`learning_rate` range"),
        ((8, 8, 1), {"dropout": (0.0, 1.0)}, "`dropout` must be a number in"),
        (
            (8, 8, 1),
            {"depth": [18, 50]},
            "`depth` choices must each be one of [18, 34]; received depth=[18, 50].",
        ),
        ((8, 8, 1), {"width_multiplier": [0.0, 0.5]}, "`width_multiplier` choices"),
        ((8, 8, 1), {"width_multiplier": -1.0}, "`width_multiplier` choices"),
        ((8, 8, 1), {"zero_init_residual": "yes"}, "True or False"),
        ((8, 8, 1), {"batch_size": []}, "`batch_size` needs at least one"),
        ((8, 8, 1), {"filters": 32}, "Unknown hyperparameter 'filters'"),
        ((64,), {}, "The resnet family needs images"),
        ((8, 8), {}, "The resnet family needs images"),
        ((2, 8, 1), {}, "height and width >= 3; received input_shape=(2, 8, 1)."),
        ((8, 8, 0), {}, "`input_shape` must be a non-empty tuple of positive"),
    ],
)
def test_bad_search_spaces_and_shapes_raise_one_line(shape, overrides, message):
    with pytest.raises(ValueError) as error:
        get_hypermodel("resnet", shape, 10, **overrides)
    assert message in _one_line(error)


@pytest.mark.slow  # one ResNet-18 train step to compile: ~10 s on JAX
def test_a_one_trial_search_runs_end_to_end(tmp_path):
    from kerasdl.data import load_digits

    digits = load_digits()
    result = run_search(
        "resnet",
        x=digits.x[:200],
        y=digits.y[:200],
        dataset="digits200",
        tuner="random",
        max_trials=1,
        epochs=1,
        out_dir=tmp_path,
        seed=0,
        search_space={"width_multiplier": 0.25, "depth": 18, "batch_size": 32},
        verbose=False,
    )
    assert (result["family"], result["dataset"]) == ("resnet", "digits200")
    assert result["completed_trials"] == 1
    assert [t["status"] for t in result["trials"]] == ["COMPLETED"]
    best = result["best_hyperparameters"]
    assert (best["width_multiplier"], best["depth"], best["batch_size"]) == (
        0.25,
        18,
        32,
    )
    assert 0.0 <= result["best_score"] <= 1.0
    assert result["search_space"]["width_multiplier"] == "fixed 0.25"
    assert result["default_hyperparameters"]["zero_init_residual"] is True
    model = keras.saving.load_model(tmp_path / "best_model.keras")
    assert model.get_config()["width_multiplier"] == 0.25
