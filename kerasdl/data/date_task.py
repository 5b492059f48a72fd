"""A synthetic sequence-to-sequence task: translating dates into ISO format.

No dataset shipped with a dependency holds sequence-to-sequence pairs, so dates
(1950-2049) are drawn at random and written in a dozen human formats ("saturday
9 may 1998", "9/5/98", "may 9, 1998", "09 MAY 1998", ...); the target is the ISO
form "1998-05-09". `DateTranslationTask` holds the formats and the character
tokenizers, sizes a `TransformerSeq2Seq` for it (`model_kwargs`) and translates
strings; `make_date_dataset` draws a dataset; `exact_match` scores
whole strings.
"""

from __future__ import annotations

import datetime
import string
from typing import NamedTuple

import numpy as np

from kerasdl._checks import check_int
from kerasdl.data.text import PAD, CharTokenizer

__all__ = [
    "DATE_FORMATS",
    "DateDataset",
    "DateTranslationTask",
    "exact_match",
    "make_date_dataset",
]

_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


def _ordinal(day):
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10)
    return f"{day}{suffix or 'th'}"


def _month(date):
    return _MONTHS[date.month - 1]


def _weekday(date):
    return _WEEKDAYS[date.weekday()]


# Each format: name -> function of a datetime.date. Days come first in the
# numeric forms (9/5/98 is 9 May), as in most of the world.
DATE_FORMATS = {
    "weekday d month yyyy": lambda d: f"{_weekday(d)} {d.day} {_month(d)} {d.year}",
    "d/m/yy": lambda d: f"{d.day}/{d.month}/{d.year % 100:02d}",
    "month d, yyyy": lambda d: f"{_month(d)} {d.day}, {d.year}",
    "DD MONTH YYYY": lambda d: f"{d.day:02d} {_month(d).upper()} {d.year}",
    "Weekday, Month d, yyyy": lambda d: (
        f"{_weekday(d).capitalize()}, {_month(d).capitalize()} {d.day}, {d.year}"
    ),
    "dd.mm.yyyy": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "d mon yy": lambda d: f"{d.day} {_month(d)[:3]} {d.year % 100:02d}",
    "dth of month yyyy": lambda d: f"{_ordinal(d.day)} of {_month(d)} {d.year}",
    "dd-Mon-yyyy": lambda d: f"{d.day:02d}-{_month(d)[:3].capitalize()}-{d.year}",
    "yyyy/mm/dd": lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    "wkd d mon yyyy": lambda d: f"{_weekday(d)[:3]} {d.day} {_month(d)[:3]} {d.year}",
    "MONTH d yyyy": lambda d: f"{_month(d).upper()} {d.day} {d.year}",
}

SOURCE_CHARACTERS = " ,-./0123456789" + string.ascii_lowercase + string.ascii_uppercase
TARGET_START, TARGET_END = "^", "$"  # the start and end tokens of the targets
TARGET_CHARACTERS = "-0123456789"


class DateDataset(NamedTuple):
    """Pairs of the date-translation task, as strings and as padded id arrays.

    Attributes:
        sources: Human-written dates, e.g. `"saturday 9 may 1998"`.
        targets: Their ISO forms, e.g. `"1998-05-09"`.
        formats: The name (a key of `DATE_FORMATS`) of each source's format.
        source_ids: int32 `(n, source_max_length)`, right-padded with 0.
        decoder_inputs: int32 `(n, target_max_length)`: start token + target.
        decoder_targets: int32 `(n, target_max_length)`: target + end token.
    """

    sources: list
    targets: list
    formats: list
    source_ids: np.ndarray
    decoder_inputs: np.ndarray
    decoder_targets: np.ndarray


