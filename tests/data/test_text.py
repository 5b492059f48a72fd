"""Character and word tokenizers: round trips, reserved ids, JSON save/load, errors."""

from __future__ import annotations

import numpy as np
import pytest

from kerasdl.data import CharTokenizer, WordTokenizer, split_text, word_split


def test_char_tokenizer_round_trip_and_padding():
    tok = CharTokenizer.fit("hello world")
    assert tok.vocabulary[0] == "[PAD]"
    assert tok.vocab_size == len(set("hello world")) + 1
    ids = tok.encode("low hell")
    assert ids.dtype == np.int32 and ids.min() >= 1
    assert tok.decode(ids) == "low hell"
    assert tok.decode(np.concatenate([ids, [0, 0]])) == "low hell"  # padding dropped


def test_char_tokenizer_rejects_unseen_characters_and_bad_ids():
    tok = CharTokenizer.fit("abc")
    with pytest.raises(ValueError, match="never seen.*'z'"):
        tok.encode("abz")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 4\)"):
        tok.decode([1, 9])
    with pytest.raises(ValueError, match="non-empty"):
        CharTokenizer.fit("")


def test_word_tokenizer_keeps_frequent_words_and_maps_the_rest_to_unk():
    texts = ["the cat sat on the mat.", "The dog sat!"]
    tok = WordTokenizer.fit(texts, max_words=7, special_tokens=("[MASK]",))
    assert tok.vocabulary[:3] == ["[PAD]", "[UNK]", "[MASK]"]
    # "the" (3) and "sat" (2) are the most frequent, then ties by alphabet.
    assert tok.vocabulary[3:5] == ["the", "sat"]
    ids = tok.encode("The zebra sat")
    assert ids.tolist() == [tok.token_id("the"), 1, tok.token_id("sat")]
    assert tok.decode(ids) == "the [UNK] sat"
    assert word_split("x1 = y(2)") == ["x", "1", "=", "y", "(", "2", ")"]


def test_tokenizers_save_and_load(tmp_path):
    char = CharTokenizer.fit("abc d")
    char.save(tmp_path / "c.json")
    again = CharTokenizer.load(tmp_path / "c.json")
    assert again.vocabulary == char.vocabulary
    word = WordTokenizer.fit("a b b", max_words=4)
    word.save(tmp_path / "w.json")
    assert WordTokenizer.load(tmp_path / "w.json").vocabulary == word.vocabulary
    with pytest.raises(ValueError, match="holds a 'word' tokenizer"):
        CharTokenizer.load(tmp_path / "w.json")
    with pytest.raises(ValueError, match="existing tokenizer file"):
        CharTokenizer.load(tmp_path / "missing.json")


def test_split_text_keeps_order_and_checks_its_fraction():
    head, tail = split_text("abcdefghij", 0.2)
    assert (head, tail) == ("abcdefgh", "ij")
    with pytest.raises(ValueError, match="validation_fraction"):
        split_text("abc", 1.5)


def test_check_char_tokenizer_file(tmp_path):
    from kerasdl.data.text import check_char_tokenizer_file

    good = tmp_path / "tokenizer.json"
    CharTokenizer.fit("abc").save(good)
    check_char_tokenizer_file(good)  # no error
    word = tmp_path / "word.json"
    WordTokenizer.fit("a b c").save(word)
    with pytest.raises(ValueError, match="holds a 'word' tokenizer"):
        check_char_tokenizer_file(word, "--tokenizer")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(
        ValueError, match=r"^--tokenizer '.*bad.json' holds a JSON list"
    ):
        check_char_tokenizer_file(bad, "--tokenizer")
    with pytest.raises(ValueError, match=r"^--tokenizer: no tokenizer file"):
        check_char_tokenizer_file(tmp_path / "none.json", "--tokenizer")
