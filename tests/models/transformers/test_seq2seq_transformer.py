"""TransformerSeq2Seq: shapes and the model contract, causality, padding, greedy and
beam-search decoding (cached == uncached, width 1 == greedy, a wide beam is an
exact search), and the synthetic date-translation task."""

from __future__ import annotations

import datetime
import re

import keras
import numpy as np
import pytest
from keras import ops

from kerasdl.data.date_task import (
    DATE_FORMATS,
    DateDataset,
    DateTranslationTask,
    exact_match,
    make_date_dataset,
)
from kerasdl.models.transformers.seq2seq import TransformerSeq2Seq
from kerasdl.models.transformers.seq2seq_decoding import (
    _decoder_block_with_cross_weights,
)
from kerasdl.testing import check_model

RNG = np.random.default_rng(0)
SOURCE_VOCAB, TARGET_VOCAB, SOURCE_LEN, TARGET_LEN = 13, 9, 10, 7


def _model(**kwargs):
    settings = dict(
        hidden_dim=16, num_layers=1, num_heads=2, intermediate_dim=32, dropout=0.0
    )
    settings.update(kwargs)
    return TransformerSeq2Seq(
        SOURCE_VOCAB, TARGET_VOCAB, SOURCE_LEN, TARGET_LEN, seed=0, **settings
    )


@pytest.fixture(scope="module")
def model():
    """One model for the tests that only read it (its compiled decoding steps
    are reused across tests; check_model trains a copy)."""
    return _model()


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _batch(n=4, source_len=8, target_len=6):
    source = RNG.integers(3, SOURCE_VOCAB, (n, source_len)).astype("int32")
    source[1, 5:] = 0  # a padded source
    decoder_inputs = RNG.integers(3, TARGET_VOCAB, (n, target_len)).astype("int32")
    decoder_inputs[:, 0] = 1  # the start token
    targets = np.roll(decoder_inputs, -1, axis=1)
    targets[:, -1] = 2  # the end token
    return source, decoder_inputs, targets


def test_logits_shape_and_model_contract(model, tmp_path):
    source, decoder_inputs, targets = _batch()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    out = check_model(
        model, (source, decoder_inputs), targets, loss=loss, tmp_dir=tmp_path
    )
    assert out.shape == (4, 6, TARGET_VOCAB)
    post_norm = _model(norm_first=False)
    out = check_model(post_norm, (source, decoder_inputs), tmp_dir=tmp_path)
    assert out.shape == (4, 6, TARGET_VOCAB)
    assert not any("encoder_norm" in w.path for w in post_norm.weights)


def test_target_logits_at_t_do_not_depend_on_later_target_tokens(model):
    source, decoder_inputs, _ = _batch()
    logits = _np(model((source, decoder_inputs)))
    for t in (0, 2, 4):
        changed = decoder_inputs.copy()
        changed[:, t + 1 :] = (changed[:, t + 1 :] - 2) % (TARGET_VOCAB - 3) + 3
        new = _np(model((source, changed)))
        np.testing.assert_allclose(new[:, : t + 1], logits[:, : t + 1], atol=1e-5)
        assert not np.allclose(new[:, t + 1 :], logits[:, t + 1 :], atol=1e-4)
    # Every target position reads the source (cross-attention).
    other_source = source.copy()
    other_source[:, 0] = (other_source[:, 0] - 2) % (SOURCE_VOCAB - 3) + 3
    moved = np.abs(_np(model((other_source, decoder_inputs))) - logits).max(-1)
    assert (moved > 1e-4).all()


def test_source_padding_is_ignored(model):
    source, decoder_inputs, _ = _batch()
    source[:, 4:] = 0
    logits = _np(model((source, decoder_inputs)))
    trimmed = _np(model((source[:, :4], decoder_inputs)))
    np.testing.assert_allclose(trimmed, logits, atol=1e-5)
    # ... but a real source token is not.
    source[:, 4] = 5
    assert not np.allclose(_np(model((source, decoder_inputs))), logits, atol=1e-4)


def test_cross_attention_weights_are_those_the_decoder_uses():
    model = _model(num_layers=2)
    source, decoder_inputs, _ = _batch()
    model((source, decoder_inputs))
    weights = model.cross_attention_weights(source, decoder_inputs, layer=1)
    assert weights.shape == (4, 2, 6, 8)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(weights[1, :, :, 5:], 0.0)  # padded source
    # The traced block gives the block's own outputs.
    memory, source_mask = model.encode_tensors(source, training=False)
    x = model._embed_target(ops.convert_to_tensor(decoder_inputs), 0, False)
    target_mask = ops.not_equal(ops.convert_to_tensor(decoder_inputs), 0)
    block = model.decoder_blocks[0]
    traced, _ = _decoder_block_with_cross_weights(
        block, x, memory, target_mask, source_mask
    )
    expected = block(
        x,
        encoder_outputs=memory,
        padding_mask=target_mask,
        encoder_padding_mask=source_mask,
    )
    np.testing.assert_allclose(_np(traced), _np(expected), atol=1e-5)