class DateTranslationTask:
    """Synthetic sequence-to-sequence task: human-written dates to ISO dates.

    No dataset shipped with a dependency holds sequence-to-sequence pairs, so
    this one is generated: a date drawn uniformly between 1 January
    `start_year` and 31 December `end_year`, written in one of `formats`
    (`DATE_FORMATS`), e.g. "saturday 9 may 1998", "9/5/98", "may 9, 1998",
    "09 MAY 1998"; the target is "1998-05-09". Two-digit years are read as the
    one year of the range that ends with those digits, so a range with
    two-digit formats may span at most 100 years.

    Sources are encoded character by character (a `CharTokenizer` over
    `SOURCE_CHARACTERS`), targets too, over `[PAD]`, start `^` (id 1), end `$`
    (id 2) and `-0123456789`.

    Args:
        start_year: First year of the range.
        end_year: Last year of the range (inclusive).
        formats: Names of the formats used (keys of `DATE_FORMATS`); default
            all of them.

    Example:

    ```python
    task = DateTranslationTask()
    data = task.make_dataset(1000, seed=0)
    data.sources[0], data.targets[0]  # ('may 9, 1998', '1998-05-09'), say
    ```
    """

    def __init__(self, start_year=1950, end_year=2049, formats=None):
        self.start_year = check_int("start_year", start_year)
        self.end_year = check_int("end_year", end_year)
        if not 1000 <= start_year <= end_year <= 9999:
            raise ValueError(
                "Expected 1000 <= start_year <= end_year <= 9999 (four-digit "
                f"years); received start_year={start_year}, end_year={end_year}."
            )
        formats = tuple(DATE_FORMATS if formats is None else formats)
        unknown = [f for f in formats if f not in DATE_FORMATS]
        if not formats or unknown:
            raise ValueError(
                f"`formats` must be a non-empty list of names from "
                f"{list(DATE_FORMATS)}; received formats={list(formats)!r}."
            )
        two_digit = [f for f in formats if "yy" in f and "yyyy" not in f]
        if two_digit and end_year - start_year >= 100:
            raise ValueError(
                f"The formats {two_digit} write two-digit years, which are "
                "ambiguous over more than 100 years; received start_year="
                f"{start_year}, end_year={end_year}."
            )
        self.formats = formats
        self.source_tokenizer = CharTokenizer([PAD, *SOURCE_CHARACTERS])
        self.target_tokenizer = CharTokenizer(
            [PAD, TARGET_START, TARGET_END, *TARGET_CHARACTERS]
        )
        self.start_token_id = self.target_tokenizer.token_id(TARGET_START)
        self.end_token_id = self.target_tokenizer.token_id(TARGET_END)
        self._first = datetime.date(start_year, 1, 1)
        self._days = (datetime.date(end_year, 12, 31) - self._first).days + 1
        # Lengths depend only on names and digit counts, which one leap-year
        # span of 7 years (every weekday and month with every day) covers.
        sample = [
            datetime.date(2000, 1, 1) + datetime.timedelta(k) for k in range(2557)
        ]
        self.source_max_length = max(
            len(DATE_FORMATS[f](d)) for f in formats for d in sample
        )
        self.target_max_length = len("yyyy-mm-dd") + 1

    @property
    def source_vocab_size(self):
        return self.source_tokenizer.vocab_size

    @property
    def target_vocab_size(self):
        return self.target_tokenizer.vocab_size

    def render(self, date, format_name):
        """`date` (a `datetime.date`) written in the format `format_name`."""
        if format_name not in DATE_FORMATS:
            raise ValueError(
                f"`format_name` must be one of {list(DATE_FORMATS)}; received "
                f"format_name={format_name!r}."
            )
        return DATE_FORMATS[format_name](date)

    def encode_sources(self, sources):
        """int32 `(n, source_max_length)` ids of the strings `sources`."""
        if isinstance(sources, str):
            raise ValueError(
                "`sources` must be a list of strings; received one str "
                f"{sources!r} (wrap it in a list)."
            )
        sources = list(sources)
        out = np.zeros((len(sources), self.source_max_length), "int32")
        for i, text in enumerate(sources):
            if not isinstance(text, str) or not text:
                raise ValueError(
                    f"`sources` must hold non-empty strings; received {text!r} at "
                    f"index {i}."
                )
            if len(text) > self.source_max_length:
                raise ValueError(
                    f"`sources` may be at most {self.source_max_length} characters "
                    f"long; received {text!r} ({len(text)})."
                )
            out[i, : len(text)] = self.source_tokenizer.encode(text)
        return out

    def encode_targets(self, targets):
        """`(decoder_inputs, decoder_targets)`, int32 `(n, target_max_length)`:
        the start token + each target, and each target + the end token."""
        targets = list(targets)
        inputs = np.zeros((len(targets), self.target_max_length), "int32")
        outputs = np.zeros_like(inputs)
        for i, text in enumerate(targets):
            if not isinstance(text, str) or len(text) >= self.target_max_length:
                raise ValueError(
                    f"`targets` must hold strings of at most "
                    f"{self.target_max_length - 1} characters; received {text!r}."
                )
            ids = self.target_tokenizer.encode(text)
            inputs[i, 0] = self.start_token_id
            inputs[i, 1 : len(ids) + 1] = ids
            outputs[i, : len(ids)] = ids
            outputs[i, len(ids)] = self.end_token_id
        return inputs, outputs

    def decode_targets(self, tokens):
        """Strings of decoded target ids `(n, time)`: the characters before the
        first end token (padding and start tokens dropped)."""
        tokens = np.asarray(tokens)
        if tokens.ndim != 2:
            raise ValueError(
                f"Expected `tokens` of rank 2 (n, time); received shape {tokens.shape}."
            )
        texts = []
        for row in tokens:
            row = list(row)
            if self.end_token_id in row:
                row = row[: row.index(self.end_token_id)]
            row = [t for t in row if t != self.start_token_id]
            texts.append(self.target_tokenizer.decode(np.asarray(row, "int64")))
        return texts

    def make_dataset(self, n, seed=0, exclude_dates=()):
        """`n` random pairs (a `DateDataset`), the same for the same `seed`.

        Args:
            n: Number of pairs.
            seed: Seed of the dates and formats drawn.
            exclude_dates: ISO dates (strings) never drawn, e.g. the training
                set's targets, so that a test set holds unseen dates only.
        """
        n = check_int("n", n)
        seed = check_int("seed", seed, minimum=0)
        excluded = set(exclude_dates)
        if self._days - len(excluded) < 1:
            raise ValueError(
                "`exclude_dates` leaves no date to draw in "
                f"{self.start_year}-{self.end_year}."
            )
        rng = np.random.default_rng(seed)
        sources, targets, formats = [], [], []
        while len(sources) < n:
            offsets = rng.integers(0, self._days, n - len(sources))
            names = rng.integers(0, len(self.formats), n - len(sources))
            for offset, name in zip(offsets, names):
                date = self._first + datetime.timedelta(int(offset))
                iso = date.isoformat()
                if iso in excluded:
                    continue
                format_name = self.formats[name]
                sources.append(DATE_FORMATS[format_name](date))
                targets.append(iso)
                formats.append(format_name)
        decoder_inputs, decoder_targets = self.encode_targets(targets)
        return DateDataset(
            sources,
            targets,
            formats,
            self.encode_sources(sources),
            decoder_inputs,
            decoder_targets,
        )

    def model_kwargs(self) -> dict:
        """The vocabulary sizes, lengths and special tokens a model for this task
        needs, as keyword arguments of `kerasdl.models.TransformerSeq2Seq`:
        `TransformerSeq2Seq(**task.model_kwargs(), hidden_dim=64, ...)`."""
        return {
            "source_vocab_size": self.source_vocab_size,
            "target_vocab_size": self.target_vocab_size,
            "source_max_length": self.source_max_length,
            "target_max_length": self.target_max_length,
            "start_token_id": self.start_token_id,
            "end_token_id": self.end_token_id,
        }

    def translate(self, model, sources, beam_width=None, **kwargs):
        """ISO strings for the human-written `sources`: greedy decoding when
        `beam_width` is None, else beam search of that width. `kwargs` go to
        the decoding method."""
        ids = self.encode_sources(sources)
        if beam_width is None:
            tokens = model.greedy_decode(ids, **kwargs)
        else:
            tokens = model.beam_search_decode(ids, beam_width=beam_width, **kwargs)
        return self.decode_targets(tokens)


