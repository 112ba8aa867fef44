"""MNIST and Fashion-MNIST: the published files, their mirrors and checksums, and load_mnist."""

from __future__ import annotations

import hashlib
import os
import urllib.request

import numpy as np

from ..errors import ChecksumError, DataFormatError, DataNotFoundError, DownloadError, InvalidArgumentError
from ..validation import check_bool, check_choice, check_path
from ._common import finish
from .idx import read_idx

__all__ = ["MNIST_FILES", "MNIST_MIRRORS", "MNIST_CHECKSUMS", "load_mnist"]

#: The standard file names of each split, as published (the ``.gz`` files are downloaded).
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: Base URLs tried in order by ``load_mnist(..., download=True)``.
MNIST_MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

#: Published checksums of the ``.gz`` files: ``(algorithm, hex digest)``, the MD5 sums
#: that torchvision and the Fashion-MNIST repository publish. A download is used only
#: when its digest matches; a file without an entry here cannot be downloaded.
MNIST_CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": ("md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train-labels-idx1-ubyte.gz": ("md5", "d53e105ee54ea40749a09fcbcd1e9432"),
        "t10k-images-idx3-ubyte.gz": ("md5", "9fb629c4189551a2d022fa330f9573f3"),
        "t10k-labels-idx1-ubyte.gz": ("md5", "ec29112dd5afa0611ce80d1b7f02629c"),
    },
    "fashion": {
        "train-images-idx3-ubyte.gz": ("md5", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train-labels-idx1-ubyte.gz": ("md5", "25c81989df183df01b3e8a0aad5dffbe"),
        "t10k-images-idx3-ubyte.gz": ("md5", "bef4ecab320f06d8554ea6380940ec79"),
        "t10k-labels-idx1-ubyte.gz": ("md5", "bb300cfdad3c16e7a12a480ee83cd310"),
    },
}


def _find_idx(directory, stem):
    """The first existing file for ``stem`` (plain, .gz, or the 'name.idx3-ubyte' spelling)."""
    dotted = stem.replace("-idx", ".idx", 1)
    for candidate in (stem, stem + ".gz", dotted, dotted + ".gz"):
        path = directory / candidate
        if path.is_file():
            return path
    return None


def _digest(path, algorithm):
    h = hashlib.new(algorithm, usedforsecurity=False) if algorithm == "md5" else hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _checksum_for(variant, filename):
    entry = MNIST_CHECKSUMS.get(variant, {}).get(filename)
    if not entry or not entry[1]:
        raise ChecksumError(
            f"no published checksum is known for {variant} file {filename!r}, so xpnet will not "
            "download it unverified; download it yourself into the directory (load_mnist reads "
            "files that are already there) or add its digest to xpnet.datasets.MNIST_CHECKSUMS"
        )
    return entry


def _verify(path, variant, filename):
    algorithm, expected = _checksum_for(variant, filename)
    actual = _digest(path, algorithm)
    if actual.lower() != expected.lower():
        raise ChecksumError(
            f"{str(path)!r} has {algorithm} {actual}, but the published {algorithm} of {variant} "
            f"{filename!r} is {expected}; the file is corrupt or not the original"
        )


def _download(directory, variant, filename, timeout=60.0):
    """Fetch ``filename`` from the variant's mirrors into ``directory``, verified; return its path."""
    algorithm, expected = _checksum_for(variant, filename)  # refuse before any traffic if unknown
    target = directory / filename
    partial = directory / (filename + ".part")
    failures, mismatch = [], False
    for base in MNIST_MIRRORS[variant]:
        url = base + filename
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
        except OSError as exc:  # URLError, HTTPError, timeouts, connection resets
            failures.append(f"{url}: {exc}")
            partial.unlink(missing_ok=True)
            continue
        actual = _digest(partial, algorithm)
        if actual.lower() != expected.lower():
            failures.append(f"{url} sent a file with {algorithm} {actual}, not the published {expected}")
            mismatch = True
            partial.unlink(missing_ok=True)
            continue
        os.replace(partial, target)
        return target
    detail = "; ".join(failures)
    if mismatch:
        raise ChecksumError(
            f"no mirror delivered {variant} {filename!r} with its published checksum, so nothing was "
            f"kept: {detail}"
        )
    raise DownloadError(
        f"could not download {variant} {filename!r} from any mirror ({detail}); download it by "
        f"hand into {str(directory)!r} and call load_mnist without download=True"
    )


