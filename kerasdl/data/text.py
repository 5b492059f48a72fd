"""Tokenizers for the text models: characters and words, NumPy only (no Keras).

Both map text to integer ids and back, reserve id 0 for padding, and save to a
small JSON file, so that a model saved as `.keras` can be reloaded with the
vocabulary it was trained on.

* `CharTokenizer`: one id per character seen in the training text (the
  character-level language model).
* `WordTokenizer`: lower-cased words, numbers and single punctuation marks, the
  `max_words` most frequent kept, the rest mapped to `[UNK]` (word2vec, the
  BERT-like encoder). Extra special tokens (`[MASK]`, `[CLS]`, ...) come right
  after `[PAD]` and `[UNK]`.

Example:

```python
from kerasdl.data import load_text_corpus
from kerasdl.data.text import CharTokenizer

text = "\\n\\n".join(load_text_corpus().x)
tokenizer = CharTokenizer.fit(text)
ids = tokenizer.encode("for x in y:")
assert tokenizer.decode(ids) == "for x in y:"
```
"""

from __future__ import annotations

import collections
import json
import os
import re
from pathlib import Path

import numpy as np

__all__ = [
    "CharTokenizer",
    "WordTokenizer",
    "check_char_tokenizer_file",
    "split_text",
    "word_split",
]

PAD = "[PAD]"
UNK = "[UNK]"
_WORD_PATTERN = re.compile(r"[a-z]+|[0-9]+|[^\sa-z0-9]")


def word_split(text: str) -> list[str]:
    """Lower-cases `text` and cuts it into words, numbers and punctuation marks."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str; received {type(text).__name__}.")
    return _WORD_PATTERN.findall(text.lower())


def split_text(text: str, validation_fraction: float = 0.1) -> tuple[str, str]:
    """Cuts `text` into a training head and a validation tail (no shuffling, so
    the validation text is unseen continuous prose, not interleaved windows)."""
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty str; received an empty text.")
    if not 0.0 < float(validation_fraction) < 1.0:
        raise ValueError(
            "validation_fraction must be in (0, 1); received "
            f"validation_fraction={validation_fraction!r}."
        )
    cut = int(round(len(text) * (1.0 - float(validation_fraction))))
    if cut <= 0 or cut >= len(text):
        raise ValueError(
            f"text of {len(text)} characters is too short to split with "
            f"validation_fraction={validation_fraction}."
        )
    return text[:cut], text[cut:]


class _Tokenizer:
    """Shared vocabulary handling: id <-> token tables, JSON save/load."""

    kind = ""

    def __init__(self, vocabulary):
        vocabulary = list(vocabulary)
        if len(vocabulary) < 2 or vocabulary[0] != PAD:
            raise ValueError(
                f"vocabulary must start with {PAD!r} and hold at least one more "
                f"token; received {vocabulary[:5]!r}..."
            )
        if len(set(vocabulary)) != len(vocabulary):
            dupes = [t for t, c in collections.Counter(vocabulary).items() if c > 1]
            raise ValueError(f"vocabulary has duplicate tokens: {dupes[:5]!r}.")
        self.vocabulary = vocabulary
        self.index = {token: i for i, token in enumerate(vocabulary)}

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    def token_id(self, token: str) -> int:
        if token not in self.index:
            raise ValueError(f"token {token!r} is not in the vocabulary.")
        return self.index[token]

    def get_config(self) -> dict:
        return {"kind": self.kind, "vocabulary": self.vocabulary}

    def save(self, path) -> None:
        """Writes the vocabulary as JSON to `path`."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.get_config(), f, ensure_ascii=False)

    @classmethod
    def load(cls, path):
        """Reads a tokenizer written by `save`."""
        if not os.path.isfile(path):
            raise ValueError(
                f"path must be an existing tokenizer file; received {path!r}."
            )
        try:
            with open(path, encoding="utf-8") as f:
                config = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(
                f"path {str(path)!r} is not a tokenizer file (written by save): {exc}."
            ) from exc
        if not isinstance(config, dict) or not isinstance(
            config.get("vocabulary"), list
        ):
            raise ValueError(
                f"path {str(path)!r} holds no 'vocabulary' list; it is not a "
                f"tokenizer file (written by save). Received {str(config)[:80]}."
            )
        if config.get("kind") != cls.kind:
            raise ValueError(
                f"{path!r} holds a {config.get('kind')!r} tokenizer, not {cls.kind!r}."
            )
        return cls.from_config(config)

    @classmethod
    def from_config(cls, config):
        return cls(config["vocabulary"])

    def _ids(self, ids):
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise ValueError(f"ids must be integers; received dtype {ids.dtype}.")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(
                f"ids must be in [0, {self.vocab_size}); received values from "
                f"{ids.min()} to {ids.max()}."
            )
        return ids.reshape(-1)


