"""Downloads against a local HTTP server: success, mirrors, corruption, dropped connection,
no network, archives, dataset classes with download=True, and the registry's checksums."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import socket
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import MNIST, REGISTRY, DownloadError, RemoteDataset, Resource, download
from chainrule.data.download import cache_dir, download_file, manual_instructions, sha256_file


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    truncated: dict[str, bytes] = {}  # announced in full, but only half is sent

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path in self.truncated:
            body = self.truncated[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404, "not here")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    """A local HTTP server on 127.0.0.1 in a daemon thread; yields (base_url, handler class)."""
    handler = type("Handler", (_Handler,), {"files": {}, "truncated": {}})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def staging_files() -> list[Path]:
    folder = cache_dir() / "downloads"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_download_file_verifies_then_moves(server, tmp_path):
    base, handler = server
    payload = b"hello chainrule " * 1000
    handler.files["/good.bin"] = payload
    dest = tmp_path / "out" / "good.bin"
    assert download_file(f"{base}/good.bin", dest, sha(payload), timeout=5) == dest
    assert dest.read_bytes() == payload
    assert staging_files() == []


def test_mirror_is_tried_after_a_failure(server, tmp_path):
    base, handler = server
    handler.files["/m2/f.txt"] = b"abc"
    dest = tmp_path / "f.txt"
    download_file((f"{base}/m1/f.txt", f"{base}/m2/f.txt"), dest, sha(b"abc"), timeout=5)
    assert dest.read_bytes() == b"abc"


def test_corrupt_download_leaves_nothing(server, tmp_path):
    base, handler = server
    handler.files["/bad.bin"] = b"tampered bytes"
    dest = tmp_path / "bad.bin"
    with pytest.raises(DownloadError) as info:
        download_file(f"{base}/bad.bin", dest, sha(b"original bytes"), timeout=5, hint="HINT")
    message = str(info.value)
    assert "checksum mismatch" in message and sha(b"original bytes") in message
    assert "nothing was kept" in message and "HINT" in message
    assert not dest.exists() and staging_files() == []


def test_dropped_connection_leaves_nothing(server, tmp_path):
    base, handler = server
    payload = bytes(range(256)) * 400
    handler.truncated["/drop.bin"] = payload
    dest = tmp_path / "drop.bin"
    with pytest.raises(DownloadError, match="nothing was kept") as info:
        download_file(f"{base}/drop.bin", dest, sha(payload), timeout=5)
    assert "drop.bin" in str(info.value)
    assert not dest.exists() and staging_files() == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_network_says_which_files_to_place_where(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/mnist/"
    spec = RemoteDataset(
        "tiny",
        "tiny",
        (
            Resource("a.txt", (url + "a.txt",), "0" * 64),
            Resource("b.txt", (url + "b.txt",), "1" * 64),
        ),
    )
    with pytest.raises(DownloadError) as info:
        download(spec, root=tmp_path, timeout=2, progress=False)
    message = str(info.value)
    assert f"put these files into {tmp_path / 'tiny'}" in message
    assert "a.txt" in message and "b.txt" in message and url + "a.txt" in message
    assert not (tmp_path / "tiny" / "a.txt").exists()


def test_download_dataset_with_files_and_an_archive(server, tmp_path):
    base, handler = server
    handler.files["/x.txt"] = b"plain file"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in (("pack/one.bin", b"1"), ("pack/sub/two.bin", b"22"), ("junk.txt", b"j")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    archive = buf.getvalue()
    handler.files["/pack.tar.gz"] = archive
    spec = RemoteDataset(
        "pack",
        "pack",
        (
            Resource("x.txt", (f"{base}/x.txt",), sha(b"plain file")),
            Resource("pack.tar.gz", (f"{base}/pack.tar.gz",), sha(archive), extract=("pack",)),
        ),
        files=("x.txt", "one.bin", "sub/two.bin"),
    )
    folder = download(spec, root=tmp_path, timeout=5, progress=False)
    assert folder == tmp_path / "pack"
    assert (folder / "x.txt").read_bytes() == b"plain file"
    assert (folder / "one.bin").read_bytes() == b"1"
    assert (folder / "sub" / "two.bin").read_bytes() == b"22"
    assert not (tmp_path / "junk.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".extract")] == []
    handler.files.clear()  # present files are not fetched again
    assert download(spec, root=tmp_path, timeout=5, progress=False) == folder


def test_mnist_download_true_fetches_verifies_and_reads(server, tmp_path, monkeypatch, make_idx):
    base, handler = server
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(6, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.array([3, 4], dtype=np.uint8),
    }
    resources = []
    for name, array in arrays.items():
        data = gzip.compress(make_idx(array), mtime=0)
        handler.files[f"/mnist/{name}"] = data
        resources.append(Resource(name, (f"{base}/mnist/{name}",), sha(data)))
    monkeypatch.setitem(REGISTRY, "mnist", RemoteDataset("mnist", "mnist", tuple(resources)))
    ds = MNIST(root=tmp_path, train=True, download=True)
    assert len(ds) == 6 and ds.data.shape == (6, 28, 28)
    np.testing.assert_array_equal(ds.data, arrays["train-images-idx3-ubyte.gz"])
    test = MNIST(root=tmp_path, train=False)
    assert test.targets.tolist() == [3, 4]


def test_manual_instructions_for_an_archive(tmp_path):
    text = manual_instructions("cifar10", tmp_path)
    assert "cifar-10-python.tar.gz" in text and "https://www.cs.toronto.edu" in text
    assert str(tmp_path) in text


def test_registry_entries_are_complete():
    for name, spec in REGISTRY.items():
        assert spec.name == name and spec.resources
        for res in spec.resources:
            assert len(res.sha256) == 64 and int(res.sha256, 16) >= 0, (name, res.filename)
            assert all(u.startswith(("https://", "http://")) for u in res.urls)


@pytest.mark.parametrize(
    "name, files",
    [
        ("mr", ["rt-polarity.pos", "rt-polarity.neg"]),
        ("sst1", ["stsa.fine.train", "stsa.fine.dev", "stsa.fine.test"]),
        ("sst2", ["stsa.binary.train", "stsa.binary.dev", "stsa.binary.test"]),
        ("subj", ["subj.all"]),
        ("trec", ["TREC.train.all", "TREC.test.all", "raw/TREC.train", "raw/TREC.test"]),
        ("cr", ["custrev.all"]),
        ("mpqa", ["mpqa.all"]),
        ("tinyshakespeare", ["input.txt"]),
    ],
)
def test_registry_checksums_match_the_shared_copies(shared_data, name, files):
    by_name = {r.filename: r.sha256 for r in REGISTRY[name].resources}
    for f in files:
        assert sha256_file(shared_data / REGISTRY[name].folder / f) == by_name[f], f


def test_registry_ptb_checksums_match_the_decompressed_shared_copies(shared_data):
    for res in REGISTRY["ptb"].resources:
        data = gzip.decompress((shared_data / "ptb" / (res.filename + ".gz")).read_bytes())
        assert sha(data) == res.sha256 and len(data) == res.size
