"""Text: Kim-style tokenisation, vocabularies (words and characters), fixed-length padding, and
batching of token streams for language models."""

from chainrule.data.text.lm import BPTTIterator, batchify, bptt_batches
from chainrule.data.text.padding import pad_sequences
from chainrule.data.text.tokenizer import char_tokenize, clean_str, clean_str_sst, tokenize
from chainrule.data.text.vocabulary import CharVocabulary, Vocabulary

__all__ = [
    "BPTTIterator",
    "CharVocabulary",
    "Vocabulary",
    "batchify",
    "bptt_batches",
    "char_tokenize",
    "clean_str",
    "clean_str_sst",
    "pad_sequences",
    "tokenize",
]
