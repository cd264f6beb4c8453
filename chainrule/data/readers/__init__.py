"""Readers for the standard on-disk formats of public datasets.

Every dataset class takes a ``root`` folder (the dataset folder itself, or the data root that
contains it); ``$CHAINRULE_DATA`` names the default root.
"""

from chainrule.data.readers.cifar import (
    CIFAR10,
    CIFAR10_CLASSES,
    CIFAR100,
    CIFAR10Subset,
    load_cifar10,
    load_cifar10_subset,
    load_cifar100,
    read_cifar_batch,
    read_png_strip,
)
from chainrule.data.readers.corpora import (
    PennTreebank,
    TinyShakespeare,
    load_ptb,
    load_tiny_shakespeare,
    read_corpus,
)
from chainrule.data.readers.idx import (
    MNIST,
    FashionMNIST,
    load_fashion_mnist,
    load_mnist,
    parse_idx,
    read_idx,
)
from chainrule.data.readers.png import decode_png, read_png
from chainrule.data.readers.sentences import (
    CR,
    MPQA,
    MR,
    SST1,
    SST2,
    TREC,
    SentenceDataset,
    Subj,
    kfold_indices,
    read_labelled_lines,
)
from chainrule.data.readers.vectors import (
    WordVectors,
    load_glove,
    load_glove_6b,
    load_word2vec,
    load_word_vectors,
    save_word2vec,
)

__all__ = [
    "CIFAR10",
    "CIFAR10_CLASSES",
    "CIFAR100",
    "CIFAR10Subset",
    "CR",
    "FashionMNIST",
    "MNIST",
    "MPQA",
    "MR",
    "PennTreebank",
    "SST1",
    "SST2",
    "SentenceDataset",
    "Subj",
    "TREC",
    "TinyShakespeare",
    "WordVectors",
    "decode_png",
    "kfold_indices",
    "load_cifar10",
    "load_cifar100",
    "load_cifar10_subset",
    "load_fashion_mnist",
    "load_glove",
    "load_glove_6b",
    "load_mnist",
    "load_ptb",
    "load_tiny_shakespeare",
    "load_word2vec",
    "load_word_vectors",
    "parse_idx",
    "read_cifar_batch",
    "read_corpus",
    "read_idx",
    "read_labelled_lines",
    "read_png",
    "read_png_strip",
    "save_word2vec",
]
