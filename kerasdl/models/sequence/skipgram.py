"""Skip-gram training pairs for word2vec, built with NumPy.

`skipgram_pairs` gives (target, context, label) arrays: windows that never cross
a document boundary, frequent-word subsampling, and negatives drawn from the
unigram distribution raised to 3/4 (`unigram_distribution`). Ids 0 and 1 are
padding and the unknown word, never used as targets or contexts.
"""

from __future__ import annotations

import numpy as np

from kerasdl._checks import check_float, check_int

__all__ = ["PAD_ID", "UNK_ID", "skipgram_pairs", "unigram_distribution"]

PAD_ID = 0
UNK_ID = 1
_RESERVED = (PAD_ID, UNK_ID)


# ---- Training pairs ------------------------------------------------------------


def _as_documents(token_ids_per_doc):
    """A list of 1-D int64 arrays, one per document (a 2-D array is one row per
    document; a single 1-D array of ints is one document)."""
    single = (
        isinstance(token_ids_per_doc, np.ndarray)
        and token_ids_per_doc.ndim == 1
        and token_ids_per_doc.dtype.kind in "iu"
    )
    docs = [token_ids_per_doc] if single else list(token_ids_per_doc)
    if not docs:
        raise ValueError("token_ids_per_doc must hold at least one document.")
    out = []
    for i, doc in enumerate(docs):
        doc = np.asarray(doc)
        if doc.ndim != 1 or (doc.size and doc.dtype.kind not in "iu"):
            raise ValueError(
                "Expected each document of `token_ids_per_doc` to be a 1-D array "
                f"of integer ids; document {i} has shape {doc.shape} and dtype "
                f"{doc.dtype}."
            )
        out.append(doc.astype(np.int64))
    return out


def unigram_distribution(counts, power=0.75):
    """The negative-sampling distribution: `counts ** power`, normalised, with
    zero probability for `[PAD]` (0) and `[UNK]` (1).

    Args:
        counts: `(vocab_size,)` occurrences of each id.
        power: The exponent (0.75 in word2vec; 1 is the plain unigram, 0 uniform
            over the words seen).

    Returns:
        `(vocab_size,)` float64 probabilities summing to 1.
    """
    counts = np.asarray(counts, dtype=np.float64).copy()
    counts[list(_RESERVED)] = 0.0
    if counts.sum() <= 0:
        raise ValueError(
            "There are no word ids other than [PAD] (0) and [UNK] (1) to sample "
            "negatives from."
        )
    weights = np.where(counts > 0, counts**power, 0.0)
    return weights / weights.sum()