def test_cached_and_uncached_decoding_agree_and_beam_of_one_is_greedy(model):
    source, _, _ = _batch()
    greedy = model.greedy_decode(source)
    assert greedy.shape == (4, TARGET_LEN) and greedy.dtype == np.int32
    np.testing.assert_array_equal(model.greedy_decode(source, use_cache=False), greedy)
    # Chunks (the last one padded) give the rows decoded all at once.
    np.testing.assert_array_equal(model.greedy_decode(source, batch_size=3), greedy)
    np.testing.assert_array_equal(model.beam_search_decode(source, 1), greedy)
    beam = model.beam_search_decode(source, beam_width=3)
    np.testing.assert_array_equal(
        model.beam_search_decode(source, beam_width=3, use_cache=False), beam
    )
    # Never padding or start before the end token; only padding after it.
    for row in np.concatenate([greedy, beam]):
        ended = np.cumsum(row == 2) - (row == 2) > 0
        assert not np.isin(row[~ended], (0, 1)).any()
        assert (row[ended] == 0).all()
    # max_length cuts.
    np.testing.assert_array_equal(
        model.greedy_decode(source, max_length=3), greedy[:, :3]
    )


def test_wide_beam_is_an_exact_search_and_never_worse_than_greedy(model):
    # Outputs of at most 2 tokens, from the 7 that can be generated (end and
    # ids 3..8): [end] or [a, b], 1 + 6 * 7 = 43 in all; a beam of 7 keeps
    # every 1-token prefix, so it searches them all.
    source, _, _ = _batch()
    n = len(source)
    candidates = [[2]] + [[a, b] for a in range(3, 9) for b in range(2, 9)]
    padded = np.array([c + [0] * (2 - len(c)) for c in candidates], "int32")
    brute = model.sequence_log_prob(
        np.repeat(source, len(candidates), axis=0), np.tile(padded, (n, 1))
    ).reshape(n, len(candidates))
    beam, scores = model.beam_search_decode(
        source, beam_width=7, max_length=2, return_scores=True
    )
    np.testing.assert_allclose(scores, brute.max(1), atol=1e-4)
    np.testing.assert_array_equal(beam, padded[brute.argmax(1)])
    # Greedy decoding follows the most likely next token; its probability is
    # the total probability of the outputs that continue the prefix with it.
    probs = np.exp(brute)
    for i, row in enumerate(model.greedy_decode(source, max_length=2)):
        prefix = []
        while len(prefix) < 2 and prefix[-1:] != [2]:
            mass = {
                a: sum(
                    p
                    for c, p in zip(candidates, probs[i])
                    if c[: len(prefix) + 1] == prefix + [a]
                )
                for a in range(2, 9)
            }
            prefix.append(max(mass, key=mass.get))
        assert [t for t in row if t] == prefix
        assert scores[i] >= brute[i, candidates.index(prefix)] - 1e-5
    # A length penalty can only choose outputs at least as long.
    longer = model.beam_search_decode(
        source, beam_width=7, max_length=2, length_penalty=2.0
    )
    assert ((longer != 0).sum(1) >= (beam != 0).sum(1)).all()


