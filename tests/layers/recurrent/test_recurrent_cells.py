"""kerasdl.layers.recurrent: hand-written cells vs keras.layers.SimpleRNN/LSTM/GRU.

Every comparison builds the Keras built-in (with a random bias, so the bias counts),
builds the same thing around the hand-written cell in `keras.layers.RNN`, copies
the built-in's weights over and asks for outputs equal within 1e-5.
"""

import inspect

import keras
import numpy as np
import pytest

from kerasdl.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell
from kerasdl.testing import check_layer

BATCH, STEPS, FEATURES, UNITS = 3, 5, 4, 3
ATOL = 1e-5

# kind -> (Keras built-in layer, hand-written cell, arguments shared by both)
KINDS = {
    "simple_rnn": (keras.layers.SimpleRNN, SimpleRNNCell, {}),
    "lstm": (keras.layers.LSTM, LSTMCell, {}),
    "gru": (keras.layers.GRU, GRUCell, {"reset_after": True}),
    "gru_reset_before": (keras.layers.GRU, GRUCell, {"reset_after": False}),
}
CELLS = {"simple_rnn": SimpleRNNCell, "lstm": LSTMCell, "gru": GRUCell}


def _x(seed=0, shape=(BATCH, STEPS, FEATURES)):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _numpy(structure):
    return [
        np.asarray(keras.ops.convert_to_numpy(t)) for t in keras.tree.flatten(structure)
    ]


def _assert_close(expected, actual, atol=ATOL):
    expected, actual = _numpy(expected), _numpy(actual)
    assert len(expected) == len(actual)
    for a, b in zip(expected, actual):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, atol=atol, rtol=0)


def _rnn(kind, ours, units=UNITS, cell_kwargs=None, **rnn_kwargs):
    """The built-in layer (`ours=False`) or `keras.layers.RNN(hand-written cell)`."""
    builtin, cell, shared = KINDS[kind]
    shared = {**shared, **(cell_kwargs or {})}
    if ours:
        return keras.layers.RNN(cell(units, **shared), **rnn_kwargs)
    shared.setdefault("bias_initializer", "random_normal")
    return builtin(units, **shared, **rnn_kwargs)


def _compare(build, x, **call_kwargs):
    """Builds the reference and ours, copies the weights, returns both outputs."""
    reference, mine = build(False), build(True)
    expected = reference(x, **call_kwargs)
    if not mine.built:
        mine.build(x.shape)
    weights = reference.get_weights()
    assert [w.shape for w in mine.get_weights()] == [w.shape for w in weights]
    mine.set_weights(weights)
    actual = mine(x, **call_kwargs)
    _assert_close(expected, actual)
    return _numpy(expected), _numpy(actual)


@pytest.fixture(params=sorted(KINDS))
def kind(request):
    return request.param


# --- Equal to the Keras built-ins ----------------------------------------------


def test_sequences_and_states_equal_builtin(kind):
    def build(ours):
        return _rnn(kind, ours, return_sequences=True, return_state=True)

    expected, _ = _compare(build, _x())
    n_states = 2 if kind == "lstm" else 1
    assert [a.shape for a in expected] == [(BATCH, STEPS, UNITS)] + [
        (BATCH, UNITS)
    ] * n_states


def test_mask_argument_equals_builtin_and_skips_padded_steps(kind):
    x = _x(1)
    mask = np.ones((BATCH, STEPS), bool)
    mask[0, 3:] = False  # right-padded: 3 real steps
    mask[1, :2] = False  # left-padded
    x[~mask] = 9.0  # padded steps hold garbage the mask must hide

    def build(ours):
        return _rnn(kind, ours, return_sequences=True, return_state=True)

    expected, _ = _compare(build, x, mask=mask)
    assert np.all(np.isfinite(expected[0]))
    # The final state of sample 0 is the state after its 3 real steps.
    layer = build(True)
    masked = _numpy(layer(x, mask=mask))
    truncated = _numpy(layer(x[:1, :3]))
    for full, cut in zip(masked[1:], truncated[1:]):
        np.testing.assert_allclose(full[:1], cut, atol=ATOL, rtol=0)


