"""recipes/char_lm: the bigram baseline, text windows and `train_char_lm`."""

from __future__ import annotations

import numpy as np
import pytest

from kerasdl.recipes.char_lm import (
    BigramLanguageModel,
    CharLMResult,
    text_windows,
    train_char_lm,
)


def test_bigram_model_and_windows():
    ids = np.array([1, 2, 1, 2, 1, 3])
    bigram = BigramLanguageModel(4, smoothing=1e-3).fit(ids)
    # After 1 the data shows 2 twice and 3 once.
    p = np.exp(bigram.log_probs_[1])
    np.testing.assert_allclose(p[[2, 3]], [2 / 3, 1 / 3], atol=1e-3)
    assert bigram.nll([1], [2]) == pytest.approx(-np.log(2 / 3), abs=1e-3)
    x, y = text_windows(np.arange(10), 4, stride=3)
    np.testing.assert_array_equal(x[1], [3, 4, 5, 6])
    np.testing.assert_array_equal(y[1], [4, 5, 6, 7])
    with pytest.raises(ValueError, match="not fitted"):
        BigramLanguageModel(3).nll([0], [1])


def test_train_char_lm_reports_both_models_on_the_same_tail():
    text = "the cat sat on the mat. " * 40
    result = train_char_lm(
        text,
        max_len=16,
        num_layers=1,
        hidden_dim=16,
        num_heads=2,
        epochs=2,
        batch_size=8,
        verbose=0,
    )
    assert isinstance(result, CharLMResult) and not result.interrupted
    summary = result.summary()
    assert summary["train_chars"] + summary["val_chars"] == len(text)
    assert np.isfinite(summary["val_nats_per_char"])
    # A repetitive text is easy for a bigram too; both are well under log(vocab).
    assert summary["bigram_nats_per_char"] < np.log(result.tokenizer.vocab_size)
    assert len(summary["history"]["loss"]) == 2
    assert summary["history"]["loss"][-1] < summary["history"]["loss"][0]