def test_bad_arguments_raise_value_errors_naming_them():
    with pytest.raises(ValueError, match="hidden_dim"):
        TransformerSeq2Seq(10, 10, 5, 5, hidden_dim=10, num_heads=4)
    with pytest.raises(ValueError, match="end_token_id"):
        TransformerSeq2Seq(10, 10, 5, 5, end_token_id=10)
    with pytest.raises(ValueError, match="start_token_id"):
        TransformerSeq2Seq(10, 10, 5, 5, start_token_id=2, end_token_id=2)
    with pytest.raises(ValueError, match="dropout"):
        TransformerSeq2Seq(10, 10, 5, 5, dropout=1.0)
    model = _model()
    source, decoder_inputs, _ = _batch()
    with pytest.raises(ValueError, match="source_tokens"):
        model((source[:, :, None], decoder_inputs))
    with pytest.raises(ValueError, match="target_max_length"):
        model((source, np.ones((4, TARGET_LEN + 1), "int32")))
    with pytest.raises(ValueError, match="beam_width"):
        model.beam_search_decode(source, beam_width=0)
    with pytest.raises(ValueError, match="length_penalty"):
        model.beam_search_decode(source, length_penalty=-1.0)
    with pytest.raises(ValueError, match="max_length"):
        model.greedy_decode(source, max_length=TARGET_LEN + 1)
    with pytest.raises(ValueError, match="source"):
        model.greedy_decode(source + SOURCE_VOCAB)
    with pytest.raises(ValueError, match="source"):
        model.greedy_decode(np.ones((2, SOURCE_LEN + 1), "int32"))
    with pytest.raises(ValueError, match="layer"):
        model.cross_attention_weights(source, decoder_inputs, layer=1)
    with pytest.raises(ValueError, match="formats"):
        DateTranslationTask(formats=["dd/mm/yyyy?"])
    with pytest.raises(ValueError, match="two-digit"):
        DateTranslationTask(start_year=1900, end_year=2049)
    with pytest.raises(ValueError, match="`n`"):
        make_date_dataset(0)
    with pytest.raises(ValueError, match="never seen"):
        DateTranslationTask().encode_sources(["9 mai 1998 é"])
    with pytest.raises(ValueError, match="predicted_strings"):
        exact_match(["1998-05-09"], ["1998-05-09", "1998-05-10"])


# ---- The date task -------------------------------------------------------------

STRPTIME = {  # an independent reading of each format
    "weekday d month yyyy": "%A %d %B %Y",
    "d/m/yy": "%d/%m/%y",
    "month d, yyyy": "%B %d, %Y",
    "DD MONTH YYYY": "%d %B %Y",
    "Weekday, Month d, yyyy": "%A, %B %d, %Y",
    "dd.mm.yyyy": "%d.%m.%Y",
    "d mon yy": "%d %b %y",
    "dth of month yyyy": "%d of %B %Y",
    "dd-Mon-yyyy": "%d-%b-%Y",
    "yyyy/mm/dd": "%Y/%m/%d",
    "wkd d mon yyyy": "%a %d %b %Y",
    "MONTH d yyyy": "%B %d %Y",
}


def _read(source, format_name):
    text = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", source)
    date = datetime.datetime.strptime(text, STRPTIME[format_name]).date()
    if "%y" in STRPTIME[format_name]:  # the task's range is 1950-2049
        yy = date.year % 100
        date = date.replace(year=yy + (1900 if yy >= 50 else 2000))
    if "%A" in STRPTIME[format_name]:  # strptime does not check the weekday
        assert date.strftime("%A").lower() in source.lower()
    if "%a" in STRPTIME[format_name]:
        assert source.lower().startswith(date.strftime("%a").lower())
    return date


def test_date_dataset_is_deterministic_and_its_targets_are_the_source_dates():
    assert set(STRPTIME) == set(DATE_FORMATS)
    task = DateTranslationTask()
    data = make_date_dataset(600, seed=7)
    assert isinstance(data, DateDataset)
    again = make_date_dataset(600, seed=7)
    other = make_date_dataset(600, seed=8)
    assert data.sources == again.sources and data.targets == again.targets
    np.testing.assert_array_equal(data.source_ids, again.source_ids)
    assert data.sources != other.sources
    assert set(data.formats) == set(DATE_FORMATS)
    for source, target, name in zip(data.sources, data.targets, data.formats):
        date = datetime.date.fromisoformat(target)  # a valid ISO date
        assert date.isoformat() == target
        assert datetime.date(1950, 1, 1) <= date <= datetime.date(2049, 12, 31)
        assert _read(source, name) == date, (source, target, name)
    # The arrays encode the strings.
    n = len(data.sources)
    assert data.source_ids.shape == (n, task.source_max_length)
    assert [task.source_tokenizer.decode(r) for r in data.source_ids] == data.sources
    assert task.decode_targets(data.decoder_targets) == data.targets
    np.testing.assert_array_equal(data.decoder_inputs[:, 0], task.start_token_id)
    np.testing.assert_array_equal(
        data.decoder_inputs[:, 1:], data.decoder_targets[:, :-1]
    )
    np.testing.assert_array_equal(data.decoder_targets[:, -1], task.end_token_id)
    # A test set can leave out the training dates.
    held_out = make_date_dataset(300, seed=9, exclude_dates=set(data.targets))
    assert not set(held_out.targets) & set(data.targets)
    assert exact_match(held_out.targets, held_out.targets) == 1.0
    assert exact_match(["1998-05-09", "x"], ["1998-05-09", "1998-05-10"]) == 0.5