@pytest.fixture(params=sorted(CELLS))
def cell_kind(request):
    """One kind per cell class, for tests of what `keras.layers.RNN` adds."""
    return request.param


def test_go_backwards_equals_builtin(cell_kind):
    kind = cell_kind

    def build(ours):
        return _rnn(kind, ours, go_backwards=True, return_sequences=True)

    _compare(build, _x(3))


def test_bidirectional_equals_builtin(cell_kind):
    kind = cell_kind

    def build(ours):
        return keras.layers.Bidirectional(
            _rnn(kind, ours, return_sequences=True), merge_mode="concat"
        )

    expected, _ = _compare(build, _x(4))
    assert expected[0].shape == (BATCH, STEPS, 2 * UNITS)


def test_two_stacked_layers_after_masking_equal_builtin(cell_kind):
    kind = cell_kind
    x = _x(5)
    x[0, 3:] = 0.0  # padded with the Masking layer's value
    x[2, 1:] = 0.0

    def build(ours):
        return keras.Sequential(
            [
                keras.Input((STEPS, FEATURES)),
                keras.layers.Masking(0.0),
                _rnn(kind, ours, return_sequences=True),
                _rnn(kind, ours, units=2, return_sequences=True),
            ]
        )

    expected, _ = _compare(build, x)
    assert expected[0].shape == (BATCH, STEPS, 2)
    # Masked steps repeat the last real output (zero_output_for_mask=False).
    np.testing.assert_array_equal(expected[0][0, 3:], expected[0][0, [2, 2]])
    assert not np.allclose(expected[0][1, 3:], expected[0][1, [2, 2]])


def test_stacked_cells_equal_two_builtin_layers():
    kind = "lstm"
    _, cell, shared = KINDS[kind]
    reference = keras.Sequential(
        [
            keras.Input((STEPS, FEATURES)),
            _rnn(kind, False, return_sequences=True),
            _rnn(kind, False, units=2),
        ]
    )
    mine = keras.layers.RNN([cell(UNITS, **shared), cell(2, **shared)])
    x = _x(6)
    expected = reference(x)
    mine.build(x.shape)
    mine.set_weights(reference.get_weights())
    _assert_close(expected, mine(x))


OPTIONS = [
    ("simple_rnn", {"activation": "relu", "use_bias": False}),
    (
        "lstm",
        {
            "activation": "relu",
            "recurrent_activation": "hard_sigmoid",
            "unit_forget_bias": False,
        },
    ),
    ("lstm", {"use_bias": False}),
    ("gru", {"use_bias": False, "recurrent_activation": "hard_sigmoid"}),
    ("gru_reset_before", {"activation": "relu"}),
    ("gru_reset_before", {"use_bias": False}),
]


