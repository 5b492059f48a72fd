"""`get_optimizer`: Keras's optimizers by name, and what their own options do."""

import keras
import numpy as np
import pytest

from kerasdl.training import TrainingConfig, get_optimizer, step_decay, train


@pytest.mark.parametrize(
    "name, cls",
    [
        ("sgd", keras.optimizers.SGD),
        ("rmsprop", keras.optimizers.RMSprop),
        ("adam", keras.optimizers.Adam),
        ("ADAMW", keras.optimizers.AdamW),
    ],
)
def test_names_build_the_keras_classes(name, cls):
    optimizer = get_optimizer(name, 0.01)
    # (On torch Keras builds its torch subclass of each optimizer.)
    assert isinstance(optimizer, cls) and type(optimizer).__name__ == cls.__name__
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(
        0.01
    )


def test_options_reach_the_keras_optimizer():
    sgd = get_optimizer(
        "sgd",
        0.1,
        momentum=0.9,
        nesterov=True,
        clipnorm=2.0,
        weight_decay=1e-4,
        gradient_accumulation_steps=3,
    )
    assert sgd.momentum == pytest.approx(0.9) and sgd.nesterov
    assert sgd.clipnorm == 2.0 and sgd.clipvalue is None
    assert sgd.weight_decay == pytest.approx(1e-4)
    assert sgd.gradient_accumulation_steps == 3
    rms = get_optimizer("rmsprop", 0.1, momentum=0.5, clipvalue=0.5, rho=0.8)
    assert rms.momentum == pytest.approx(0.5) and rms.clipvalue == 0.5
    assert rms.rho == pytest.approx(0.8)
    adam = get_optimizer("adam", global_clipnorm=1.0, beta_1=0.8)
    assert adam.global_clipnorm == 1.0 and adam.beta_1 == pytest.approx(0.8)
    # One accumulation step is no accumulation (Keras itself rejects 1).
    assert (
        get_optimizer("adam", gradient_accumulation_steps=1).gradient_accumulation_steps
        is None
    )


def test_accepts_a_schedule():
    schedule = step_decay(0.1, drop_every=5)
    optimizer = get_optimizer("sgd", schedule)
    assert optimizer._learning_rate is schedule


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"name": "adagrad"},
            r"optimizer must be one of \['adam', 'adamw', 'rmsprop', 'sgd'\]",
        ),
        ({"learning_rate": -0.1}, "learning_rate"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": float("inf")}, "learning_rate"),
        ({"name": "sgd", "momentum": 1.0}, "momentum"),
        ({"name": "sgd", "momentum": -0.1}, "momentum"),
        ({"name": "adam", "momentum": 0.9}, "momentum"),
        ({"name": "sgd", "nesterov": True}, "nesterov"),
        ({"name": "adam", "nesterov": True}, "nesterov"),
        ({"clipnorm": 1.0, "clipvalue": 1.0}, "clipnorm"),
        ({"clipnorm": 1.0, "global_clipnorm": 1.0}, "global_clipnorm"),
        ({"clipnorm": -1.0}, "clipnorm"),
        ({"clipvalue": "big"}, "clipvalue"),
        ({"weight_decay": -1e-4}, "weight_decay"),
        ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps"),
        ({"gradient_accumulation_steps": 2.0}, "gradient_accumulation_steps"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        get_optimizer(**kwargs)


def test_learning_rate_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="learning_rate"):
        get_optimizer("adam", "fast")


def test_gradient_accumulation_equals_a_k_times_larger_batch(
    regression_data, make_model
):
    """k batches of b with accumulation == batches of k*b: Keras *averages* the k
    batch gradients (`(g + acc) / k` in `BaseOptimizer._backend_apply_gradients`),
    and each batch gradient is already a batch mean, so the two updates coincide."""
    x, y = regression_data  # 64 samples
    common = dict(optimizer="sgd", learning_rate=0.1, momentum=0.9, epochs=2, verbose=0)
    configs = {
        "batch 32": TrainingConfig(batch_size=32, **common),
        "batch 8 x 4 accumulated": TrainingConfig(
            batch_size=8, gradient_accumulation_steps=4, **common
        ),
        "batch 8": TrainingConfig(batch_size=8, **common),  # the control
    }
    initial = make_model().get_weights()
    weights, models = {}, {}
    for key, config in configs.items():
        models[key] = make_model()
        models[key].set_weights(initial)
        train(models[key], x, y, config=config, loss="mse", shuffle=False)
        weights[key] = models[key].get_weights()

    # 2 epochs x 8 batches of 8 = 16 batches -> 4 updates, like 2 x 2 batches of 32.
    iterations = models["batch 8 x 4 accumulated"].optimizer.iterations
    assert int(keras.ops.convert_to_numpy(iterations)) == 4
    for got, want, start in zip(
        weights["batch 8 x 4 accumulated"], weights["batch 32"], initial
    ):
        assert np.abs(want - start).max() > 1e-3  # training moved the weights
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
    # Without accumulation, batches of 8 are not batches of 32.
    diff = max(
        np.abs(p - q).max() for p, q in zip(weights["batch 8"], weights["batch 32"])
    )
    assert diff > 1e-3


def _one_step_changes(clip, lr=0.1):
    """Per-variable change of one SGD step on a huge gradient (norms 1e4 and 2e4)."""
    variables = [
        keras.Variable(np.zeros((3, 2), dtype="float32")),
        keras.Variable(np.zeros((2,), dtype="float32")),
    ]
    grads = [
        keras.ops.full((3, 2), 1e4 / np.sqrt(6.0)),
        keras.ops.full((2,), 2e4 / np.sqrt(2.0)),
    ]
    get_optimizer("sgd", lr, **clip).apply(grads, variables)
    return [float(np.linalg.norm(keras.ops.convert_to_numpy(v))) for v in variables]


def test_clipnorm_bounds_each_variables_step():
    lr, clipnorm = 0.1, 1.0
    unclipped = _one_step_changes({})
    np.testing.assert_allclose(unclipped, [1e3, 2e3], rtol=1e-5)  # lr * |g|
    clipped = _one_step_changes({"clipnorm": clipnorm})
    for change in clipped:  # clipnorm clips every variable's gradient on its own
        assert change <= lr * clipnorm + 1e-6
        assert change == pytest.approx(lr * clipnorm, rel=1e-5)


def test_global_clipnorm_bounds_the_whole_step():
    lr, clipnorm = 0.1, 1.0
    changes = _one_step_changes({"global_clipnorm": clipnorm})
    total = float(np.sqrt(np.sum(np.square(changes))))
    assert total <= lr * clipnorm + 1e-6
    assert total == pytest.approx(lr * clipnorm, rel=1e-5)
    # Joint clipping keeps the direction: the ratio of the two changes is still 1:2.
    assert changes[1] / changes[0] == pytest.approx(2.0, rel=1e-5)


def test_clipnorm_inside_fit(regression_data, make_model):
    """The same bound holds for gradients that fit computes (x, y scaled up 1e3)."""
    x, y = regression_data
    model = make_model()
    before = model.get_weights()
    config = TrainingConfig(
        optimizer="sgd",
        learning_rate=0.1,
        clipnorm=1.0,
        epochs=1,
        batch_size=64,
        verbose=0,
    )
    train(model, 1e3 * x, 1e3 * y, config=config, loss="mse")
    for new, old in zip(model.get_weights(), before):
        assert np.linalg.norm(new - old) <= 0.1 * 1.0 + 1e-6
