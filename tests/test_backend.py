"""The backend seam, proven on small examples with known answers, on every backend."""

import keras
import numpy as np
import pytest
from keras import ops

from kerasdl import backend as kb


def test_input_gradient_of_a_known_function():
    x = np.array([[1.0, -2.0, 3.0]], dtype="float32")
    value, grad = kb.value_and_input_gradient(lambda t: ops.sum(t**3), x)
    assert float(value) == pytest.approx(1 - 8 + 27)
    np.testing.assert_allclose(ops.convert_to_numpy(grad), 3 * x**2, rtol=1e-6)


def test_input_gradient_through_a_model_matches_its_weights():
    # For a linear model f(x) = x @ w, the input gradient of sum(f) is w (per sample).
    layer = keras.layers.Dense(1, use_bias=False)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    layer(x)
    grad = kb.input_gradient(lambda t: ops.sum(layer(t)), x)
    w = ops.convert_to_numpy(layer.kernel)[:, 0]
    np.testing.assert_allclose(
        ops.convert_to_numpy(grad), np.tile(w, (4, 1)), rtol=1e-6
    )


def test_input_gradient_rejects_non_scalar_and_integer_inputs():
    x = np.ones((2, 3), dtype="float32")
    with pytest.raises(ValueError, match="fn must return a scalar"):
        kb.input_gradient(lambda t: t * 2.0, x)
    with pytest.raises(ValueError, match="x must be floating point"):
        kb.input_gradient(lambda t: ops.sum(t), np.ones((2, 3), dtype="int32"))


class TwoPlayer(kb.MultiOptimizerModel):
    """Scalar models a(x) = wa*x and b(h) = wb*h, updated by two SGD optimizers."""

    def __init__(self, a_repeats=2, **kwargs):
        super().__init__(**kwargs)
        self.a = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
        self.b = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
        self.a.build((None, 1))
        self.b.build((None, 1))
        self.a_repeats = a_repeats

    def call(self, x):
        return self.b(self.a(x))

    def a_loss(self, data):
        x, y = data
        return ops.mean((self.a(x) - y) ** 2)

    def b_loss(self, data):
        x, y = data
        return ops.mean((self.b(self.a(x)) - y) ** 2)

    def train_phases(self):
        return [
            kb.Phase(
                "a", "opt_a", self.a.trainable_variables, self.a_loss, self.a_repeats
            ),
            kb.Phase("b", "opt_b", self.b.trainable_variables, self.b_loss),
        ]


def test_two_optimizer_step_matches_hand_computed_updates():
    x = np.array([[1.0], [2.0], [3.0]], dtype="float32")
    y = np.array([[2.0], [3.0], [7.0]], dtype="float32")
    model = TwoPlayer(a_repeats=2)
    model.compile(
        optimizers={
            "opt_a": keras.optimizers.SGD(0.01),
            "opt_b": keras.optimizers.SGD(0.005),
        }
    )
    history = model.fit(x, y, batch_size=3, epochs=1, shuffle=False, verbose=0)

    xs, ys = x[:, 0].astype("float64"), y[:, 0].astype("float64")
    wa, wb = 1.0, 1.0
    for _ in range(2):  # phase a runs twice, each on the updated wa
        loss_a = np.mean((wa * xs - ys) ** 2)
        wa -= 0.01 * np.mean(2 * (wa * xs - ys) * xs)
    h = wa * xs  # phase b sees phase a's update
    loss_b = np.mean((wb * h - ys) ** 2)
    wb -= 0.005 * np.mean(2 * (wb * h - ys) * h)

    got_a = float(ops.convert_to_numpy(model.a.kernel)[0, 0])
    got_b = float(ops.convert_to_numpy(model.b.kernel)[0, 0])
    assert got_a == pytest.approx(wa, rel=1e-5)
    assert got_b == pytest.approx(wb, rel=1e-5)
    assert history.history["a_loss"][0] == pytest.approx(loss_a, rel=1e-5)
    assert history.history["b_loss"][0] == pytest.approx(loss_b, rel=1e-5)
    members = model.optimizer.optimizers
    assert int(ops.convert_to_numpy(members["opt_a"].iterations)) == 2
    assert int(ops.convert_to_numpy(members["opt_b"].iterations)) == 1
    assert int(ops.convert_to_numpy(model.optimizer.iterations)) == 1


class ClippedPlayer(TwoPlayer):
    """TwoPlayer whose phase a clips its weight to [-0.5, 1.05] after each update."""

    def train_phases(self):
        phases = super().train_phases()
        phases[0].constraint = lambda w: ops.clip(w, -0.5, 1.05)
        return phases


