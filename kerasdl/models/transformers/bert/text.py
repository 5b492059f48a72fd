"""Text helpers for BERT: held-out document tails (`split_documents`),
`[CLS] words [SEP]` windows (`bert_windows`) and the model's guesses for each
`[MASK]` of a sentence (`fill_mask`).
"""

from __future__ import annotations

import numpy as np
from keras import ops

from kerasdl._checks import check_float, check_int
from kerasdl.data.text import word_split


def split_documents(documents, test_fraction=0.2, deduplicate=True):
    """Cuts every document into a head (training) and a tail (held out).

    The cut is by position, in words: the first `1 - test_fraction` of each
    document's words are its training part, the rest its held-out part, so
    held-out text is continuous prose no model has seen. With `deduplicate`,
    a paragraph (text between blank lines) that already appeared in a longer
    document is dropped first: Python's help topics repeat whole sections
    (`customization` is a part of `specialnames`), and a repeated paragraph
    would put held-out text into the training part of another document.

    Args:
        documents: Iterable of str.
        test_fraction: Share of each document's words held out, in (0, 1).
        deduplicate: Drop paragraphs seen in a longer (earlier-kept) document.

    Returns:
        `(train_parts, test_parts)`: two lists of str, index-aligned with
        `documents`; words are joined by single spaces (`word_split` gives back
        the same words). A document left empty gives two empty strings.
    """

    documents = list(documents)
    if not documents or not all(isinstance(d, str) for d in documents):
        raise ValueError("`documents` must be a non-empty list of str.")
    test_fraction = check_float(
        "test_fraction", test_fraction, low=0.0, high=1.0, low_open=True, high_open=True
    )
    kept = list(documents)
    if deduplicate:
        seen = set()
        for i in sorted(range(len(documents)), key=lambda i: -len(documents[i])):
            paragraphs = []
            for paragraph in documents[i].split("\n\n"):
                key = " ".join(word_split(paragraph))
                if key and key not in seen:
                    seen.add(key)
                    paragraphs.append(paragraph)
            kept[i] = "\n\n".join(paragraphs)
    train_parts, test_parts = [], []
    for document in kept:
        words = word_split(document)
        cut = int(round(len(words) * (1.0 - test_fraction)))
        train_parts.append(" ".join(words[:cut]))
        test_parts.append(" ".join(words[cut:]))
    return train_parts, test_parts


def bert_windows(ids, max_len, cls_id, sep_id, stride=None, min_tokens=1):
    """Cuts 1-D ids into `[CLS] chunk [SEP]` rows, zero-padded to `max_len`.

    Args:
        ids: 1-D integer ids of one document (or text part).
        max_len: Row length; each chunk holds up to `max_len - 2` ids.
        cls_id: Id of `[CLS]` (first token of every row).
        sep_id: Id of `[SEP]` (after the last real token).
        stride: Step between chunk starts; default `max_len - 2` (no overlap).
        min_tokens: A final chunk shorter than this is dropped.

    Returns:
        int32 array `(n_rows, max_len)`, possibly with 0 rows.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"Expected 1-D `ids`; received shape {ids.shape}.")
    max_len = check_int("max_len", max_len, minimum=3)
    chunk = max_len - 2
    stride = chunk if stride is None else check_int("stride", stride)
    min_tokens = check_int("min_tokens", min_tokens)
    rows = []
    for start in range(0, max(len(ids), 1), stride):
        piece = ids[start : start + chunk]
        if len(piece) < min_tokens:
            break
        row = np.zeros(max_len, "int32")
        row[0] = cls_id
        row[1 : 1 + len(piece)] = piece
        row[1 + len(piece)] = sep_id
        rows.append(row)
        if start + chunk >= len(ids):
            break
    return np.stack(rows) if rows else np.zeros((0, max_len), "int32")


def fill_mask(
    model,
    tokenizer,
    text,
    top_k=5,
    mask_token="[MASK]",
    cls_token="[CLS]",
    sep_token="[SEP]",
):
    """The masked LM's top guesses for each `[MASK]` in `text`.

    Args:
        model: A `BertMaskedLM`.
        tokenizer: The `WordTokenizer` it was trained with (holding the three
            special tokens).
        text: A sentence with one or more `mask_token`s, e.g.
            `"the [MASK] statement is used to ..."`.
        top_k: Guesses per blank.
        mask_token, cls_token, sep_token: The special tokens' spelling.

    Returns:
        A list with one entry per blank: a list of `(word, probability)`,
        most likely first. Special tokens and `[UNK]` are never proposed.
    """
    if not isinstance(text, str) or mask_token not in text:
        raise ValueError(
            f"`text` must be a str holding {mask_token!r}; received text={text!r}."
        )
    top_k = check_int("top_k", top_k)
    mask_id = tokenizer.token_id(mask_token)
    pieces = text.split(mask_token)
    ids = [tokenizer.token_id(cls_token)]
    for i, piece in enumerate(pieces):
        ids.extend(int(t) for t in tokenizer.encode(piece))
        if i < len(pieces) - 1:
            ids.append(mask_id)
    ids.append(tokenizer.token_id(sep_token))
    max_len = model.encoder.max_len
    if len(ids) > max_len:
        raise ValueError(
            f"`text` is {len(ids)} tokens with [CLS] and [SEP]; this model reads at "
            f"most max_len={max_len}."
        )
    # Padded to max_len (padding changes nothing) so every sentence has the
    # same shape and the compiled predict function is reused.
    row = np.zeros((1, max_len), "int32")
    row[0, : len(ids)] = ids
    logits = ops.convert_to_numpy(model.predict_on_batch(row))
    logits = np.asarray(logits[0], dtype="float64")
    banned = [0, 1, mask_id, ids[0], ids[-1]]
    guesses = []
    for position in np.flatnonzero(np.asarray(ids) == mask_id):
        row = logits[position].copy()
        row[banned] = -np.inf
        probs = np.exp(row - row.max())
        probs /= probs.sum()
        best = np.argsort(-probs)[:top_k]
        guesses.append([(tokenizer.vocabulary[i], float(probs[i])) for i in best])
    return guesses
