"""Floor 4, data: datasets, loaders, dataset readers and downloads, transforms, text tools.

Arrays in, arrays out: everything here works on NumPy arrays and imports only
``chainrule.backend`` from the package. Randomness (shuffling, splits, samplers, augmentation)
comes from ``chainrule.backend.get_rng()`` when iteration starts, so ``manual_seed`` repeats it.

Example:
    >>> import chainrule.data as crd
    >>> x_train, y_train, x_test, y_test = crd.load_mnist_sample()
    >>> loader = crd.DataLoader(crd.TensorDataset(x_train, y_train), batch_size=128, shuffle=True)
    >>> images, labels = next(iter(loader))
    >>> images.shape, labels.shape
    ((128, 28, 28), (128,))
"""

from chainrule.data import text, transforms
from chainrule.data.collate import default_collate, pad_batch
from chainrule.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from chainrule.data.download import (
    REGISTRY,
    DatasetNotFoundError,
    DownloadError,
    RemoteDataset,
    Resource,
    cache_dir,
    data_root,
    download,
    download_file,
)
from chainrule.data.embedded import load_mnist_sample
from chainrule.data.loader import DataLoader
from chainrule.data.readers import (
    CIFAR10,
    CIFAR100,
    CR,
    MNIST,
    MPQA,
    MR,
    SST1,
    SST2,
    TREC,
    CIFAR10Subset,
    FashionMNIST,
    PennTreebank,
    SentenceDataset,
    Subj,
    TinyShakespeare,
    WordVectors,
    kfold_indices,
    load_cifar10,
    load_cifar10_subset,
    load_cifar100,
    load_fashion_mnist,
    load_glove,
    load_glove_6b,
    load_mnist,
    load_ptb,
    load_tiny_shakespeare,
    load_word2vec,
    load_word_vectors,
    read_idx,
    read_png,
)
from chainrule.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    WeightedRandomSampler,
)
from chainrule.data.text import CharVocabulary, Vocabulary, batchify, bptt_batches, pad_sequences
from chainrule.data.transforms import ImageAugmenter

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "CR",
    "MNIST",
    "MPQA",
    "MR",
    "REGISTRY",
    "SST1",
    "SST2",
    "TREC",
    "BatchSampler",
    "CIFAR10Subset",
    "CharVocabulary",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DatasetNotFoundError",
    "DownloadError",
    "FashionMNIST",
    "ImageAugmenter",
    "PennTreebank",
    "RandomSampler",
    "RemoteDataset",
    "Resource",
    "Sampler",
    "SentenceDataset",
    "SequentialSampler",
    "Subj",
    "Subset",
    "TensorDataset",
    "TinyShakespeare",
    "Vocabulary",
    "WeightedRandomSampler",
    "WordVectors",
    "batchify",
    "bptt_batches",
    "cache_dir",
    "data_root",
    "default_collate",
    "download",
    "download_file",
    "kfold_indices",
    "load_cifar10",
    "load_cifar100",
    "load_cifar10_subset",
    "load_fashion_mnist",
    "load_glove",
    "load_glove_6b",
    "load_mnist",
    "load_mnist_sample",
    "load_ptb",
    "load_tiny_shakespeare",
    "load_word2vec",
    "load_word_vectors",
    "pad_batch",
    "pad_sequences",
    "random_split",
    "read_idx",
    "read_png",
    "text",
    "transforms",
]
