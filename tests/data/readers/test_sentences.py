"""Kim (2014) sentence sets: fixture files in each layout, bad input, the real shared files."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data import CR, MPQA, MR, SST1, SST2, TREC, DatasetNotFoundError, Subj
from chainrule.data.readers.sentences import kfold_indices, read_labelled_lines


def test_mr_cp1252_fixture(tmp_path):
    folder = tmp_path / "mr"
    folder.mkdir()
    (folder / "rt-polarity.pos").write_bytes(b"a caf\xe9 film \x96 lovely\ngood\n")
    (folder / "rt-polarity.neg").write_bytes(b"dull\x85\n")
    ds = MR(tmp_path)
    assert ds.sentences == ["a café film – lovely", "good", "dull…"]
    assert ds.labels.tolist() == [1, 1, 0] and ds[2] == ("dull…", 0)


def test_labelled_formats(tmp_path):
    for folder, name, text in [
        ("sst1", "stsa.fine.dev", "4 great .\n0 awful .\n"),
        ("sst2", "stsa.binary.test", "1 fine\n\n0 bad\n"),
        ("subj", "subj.all", "0 i think so\n1 it rains\n"),
        ("cr", "custrev.all", "1 works\n"),
        ("mpqa", "mpqa.all", "0 fails\n1 helps\n"),
        ("trec", "TREC.test.all", "5 How many ?\n"),
    ]:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text(text)
    assert SST1(tmp_path, "dev").labels.tolist() == [4, 0]
    assert SST2(tmp_path, "test").sentences == ["fine", "bad"]
    assert Subj(tmp_path).classes == ("subjective", "objective")
    assert len(CR(tmp_path)) == 1 and MPQA(tmp_path).labels.tolist() == [0, 1]
    assert TREC(tmp_path, "test").classes[5] == "NUM"


def test_trec_fine_labels_share_one_numbering(tmp_path):
    raw = tmp_path / "trec" / "raw"
    raw.mkdir(parents=True)
    (raw / "TREC.train").write_text("NUM:count How many ?\nHUM:ind Who ?\n")
    (raw / "TREC.test").write_text("LOC:city Where ?\n")
    train = TREC(tmp_path, "train", fine=True)
    test = TREC(tmp_path, "test", fine=True)
    assert train.classes == test.classes == ("HUM:ind", "LOC:city", "NUM:count")
    assert train.labels.tolist() == [2, 0] and test.labels.tolist() == [1]


def test_bad_lines_and_splits(tmp_path):
    path = tmp_path / "x.all"
    path.write_text("1 ok\npositive not a label\n")
    with pytest.raises(ValueError, match=r"x.all, line 2: expected 'LABEL text'"):
        read_labelled_lines(path)
    with pytest.raises(ValueError, match="unknown split 'validation'; available: train, dev, test"):
        SST2(tmp_path, "validation")
    with pytest.raises(DatasetNotFoundError, match=r"sst2: missing stsa.binary.train"):
        SST2(tmp_path, "train")


def test_kfold_indices_partition():
    folds = list(kfold_indices(23, k=5, generator=np.random.default_rng(0)))
    tests = np.concatenate([t for _, t in folds])
    assert sorted(tests.tolist()) == list(range(23))
    for train, test in folds:
        assert set(train.tolist()).isdisjoint(test.tolist()) and len(train) + len(test) == 23
    with pytest.raises(ValueError, match="k must be"):
        list(kfold_indices(3, k=5))


@pytest.mark.parametrize(
    "make, n, counts",
    [
        (lambda r: MR(r), 10662, [5331, 5331]),
        (lambda r: SST1(r, "train"), 8544, [1092, 2218, 1624, 2322, 1288]),
        (lambda r: SST1(r, "dev"), 1101, None),
        (lambda r: SST1(r, "test"), 2210, None),
        (lambda r: SST2(r, "train"), 6920, [3310, 3610]),
        (lambda r: SST2(r, "dev"), 872, [428, 444]),
        (lambda r: SST2(r, "test"), 1821, [912, 909]),
        (lambda r: Subj(r), 10000, [5000, 5000]),
        (lambda r: TREC(r, "train"), 5452, [1162, 1250, 86, 1223, 835, 896]),
        (lambda r: TREC(r, "test"), 500, [138, 94, 9, 65, 81, 113]),
        (lambda r: CR(r), 3775, [1368, 2407]),
        (lambda r: MPQA(r), 10606, [7294, 3312]),
    ],
)
def test_real_sentence_sets(shared_data, make, n, counts):
    ds = make(shared_data)
    assert len(ds) == n
    if counts is not None:
        assert np.bincount(ds.labels).tolist() == counts


def test_real_trec_fine_classes(shared_data):
    train = TREC(shared_data, "train", fine=True)
    test = TREC(shared_data, "test", fine=True)
    assert len(set(train.labels.tolist())) == 50 and len(set(test.labels.tolist())) == 42
    assert train.classes == test.classes