def test_phase_constraint_applies_after_every_repeated_update():
    # y = 3x pulls wa upwards from 1 by more than 0.05 per update: each of the three
    # updates must be clipped back to 1.05 before the next one uses it.
    x = np.array([[1.0], [2.0]], dtype="float32")
    y = 3.0 * x
    model = ClippedPlayer(a_repeats=3)
    model.compile(
        optimizers={
            "opt_a": keras.optimizers.SGD(0.1),
            "opt_b": keras.optimizers.SGD(0.0),
        }
    )
    history = model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    assert float(ops.convert_to_numpy(model.a.kernel)[0, 0]) == pytest.approx(1.05)
    # The logged loss is the last repeat's, computed at the clipped weight 1.05.
    xs = x[:, 0].astype("float64")
    expected = np.mean((1.05 * xs - 3.0 * xs) ** 2)
    assert history.history["a_loss"][0] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="constraint must be a callable"):
        kb.Phase("x", "opt", [1], lambda d: 0.0, constraint=0.01)


class PenaltyCritic(kb.MultiOptimizerModel):
    """Loss = (||grad_x f(x)|| - 1)^2 for a linear critic f(x) = x @ w: a gradient of
    a gradient, exactly as in WGAN-GP."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.critic = keras.layers.Dense(1, use_bias=False)
        self.critic.build((None, 2))

    def call(self, x):
        return self.critic(x)

    def penalty(self, data):
        x = data
        grads = kb.input_gradient(lambda t: ops.sum(self.critic(t)), x)
        norms = ops.sqrt(ops.sum(grads**2, axis=1))
        return ops.mean((norms - 1.0) ** 2)

    def train_phases(self):
        return [kb.Phase("gp", "critic", self.critic.trainable_variables, self.penalty)]


def test_gradient_of_an_input_gradient_inside_the_train_step():
    model = PenaltyCritic()
    w0 = np.array([[3.0], [4.0]], dtype="float32")  # ||w|| = 5
    model.critic.kernel.assign(w0)
    model.compile(optimizers={"critic": keras.optimizers.SGD(0.1)})
    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    model.fit(x, batch_size=8, epochs=1, verbose=0)
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    expected = w0 - 0.1 * 2 * (5.0 - 1.0) * w0 / 5.0
    np.testing.assert_allclose(
        ops.convert_to_numpy(model.critic.kernel), expected, rtol=1e-5
    )
    # Many steps drive the critic's gradient norm to 1, as the penalty intends.
    model.fit(x, batch_size=8, epochs=60, verbose=0)
    norm = np.linalg.norm(ops.convert_to_numpy(model.critic.kernel))
    assert norm == pytest.approx(1.0, abs=1e-3)


class NoisyBatchNorm(kb.MultiOptimizerModel):
    """Draws noise from a seed generator and updates BatchNorm statistics in a phase."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.net = keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.BatchNormalization(),
                keras.layers.Dense(1),
            ]
        )
        self.seed_generator = keras.random.SeedGenerator(1)

    def call(self, x):
        return self.net(x)

    def noisy_loss(self, data):
        noise = keras.random.normal((4, 3), seed=self.seed_generator)
        out = self.net(data + noise, training=True)
        return ops.mean(out**2), {"noise_mean": ops.mean(noise)}

    def train_phases(self):
        return [
            kb.Phase(
                "net",
                "opt",
                self.net.trainable_variables,
                self.noisy_loss,
                repeats=3,
                metrics=("noise_mean",),
            )
        ]


def test_phase_state_updates_are_written_back():
    model = NoisyBatchNorm()
    model.compile(optimizers={"opt": keras.optimizers.Adam(1e-2)})
    seed_before = ops.convert_to_numpy(model.seed_generator.state).copy()
    x = np.full((4, 3), 5.0, dtype="float32")
    history = model.fit(x, batch_size=4, epochs=2, verbose=0)
    moving_mean = ops.convert_to_numpy(model.net.layers[0].moving_mean)
    assert np.all(moving_mean > 0.1), "BatchNorm statistics were not written back"
    seed_after = ops.convert_to_numpy(model.seed_generator.state)
    assert not np.array_equal(seed_before, seed_after), "seed state did not advance"
    # Six noise draws (3 repeats x 2 epochs) from one generator are all different.
    assert len(set(np.round(history.history["noise_mean"], 6))) == 2
    assert np.isfinite(history.history["net_loss"]).all()


