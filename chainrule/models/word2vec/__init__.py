"""word2vec (Mikolov et al. 2013): skip-gram and CBOW with negative sampling.

- `model`: `Word2Vec`, the training driver over the numba kernel `chainrule.kernels.word2vec`.
- `vectors`: queries (`most_similar`, `similarity`, `analogy`), export to `nn.Embedding`.
- `io`: the word2vec text and binary formats and GloVe files.
- `corpus`: sentences to word ids.
- `reference`: the losses in autograd ops, which check the kernel's hand-derived step.
"""

from .corpus import count_words, encode_corpus, iter_sentences
from .io import load_vectors, save_vectors
from .model import Word2Vec
from .reference import cbow_loss, skipgram_loss
from .vectors import VectorQueries

__all__ = [
    "VectorQueries",
    "Word2Vec",
    "cbow_loss",
    "count_words",
    "encode_corpus",
    "iter_sentences",
    "load_vectors",
    "save_vectors",
    "skipgram_loss",
]