def skipgram_pairs(
    token_ids_per_doc,
    vocab_size,
    window_size=5,
    num_negative=5,
    subsample=1e-3,
    sampling_power=0.75,
    dynamic_window=True,
    shuffle=True,
    seed=None,
):
    """Skip-gram training arrays with negative sampling (NumPy, vectorised).

    For every kept token (the target) and every other kept token at most
    `window_size` positions away *in the same document* (the context), one row:
    the context id followed by `num_negative` ids drawn from the unigram
    distribution raised to `sampling_power` (Mikolov et al., 2013).

    `[PAD]` (0) tokens are removed first (they are not text). `[UNK]` (1) tokens
    keep their place, so distances stay honest, but they are never a target, a
    context or a negative. With `subsample=t`, each occurrence of a word of
    relative frequency `f` is kept with probability `min(1, sqrt(t/f) + t/f)`
    (the word2vec C code's rule) and the dropped ones are removed *before*
    windowing, which thins out "the", "a", "is" and widens the effective
    window. With `dynamic_window`, each target draws its window radius uniformly
    from 1..`window_size` (word2vec's way of weighting near words more).

    Args:
        token_ids_per_doc: A sequence of 1-D integer arrays, one per document
            (or a 2-D array, one row per document, padded with 0).
        vocab_size: Number of ids; every id must be below it.
        window_size: Largest distance between a target and a context.
        num_negative: Negatives per positive pair (0 gives positives only).
        subsample: The threshold `t` of frequent-word subsampling, or None/0 to
            keep every token. The defaults (window 5, t = 1e-3) are the word2vec
            C code's; `train_word2vec` uses t = 1e-4 on its small corpus.
        sampling_power: Exponent of the unigram distribution of negatives.
        dynamic_window: Whether each target uses a random radius in
            1..`window_size` (else always `window_size`).
        shuffle: Whether to shuffle the rows (else ordered by offset).
        seed: Seed of the NumPy generator (subsampling, windows, negatives).

    Returns:
        `(targets, contexts, labels)`: int32 `(n,)`, int32
        `(n, 1 + num_negative)` with the true context in column 0, and float32
        `(n, 1 + num_negative)` holding 1 in column 0 and 0 elsewhere; ready for
        `model.fit((targets, contexts), labels)`.

    Example:

    ```python
    docs = [tokenizer.encode(text) for text in texts]
    targets, contexts, labels = skipgram_pairs(docs, tokenizer.vocab_size)
    ```
    """
    vocab_size = check_int("vocab_size", vocab_size, minimum=3)
    window_size = check_int("window_size", window_size)
    num_negative = check_int("num_negative", num_negative, minimum=0)
    if subsample is not None:
        subsample = check_float("subsample", subsample, low=0.0)
    sampling_power = check_float("sampling_power", sampling_power, low=0.0)
    docs = _as_documents(token_ids_per_doc)
    rng = np.random.default_rng(seed)

    ids = np.concatenate(docs) if docs else np.zeros(0, np.int64)
    doc_of = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(
            f"token ids must be in [0, {vocab_size}) for vocab_size={vocab_size}; "
            f"received ids from {ids.min()} to {ids.max()}."
        )
    keep = ids != PAD_ID
    ids, doc_of = ids[keep], doc_of[keep]
    counts = np.bincount(ids, minlength=vocab_size)

    if subsample:
        words = ids > UNK_ID
        total = counts[UNK_ID + 1 :].sum()
        ratio = subsample / np.maximum(counts[ids] / max(total, 1), 1e-12)
        keep_prob = np.where(words, np.sqrt(ratio) + ratio, 1.0)
        keep = rng.random(ids.shape) < keep_prob
        ids, doc_of = ids[keep], doc_of[keep]

    n = ids.size
    radius = (
        rng.integers(1, window_size + 1, size=n)
        if dynamic_window
        else np.full(n, window_size)
    )
    is_word = ids > UNK_ID
    target_index, context_index = [], []
    for offset in range(1, window_size + 1):
        left = np.arange(n - offset)
        right = left + offset
        valid = (doc_of[left] == doc_of[right]) & is_word[left] & is_word[right]
        # The pair (left -> right) with `left` as target, and the reverse.
        forward = valid & (radius[left] >= offset)
        backward = valid & (radius[right] >= offset)
        target_index += [left[forward], right[backward]]
        context_index += [right[forward], left[backward]]
    target_index = np.concatenate(target_index)
    context_index = np.concatenate(context_index)
    if target_index.size == 0:
        raise ValueError(
            "No skip-gram pairs: the documents hold no two words (other than "
            f"[PAD]/[UNK]) within window_size={window_size} of each other."
        )
    if shuffle:
        order = rng.permutation(target_index.size)
        target_index, context_index = target_index[order], context_index[order]

    targets = ids[target_index].astype(np.int32)
    positives = ids[context_index].astype(np.int32)
    rows = targets.size
    contexts = np.empty((rows, 1 + num_negative), np.int32)
    contexts[:, 0] = positives
    if num_negative:
        probs = unigram_distribution(counts, power=sampling_power)
        cumulative = np.cumsum(probs)
        draws = rng.random((rows, num_negative)) * cumulative[-1]
        negatives = np.searchsorted(cumulative, draws, side="right")
        contexts[:, 1:] = np.minimum(negatives, vocab_size - 1)
    labels = np.zeros((rows, 1 + num_negative), np.float32)
    labels[:, 0] = 1.0
    return targets, contexts, labels


# ---- Model -----------------------------------------------------------------------