@pytest.mark.parametrize("kind, options", OPTIONS)
def test_non_default_options_equal_builtin(kind, options):
    def build(ours):
        return _rnn(kind, ours, cell_kwargs=options, return_sequences=True)

    _compare(build, _x(7))


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_training_steps_match_builtin(kind):
    """Same gradients: three SGD steps from copied weights land on the same
    weights as the built-in's, and they lower the loss."""
    x = _x(8, (8, STEPS, FEATURES))
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")[:, None]

    def build(ours):
        return keras.Sequential(
            [
                keras.Input((STEPS, FEATURES)),
                _rnn(kind, ours),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )

    reference, mine = build(False), build(True)
    mine.set_weights(reference.get_weights())
    for model in (reference, mine):
        model.compile(keras.optimizers.SGD(0.5), "binary_crossentropy")
    before = mine.evaluate(x, y, verbose=0)
    for model in (reference, mine):
        model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    _assert_close(reference.get_weights(), mine.get_weights())
    assert mine.evaluate(x, y, verbose=0) < before


# --- Layer contract, defaults, direct calls -------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_layer_contract_inside_rnn(kind, tmp_path):
    _, cell, shared = KINDS[kind]
    layer = keras.layers.RNN(
        cell(UNITS, bias_initializer="random_normal", **shared),
        return_sequences=True,
        return_state=True,
    )
    n_states = 2 if kind == "lstm" else 1
    check_layer(
        layer,
        (BATCH, STEPS, FEATURES),
        expected_output_shape=[(BATCH, STEPS, UNITS)] + [(BATCH, UNITS)] * n_states,
        tmp_dir=tmp_path,
    )


@pytest.mark.parametrize("name", sorted(CELLS))
def test_cell_config_has_every_init_argument_and_round_trips(name):
    cls = CELLS[name]
    cell = cls(5, activation="relu", use_bias=False, kernel_initializer="ones")
    config = cell.get_config()
    arguments = [
        p for p in inspect.signature(cls.__init__).parameters if p not in ("self",)
    ]
    assert set(arguments) - {"kwargs"} <= set(config)
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert clone.units == 5 and clone.use_bias is False


def test_state_and_output_sizes():
    assert SimpleRNNCell(4).state_size == 4 and SimpleRNNCell(4).output_size == 4
    assert LSTMCell(4).state_size == [4, 4] and LSTMCell(4).output_size == 4
    assert GRUCell(4).state_size == 4 and GRUCell(4).output_size == 4
    states = LSTMCell(4).get_initial_state(batch_size=2)
    assert [tuple(s.shape) for s in states] == [(2, 4), (2, 4)]


def test_weight_layout_and_default_biases():
    x = _x()[:, 0]
    for cell, bias_shape in [
        (SimpleRNNCell(3), (3,)),
        (LSTMCell(3), (12,)),
        (GRUCell(3), (2, 9)),
        (GRUCell(3, reset_after=False), (9,)),
    ]:
        cell.build(x.shape)
        k = cell.num_gates * 3
        assert [w.path.split("/")[-1] for w in cell.weights] == [
            "kernel",
            "recurrent_kernel",
            "bias",
        ]
        assert [tuple(w.shape) for w in cell.weights] == [
            (FEATURES, k),
            (3, k),
            bias_shape,
        ]
    lstm = LSTMCell(3)
    lstm.build(x.shape)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(lstm.bias), [0] * 3 + [1] * 3 + [0] * 6
    )
    plain = LSTMCell(3, unit_forget_bias=False)
    plain.build(x.shape)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(plain.bias), [0] * 12)
    no_bias = GRUCell(3, use_bias=False)
    no_bias.build(x.shape)
    assert len(no_bias.weights) == 2


def test_direct_step_accepts_a_tensor_or_a_list_state():
    x = _x()[:, 0]
    h = np.zeros((BATCH, UNITS), "float32")
    for cell in (SimpleRNNCell(UNITS), GRUCell(UNITS)):
        output, state = cell(x, h)
        assert tuple(output.shape) == (BATCH, UNITS)
        _assert_close(output, state)
        output_list, state_list = cell(x, [h])
        assert isinstance(state_list, list) and len(state_list) == 1
        _assert_close(output, output_list)
    output, (h1, c1) = LSTMCell(UNITS)(x, [h, h])
    _assert_close(output, h1)
    assert tuple(c1.shape) == (BATCH, UNITS)


