"""word2vec: the two-table model, neighbours and the 2-D plot (the one-call training,
a recipe, is tested in tests/recipes/test_word2vec_recipe.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerasdl.data.text import WordTokenizer
from kerasdl.models.sequence.word2vec import (
    Word2Vec,
    plot_embeddings_2d,
    skipgram_pairs,
)
from kerasdl.testing import check_model

BCE = keras.losses.BinaryCrossentropy(from_logits=True)


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


# ---- Plot ------------------------------------------------------------------------


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
