"""models/sequence: the recurrent classifier, Seq2SeqLSTM, the toy task."""

import keras
import numpy as np
import pytest

from kerasdl import backend
from kerasdl.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell
from kerasdl.models.sequence.rnn_classifier import (
    Seq2SeqData,
    Seq2SeqLSTM,
    build_sequence_classifier,
    make_cell,
    make_reversal_task,
    make_teacher_forcing_inputs,
    sequence_exact_match,
)
from kerasdl.testing import check_model

SPARSE_LOGITS = dict(from_logits=True, ignore_class=0)


def _predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


# ------------------------------------------------------------------ classifier


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_float_classifier_outputs_probabilities_and_uses_the_kerasdl_cell(cell):
    model = build_sequence_classifier((6, 3), num_classes=4, cell=cell, units=5)
    x = np.random.default_rng(0).standard_normal((7, 6, 3)).astype("float32")
    probs = _predict(model, x)
    assert probs.shape == (7, 4) and model.output_shape == (None, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    expected = {"rnn": SimpleRNNCell, "lstm": LSTMCell, "gru": GRUCell}[cell]
    rnns = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    assert len(rnns) == 1 and type(rnns[0].cell) is expected


def test_token_classifier_masks_padding_and_survives_save_load(tmp_path):
    """Two stacked bidirectional layers: the forward and backward reads, and the
    mask passed from layer to layer, all have to skip the padding."""
    model = build_sequence_classifier(
        num_classes=3,
        vocab_size=12,
        embedding_dim=4,
        cell="lstm",
        units=6,
        num_layers=2,
        bidirectional=True,
        dropout=0.1,
    )
    out_short = model.predict_on_batch(np.array([[5, 3, 7]]))
    rows = np.array(
        [
            [5, 3, 7, 0, 0, 0],  # padded at the end
            [0, 0, 0, 5, 3, 7],  # at the start
            [0, 5, 0, 3, 7, 0],  # anywhere: masked steps are skipped
            [5, 3, 7, 9, 9, 9],  # the same places, not padding
        ]
    )
    out = model.predict_on_batch(rows)
    np.testing.assert_allclose(out[:3], np.repeat(out_short, 3, axis=0), atol=1e-6)
    # Without the mask those steps would count: the test can fail.
    assert np.abs(out[3] - out_short[0]).max() > 1e-4
    # Both directions, each a kerasdl cell, concatenated.
    wrapper = model.get_layer("bidirectional_1")
    assert wrapper.backward_layer.go_backwards is True
    assert isinstance(wrapper.backward_layer.cell, LSTMCell)
    assert model.get_layer("probabilities").kernel.shape == (12, 3)
    # Config round trip and .keras save/load give the same outputs.
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict_on_batch(rows), out, atol=1e-6)
    model.save(tmp_path / "classifier.keras")
    loaded = keras.saving.load_model(tmp_path / "classifier.keras")
    np.testing.assert_allclose(loaded.predict_on_batch(rows), out, atol=1e-6)


def test_a_few_fit_steps_lower_the_loss():
    backend.set_random_seed(0)
    model = build_sequence_classifier(
        num_classes=2, vocab_size=6, units=8, cell="gru", compiled=True,
        learning_rate=0.02,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, size=(64, 7))
    x[::2, 4:] = 0  # half the rows padded
    y = (x == 5).any(axis=1).astype("int64")  # "was token 5 seen?"
    history = model.fit(x, y, epochs=15, batch_size=64, verbose=0).history
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    assert history["accuracy"][-1] > 0.8


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=(5, 2), cell="lstmm"), r"\['gru', 'lstm', 'rnn'\].*lstmm"),
        (dict(input_shape=(5, 2), num_classes=1), "num_classes=1"),
        (dict(input_shape=None), "input_shape=\\(time, features\\)"),
        (dict(input_shape=(5,)), "input_shape=\\(5,\\)"),
        (dict(input_shape=(5, 2), embedding_dim=4), "give `vocab_size`"),
        (dict(vocab_size=10, input_shape=(5, 2)), "input_shape=\\(5, 2\\)"),
        (dict(vocab_size=1), "vocab_size=1"),
        (dict(input_shape=(5, 2), dropout=1.0), "dropout=1.0"),
        (dict(input_shape=(5, 2), num_layers=0), "num_layers=0"),
        (dict(input_shape=(5, 2), bidirectional="yes"), "bidirectional"),
        (dict(input_shape=(5, 2), units=0), "units=0"),
    ],
)
def test_classifier_bad_arguments_raise(kwargs, match):
    kwargs.setdefault("num_classes", 3)
    with pytest.raises(ValueError, match=match):
        build_sequence_classifier(**kwargs)