# --- Bad input ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("units", [0, -2, 1.5, True, "3", None])
def test_bad_units_raise(name, units):
    with pytest.raises(ValueError, match=rf"units={units!r}"):
        CELLS[name](units)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_unknown_activation_raises(name):
    with pytest.raises(ValueError, match=r"activation='swishy'"):
        CELLS[name](3, activation="swishy")


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_unknown_recurrent_activation_raises(name):
    with pytest.raises(ValueError, match=r"recurrent_activation='sigmoidal'"):
        CELLS[name](3, recurrent_activation="sigmoidal")


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_keras_names_objects_and_serialized_dicts_are_accepted(name):
    """Activations, initializers and regularizers accept what Keras layers do: a
    name, an object or callable, or its serialized dict."""
    relu = keras.activations.serialize(keras.activations.relu)
    orthogonal = keras.initializers.serialize(keras.initializers.Orthogonal(seed=1))
    cell = CELLS[name](
        3,
        activation=relu,
        recurrent_activation=keras.activations.hard_sigmoid,
        kernel_initializer=orthogonal,
        recurrent_initializer=keras.initializers.Zeros(),
        bias_initializer="ones",
        kernel_regularizer={"class_name": "L2", "config": {"l2": 0.5}},
    )
    assert cell.activation is keras.activations.relu
    assert cell.recurrent_activation is keras.activations.hard_sigmoid
    assert isinstance(cell.kernel_initializer, keras.initializers.Orthogonal)
    assert isinstance(cell.recurrent_initializer, keras.initializers.Zeros)
    assert isinstance(cell.bias_initializer, keras.initializers.Ones)
    assert isinstance(cell.kernel_regularizer, keras.regularizers.L2)
    with pytest.raises(
        ValueError,
        match=r"^`bias_initializer` must be the name of a Keras initializer .*"
        r"received bias_initializer=\{'class_name': 'Nope'\}\.$",
    ):
        CELLS[name](3, bias_initializer={"class_name": "Nope"})


def test_bad_initializer_and_flags_raise():
    with pytest.raises(ValueError, match=r"kernel_initializer='nope'"):
        LSTMCell(3, kernel_initializer="nope")
    with pytest.raises(ValueError, match=r"reset_after='yes'"):
        GRUCell(3, reset_after="yes")
    with pytest.raises(ValueError, match=r"unit_forget_bias=1"):
        LSTMCell(3, unit_forget_bias=1)
    with pytest.raises(ValueError, match=r"use_bias=None"):
        SimpleRNNCell(3, use_bias=None)


# --- Dropout (one mask per sequence, as Keras) and regularizers -------------------

KERAS_CELLS = {
    "simple_rnn": (keras.layers.SimpleRNNCell, SimpleRNNCell, {}),
    "lstm": (keras.layers.LSTMCell, LSTMCell, {}),
    "gru": (keras.layers.GRUCell, GRUCell, {"reset_after": True}),
    "gru_reset_before": (keras.layers.GRUCell, GRUCell, {"reset_after": False}),
}
RATES = [(0.3, 0.0), (0.0, 0.4), (0.3, 0.4)]


def _cell_pair(kind, **kwargs):
    """keras.layers.RNN around Keras's cell and around ours, weights copied."""
    keras_cell, our_cell, shared = KERAS_CELLS[kind]
    reference = keras.layers.RNN(
        keras_cell(UNITS, bias_initializer="random_normal", **shared, **kwargs),
        return_sequences=True,
    )
    mine = keras.layers.RNN(our_cell(UNITS, **shared, **kwargs), return_sequences=True)
    shape = (BATCH, STEPS, FEATURES)
    reference.build(shape)
    mine.build(shape)
    mine.set_weights(reference.get_weights())
    return reference, mine


@pytest.mark.parametrize("rates", RATES, ids=str)
@pytest.mark.parametrize("kind", sorted(KERAS_CELLS))
def test_dropout_with_the_same_seed_equals_keras_cells(kind, rates):
    """Same seed, same draws: Keras's and our masks (one per gate for LSTM/GRU
    with recurrent dropout) are equal, so training outputs are equal, call
    after call (each call draws new masks)."""
    dropout, recurrent_dropout = rates
    reference, mine = _cell_pair(
        kind, dropout=dropout, recurrent_dropout=recurrent_dropout, seed=7
    )
    x = _x(10)
    first = _numpy(mine(x, training=True))[0]
    _assert_close(reference(x, training=True), first)
    second = _numpy(mine(x, training=True))[0]
    _assert_close(reference(x, training=True), second)
    assert np.abs(first - second).max() > 1e-3  # a new mask per call


