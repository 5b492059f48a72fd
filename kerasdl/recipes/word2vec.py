"""word2vec, the recipe: tokenize a corpus, draw skip-gram pairs and train a
`kerasdl.models.Word2Vec` in one call (by default on the embedded corpus of
Python's help topics, `kerasdl.data.load_text_corpus`).
"""

from __future__ import annotations

import keras

from kerasdl import backend
from kerasdl._checks import check_float, check_int
from kerasdl.data import load_text_corpus
from kerasdl.data.text import WordTokenizer, word_split
from kerasdl.models.sequence.word2vec import Word2Vec, skipgram_pairs


def _words_only(text):

    return " ".join(w for w in word_split(text) if w.isalnum())


def word2vec_corpus_ids(texts, tokenizer, drop_punctuation=True):
    """Encodes each document with `tokenizer` (punctuation tokens removed first
    when `drop_punctuation`); a list of int32 arrays for `skipgram_pairs`."""
    if isinstance(texts, str):
        texts = [texts]
    texts = [_words_only(t) if drop_punctuation else t for t in texts]
    return [tokenizer.encode(t) for t in texts]


def train_word2vec(
    texts=None,
    max_words=4000,
    min_count=5,
    embedding_dim=100,
    window_size=5,
    num_negative=5,
    subsample=1e-4,
    epochs=15,
    batch_size=512,
    learning_rate=5e-3,
    drop_punctuation=True,
    seed=0,
    verbose=0,
):
    """Tokenizes `texts`, draws skip-gram pairs and trains a `Word2Vec`.

    Fresh pairs (subsampling, windows, negatives) are drawn for every epoch, as
    the word2vec C code does, instead of repeating one draw.

    Args:
        texts: A str or a list of documents; default the embedded corpus of
            Python's help topics (`kerasdl.data.load_text_corpus`).
        max_words: Vocabulary size, reserved tokens included.
        min_count: Minimum occurrences of a kept word.
        embedding_dim: Length of the word vectors.
        window_size: Largest target-context distance.
        num_negative: Negatives per positive pair.
        subsample: Frequent-word subsampling threshold (None: off).
        epochs: Passes over freshly drawn pairs.
        batch_size: Pairs per step.
        learning_rate: Of Adam.
        drop_punctuation: Whether to keep only words and numbers (the corpus's
            dashes, quotes and brackets otherwise crowd every window).
        seed: Seeds the pairs and the initial vectors.
        verbose: Passed to `fit`.

    Returns:
        `(model, tokenizer, history)`: the trained `Word2Vec`, its
        `WordTokenizer` and a dict with the per-epoch `"loss"` and `"pairs"`.
    """

    epochs = check_int("epochs", epochs)
    batch_size = check_int("batch_size", batch_size)
    learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_open=True)
    seed = check_int("seed", seed, minimum=0)
    if texts is None:
        texts = list(load_text_corpus().x)
    elif isinstance(texts, str):
        texts = [texts]
    else:
        texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts must be a str or a non-empty list of str.")

    fit_texts = [_words_only(t) for t in texts] if drop_punctuation else texts
    tokenizer = WordTokenizer.fit(fit_texts, max_words=max_words, min_count=min_count)
    docs = [tokenizer.encode(t) for t in fit_texts]

    backend.set_random_seed(seed)
    model = Word2Vec(tokenizer.vocab_size, embedding_dim=embedding_dim, seed=seed)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        # Keras turns XLA off for TensorFlow on CPU-only machines ("auto"); for
        # these tiny gather-dot-scatter steps it is 2-3x faster there (measured
        # on 2 CPU cores), and JAX compiles every step anyway.
        jit_compile=True,
    )
    history = {"loss": [], "pairs": []}
    for epoch in range(epochs):
        targets, contexts, labels = skipgram_pairs(
            docs,
            tokenizer.vocab_size,
            window_size=window_size,
            num_negative=num_negative,
            subsample=subsample,
            seed=seed * 100_003 + epoch,
        )
        # Whole batches only: the pairs are shuffled, so the few left over are a
        # random handful, and a last short batch would cost a retrace per epoch.
        rows = max(targets.size // batch_size, 1) * batch_size
        targets, contexts, labels = targets[:rows], contexts[:rows], labels[:rows]
        result = model.fit(
            (targets, contexts),
            labels,
            batch_size=batch_size,
            epochs=epoch + 1,
            initial_epoch=epoch,
            shuffle=False,  # skipgram_pairs already shuffled the rows
            verbose=verbose,
        )
        history["loss"].append(float(result.history["loss"][-1]))
        history["pairs"].append(int(targets.size))
    return model, tokenizer, history