def test_make_cell_names_and_copies():
    assert isinstance(make_cell("RNN", 3), SimpleRNNCell)
    original = LSTMCell(4, unit_forget_bias=False)
    copy = make_cell(original, units=99)
    assert copy is not original and copy.units == 4 and not copy.unit_forget_bias


# ------------------------------------------------------------------ seq2seq


def _small_seq2seq(**kwargs):
    backend.set_random_seed(0)
    args = dict(embedding_dim=6, units=8, target_max_length=5)
    return Seq2SeqLSTM(13, 13, **{**args, **kwargs})


def test_teacher_forcing_inputs_shift_right():
    targets = np.array([[5, 6, 2, 0], [7, 8, 9, 2]])
    np.testing.assert_array_equal(
        make_teacher_forcing_inputs(targets, 1), [[1, 5, 6, 2], [1, 7, 8, 9]]
    )
    with pytest.raises(ValueError, match="shape \\(batch, time\\)"):
        make_teacher_forcing_inputs(np.array([1, 2]), 1)


def test_seq2seq_contract_round_trip_save_load_and_fit(tmp_path):
    data = make_reversal_task(8, 2, 4, seed=0)
    assert isinstance(data, Seq2SeqData)
    model = _small_seq2seq()
    x = (data.source, data.decoder_input)
    out = check_model(
        model,
        x,
        data.target,
        loss=keras.losses.SparseCategoricalCrossentropy(**SPARSE_LOGITS),
        tmp_dir=tmp_path,
    )
    assert out.shape == (8, 5, 13)  # (batch, target_time, target_vocab)
    assert model.compute_output_shape(((8, 4), (8, 5))) == (8, 5, 13)
    assert type(model.decoder.cell) is LSTMCell
    assert type(model.encoder.cell) is LSTMCell


def test_source_padding_is_masked_and_decoder_is_causal():
    model = _small_seq2seq()
    base = model.predict_on_batch((np.array([[4, 9]]), np.array([[1, 5, 6, 7]])))[0]
    sources = np.array([[4, 9, 0, 0, 0], [4, 9, 3, 0, 0], [4, 9, 0, 0, 0]])
    decoder_inputs = np.array([[1, 5, 6, 7], [1, 5, 6, 7], [1, 5, 11, 7]])
    padded, other, changed = model.predict_on_batch((sources, decoder_inputs))
    np.testing.assert_allclose(padded, base, atol=1e-6)
    assert np.abs(other - base).max() > 1e-5  # the test can fail
    # Changing decoder input t leaves the outputs before t unchanged.
    np.testing.assert_allclose(changed[:2], base[:2], atol=1e-6)
    assert np.abs(changed[2:] - base[2:]).max() > 1e-5


def _reference_greedy(model, source, max_length):
    """Re-run call() (via predict_on_batch) on each row's own prefix and take the
    argmax at the last position, never 0 nor the start id. The prefix is padded
    with zeros to one width: the decoder is causal (tested above), so the zeros
    after position t do not change the logits at t."""
    batch = len(source)
    prefix = np.zeros((batch, max_length), "int32")
    prefix[:, 0] = model.start_token_id
    tokens = np.zeros((batch, max_length), "int32")
    done = np.zeros(batch, bool)
    for t in range(max_length):
        logits = model.predict_on_batch((source, prefix))[:, t].copy()
        logits[:, [0, model.start_token_id]] = -np.inf
        token = np.where(done, 0, logits.argmax(axis=-1))
        tokens[:, t] = token
        if t + 1 < max_length:
            prefix[:, t + 1] = token
        done |= token == model.end_token_id
    return tokens