@pytest.mark.parametrize("rates", RATES, ids=str)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_dropout_only_in_training(kind, rates):
    dropout, recurrent_dropout = rates
    _, cell, shared = KINDS[kind]
    plain = keras.layers.RNN(cell(UNITS, **shared), return_sequences=True)
    dropped = keras.layers.RNN(
        cell(
            UNITS,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=3,
            **shared,
        ),
        return_sequences=True,
    )
    x = _x(11)
    expected = plain(x)
    dropped.build(x.shape)
    dropped.set_weights(plain.get_weights())
    _assert_close(expected, dropped(x))
    _assert_close(expected, dropped(x, training=False))
    assert np.abs(_numpy(dropped(x, training=True))[0] - _numpy(expected)[0]).max() > (
        1e-3
    )


def _identity_rnn(rate, recurrent, width=64):
    """A linear SimpleRNN whose output shows its dropout mask: with `recurrent`
    False, kernel = I and recurrent kernel = 0, so y_t = x_t * mask; with
    `recurrent` True, kernel = 0 and recurrent kernel = I, so h_t = h_{t-1} *
    mask and, from h_0 = 1, h_t = mask**t."""
    key = "recurrent_dropout" if recurrent else "dropout"
    cell = SimpleRNNCell(width, activation=None, use_bias=False, seed=5, **{key: rate})
    layer = keras.layers.RNN(cell, return_sequences=True)
    layer.build((None, STEPS, width))
    eye, zero = np.eye(width, dtype="float32"), np.zeros((width, width), "float32")
    cell.set_weights([zero, eye] if recurrent else [eye, zero])
    return layer


def test_input_dropout_mask_is_one_per_sequence_with_the_asked_rate():
    rate, batch, width = 0.3, 64, 64
    layer = _identity_rnn(rate, recurrent=False, width=width)
    x = np.ones((batch, STEPS, width), "float32")
    masks = _numpy(layer(x, training=True))[0]  # (batch, steps, width)
    # The same mask at every step of a sequence ...
    np.testing.assert_array_equal(masks, np.repeat(masks[:, :1], STEPS, axis=1))
    # ... with entries 0 or 1 / (1 - rate), a fraction `rate` of them zero ...
    np.testing.assert_allclose(np.unique(masks), [0.0, 1.0 / (1.0 - rate)], rtol=1e-6)
    assert abs(np.mean(masks[:, 0] == 0.0) - rate) < 0.03  # 4096 draws: > 4 sigma
    # ... different between the sequences of a batch, and new at the next call.
    assert not np.array_equal(masks[0, 0], masks[1, 0])
    assert not np.array_equal(masks, _numpy(layer(x, training=True))[0])
    np.testing.assert_array_equal(_numpy(layer(x))[0], x)  # inference: no mask


def test_recurrent_dropout_mask_is_one_per_sequence_with_the_asked_rate():
    rate, batch, width = 0.4, 64, 64
    layer = _identity_rnn(rate, recurrent=True, width=width)
    x = np.zeros((batch, STEPS, width), "float32")
    h0 = np.ones((batch, width), "float32")
    states = _numpy(layer(x, initial_state=[h0], training=True))[0]
    mask = states[:, 0]  # h_1 = h_0 * mask
    assert abs(np.mean(mask == 0.0) - rate) < 0.03
    # A new mask per step would zero more units at every step; one mask per
    # sequence gives h_t = mask**t.
    for t in range(STEPS):
        np.testing.assert_allclose(states[:, t], mask ** (t + 1), rtol=1e-5)
    np.testing.assert_array_equal(
        _numpy(layer(x, initial_state=[h0]))[0], h0[:, None] + x
    )


