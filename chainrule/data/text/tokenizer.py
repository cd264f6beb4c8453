"""Tokenisation as in Kim (2014): keep letters, digits and a few punctuation marks, split
contractions and punctuation into their own tokens, collapse whitespace, lower-case.

Example: ``clean_str("It's a \\"great\\" film, isn't it?")`` gives
``"it 's a great film , is n't it ?"``.
"""

from __future__ import annotations

import re

__all__ = ["clean_str", "clean_str_sst", "tokenize", "char_tokenize"]

# every character other than these becomes a space
_DROP = re.compile(r"[^A-Za-z0-9(),!?'`]")
# clitics split off the word before them: it's -> it 's, isn't -> is n't, we'll -> we 'll
_CLITIC = re.compile(r"(n't|'s|'ve|'re|'d|'ll)")
# punctuation marks that become tokens of their own
_MARK = re.compile(r"([,!?()])")


def clean_str(text: str, lower: bool = True) -> str:
    """Kim-style cleaning of one sentence; tokens are separated by single spaces.

    Args:
        text: the raw sentence.
        lower: lower-case the result (Kim keeps the case for TREC only).

    Example:
        >>> clean_str("The movie's plot (sadly) wasn't great!!")
        "the movie 's plot ( sadly ) was n't great ! !"
    """
    text = _DROP.sub(" ", text)
    text = _CLITIC.sub(r" \1", text)
    text = _MARK.sub(r" \1 ", text)
    text = " ".join(text.split())
    return text.lower() if lower else text


def clean_str_sst(text: str) -> str:
    """Cleaning for the already tokenised SST files: drop odd characters, lower-case.

    Example:
        >>> clean_str_sst("A  gorgeous , witty -- film .")
        'a gorgeous , witty film'
    """
    return " ".join(_DROP.sub(" ", text).split()).lower()


def tokenize(text: str, lower: bool = True, clean: bool = True) -> list[str]:
    """Split a sentence into tokens, by default after `clean_str`.

    Example:
        >>> tokenize("Don't panic!")
        ['do', "n't", 'panic', '!']
    """
    if clean:
        text = clean_str(text, lower)
    elif lower:
        text = text.lower()
    return text.split()


def char_tokenize(text: str) -> list[str]:
    """The characters of ``text``, one token each (for character-level models)."""
    return list(text)
