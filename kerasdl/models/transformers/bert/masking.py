"""BERT's masked-language-model corruption: 15% of the real tokens are selected; of
those 80% become `[MASK]`, 10% a random token and 10% stay (`mask_tokens`);
`MaskedLMDataset` draws fresh masks every epoch (dynamic masking, as RoBERTa).
"""

from __future__ import annotations

import keras
import numpy as np

from kerasdl._checks import check_float, check_int

SPECIAL_TOKENS = ("[MASK]", "[CLS]", "[SEP]")


# ---- Masking -------------------------------------------------------------------


def _check_ids(name, value, vocab_size):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not 0 <= value < vocab_size
    ):
        raise ValueError(
            f"`{name}` must be a token id in [0, {vocab_size}); received "
            f"{name}={value!r}."
        )
    return int(value)


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def mask_tokens(
    tokens,
    vocab_size,
    mask_token_id,
    rate=0.15,
    special_ids=(),
    mask_fraction=0.8,
    random_fraction=0.1,
    seed=None,
):
    """Corrupts token ids for masked-language-model training (BERT's 80/10/10 rule).

    Each real token (not padding id 0, not `mask_token_id`, not in
    `special_ids`) is selected independently with probability `rate`. A selected
    token becomes `mask_token_id` with probability `mask_fraction`, a random
    real token with probability `random_fraction` (drawn uniformly from the ids
    that are neither padding nor special, so it may by chance be the original),
    and is left unchanged otherwise. Padding and special tokens are never
    selected or changed.

    Args:
        tokens: Integer ids of any shape, usually `(batch, time)`.
        vocab_size: Number of token ids.
        mask_token_id: Id of `[MASK]`.
        rate: Probability that a real token is selected, in (0, 1].
        special_ids: Ids never selected nor drawn as replacements (e.g.
            `[UNK]`, `[CLS]`, `[SEP]`); padding 0 and `mask_token_id` always are.
        mask_fraction: Share of the selected tokens replaced by `[MASK]`.
        random_fraction: Share replaced by a random real token;
            `mask_fraction + random_fraction <= 1`, the rest kept.
        seed: An int, None, or a `numpy.random.Generator`.

    Returns:
        `(inputs, labels, sample_weights)`: the corrupted int32 ids, the
        original int32 ids (the targets; they equal `tokens` everywhere) and
        float32 weights, 1 at the selected positions and 0 elsewhere, all
        shaped like `tokens`.

    Example:

    ```python
    x, y, w = mask_tokens(windows, tokenizer.vocab_size, mask_id,
                          special_ids=(unk_id, cls_id, sep_id), seed=0)
    model.fit(x, y, sample_weight=w)
    ```
    """
    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu":
        raise ValueError(
            f"`tokens` must hold integer ids; received dtype {tokens.dtype}."
        )
    if tokens.ndim < 1:
        raise ValueError(
            f"`tokens` must have at least one axis; received shape {tokens.shape}."
        )
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(
            f"`tokens` must be ids in [0, {vocab_size}); received values from "
            f"{tokens.min()} to {tokens.max()}."
        )
    mask_token_id = _check_ids("mask_token_id", mask_token_id, vocab_size)
    if mask_token_id == 0:
        raise ValueError("`mask_token_id` must not be the padding id 0; received 0.")
    special = {0, mask_token_id}
    for value in special_ids:
        special.add(_check_ids("special_ids", value, vocab_size))
    rate = check_float("rate", rate, low=0.0, high=1.0, low_open=True)
    mask_fraction = check_float("mask_fraction", mask_fraction, low=0.0, high=1.0)
    random_fraction = check_float("random_fraction", random_fraction, low=0.0, high=1.0)
    if mask_fraction + random_fraction > 1.0 + 1e-9:
        raise ValueError(
            "`mask_fraction + random_fraction` must be <= 1; received "
            f"mask_fraction={mask_fraction} and random_fraction={random_fraction}."
        )
    real_ids = np.setdiff1d(np.arange(vocab_size), np.fromiter(special, int))
    if real_ids.size == 0:
        raise ValueError(
            f"No real token ids are left to draw from: vocab_size={vocab_size} and "
            f"special ids {sorted(special)}."
        )
    rng = _rng(seed)
    candidates = ~np.isin(tokens, list(special))
    selected = candidates & (rng.random(tokens.shape) < rate)
    action = rng.random(tokens.shape)
    to_mask = selected & (action < mask_fraction)
    to_random = selected & (action >= mask_fraction)
    to_random &= action < mask_fraction + random_fraction
    inputs = tokens.astype("int32", copy=True)
    inputs[to_mask] = mask_token_id
    inputs[to_random] = rng.choice(real_ids, size=int(to_random.sum()))
    return inputs, tokens.astype("int32", copy=True), selected.astype("float32")


class MaskedLMDataset(keras.utils.PyDataset):
    """Batches of `mask_tokens(windows)` with fresh masks every epoch.

    Dynamic masking (RoBERTa, Liu et al., 2019): the same window is corrupted
    differently in every epoch, so a small corpus gives more distinct training
    examples. Batch `i` of epoch `e` is a pure function of `(seed, e, i)`, so a
    run is reproducible. Only full batches are served (the shuffled order
    changes each epoch, so every window is used).

    Args:
        windows: Integer ids `(n, time)`, padded with 0.
        batch_size: Windows per batch (at most `n`).
        vocab_size, mask_token_id, special_ids, rate: As in `mask_tokens`.
        seed: Integer seed of the shuffling and the masks.
        shuffle: Whether to reshuffle the windows each epoch.
        **kwargs: Passed to `keras.utils.PyDataset` (`workers`, ...).

    Example:

    ```python
    data = MaskedLMDataset(windows, 32, vocab_size, mask_id, special_ids=(1, 3, 4))
    mlm.fit(data, epochs=10)
    ```
    """

    def __init__(
        self,
        windows,
        batch_size,
        vocab_size,
        mask_token_id,
        special_ids=(),
        rate=0.15,
        seed=0,
        shuffle=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        windows = np.asarray(windows)
        if windows.ndim != 2 or windows.dtype.kind not in "iu":
            raise ValueError(
                "Expected `windows` of integer ids with shape (n, time); received "
                f"shape {windows.shape} and dtype {windows.dtype}."
            )
        self.batch_size = check_int("batch_size", batch_size)
        if self.batch_size > len(windows):
            raise ValueError(
                f"`batch_size` must be <= the number of windows ({len(windows)}); "
                f"received batch_size={batch_size}."
            )
        self.windows = windows.astype("int32")
        self.vocab_size = vocab_size
        self.mask_token_id = mask_token_id
        self.special_ids = tuple(special_ids)
        self.rate = rate
        self.seed = check_int("seed", seed, minimum=0)
        self.shuffle = bool(shuffle)
        self.epoch = 0
        mask_tokens(self.windows[:1], vocab_size, mask_token_id, rate, special_ids)
        self._order = self._permutation()

    def _permutation(self):
        if not self.shuffle:
            return np.arange(len(self.windows))
        return np.random.default_rng([self.seed, self.epoch, 1]).permutation(
            len(self.windows)
        )

    def __len__(self):
        return len(self.windows) // self.batch_size

    def __getitem__(self, index):
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        inputs, labels, weights = mask_tokens(
            self.windows[rows],
            self.vocab_size,
            self.mask_token_id,
            self.rate,
            self.special_ids,
            seed=np.random.default_rng([self.seed, self.epoch, 2, index]),
        )
        return inputs, labels, weights

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._permutation()