def test_dropout_trains_like_keras_with_the_same_seed():
    """Three SGD steps with dropout through fit (compiled): the same weights as
    Keras's LSTM with the same seed, so the masks agree inside fit too."""
    x = _x(12, (8, STEPS, FEATURES))
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")[:, None]
    rates = dict(dropout=0.3, recurrent_dropout=0.2, seed=11)

    def build(ours):
        return keras.Sequential(
            [
                keras.Input((STEPS, FEATURES)),
                _rnn("lstm", ours, cell_kwargs=rates),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )

    reference, mine = build(False), build(True)
    mine.set_weights(reference.get_weights())
    for model in (reference, mine):
        model.compile(keras.optimizers.SGD(0.5), "binary_crossentropy")
        model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    _assert_close(reference.get_weights(), mine.get_weights())


@pytest.mark.parametrize("kind", sorted(KERAS_CELLS))
def test_regularizer_losses_equal_keras_cells(kind):
    regularizers = dict(
        kernel_regularizer=keras.regularizers.L2(0.01),
        recurrent_regularizer=keras.regularizers.L1(0.02),
        bias_regularizer=keras.regularizers.L1L2(0.03, 0.04),
    )
    reference, mine = _cell_pair(kind, **regularizers)
    x = _x(13)
    reference(x)
    mine(x)
    expected = [float(keras.ops.convert_to_numpy(v)) for v in reference.losses]
    actual = [float(keras.ops.convert_to_numpy(v)) for v in mine.losses]
    assert len(actual) == 3 and min(actual) > 0
    np.testing.assert_allclose(actual, expected, atol=ATOL, rtol=0)


def test_regularizers_reach_the_training_loss():
    x = _x(14, (8, STEPS, FEATURES))
    cell = LSTMCell(UNITS, kernel_regularizer="l2")
    model = keras.Sequential([keras.Input((STEPS, FEATURES)), keras.layers.RNN(cell)])
    model.compile("sgd", "mse")
    plain = keras.Sequential(
        [keras.Input((STEPS, FEATURES)), keras.layers.RNN(LSTMCell(UNITS))]
    )
    plain.compile("sgd", "mse")
    plain.set_weights(model.get_weights())
    target = np.zeros((8, UNITS), "float32")
    penalty = 0.01 * np.sum(keras.ops.convert_to_numpy(cell.kernel) ** 2)
    gap = model.evaluate(x, target, verbose=0) - plain.evaluate(x, target, verbose=0)
    np.testing.assert_allclose(gap, penalty, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_seed_generator_only_with_dropout(name, tmp_path):
    x = _x()
    plain = keras.layers.RNN(CELLS[name](UNITS))
    plain(x)
    assert not hasattr(plain.cell, "seed_generator")
    assert len(plain.weights) == len(plain.variables)  # no random state
    dropped = keras.layers.RNN(CELLS[name](UNITS, recurrent_dropout=0.2, seed=1))
    dropped(x)
    assert isinstance(dropped.cell.seed_generator, keras.random.SeedGenerator)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_layer_contract_with_dropout_and_regularizers(kind, tmp_path):
    _, cell, shared = KINDS[kind]
    layer = keras.layers.RNN(
        cell(
            UNITS,
            dropout=0.2,
            recurrent_dropout=0.1,
            seed=4,
            kernel_regularizer="l2",
            recurrent_regularizer=keras.regularizers.L1(0.01),
            bias_regularizer="l1",
            **shared,
        ),
        return_sequences=True,
    )
    check_layer(
        layer,
        (BATCH, STEPS, FEATURES),
        expected_output_shape=(BATCH, STEPS, UNITS),
        tmp_dir=tmp_path,
    )
    config = layer.cell.get_config()
    assert config["dropout"] == 0.2 and config["recurrent_dropout"] == 0.1
    assert config["seed"] == 4
    clone = type(layer.cell).from_config(config)
    assert isinstance(clone.recurrent_regularizer, keras.regularizers.L1)
    assert clone.get_config() == config


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("argument", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5, "0.2", True, float("nan")])
def test_bad_dropout_raises(name, argument, value):
    with pytest.raises(ValueError, match=rf"`{argument}`.*{argument}={value!r}"):
        CELLS[name](3, **{argument: value})


def test_bad_regularizer_and_seed_raise():
    with pytest.raises(ValueError, match=r"recurrent_regularizer='l3'"):
        LSTMCell(3, recurrent_regularizer="l3")
    with pytest.raises(ValueError, match=r"seed='1'"):
        GRUCell(3, dropout=0.1, seed="1")