def test_seq2seq_learns_short_reversals_and_greedy_equals_reference():
    backend.set_random_seed(0)
    train = make_reversal_task(640, 1, 3, num_symbols=5, seed=0)
    test = make_reversal_task(40, 1, 3, num_symbols=5, seed=1)
    model = Seq2SeqLSTM(
        train.vocab_size, train.vocab_size, embedding_dim=8, units=32,
        target_max_length=4,
    )  # fmt: skip
    model.compile(
        keras.optimizers.Adam(0.02),
        keras.losses.SparseCategoricalCrossentropy(**SPARSE_LOGITS),
    )
    history = model.fit(
        (train.source, train.decoder_input), train.target, epochs=8, batch_size=64,
        verbose=0,
    )  # fmt: skip
    losses = history.history["loss"]
    assert losses[-1] < 0.3 * losses[0]
    # Chunks of 16, 16 and 8 rows (the last padded to 16): one compiled shape.
    predicted = model.greedy_decode(test.source, batch_size=16)
    assert predicted.shape == (40, 4) and predicted.dtype == np.int32
    assert sequence_exact_match(predicted, test.target) > 0.8
    # Behavioural truth: step-by-step argmax of call() on its own prefix.
    np.testing.assert_array_equal(predicted, _reference_greedy(model, test.source, 4))
    assert (predicted == model.end_token_id).any(axis=1).all()
    # Rows stop at the end token and are padded after it.
    for row in predicted:
        ends = np.flatnonzero(row == model.end_token_id)
        if len(ends):
            assert not row[ends[0] + 1 :].any()


def test_untrained_greedy_equals_reference_without_end_token():
    model = _small_seq2seq()
    source = np.array([[4, 9, 3, 0], [5, 5, 0, 0], [12, 0, 0, 0]])
    predicted = model.greedy_decode(source, max_length=5, batch_size=1)
    np.testing.assert_array_equal(predicted, _reference_greedy(model, source, 5))
    assert not (predicted == model.start_token_id).any()
    # A 1-D source gives a 1-D answer.
    np.testing.assert_array_equal(
        model.greedy_decode(source[1], max_length=5), predicted[1]
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(start_token_id=2, end_token_id=2), "must differ"),
        (dict(end_token_id=13), "end_token_id=13"),
        (dict(units=0), "units=0"),
        (dict(target_max_length=0), "target_max_length=0"),
    ],
)
def test_seq2seq_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _small_seq2seq(**kwargs)


def test_seq2seq_bad_inputs_raise():
    model = _small_seq2seq()
    with pytest.raises(ValueError, match="ids must be in \\[0, 13\\)"):
        model.greedy_decode(np.array([[3, 13]]))
    with pytest.raises(ValueError, match="integer `source`"):
        model.greedy_decode(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="pair \\(source, decoder_input\\)"):
        model(np.array([[3, 4]]))


# ------------------------------------------------------------------ toy task


def test_reversal_task_is_reversed_source_then_end():
    data = make_reversal_task(50, 2, 5, num_symbols=4, seed=3)
    assert data.source.shape == (50, 5) and data.target.shape == (50, 6)
    assert data.vocab_size == 7 and (data.start_token_id, data.end_token_id) == (1, 2)
    for src, tgt in zip(data.source, data.target):
        tokens = src[src > 0]
        assert 2 <= len(tokens) <= 5 and tokens.min() >= 3 and tokens.max() <= 6
        assert tgt[: len(tokens)].tolist() == tokens[::-1].tolist()
        assert tgt[len(tokens)] == 2 and not tgt[len(tokens) + 1 :].any()
    np.testing.assert_array_equal(
        data.decoder_input, make_teacher_forcing_inputs(data.target, 1)
    )
    again = make_reversal_task(50, 2, 5, num_symbols=4, seed=3)
    np.testing.assert_array_equal(again.source, data.source)
    sort = make_reversal_task(20, 3, 3, seed=0, mode="sort")
    assert (np.diff(sort.target[:, :3], axis=1) >= 0).all()
    with pytest.raises(ValueError, match="mode"):
        make_reversal_task(5, mode="shuffle")
    with pytest.raises(ValueError, match="max_length=2"):
        make_reversal_task(5, min_length=3, max_length=2)


def test_exact_match_ignores_what_follows_the_end_token():
    target = np.array([[5, 6, 2, 0], [7, 2, 0, 0]])
    assert sequence_exact_match([[5, 6, 2, 9, 9], [7, 2, 0, 0, 0]], target) == 1.0
    assert sequence_exact_match([[5, 6, 0, 0], [7, 2, 0, 0]], target) == 0.5
    assert sequence_exact_match([[5, 6, 2, 0], [7, 8, 2, 0]], target) == 0.5
    with pytest.raises(ValueError, match="same number of rows"):
        sequence_exact_match([[1, 2]], target)