def load_mnist(directory, kind="train", variant="mnist", download=False):
    """MNIST or Fashion-MNIST from the standard IDX files in ``directory``.

    Looks for ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
    (``kind="train"``, 60,000 images) or ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (``kind="test"``, 10,000 images), each plain or
    with ``.gz`` (the ``train-images.idx3-ubyte`` spelling is accepted too).
    Both variants use the same file names, so keep them in separate
    directories.

    Parameters
    ----------
    directory : str or os.PathLike
        Where the files are (created when downloading).
    kind : {"train", "test"}
        Which split to read.
    variant : {"mnist", "fashion"}
        Which data set: the digits, or Zalando's Fashion-MNIST.  Only matters
        for downloading (the mirrors and checksums differ).
    download : bool, default False
        Fetch the four ``.gz`` files of the variant that are not already in
        ``directory`` from :data:`MNIST_MIRRORS` (tried in order) with
        :mod:`urllib`, and verify every ``.gz`` file against the published MD5
        in :data:`MNIST_CHECKSUMS` before it is used.  A file whose checksum
        does not match is never used (a mismatching download is deleted).

    Returns
    -------
    X : numpy.ndarray of float64, shape (n, rows * cols)
        Pixel intensities scaled to ``[0, 1]``, one flattened image per row
        (``(n, 784)`` for the 28x28 images of MNIST and Fashion-MNIST).
    y : numpy.ndarray of int64, shape (n,)
        Labels ``0 .. 9``.

    Raises
    ------
    DataNotFoundError
        A file is missing and ``download`` is False.
    DataFormatError
        A malformed file (wrong magic number, type other than unsigned byte,
        wrong rank, truncated data), a label outside 0 .. 9, or images and
        labels whose counts differ; the message names the file(s).
    ChecksumError
        A ``.gz`` file does not match its published checksum (``download=True``).
    DownloadError
        No mirror could deliver a missing file.
    """
    kind = check_choice("kind", kind, MNIST_FILES)
    variant = check_choice("variant", variant, MNIST_MIRRORS)
    download = check_bool("download", download)
    directory = check_path("directory", directory, what="directory", must_exist=False)
    if download:
        _fetch_missing(directory, variant)
    images_path, labels_path = (_require_idx(directory, stem, variant) for stem in MNIST_FILES[kind])
    images = _read_mnist(images_path, 3, "images (n, rows, cols)")
    labels = _read_mnist(labels_path, 1, "labels (n,)")
    if labels.size and labels.max() > 9:
        i = int(np.argmax(labels > 9))
        raise DataFormatError(f"{str(labels_path)!r}: label {i} is {labels[i]}; MNIST labels are 0 .. 9")
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"count mismatch: {str(images_path)!r} holds {images.shape[0]} images but "
            f"{str(labels_path)!r} holds {labels.shape[0]} labels"
        )
    X = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    return finish(X, labels)


def _fetch_missing(directory, variant):
    """Download the variant's files missing from ``directory``; verify the ``.gz`` ones already there."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidArgumentError(
            f"cannot create directory {str(directory)!r} for the download ({exc})"
        ) from None
    for stems in MNIST_FILES.values():
        for stem in stems:
            existing = _find_idx(directory, stem)
            if existing is None:
                _download(directory, variant, stem + ".gz")
            elif existing.name == stem + ".gz":
                _verify(existing, variant, existing.name)


def _require_idx(directory, stem, variant):
    path = _find_idx(directory, stem)
    if path is None:
        raise DataNotFoundError(
            f"no {stem!r} (or {stem + '.gz'!r}) in {str(directory)!r}; put the {variant} IDX "
            "files there or pass download=True"
        )
    return path


def _read_mnist(path, rank, what):
    """The IDX array in ``path``, which must hold unsigned bytes of the given rank."""
    arr = read_idx(path)
    if arr.dtype != np.uint8:
        raise DataFormatError(
            f"{str(path)!r} holds {arr.dtype} data; MNIST {what} are unsigned bytes (type code 0x08)"
        )
    if arr.ndim != rank:
        raise DataFormatError(
            f"{str(path)!r} has {arr.ndim} dimensions {arr.shape}; MNIST {what} have {rank}"
        )
    return arr
