"""Kim-style tokenisation."""

from __future__ import annotations

import pytest

from chainrule.data.text import char_tokenize, clean_str, clean_str_sst, tokenize


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("It's a \"great\" film, isn't it?", "it 's a great film , is n't it ?"),
        ("We'll see; they've gone & I'd stay.", "we 'll see they 've gone i 'd stay"),
        ("You're (really) right!!", "you 're ( really ) right ! !"),
        ("  spaces\tand\nnewlines  ", "spaces and newlines"),
        ("café — naïve", "caf na ve"),
    ],
)
def test_clean_str(raw, clean):
    assert clean_str(raw) == clean


def test_case_is_kept_on_request():
    assert clean_str("What's NASA?", lower=False) == "What 's NASA ?"


def test_sst_cleaning_and_tokenize():
    assert clean_str_sst("A  gorgeous , witty -- film .") == "a gorgeous , witty film"
    assert tokenize("Don't panic!") == ["do", "n't", "panic", "!"]
    assert tokenize("Keep As Is", clean=False, lower=False) == ["Keep", "As", "Is"]
    assert char_tokenize("ab c") == ["a", "b", " ", "c"]


def test_real_mr_sentences_clean_to_tokens(shared_data):
    from chainrule.data import MR

    ds = MR(shared_data)
    tokens = [tokenize(s) for s in ds.sentences[:200]]
    assert all(tokens) and all(t == t.lower() for seq in tokens for t in seq)
