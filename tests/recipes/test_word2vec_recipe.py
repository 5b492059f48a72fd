"""recipes/word2vec: one-call training and the corpus ids it pairs."""

from __future__ import annotations

import numpy as np
import pytest

from kerasdl.data import load_text_corpus
from kerasdl.data.text import WordTokenizer
from kerasdl.models.sequence.word2vec import skipgram_pairs
from kerasdl.recipes import train_word2vec
from kerasdl.recipes.word2vec import word2vec_corpus_ids


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