def test_compile_rejects_inconsistent_optimizers():
    model = TwoPlayer()
    with pytest.raises(ValueError, match="No phase uses the optimizer"):
        model.compile(optimizers={"opt_a": "sgd", "opt_b": "sgd", "unused": "adam"})
    with pytest.raises(ValueError, match="compile did not receive"):
        TwoPlayer().compile(optimizers={"opt_a": "sgd"})
    with pytest.raises(ValueError, match="received loss="):
        TwoPlayer().compile(optimizers={"opt_a": "sgd", "opt_b": "sgd"}, loss="mse")
    with pytest.raises(ValueError, match="repeats must be an integer"):
        kb.Phase("x", "opt", [1], lambda d: 0.0, repeats=0)


def test_set_random_seed_makes_keras_and_numpy_draws_repeatable():
    kb.set_random_seed(7)
    first = (ops.convert_to_numpy(keras.random.normal((3,))), np.random.rand(2))
    kb.set_random_seed(7)
    second = (ops.convert_to_numpy(keras.random.normal((3,))), np.random.rand(2))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    with pytest.raises(ValueError, match="seed must be an integer"):
        kb.set_random_seed(1.5)


def test_fresh_models_per_call_hides_only_the_retracing_warning():
    import logging

    logger = logging.getLogger("tensorflow")
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        with kb.fresh_models_per_call():
            logger.warning("5 out of the last 5 calls triggered tf.function retracing.")
            logger.warning("an unrelated warning")
        logger.warning("6 out of the last 6 calls triggered tf.function retracing.")
    finally:
        logger.removeHandler(handler)
    assert "an unrelated warning" in seen
    assert any(m.startswith("6 out of") for m in seen), "filter must not outlive it"
    hidden = not any(m.startswith("5 out of") for m in seen)
    assert hidden == (kb.name() == "tensorflow")


def test_weight_gradients_of_a_linear_model_match_the_formula():
    # loss = mean((x @ w + b - y)^2): dw = 2/n x^T r, db = 2 mean(r); an unused
    # variable gets a zero gradient. Nothing is updated.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3)).astype("float32")
    y = rng.normal(size=(6, 1)).astype("float32")
    layer = keras.layers.Dense(1)
    layer.build((None, 3))
    unused = keras.Variable(np.ones((2,), "float32"))
    before = ops.convert_to_numpy(layer.kernel).copy()
    value, (dw, db, du) = kb.value_and_weight_gradients(
        lambda: ops.mean(ops.square(layer(x) - ops.convert_to_tensor(y))),
        [layer.kernel, layer.bias, unused],
    )
    w, b = before, ops.convert_to_numpy(layer.bias)
    r = x @ w + b - y
    assert float(value) == pytest.approx(float(np.mean(r**2)), rel=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(dw), 2 * x.T @ r / 6, rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(db), [2 * r.mean()], rtol=1e-5)
    np.testing.assert_array_equal(ops.convert_to_numpy(du), [0.0, 0.0])
    np.testing.assert_array_equal(ops.convert_to_numpy(layer.kernel), before)
    with pytest.raises(ValueError, match="variables is empty"):
        kb.value_and_weight_gradients(lambda: ops.sum(x), [])


def test_optimizer_group_exposes_its_members_and_round_trips_its_config():
    group = kb.OptimizerGroup(
        {"a": keras.optimizers.SGD(0.1), "b": keras.optimizers.Adam(1e-3)}
    )
    a_vars = [keras.Variable(np.zeros((2,), "float32"))]
    b_vars = [keras.Variable(np.zeros((3,), "float32"))]
    group.build_members({"a": a_vars, "b": b_vars})
    group.build([])
    members = group.optimizers
    expected = members["a"].variables + members["b"].variables
    assert [id(v) for v in group.variables[-len(expected) :]] == [
        id(v) for v in expected
    ]
    clone = kb.OptimizerGroup.from_config(group.get_config())
    assert isinstance(clone, kb.OptimizerGroup)
    assert {k: type(o).__name__ for k, o in clone.optimizers.items()} == {
        "a": "SGD",
        "b": "Adam",
    }
    assert float(clone.optimizers["a"].learning_rate) == pytest.approx(0.1)
    with pytest.raises(TypeError, match="does not apply gradients itself"):
        group.apply([np.zeros((2,), "float32")], a_vars)
    with pytest.raises(ValueError, match="non-empty dict"):
        kb.OptimizerGroup({})


# -- compile_update / compile_function (RL agents' training loops) ------------------


def _linear_model(seed=0):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=(3, 1)).astype("float32")])
    return model


