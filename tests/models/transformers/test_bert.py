"""The BERT-like encoder: masking statistics, padding, bidirectionality, config and
`.keras` round trips, MLM training and weight sharing with the classifier."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerasdl.data import WordTokenizer
from kerasdl.models.transformers.bert import (
    BertClassifier,
    BertEncoder,
    BertMaskedLM,
    MaskedLMDataset,
    MaskedLMHead,
    bert_windows,
    fill_mask,
    mask_tokens,
    masked_accuracy,
    split_documents,
)
from kerasdl.testing import check_model

VOCAB = 40
MASK, UNK, CLS, SEP = 2, 1, 3, 4
SPECIAL = (UNK, CLS, SEP)


def _tokens(rows=4, time=10, seed=0):
    """[CLS] real ids [SEP] then padding, a different real length per row."""
    rng = np.random.default_rng(seed)
    x = np.zeros((rows, time), "int32")
    for i in range(rows):
        n = int(rng.integers(2, time - 1))
        x[i, 0], x[i, 1 : n + 1], x[i, n + 1] = CLS, rng.integers(5, VOCAB, n), SEP
    return x


def _encoder(**kwargs):
    config = dict(hidden_dim=8, num_layers=1, num_heads=2, intermediate_dim=16)
    config.update(kwargs)
    return BertEncoder(VOCAB, 16, **config)


def _run(model, x):
    """The model's output in inference mode, compiled (on JAX far quicker than an
    eager call, which compiles every op anew for each new input shape)."""
    return np.asarray(keras.ops.convert_to_numpy(model.predict_on_batch(x)))


# ---- mask_tokens ---------------------------------------------------------------


def test_mask_tokens_follows_the_80_10_10_rule_on_real_tokens_only():
    tokens = _tokens(rows=600, time=60, seed=1)
    tokens[::7, 5] = UNK  # some [UNK]s, which must never be selected
    inputs, labels, weights = mask_tokens(
        tokens, VOCAB, MASK, special_ids=SPECIAL, seed=0
    )
    assert inputs.dtype == labels.dtype == np.int32 and weights.dtype == np.float32
    np.testing.assert_array_equal(labels, tokens)
    real = tokens >= 5
    selected = weights > 0
    assert not selected[~real].any(), "padding / special tokens were selected"
    np.testing.assert_array_equal(inputs[~selected], tokens[~selected])
    rate = selected.sum() / real.sum()
    assert abs(rate - 0.15) < 0.01, rate
    masked = (inputs == MASK)[selected].mean()
    kept = (inputs == tokens)[selected].mean()
    replaced = ((inputs != MASK) & (inputs != tokens))[selected].mean()
    assert abs(masked - 0.8) < 0.03, masked
    # A random replacement equals the original 1 time in 35 real ids.
    assert abs(kept - (0.1 + 0.1 / 35)) < 0.025, kept
    assert abs(replaced - 0.1 * 34 / 35) < 0.025, replaced
    assert inputs[selected & (inputs != MASK)].min() >= 5, "random id not a word"

    again = mask_tokens(tokens, VOCAB, MASK, special_ids=SPECIAL, seed=0)
    other = mask_tokens(tokens, VOCAB, MASK, special_ids=SPECIAL, seed=1)
    np.testing.assert_array_equal(again[0], inputs)
    assert not np.array_equal(other[2], weights)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"rate": 0.0}, "rate"),
        ({"rate": 1.5}, "rate"),
        ({"mask_token_id": 0}, "mask_token_id"),
        ({"mask_token_id": VOCAB}, "mask_token_id"),
        ({"special_ids": (VOCAB + 3,)}, "special_ids"),
        ({"mask_fraction": 0.9, "random_fraction": 0.2}, "mask_fraction"),
        ({"vocab_size": 1}, "vocab_size"),
    ],
)
def test_mask_tokens_rejects_bad_arguments(kwargs, name):
    arguments = {"vocab_size": VOCAB, "mask_token_id": MASK, **kwargs}
    with pytest.raises(ValueError, match=name):
        mask_tokens(_tokens(), **arguments)


def test_mask_tokens_rejects_bad_tokens():
    with pytest.raises(ValueError, match="tokens"):
        mask_tokens(np.ones((2, 3), "float32"), VOCAB, MASK)
    with pytest.raises(ValueError, match="tokens"):
        mask_tokens(np.full((2, 3), VOCAB), VOCAB, MASK)


def test_masked_lm_dataset_draws_new_masks_each_epoch_reproducibly():
    windows = _tokens(rows=20, time=12)
    data = MaskedLMDataset(windows, 8, VOCAB, MASK, special_ids=SPECIAL, seed=3)
    assert len(data) == 2  # full batches only
    x, y, w = data[0]
    assert x.shape == y.shape == w.shape == (8, 12)
    first_epoch = data[0]
    data.on_epoch_end()
    second_epoch = data[0]
    assert not np.array_equal(first_epoch[2], second_epoch[2])
    replay = MaskedLMDataset(windows, 8, VOCAB, MASK, special_ids=SPECIAL, seed=3)
    np.testing.assert_array_equal(replay[0][0], first_epoch[0])
    with pytest.raises(ValueError, match="batch_size"):
        MaskedLMDataset(windows, 21, VOCAB, MASK)


# ---- Text helpers --------------------------------------------------------------


def test_split_documents_drops_repeats_and_holds_out_each_tail():
    shared = "a paragraph that two documents share word for word"
    long_doc = "one two three four five six seven eight nine ten\n\n" + shared
    short_doc = shared + "\n\nunique words here"
    train, test = split_documents([long_doc, short_doc], test_fraction=0.25)
    words = long_doc.replace("\n\n", " ").split()
    cut = int(round(len(words) * 0.75))
    assert train[0].split() == words[:cut] and test[0].split() == words[cut:]
    # The shared paragraph stays only in the longer document.
    assert (train[1] + " " + test[1]).split() == ["unique", "words", "here"]
    with pytest.raises(ValueError, match="test_fraction"):
        split_documents([long_doc], test_fraction=1.0)


def test_bert_windows_wrap_chunks_in_cls_and_sep():
    rows = bert_windows(np.arange(10, 17), max_len=6, cls_id=CLS, sep_id=SEP)
    np.testing.assert_array_equal(
        rows,
        [[CLS, 10, 11, 12, 13, SEP], [CLS, 14, 15, 16, SEP, 0]],
    )
    assert bert_windows(np.arange(10, 17), 6, CLS, SEP, stride=2).shape == (3, 6)
    with pytest.raises(ValueError, match="max_len"):
        bert_windows(np.arange(5), 2, CLS, SEP)


# ---- Models --------------------------------------------------------------------


def test_encoder_ignores_padding_and_sees_both_directions():
    keras.utils.set_random_seed(0)
    encoder = _encoder()
    x = _tokens(rows=2, time=10)
    lengths = (x > 0).sum(1)
    out = _run(encoder, x)
    longer = np.concatenate([x, np.zeros((2, 6), "int32")], axis=1)
    out_longer = _run(encoder, longer)
    for i, n in enumerate(lengths):
        alone = _run(encoder, x[i : i + 1, :n])[0]
        np.testing.assert_allclose(out[i, :n], alone, atol=1e-5)
        np.testing.assert_allclose(out_longer[i, :n], alone, atol=1e-5)
    # Bidirectional: the first token's features depend on a later token.
    changed = x.copy()
    changed[:, 2] = np.where(changed[:, 2] == 7, 8, 7)
    assert np.abs(_run(encoder, changed)[:, 0] - out[:, 0]).max() > 1e-4


def test_encoder_pre_norm_variant_and_length_check():
    encoder = _encoder(norm_first=True)
    assert "final_norm" in [layer.name for layer in encoder.layers]
    assert _run(encoder, _tokens()).shape == (4, 10, 8)
    with pytest.raises(ValueError, match="max_length"):
        encoder(np.ones((1, 17), "int32"))


@pytest.mark.parametrize("tie", [True, False])
def test_masked_lm_config_and_keras_round_trip(tmp_path, tie):
    keras.utils.set_random_seed(0)
    model = BertMaskedLM(_encoder(), tie_embeddings=tie)
    x = _tokens()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # One fit step for the tied model (the untied one differs only in the head).
    out = check_model(model, x, x, loss=loss, tmp_dir=tmp_path, train=tie)
    assert out.shape == (4, 10, VOCAB) and out.dtype == np.float32
    own = [w for w in model.mlm_head.weights if tuple(w.shape) == (8, VOCAB)]
    assert len(own) == (0 if tie else 1)
    untied = BertMaskedLM(_encoder(), tie_embeddings=False)
    assert untied.count_params() - model.count_params() == (8 * VOCAB if tie else 0)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_classifier_config_and_keras_round_trip(tmp_path, pooling):
    keras.utils.set_random_seed(0)
    model = BertClassifier(_encoder(), 3, pooling=pooling)
    x = _tokens()
    y = np.array([0, 1, 2, 1])
    out = check_model(model, x, y, tmp_dir=tmp_path, train=pooling == "mean")
    assert out.shape == (4, 3)


def test_encoder_config_and_keras_round_trip(tmp_path):
    out = check_model(_encoder(seed=1), _tokens(), tmp_dir=tmp_path)
    assert out.shape == (4, 10, 8)


def test_mean_pooling_ignores_padding():
    keras.utils.set_random_seed(0)
    model = BertClassifier(_encoder(), 3)
    x = _tokens(rows=2)
    longer = np.concatenate([x, np.zeros((2, 5), "int32")], axis=1)
    np.testing.assert_allclose(_run(model, x), _run(model, longer), atol=1e-5)


def test_a_few_mlm_steps_lower_the_loss_and_reload_compiled(tmp_path):
    keras.utils.set_random_seed(0)
    # Each window repeats one random word: a blank is filled by copying a
    # neighbour, which only a model that reads the context can do.
    rng = np.random.default_rng(0)
    windows = np.zeros((64, 12), "int32")
    windows[:, 0], windows[:, -1] = CLS, SEP
    windows[:, 1:-1] = rng.integers(5, VOCAB, 64)[:, None]
    model = BertMaskedLM(_encoder(dropout=0.0))
    model.compile(keras.optimizers.Adam(1e-2))
    heldout = x, y, w = mask_tokens(windows, VOCAB, MASK, 0.3, SPECIAL, seed=99)
    before = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    data = MaskedLMDataset(windows, 16, VOCAB, MASK, SPECIAL, rate=0.3, seed=0)
    model.fit(data, epochs=10, verbose=0)
    after = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    # The unigram floor is log(35) = 3.56 nats; reading the context beats it.
    assert after["loss"] < min(3.2, before["loss"] - 0.5), (before, after)
    assert after["masked_accuracy"] > before["masked_accuracy"] + 0.1
    accuracy, count = masked_accuracy(model, *heldout)
    assert count == int(heldout[2].sum())
    assert abs(accuracy - after["masked_accuracy"]) < 1e-6
    # The masked-LM loss and metric come back with a .keras file.
    path = tmp_path / "mlm.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    again = loaded.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert abs(again["masked_accuracy"] - after["masked_accuracy"]) < 1e-6
    assert abs(again["loss"] - after["loss"]) < 1e-5


def test_classifier_starts_from_the_pretrained_encoder(tmp_path):
    keras.utils.set_random_seed(0)
    mlm = BertMaskedLM(_encoder())
    x = _tokens(rows=8)
    # Stand-in for pre-training: weights no initialiser would give.
    rng = np.random.default_rng(0)
    pretrained = [rng.normal(size=w.shape) for w in mlm.encoder.get_weights()]
    mlm.encoder.set_weights(pretrained)
    pretrained = [np.asarray(w) for w in mlm.encoder.get_weights()]

    # Shared: the classifier's encoder variables are the MLM's.
    shared = BertClassifier(mlm.encoder, 2)
    assert shared.encoder is mlm.encoder
    ids = {id(v) for v in mlm.encoder.weights}
    assert ids <= {id(v) for v in shared.weights}

    # Copied: a fresh encoder given the weights computes the same features,
    # survives a .keras round trip, and fine-tuning it leaves the MLM untouched.
    copy = BertEncoder.from_config(mlm.encoder.get_config())
    copy.set_weights(mlm.encoder.get_weights())
    np.testing.assert_allclose(_run(copy, x), _run(mlm.encoder, x), atol=1e-6)
    classifier = BertClassifier(copy, 2)
    path = tmp_path / "classifier.keras"
    classifier.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(loaded.encoder.get_weights(), pretrained):
        np.testing.assert_array_equal(a, b)
    classifier.compile(keras.optimizers.Adam(1e-2))
    classifier.fit(x, np.arange(8) % 2, epochs=1, verbose=0)
    changed = [not np.array_equal(a, b) for a, b in zip(copy.get_weights(), pretrained)]
    assert any(changed), "fine-tuning did not move the encoder"
    for a, b in zip(mlm.encoder.get_weights(), pretrained):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: BertEncoder(1, 16), "vocab_size"),
        (lambda: BertEncoder(VOCAB, 0), "max_len"),
        (lambda: BertEncoder(VOCAB, 16, hidden_dim=10, num_heads=3), "hidden_dim"),
        (lambda: BertEncoder(VOCAB, 16, dropout=1.0), "dropout"),
        (lambda: BertEncoder(VOCAB, 16, num_layers=0), "num_layers"),
        (lambda: BertMaskedLM(keras.layers.Dense(3)), "encoder"),
        (lambda: BertClassifier("encoder", 3), "encoder"),
        (lambda: BertClassifier(_encoder(), 1), "num_classes"),
        (lambda: BertClassifier(_encoder(), 3, pooling="max"), "pooling"),
        (lambda: MaskedLMHead(VOCAB, token_embedding="table"), "token_embedding"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(build, name):
    with pytest.raises(ValueError, match=name):
        build()


def test_fill_mask_ranks_real_words_for_each_blank():
    tokenizer = WordTokenizer.fit(
        "the cat sat on the mat . the dog sat on the rug .",
        special_tokens=("[MASK]", "[CLS]", "[SEP]"),
    )
    keras.utils.set_random_seed(0)
    encoder = BertEncoder(tokenizer.vocab_size, 16, hidden_dim=8, num_heads=2)
    model = BertMaskedLM(encoder)
    guesses = fill_mask(model, tokenizer, "the [MASK] sat on the [MASK] .", top_k=3)
    assert len(guesses) == 2 and all(len(g) == 3 for g in guesses)
    for guess in guesses:
        words = [w for w, _ in guess]
        probs = [p for _, p in guess]
        assert not {"[PAD]", "[UNK]", "[MASK]", "[CLS]", "[SEP]"} & set(words)
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1
    with pytest.raises(ValueError, match="text"):
        fill_mask(model, tokenizer, "no blank here")


def test_heads_take_the_encoders_dtype_and_check_it(tmp_path):
    keras.utils.set_random_seed(0)
    encoder = _encoder(dtype="mixed_bfloat16")
    masked_lm = BertMaskedLM(encoder)
    classifier = BertClassifier(encoder, 3)
    x = _tokens()
    for model in (masked_lm, classifier):
        assert model.dtype_policy.name == "mixed_bfloat16"  # the encoder's
        assert {w.dtype for w in model.weights} == {"float32"}
        out = model(x)
        # The masked-LM head returns its logits cast to float32.
        expected = "float32" if model is masked_lm else "bfloat16"
        assert keras.backend.standardize_dtype(out.dtype) == expected
        # The compiled loss casts the bfloat16 logits to float32.
        model.compile()
        y = x if model is masked_lm else np.array([0, 1, 2, 1])
        loss = model.compute_loss(x, y, out)
        assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    assert masked_lm.mlm_head.compute_dtype == "bfloat16"
    assert classifier.get_layer("logits").compute_dtype == "bfloat16"
    path = str(tmp_path / "classifier_mixed.keras")
    classifier.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.dtype_policy.name == "mixed_bfloat16"
    assert loaded.encoder.dtype_policy.name == "mixed_bfloat16"
    with pytest.raises(ValueError, match="`encoder` computes with"):
        BertClassifier(_encoder(), 3, dtype="mixed_bfloat16")
    with pytest.raises(ValueError, match="`encoder` computes with"):
        BertMaskedLM(_encoder(), dtype="mixed_bfloat16")
