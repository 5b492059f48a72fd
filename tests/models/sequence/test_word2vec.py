"""word2vec: skip-gram pairs, the two-table model, neighbours and the 2-D plot."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerasdl.data.text import WordTokenizer
from kerasdl.models.sequence.word2vec import (
    Word2Vec,
    plot_embeddings_2d,
    skipgram_pairs,
    unigram_distribution,
)
from kerasdl.recipes import train_word2vec
from kerasdl.testing import check_model

BCE = keras.losses.BinaryCrossentropy(from_logits=True)


def brute_force_pairs(docs, window):
    """Every (target, context) of words (ids > 1) at most `window` apart within one
    document, PAD removed first, UNK holding its place."""
    pairs = []
    for doc in docs:
        doc = [t for t in doc if t != 0]
        for i, a in enumerate(doc):
            for j, b in enumerate(doc):
                if i != j and abs(i - j) <= window and a > 1 and b > 1:
                    pairs.append((a, b))
    return sorted(pairs)


# ---- skipgram_pairs -------------------------------------------------------------


def test_pairs_are_the_window_pairs_and_never_cross_documents():
    # Distinct ids per position, so a pair names its two positions; UNK (1) keeps
    # its place, PAD (0) is removed.
    docs = [np.array([2, 3, 1, 4, 5, 6]), np.array([7, 0, 8, 9])]
    targets, contexts, labels = skipgram_pairs(
        docs,
        vocab_size=10,
        window_size=2,
        num_negative=0,
        subsample=None,
        dynamic_window=False,
        shuffle=False,
    )
    got = sorted(zip(targets.tolist(), contexts[:, 0].tolist()))
    assert got == brute_force_pairs(docs, 2)
    first = {2, 3, 4, 5, 6}
    for t, c in got:
        assert (t in first) == (c in first), f"pair ({t}, {c}) crosses documents"
    assert (3, 4) in got and (2, 4) not in got  # UNK sits between 3 and 4
    assert (7, 8) in got  # the PAD between them was removed
    assert contexts.shape == (len(got), 1) and labels.shape == (len(got), 1)


def test_dynamic_window_keeps_a_subset_with_all_adjacent_pairs():
    rng = np.random.default_rng(0)
    docs = [rng.permutation(np.arange(2, 40)) for _ in range(3)]
    kwargs = dict(vocab_size=40, window_size=4, num_negative=0, subsample=None)
    full = skipgram_pairs(docs, dynamic_window=False, seed=0, **kwargs)
    dyn = skipgram_pairs(docs, dynamic_window=True, seed=0, **kwargs)
    full_set = set(zip(full[0].tolist(), full[1][:, 0].tolist()))
    dyn_set = set(zip(dyn[0].tolist(), dyn[1][:, 0].tolist()))
    assert dyn_set < full_set
    adjacent = set(brute_force_pairs(docs, 1))
    assert adjacent <= dyn_set
    # Radius uniform in 1..4: on average (1+2+3+4)/4 / 4 = 62.5% of the pairs.
    assert 0.5 < len(dyn_set) / len(full_set) < 0.75


def test_labels_layout_dtypes_and_seeded_determinism():
    docs = [np.arange(2, 30), np.arange(5, 25)]
    t, c, y = skipgram_pairs(docs, vocab_size=30, num_negative=3, seed=7)
    assert t.dtype == c.dtype == np.int32 and y.dtype == np.float32
    assert t.shape == (len(c),) and c.shape == y.shape == (len(t), 4)
    np.testing.assert_array_equal(y[:, 0], 1.0)
    np.testing.assert_array_equal(y[:, 1:], 0.0)
    again = skipgram_pairs(docs, vocab_size=30, num_negative=3, seed=7)
    for a, b in zip((t, c, y), again):
        np.testing.assert_array_equal(a, b)
    other = skipgram_pairs(docs, vocab_size=30, num_negative=3, seed=8)
    assert not np.array_equal(c, other[1])


def test_negatives_follow_the_unigram_distribution_to_the_three_quarters():
    # Zipf-like counts: word k occurs 2000 / k times.
    counts = {k: int(2000 / (k - 1)) for k in range(2, 12)}
    doc = np.repeat(list(counts), list(counts.values()))
    docs = [np.random.default_rng(0).permutation(np.append(doc, [1] * 300))]
    _, contexts, _ = skipgram_pairs(
        docs, vocab_size=12, window_size=1, num_negative=20, subsample=None, seed=0
    )
    negatives = contexts[:, 1:].ravel()
    assert negatives.size > 100_000
    assert not np.isin(negatives, [0, 1]).any(), "PAD/UNK are never negatives"
    observed = np.bincount(negatives, minlength=12) / negatives.size
    raw = np.array([0, 0, *counts.values()], dtype=float)
    expected = raw**0.75 / (raw**0.75).sum()
    np.testing.assert_allclose(observed, expected, atol=0.005)
    plain_unigram = raw / raw.sum()
    assert np.abs(observed - plain_unigram).max() > 0.05
    np.testing.assert_allclose(unigram_distribution(raw), expected)


def test_subsampling_thins_out_the_frequent_word():
    rng = np.random.default_rng(0)
    doc = np.where(rng.random(20_000) < 0.6, 2, rng.integers(3, 200, 20_000))
    kwargs = dict(vocab_size=200, window_size=2, num_negative=0, seed=0)
    plain, _, _ = skipgram_pairs([doc], subsample=None, **kwargs)
    thinned, _, _ = skipgram_pairs([doc], subsample=1e-3, **kwargs)
    share_plain = np.mean(plain == 2)
    share_thinned = np.mean(thinned == 2)
    assert share_plain > 0.5
    assert share_thinned < 0.2
    # A rare word (each about 0.2% of the text, above t = 0.1%) mostly survives.
    assert np.mean(np.isin(plain, [50, 51, 52])) < np.mean(
        np.isin(thinned, [50, 51, 52])
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(window_size=0), "window_size"),
        (dict(num_negative=-1), "num_negative"),
        (dict(subsample=-0.1), "subsample"),
        (dict(vocab_size=5), "vocab_size=5"),
        (dict(token_ids_per_doc=[np.zeros((2, 2), int)]), "document 0"),
        (dict(token_ids_per_doc=[np.array([2.0, 3.0])]), "integer ids"),
        (dict(token_ids_per_doc=[np.array([2, 1, 1, 1, 1, 1, 3])]), "No skip-gram"),
    ],
)
def test_skipgram_pairs_rejects_bad_arguments(kwargs, message):
    call = {"token_ids_per_doc": [np.arange(2, 10)], "vocab_size": 10} | kwargs
    with pytest.raises(ValueError, match=message):
        skipgram_pairs(**call)


# ---- Word2Vec ---------------------------------------------------------------------


def toy_pairs(vocab=20, num_negative=3):
    rng = np.random.default_rng(0)
    docs = [rng.integers(2, vocab, 60) for _ in range(4)]
    return skipgram_pairs(docs, vocab, window_size=2, num_negative=num_negative, seed=0)


def test_logits_are_dot_products_of_the_two_tables():
    targets, contexts, _ = toy_pairs()
    model = Word2Vec(20, embedding_dim=6, seed=0)
    model.build()
    rng = np.random.default_rng(1)
    target_table = rng.standard_normal((20, 6)).astype("float32")
    context_table = rng.standard_normal((20, 6)).astype("float32")
    model.target_embedding.embeddings.assign(target_table)
    model.context_embedding.embeddings.assign(context_table)
    logits = keras.ops.convert_to_numpy(model((targets[:8], contexts[:8])))
    expected = np.einsum(
        "bd,bkd->bk", target_table[targets[:8]], context_table[contexts[:8]]
    )
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    # (batch, 1) targets give the same logits.
    column = keras.ops.convert_to_numpy(model((targets[:8, None], contexts[:8])))
    np.testing.assert_allclose(column, logits, atol=1e-6)


def test_word2vec_passes_the_model_checks(tmp_path):
    targets, contexts, labels = toy_pairs()
    model = Word2Vec(20, embedding_dim=8, seed=3)
    out = check_model(
        model, (targets[:16], contexts[:16]), labels[:16], loss=BCE, tmp_dir=tmp_path
    )
    assert out.shape == (16, 4)
    assert model.compute_output_shape(((None,), (None, 4))) == (None, 4)
    config = model.get_config()
    assert (config["vocab_size"], config["embedding_dim"], config["seed"]) == (20, 8, 3)


def test_a_few_steps_lower_the_negative_sampling_loss():
    targets, contexts, labels = toy_pairs(num_negative=4)
    keras.utils.set_random_seed(0)
    model = Word2Vec(20, embedding_dim=8, seed=0)
    model.compile(keras.optimizers.Adam(0.05), loss=BCE)
    before = model.evaluate((targets, contexts), labels, verbose=0)
    model.fit((targets, contexts), labels, batch_size=64, epochs=3, verbose=0)
    after = model.evaluate((targets, contexts), labels, verbose=0)
    # Zero context table at start: every logit is 0, the loss is exactly log 2.
    assert before == pytest.approx(np.log(2.0), abs=1e-5)
    assert after < before - 0.05


def hand_set_model():
    words = ["cat", "dog", "car", "truck", "apple"]
    tokenizer = WordTokenizer(["[PAD]", "[UNK]", *words])
    model = Word2Vec(tokenizer.vocab_size, embedding_dim=3, seed=0)
    model.build()
    cat = [1.0, 0.0, 0.0]
    table = np.array(
        [
            cat,  # [PAD]: as close to "cat" as can be; must never be returned
            cat,  # [UNK]: likewise
            cat,
            [0.9, 0.3, 0.0],  # dog, near cat
            [0.0, 1.0, 0.1],  # car
            [0.1, 2.0, 0.0],  # truck, near car (length does not matter)
            [-1.0, 0.0, 0.5],  # apple, opposite to cat
        ],
        dtype="float32",
    )
    model.target_embedding.embeddings.assign(table)
    return model, tokenizer, table


def test_most_similar_finds_the_hand_set_neighbour():
    model, tokenizer, table = hand_set_model()
    result = model.most_similar("cat", tokenizer, top_k=10)
    assert [w for w, _ in result] == ["dog", "truck", "car", "apple"]
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    assert result[0][1] == pytest.approx(float(unit[2] @ unit[3]), abs=1e-6)
    assert result[-1][1] < 0  # apple points away from cat
    assert model.most_similar("car", tokenizer, top_k=1)[0][0] == "truck"
    by_id = model.most_similar(4, top_k=2)  # no tokenizer: ids
    assert [i for i, _ in by_id] == [5, 3]
    np.testing.assert_allclose(model.get_embeddings(normalize=True), unit, atol=1e-6)
    np.testing.assert_allclose(model.embeddings, table)


def test_most_similar_rejects_unknown_or_reserved_words():
    model, tokenizer, _ = hand_set_model()
    with pytest.raises(ValueError, match="'zebra'"):
        model.most_similar("zebra", tokenizer)
    with pytest.raises(ValueError, match="reserved"):
        model.most_similar("[UNK]", tokenizer)
    with pytest.raises(ValueError, match="needs the tokenizer"):
        model.most_similar("cat")
    with pytest.raises(ValueError, match=r"\[0, 7\)"):
        model.most_similar(7)
    with pytest.raises(ValueError, match="top_k"):
        model.most_similar("cat", tokenizer, top_k=0)
    other = WordTokenizer(["[PAD]", "[UNK]", "cat"])
    with pytest.raises(ValueError, match="vocab_size=7"):
        model.most_similar("cat", other)


def test_bad_constructor_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match="vocab_size"):
        Word2Vec(2)
    with pytest.raises(ValueError, match="embedding_dim"):
        Word2Vec(10, embedding_dim=0)
    model = Word2Vec(10, embedding_dim=4)
    with pytest.raises(ValueError, match="contexts"):
        model((np.array([2, 3]), np.array([2, 3])))
    with pytest.raises(ValueError, match="targets"):
        model((np.zeros((2, 3, 1), "int32"), np.zeros((2, 3), "int32")))
    with pytest.raises(ValueError, match="tuple"):
        model(np.zeros((2, 3), "int32"))


def test_to_embedding_layer_holds_the_vectors_and_masks_padding():
    model, _, table = hand_set_model()
    layer = model.to_embedding_layer()
    assert isinstance(layer, keras.layers.Embedding) and not layer.trainable
    ids = np.array([[2, 5, 0, 0], [3, 4, 6, 0]])
    vectors = keras.ops.convert_to_numpy(layer(ids))
    np.testing.assert_allclose(vectors, table[ids])
    mask = keras.ops.convert_to_numpy(layer.compute_mask(ids))
    np.testing.assert_array_equal(mask, ids != 0)


# ---- Plot and one-call training ----------------------------------------------------


def test_plot_embeddings_2d_writes_a_png(tmp_path):
    model, tokenizer, _ = hand_set_model()
    path, coords = plot_embeddings_2d(
        model, tokenizer, words=["cat", "dog", "car", "zebra"], path=tmp_path / "e.png"
    )
    assert path.stat().st_size > 1000
    assert set(coords) == {"cat", "dog", "car"}  # zebra is not in the vocabulary
    # PCA keeps the geometry: cat and dog, nearly parallel, land closest.
    d = {
        (a, b): np.hypot(*np.subtract(coords[a], coords[b]))
        for a in coords
        for b in coords
    }
    assert d[("cat", "dog")] < d[("cat", "car")]
    _, default = plot_embeddings_2d(
        model, tokenizer, path=tmp_path / "t.png", method="tsne", num_words=4
    )
    assert list(default) == ["cat", "dog", "car", "truck"]
    with pytest.raises(ValueError, match="method"):
        plot_embeddings_2d(model, tokenizer, path=tmp_path / "x.png", method="umap")
    with pytest.raises(ValueError, match="at least 2 words"):
        plot_embeddings_2d(model, tokenizer, words=["zebra"], path=tmp_path / "x.png")


def test_train_word2vec_on_tiny_texts():
    texts = [
        "the cat sat on the mat and the dog sat on the rug",
        "a car and a truck drove on the road",
    ] * 20
    model, tokenizer, history = train_word2vec(
        texts,
        min_count=1,
        embedding_dim=8,
        window_size=2,
        epochs=3,
        batch_size=64,
        learning_rate=0.02,
        subsample=None,
    )
    assert tokenizer.vocab_size == model.vocab_size
    assert "cat" in tokenizer.index and "," not in tokenizer.index
    assert len(history["loss"]) == len(history["pairs"]) == 3
    assert history["loss"][-1] < history["loss"][0] < np.log(2.0) + 1e-3
    neighbours = [w for w, _ in model.most_similar("cat", tokenizer, top_k=3)]
    assert len(neighbours) == 3 and "cat" not in neighbours
    with pytest.raises(ValueError, match="texts"):
        train_word2vec([1, 2])


def test_corpus_ids_drop_punctuation_and_pair_quickly():
    from kerasdl.data import load_text_corpus
    from kerasdl.recipes.word2vec import word2vec_corpus_ids

    texts = list(load_text_corpus().x[:10])
    tokenizer = WordTokenizer.fit(texts, max_words=300, min_count=2)
    with_punctuation = [tokenizer.encode(t) for t in texts]
    docs = word2vec_corpus_ids(texts, tokenizer)
    assert len(docs) == 10
    assert sum(map(len, docs)) < sum(map(len, with_punctuation))
    kept = {tokenizer.vocabulary[i] for doc in docs for i in doc if i > 1}
    assert kept and all(w.isalnum() for w in kept)
    assert any(not tokenizer.vocabulary[i].isalnum() for i in with_punctuation[0])
    targets, _, _ = skipgram_pairs(docs, tokenizer.vocab_size, seed=0)
    assert targets.size > 1000