def test_compile_update_applies_sgd_to_the_variables():
    model = _linear_model()
    w0 = model.get_weights()[0]
    update = kb.compile_update(
        lambda x, y: ops.mean(ops.square(model(x)[:, 0] - y)),
        keras.optimizers.SGD(0.1),
        model.trainable_weights,
    )
    x = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    y = np.ones(8, "float32")
    logs = update(x, y)
    residual = x @ w0[:, 0] - y
    expected = w0[:, 0] - 0.1 * (2 / 8) * x.T @ residual
    np.testing.assert_allclose(model.get_weights()[0][:, 0], expected, rtol=1e-5)
    assert float(logs["loss"]) == pytest.approx(np.mean(residual**2), rel=1e-5)


def test_compile_update_repeats_equal_sequential_updates_and_state_moves():
    def build():
        model, shadow = _linear_model(0), _linear_model(1)

        def polyak():
            shadow.weights[0].assign(
                0.5 * shadow.weights[0].value + 0.5 * model.weights[0].value
            )

        update = kb.compile_update(
            lambda x: ops.mean(ops.square(model(x))),
            keras.optimizers.Adam(0.05),
            model.trainable_weights,
            state_variables=shadow.weights,
            after_update=polyak,
            repeats=3,
        )
        return model, shadow, update

    xs = np.random.default_rng(2).normal(size=(3, 4, 3)).astype("float32")
    fused_model, fused_shadow, fused = build()
    fused(xs)
    model, shadow, _ = build()
    single = kb.compile_update(
        lambda x: ops.mean(ops.square(model(x))),
        keras.optimizers.Adam(0.05),
        model.trainable_weights,
        state_variables=shadow.weights,
        after_update=lambda: shadow.weights[0].assign(
            0.5 * shadow.weights[0].value + 0.5 * model.weights[0].value
        ),
    )
    for x in xs:
        single(x)
    np.testing.assert_allclose(
        fused_model.get_weights()[0], model.get_weights()[0], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        fused_shadow.get_weights()[0], shadow.get_weights()[0], rtol=1e-5, atol=1e-6
    )
    assert not np.allclose(shadow.get_weights()[0], _linear_model(1).get_weights()[0])


def test_compiled_function_sees_later_weight_changes():
    model = _linear_model()
    forward = kb.compile_function(lambda x: model(x, training=False), model.weights)
    x = np.ones((2, 3), "float32")
    first = ops.convert_to_numpy(forward(x))
    model.set_weights([np.zeros((3, 1), "float32")])
    np.testing.assert_allclose(ops.convert_to_numpy(forward(x)), 0.0)
    assert not np.allclose(first, 0.0)


def test_compile_update_rejects_bad_arguments():
    model = _linear_model()
    opt = keras.optimizers.SGD(0.1)
    with pytest.raises(ValueError, match="trainable_variables is empty"):
        kb.compile_update(lambda x: ops.sum(x), opt, [])
    with pytest.raises(ValueError, match="repeats"):
        kb.compile_update(lambda x: ops.sum(x), opt, model.weights, repeats=0)
    with pytest.raises(ValueError, match="state_variables must not repeat"):
        kb.compile_update(
            lambda x: ops.sum(x), opt, model.weights, state_variables=model.weights
        )
    with pytest.raises(ValueError, match="Keras variables"):
        kb.compile_function(lambda x: x, [np.zeros(2)])
    update = kb.compile_update(lambda x: model(x), opt, model.weights)
    with pytest.raises(ValueError, match="scalar loss"):
        update(np.ones((2, 3), "float32"))


def test_distribution_seam_offers_the_backend_half_of_distribute():
    expected = {
        "jax": ("data_parallel", "model_parallel"),
        "tensorflow": ("data_parallel",),
        "torch": (),
    }[kb.name()]
    assert kb.supported_distributions() == expected
    if not expected:
        # Keras has no keras.distribution for torch: one clear error, and the
        # distribute module's argument check names the backend.
        with pytest.raises(NotImplementedError, match="KERAS_BACKEND is 'torch'"):
            kb.distribution_impl()
        from kerasdl.training import distribute

        with pytest.raises(ValueError, match="KERAS_BACKEND is 'torch'"):
            distribute.check_kind("data_parallel")
        return
    impl = kb.distribution_impl()
    assert impl.DISTRIBUTIONS == expected
    for name in (
        "set_virtual_cpu_devices",
        "make_data_parallel",
        "current_distribution",
        "set_global_distribution",
        "num_replicas",
        "model_replicas",
        "model_scope",
        "shard_shapes",
        "partition_spec",
        "EVEN_BATCHES_REQUIRED",
    ):
        assert hasattr(impl, name), name