def make_date_dataset(n, seed=0, task=None, exclude_dates=()):
    """`n` pairs of the synthetic date-translation task (a `DateDataset`).

    Args:
        n: Number of pairs.
        seed: Seed; the same seed gives the same pairs.
        task: A `DateTranslationTask`; default `DateTranslationTask()` (dates
            1950-2049, every format).
        exclude_dates: ISO dates never drawn (to keep a test set unseen).

    Returns:
        A `DateDataset` (strings and padded id arrays).
    """
    task = DateTranslationTask() if task is None else task
    if not isinstance(task, DateTranslationTask):
        raise ValueError(
            f"`task` must be a DateTranslationTask; received {type(task).__name__}."
        )
    return task.make_dataset(n, seed=seed, exclude_dates=exclude_dates)


def exact_match(predicted_strings, target_strings):
    """Fraction of predictions equal to their target, as whole strings.

    Args:
        predicted_strings: Sequence of strings.
        target_strings: Sequence of strings, as long.

    Returns:
        A float in [0, 1].
    """
    if isinstance(predicted_strings, str) or isinstance(target_strings, str):
        raise ValueError(
            "`predicted_strings` and `target_strings` must be sequences of "
            "strings, not one string."
        )
    predicted, targets = list(predicted_strings), list(target_strings)
    if len(predicted) != len(targets) or not targets:
        raise ValueError(
            "`predicted_strings` and `target_strings` must be non-empty and as "
            f"long as each other; received {len(predicted)} and {len(targets)}."
        )
    return float(np.mean([p == t for p, t in zip(predicted, targets)]))
