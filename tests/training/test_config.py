"""`TrainingConfig`: validation, serialisation and the pieces it builds."""

import json

import keras
import pytest

from kerasdl.training import TrainingConfig


@pytest.mark.parametrize(
    "fields, match",
    [
        ({"optimizer": "adagrad"}, "optimizer"),
        ({"learning_rate": -1e-3}, "learning_rate"),
        ({"learning_rate": "1e-3"}, "learning_rate"),
        ({"schedule": "linear"}, "schedule"),
        ({"schedule": "step"}, "drop_every"),
        ({"schedule": "warmup_cosine"}, "warmup_steps"),
        ({"schedule": "cosine", "schedule_kwargs": {"alpha": 2.0}}, "alpha"),
        ({"schedule": "cosine", "schedule_kwargs": {"decay_steps": 0}}, "decay_steps"),
        (
            {"schedule": "cosine", "schedule_kwargs": {"initial_learning_rate": 0.1}},
            "initial_learning_rate",
        ),
        (
            {
                "schedule": "warmup_cosine",
                "schedule_kwargs": {"peak_learning_rate": 0.1},
            },
            "peak_learning_rate",
        ),
        (
            {"schedule": "step", "schedule_kwargs": {"drop_every": 2, "gamma": 0.1}},
            "gamma",
        ),
        ({"schedule_kwargs": {"decay_steps": 10}}, "schedule_kwargs"),
        ({"schedule": "cosine", "schedule_kwargs": [1]}, "schedule_kwargs"),
        ({"optimizer": "sgd", "momentum": 1.5}, "momentum"),
        ({"optimizer": "sgd", "nesterov": True}, "nesterov"),
        ({"clipnorm": 1.0, "clipvalue": 0.5}, "clipnorm"),
        ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps"),
        ({"precision": "float16"}, "precision"),
        ({"precision": "bfloat16"}, "precision"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"early_stopping_patience": -1}, "early_stopping_patience"),
        ({"monitor": ""}, "monitor"),
        ({"checkpoint": "yes"}, "checkpoint"),
        ({"verbose": 3}, "verbose"),
    ],
)
def test_bad_fields_raise_naming_the_field(fields, match):
    with pytest.raises(ValueError, match=match):
        TrainingConfig(**fields)


def test_defaults_are_valid_and_round_trip_through_json():
    config = TrainingConfig(
        optimizer="SGD",
        learning_rate=0.05,
        schedule="warmup_cosine",
        schedule_kwargs={"warmup_steps": 3, "alpha": 0.1},
        momentum=0.9,
        clipnorm=1.0,
        gradient_accumulation_steps=2,
        precision="mixed_bfloat16",
        seed=3,
        epochs=4,
        early_stopping_patience=2,
    )
    assert config.optimizer == "sgd"  # normalised
    data = json.loads(json.dumps(config.to_dict()))
    assert TrainingConfig.from_dict(data) == config


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match="lr"):
        TrainingConfig.from_dict({"lr": 0.1})


def test_make_optimizer_passes_every_option():
    config = TrainingConfig(
        optimizer="sgd",
        learning_rate=0.2,
        momentum=0.9,
        nesterov=True,
        weight_decay=1e-4,
        clipvalue=0.5,
        gradient_accumulation_steps=4,
    )
    optimizer = config.make_optimizer()
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert optimizer.nesterov and optimizer.momentum == pytest.approx(0.9)
    assert optimizer.clipvalue == 0.5 and optimizer.weight_decay == pytest.approx(1e-4)
    assert optimizer.gradient_accumulation_steps == 4
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(
        0.2
    )


@pytest.mark.parametrize(
    "schedule, kwargs, accumulation, expected_decay_steps",
    [
        ("cosine", {}, None, 3 * 10),
        ("cosine", {}, 2, 3 * 10 // 2),  # a schedule counts updates, not batches
        ("warmup_cosine", {"warmup_steps": 5}, None, 3 * 10 - 5),
        ("cosine", {"decay_steps": 7}, None, 7),  # given wins
    ],
)
def test_decay_steps_default_to_the_length_of_training(
    schedule, kwargs, accumulation, expected_decay_steps
):
    config = TrainingConfig(
        learning_rate=0.1,
        schedule=schedule,
        schedule_kwargs=kwargs,
        epochs=3,
        gradient_accumulation_steps=accumulation,
    )
    lr = config.make_optimizer(steps_per_epoch=10)._learning_rate
    assert isinstance(lr, keras.optimizers.schedules.CosineDecay)
    assert lr.decay_steps == expected_decay_steps
    expected_peak = 0.1
    start = (
        lr.warmup_target if lr.warmup_target is not None else lr.initial_learning_rate
    )
    assert start == pytest.approx(expected_peak)


def test_decay_steps_that_cannot_be_derived_raise():
    config = TrainingConfig(schedule="cosine")
    with pytest.raises(ValueError, match="decay_steps"):
        config.make_optimizer()
    short = TrainingConfig(
        schedule="warmup_cosine", epochs=1, schedule_kwargs={"warmup_steps": 20}
    )
    with pytest.raises(ValueError, match="warmup_steps"):
        short.make_optimizer(steps_per_epoch=10)


def test_step_schedule_uses_learning_rate_as_its_start():
    config = TrainingConfig(
        learning_rate=0.4,
        schedule="step",
        schedule_kwargs={"drop_every": 2, "factor": 0.5},
    )
    schedule = config.make_optimizer()._learning_rate
    assert float(keras.ops.convert_to_numpy(schedule(5))) == pytest.approx(0.1)


def test_setup_sets_the_policy_and_scope_restores_it():
    config = TrainingConfig(precision="mixed_bfloat16")
    with config.scope():
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"
    config.setup()
    assert keras.config.dtype_policy().name == "mixed_bfloat16"
    TrainingConfig().setup()  # float32 undoes a previous mixed policy
    assert keras.config.dtype_policy().name == "float32"
