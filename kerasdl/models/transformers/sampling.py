"""Choosing the next token from a language model's logits.

`sample_next_token` implements greedy decoding and temperature, top-k and top-p
(nucleus) sampling in NumPy; `GPTLanguageModel.generate` uses it.
"""

from __future__ import annotations

import numpy as np

from kerasdl._checks import check_float, check_int

__all__ = ["SAMPLING_METHODS", "sample_next_token"]

SAMPLING_METHODS = ("greedy", "temperature", "top_k", "top_p")


def sample_next_token(
    logits, method="greedy", temperature=1.0, top_k=None, top_p=None, rng=None
):
    """Picks one token per row of `logits` (NumPy).

    Args:
        logits: `(batch, vocab_size)` unnormalised scores.
        method: `"greedy"` (argmax), `"temperature"` (sample from
            `softmax(logits / temperature)`), `"top_k"` (sample among the
            `top_k` most likely tokens) or `"top_p"` (sample among the smallest
            set of most likely tokens whose probability reaches `top_p`).
            Temperature applies to every sampling method.
        temperature: Positive; below 1 sharpens, above 1 flattens.
        top_k: Number of tokens kept by `"top_k"`.
        top_p: Probability mass kept by `"top_p"`, in (0, 1].
        rng: A `numpy.random.Generator` (sampling methods).

    Returns:
        `(batch,)` int32 token ids.
    """
    logits = np.asarray(logits, dtype="float64")
    if logits.ndim != 2:
        raise ValueError(
            "Expected `logits` of rank 2 (batch, vocab_size); received shape "
            f"{logits.shape}."
        )
    _check_sampling(method, temperature, top_k, top_p, logits.shape[-1])
    if method == "greedy":
        return logits.argmax(-1).astype("int32")
    rng = rng if rng is not None else np.random.default_rng()
    logits = logits / float(temperature)
    if method == "top_k":
        kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
        logits = np.where(logits >= kth, logits, -np.inf)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    if method == "top_p":
        order = np.argsort(-probs, axis=-1)
        sorted_probs = np.take_along_axis(probs, order, -1)
        # Keep a token if the mass of the tokens before it is below top_p (so
        # the most likely token is always kept).
        before = np.cumsum(sorted_probs, -1) - sorted_probs
        keep_sorted = before < top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, -1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(-1, keepdims=True)
    cumulative = np.cumsum(probs, -1)
    draws = rng.random((probs.shape[0], 1)) * cumulative[:, -1:]
    return (cumulative < draws).sum(-1).clip(0, probs.shape[-1] - 1).astype("int32")


def _check_sampling(method, temperature, top_k, top_p, vocab_size):
    if method not in SAMPLING_METHODS:
        raise ValueError(
            f"method must be one of {SAMPLING_METHODS}; received method={method!r}."
        )
    check_float("temperature", temperature, low=0.0, low_open=True)
    if method == "top_k":
        if top_k is None:
            raise ValueError("method='top_k' needs top_k; received top_k=None.")
        check_int("top_k", top_k)
        if top_k > vocab_size:
            raise ValueError(
                f"top_k must be <= vocab_size ({vocab_size}); received top_k={top_k}."
            )
    if method == "top_p":
        if top_p is None:
            raise ValueError("method='top_p' needs top_p; received top_p=None.")
        check_float("top_p", top_p, low=0.0, high=1.0, low_open=True)
