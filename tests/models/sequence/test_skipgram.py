"""skipgram_pairs and unigram_distribution: windows, subsampling, negatives."""

from __future__ import annotations

import numpy as np
import pytest

from kerasdl.models.sequence.skipgram import skipgram_pairs, unigram_distribution


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