class CharTokenizer(_Tokenizer):
    """Character-level tokenizer: id 0 is padding, ids 1.. the characters.

    Args:
        vocabulary: The tokens by id, `[PAD]` first, then single characters.
    """

    kind = "char"

    def __init__(self, vocabulary):
        super().__init__(vocabulary)
        bad = [t for t in self.vocabulary[1:] if len(t) != 1]
        if bad:
            raise ValueError(
                f"A CharTokenizer's tokens after {PAD!r} must be single characters; "
                f"received {bad[:5]!r}."
            )

    @classmethod
    def fit(cls, text: str) -> CharTokenizer:
        """Builds the vocabulary from the distinct characters of `text`, sorted."""
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty str; received an empty text.")
        return cls([PAD, *sorted(set(text))])

    def encode(self, text: str) -> np.ndarray:
        """`text` as an int32 array; a character outside the vocabulary is an error
        (the model has never seen it, so there is no honest id for it)."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str; received {type(text).__name__}.")
        unknown = sorted({c for c in text if c not in self.index})
        if unknown:
            raise ValueError(
                f"text holds characters the tokenizer has never seen: {unknown[:10]!r}."
            )
        return np.fromiter((self.index[c] for c in text), np.int32, len(text))

    def decode(self, ids) -> str:
        """The text of `ids` (padding ids are dropped)."""
        return "".join(self.vocabulary[i] for i in self._ids(ids) if i != 0)


class WordTokenizer(_Tokenizer):
    """Word-level tokenizer over `word_split`: `[PAD]`=0, `[UNK]`=1, then the
    special tokens, then words by decreasing frequency.

    Args:
        vocabulary: The tokens by id (`[PAD]`, `[UNK]` first).
    """

    kind = "word"

    def __init__(self, vocabulary):
        super().__init__(vocabulary)
        if self.vocabulary[1] != UNK:
            raise ValueError(
                f"A WordTokenizer's vocabulary must start with {PAD!r}, {UNK!r}; "
                f"received {self.vocabulary[:2]!r}."
            )

    @classmethod
    def fit(
        cls, texts, max_words: int = 5000, min_count: int = 1, special_tokens=()
    ) -> WordTokenizer:
        """Keeps the `max_words` most frequent words seen at least `min_count` times.

        Args:
            texts: A str or an iterable of str (documents).
            max_words: Size of the vocabulary including the reserved tokens.
            min_count: Minimum number of occurrences of a kept word.
            special_tokens: Extra reserved tokens, e.g. `("[MASK]", "[CLS]")`.
        """
        from kerasdl._checks import check_int

        check_int("max_words", max_words, minimum=3)
        check_int("min_count", min_count)
        if isinstance(texts, str):
            texts = [texts]
        counts = collections.Counter()
        for text in texts:
            counts.update(word_split(text))
        if not counts:
            raise ValueError("texts hold no words; received empty texts.")
        reserved = [PAD, UNK, *special_tokens]
        room = max_words - len(reserved)
        if room < 1:
            raise ValueError(
                f"max_words={max_words} leaves no room for words after the "
                f"{len(reserved)} reserved tokens."
            )
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        words = [w for w, c in ordered if c >= min_count and w not in reserved]
        return cls([*reserved, *words[:room]])

    def encode(self, text: str) -> np.ndarray:
        """Ids of the words of `text`; unknown words become `[UNK]` (1)."""
        return np.asarray([self.index.get(w, 1) for w in word_split(text)], np.int32)

    def decode(self, ids) -> str:
        """The words of `ids` joined by spaces (padding dropped)."""
        return " ".join(self.vocabulary[i] for i in self._ids(ids) if i != 0)


def check_char_tokenizer_file(path, name: str | None = None) -> None:
    """A one-line ValueError, naming the file, when `path` is not a `CharTokenizer`
    file (the tokenizer.json `kerasdl train gpt` writes with `save`).

    Args:
        path: The file.
        name: The argument or flag the path came from (e.g. `"--tokenizer"`); None
            for a file found beside a model.
    """
    path = Path(path)
    where = f"{name} {str(path)!r}" if name else f"{str(path)!r}"
    if not path.is_file():
        if name:
            raise ValueError(f"{name}: no tokenizer file at {str(path)!r}.")
        raise ValueError(
            f"No tokenizer beside the model: {str(path)!r} is missing (kerasdl "
            "train gpt writes it; pass --tokenizer PATH)."
        )
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:  # invalid JSON or not UTF-8
        raise ValueError(f"{where} is not valid JSON: {error}.") from error
    if not isinstance(config, dict):
        raise ValueError(
            f"{where} holds a JSON {type(config).__name__} ({config!r:.40}), not the "
            "object `kerasdl train gpt` writes ({'kind': 'char', 'vocabulary': "
            "[...]})."
        )
    if config.get("kind") != CharTokenizer.kind:
        raise ValueError(
            f"{where} holds a {config.get('kind')!r} tokenizer; kerasdl generate "
            f"needs the {CharTokenizer.kind!r} tokenizer `kerasdl train gpt` writes."
        )
    vocabulary = config.get("vocabulary")
    if not isinstance(vocabulary, list) or not all(
        isinstance(token, str) for token in vocabulary
    ):
        raise ValueError(
            f"{where}: 'vocabulary' must be a list of strings; received "
            f"{vocabulary!r:.60}."
        )
    try:
        CharTokenizer(vocabulary)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error
