"""Tests for the real-data readers in xpnet.datasets: digits, IDX/MNIST (with a
monkeypatched download), CSV, NPZ and train_test_split.

Every file is written by the tests themselves into ``tmp_path``; nothing here
touches the network.
"""

import gzip
import hashlib
import io
import struct
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
from xpnet import datasets

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def idx_bytes(array, code=0x08, magic=None):
    """The IDX encoding of ``array`` (big-endian), optionally with a forged magic."""
    array = np.asarray(array)
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    head = magic if magic is not None else struct.pack(">HBB", 0, code, array.ndim)
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    return head + dims + array.astype(dtype).tobytes()


def write(path, data, gz=False):
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


def fake_mnist(n=5, rows=28, cols=28, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def write_split(directory, kind="train", n=5, gz=False, seed=0, dotted=False):
    images, labels = fake_mnist(n, seed=seed)
    stem_images, stem_labels = datasets.MNIST_FILES[kind]
    if dotted:
        stem_images = stem_images.replace("-idx", ".idx")
        stem_labels = stem_labels.replace("-idx", ".idx")
    suffix = ".gz" if gz else ""
    write(directory / (stem_images + suffix), idx_bytes(images), gz)
    write(directory / (stem_labels + suffix), idx_bytes(labels), gz)
    return images, labels


# ---------------------------------------------------------------------------
# names and load()
# ---------------------------------------------------------------------------


def test_all_names_lists_generated_first_then_digits():
    assert datasets.NAMES == ("xor", "flower", "moons", "circles", "spirals", "blobs", "teacher")
    assert datasets.ALL_NAMES == datasets.NAMES + ("digits",)
    assert datasets.REAL_NAMES == ("digits",)


def test_unknown_name_lists_digits_too():
    with pytest.raises(ValueError, match="digits"):
        datasets.load("mnist")


def test_error_classes_are_xpnet_and_builtin():
    assert issubclass(datasets.DataFormatError, xpnet.XpnetError)
    assert issubclass(datasets.DataFormatError, ValueError)
    assert issubclass(datasets.ChecksumError, datasets.DataFormatError)
    assert issubclass(datasets.DataNotFoundError, FileNotFoundError)
    assert issubclass(datasets.DownloadError, OSError)
    assert issubclass(datasets.MissingDependencyError, ImportError)
    assert issubclass(datasets.MissingDependencyError, xpnet.XpnetError)


# ---------------------------------------------------------------------------
# digits
# ---------------------------------------------------------------------------


@pytest.fixture
def sklearn():
    return pytest.importorskip("sklearn")


def test_digits_is_the_real_data(sklearn):
    from sklearn.datasets import load_digits

    X, y = datasets.digits()
    ref = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and y.dtype == np.int64 and X.flags.c_contiguous
    np.testing.assert_array_equal(X * 16.0, ref.data)
    np.testing.assert_array_equal(y, ref.target)
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == np.bincount(ref.target).tolist()


def test_digits_unscaled_subset_and_classes(sklearn):
    X, _ = datasets.digits(scale=False)
    assert X.max() == 16.0
    Xs, ys = datasets.digits(n_samples=100, seed=3)
    Xs2, ys2 = datasets.digits(n_samples=100, seed=3)
    np.testing.assert_array_equal(Xs, Xs2)
    np.testing.assert_array_equal(ys, ys2)
    assert Xs.shape == (100, 64)
    assert not np.array_equal(Xs, datasets.digits(n_samples=100, seed=4)[0])
    X3, y3 = datasets.digits(n_classes=3)
    assert set(np.unique(y3).tolist()) == {0, 1, 2}
    assert X3.shape[0] == np.sum(datasets.digits()[1] < 3)


def test_load_digits_by_name_with_cli_style_arguments(sklearn):
    X, y = datasets.load("digits", seed=0)
    assert X.shape == (1797, 64)
    X, y = datasets.load("digits", n_samples=50, seed=1)
    assert X.shape == (50, 64)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_classes=1), "n_classes"),
    (dict(n_classes=11), "n_classes must be an int in 2 .. 10; got 11"),
    (dict(n_samples=0), "n_samples"),
    (dict(n_samples=5000), "n_samples must be <= 1797"),
    (dict(scale="yes"), "scale"),
])
def test_digits_bad_arguments(sklearn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.digits(**kwargs)


def test_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"^digits needs scikit-learn: pip install scikit-learn$") as info:
        datasets.digits()
    assert isinstance(info.value, datasets.MissingDependencyError)
    with pytest.raises(xpnet.XpnetError, match="pip install scikit-learn"):
        datasets.load("digits")


# ---------------------------------------------------------------------------
# IDX reader
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("code, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16),
                                         (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_every_type(tmp_path, gz, code, dtype):
    data = (np.arange(24).reshape(2, 3, 4) % 100).astype(dtype)
    path = write(tmp_path / ("a.idx" + (".gz" if gz else "")), idx_bytes(data, code), gz)
    out = datasets.read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, data)


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_read_idx_roundtrip_property(tmp_path_factory, shape, seed):
    data = np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
    path = tmp_path_factory.mktemp("idx") / "x-idx-ubyte"
    path.write_bytes(idx_bytes(data))
    np.testing.assert_array_equal(datasets.read_idx(path), data)


@pytest.mark.parametrize("raw, match", [
    (b"", r"truncated: 0 bytes"),
    (b"\x00\x00", r"truncated: 2 bytes"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", r"truncated: its header declares 3 dimensions"),
    (b"\x00\x00\x08\x00", r"0 dimensions"),
])
def test_read_idx_short_headers(tmp_path, raw, match):
    path = write(tmp_path / "bad-idx", raw)
    with pytest.raises(datasets.DataFormatError, match=match) as info:
        datasets.read_idx(path)
    assert "bad-idx" in str(info.value)


@pytest.mark.parametrize("magic", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_read_idx_wrong_magic(tmp_path, magic):
    path = write(tmp_path / "labels-idx1-ubyte", idx_bytes(np.zeros(3, np.uint8), magic=magic))
    with pytest.raises(datasets.DataFormatError, match="wrong magic number 0x" + magic.hex()) as info:
        datasets.read_idx(path)
    assert "labels-idx1-ubyte" in str(info.value)


def test_read_idx_truncated_and_trailing_data(tmp_path):
    good = idx_bytes(np.zeros((4, 2, 2), np.uint8))
    path = write(tmp_path / "images-idx3-ubyte", good[:-3])
    with pytest.raises(ValueError, match=r"images-idx3-ubyte.*truncated.*\(4, 2, 2\) need 16 bytes.*only 13"):
        datasets.read_idx(path)
    write(path, good + b"xx")
    with pytest.raises(ValueError, match=r"2 unexpected trailing bytes"):
        datasets.read_idx(path)


def test_read_idx_bad_gzip_and_missing_file(tmp_path):
    path = write(tmp_path / "images-idx3-ubyte.gz", b"not gzip at all")
    with pytest.raises(datasets.DataFormatError, match="not a valid gzip file"):
        datasets.read_idx(path)
    truncated = gzip.compress(idx_bytes(fake_mnist(50)[0]))[:2000]
    write(path, truncated)
    with pytest.raises(datasets.DataFormatError, match="images-idx3-ubyte.gz"):
        datasets.read_idx(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.read_idx(tmp_path / "nope")


# ---------------------------------------------------------------------------
# load_mnist from a directory
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("kind", ["train", "test"])
def test_load_mnist_reads_the_standard_files(tmp_path, gz, kind):
    images, labels = write_split(tmp_path, kind, n=7, gz=gz)
    X, y = datasets.load_mnist(tmp_path, kind=kind)
    assert X.shape == (7, 784) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (7,) and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_array_equal(X, images.reshape(7, -1) / 255.0)
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(np.round(X[2].reshape(28, 28) * 255).astype(np.uint8), images[2])


def test_load_mnist_train_and_test_are_separate(tmp_path):
    write_split(tmp_path, "train", n=6, seed=1)
    write_split(tmp_path, "test", n=3, seed=2, gz=True)
    assert datasets.load_mnist(tmp_path)[0].shape == (6, 784)
    assert datasets.load_mnist(str(tmp_path), kind="test", variant="fashion")[0].shape == (3, 784)


def test_load_mnist_accepts_the_dotted_spelling(tmp_path):
    images, labels = write_split(tmp_path, "test", n=4, dotted=True)
    X, y = datasets.load_mnist(tmp_path, kind="test")
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_count_mismatch_names_both_files(tmp_path):
    images, labels = fake_mnist(5)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(labels[:4]), gz=True)
    with pytest.raises(datasets.DataFormatError) as info:
        datasets.load_mnist(tmp_path)
    msg = str(info.value)
    assert "count mismatch" in msg and "5 images" in msg and "4 labels" in msg
    assert "train-images-idx3-ubyte" in msg and "train-labels-idx1-ubyte.gz" in msg


def test_load_mnist_rejects_wrong_type_and_rank(tmp_path):
    images, labels = fake_mnist(3)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels, code=0x0C))
    match = r"train-labels-idx1-ubyte.*int32.*unsigned bytes \(type code 0x08\)"
    with pytest.raises(ValueError, match=match):
        datasets.load_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels))
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images.reshape(3, -1)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*2 dimensions.*have 3"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_missing_files(tmp_path):
    with pytest.raises(datasets.DataNotFoundError, match=r"train-images-idx3-ubyte.*download=True"):
        datasets.load_mnist(tmp_path)
    write_split(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        datasets.load_mnist(tmp_path, kind="test")


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="validation"), "unknown kind 'validation'; expected one of train, test"),
    (dict(variant="kmnist"), "unknown variant 'kmnist'; expected one of mnist, fashion"),
    (dict(download="yes"), "download must be True or False"),
])
def test_load_mnist_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.load_mnist(tmp_path, **kwargs)


# ---------------------------------------------------------------------------
# load_mnist(download=True) with a fake urlopen
# ---------------------------------------------------------------------------


def test_checksum_table_is_complete():
    for variant in ("mnist", "fashion"):
        table = datasets.MNIST_CHECKSUMS[variant]
        names = {stem + ".gz" for stems in datasets.MNIST_FILES.values() for stem in stems}
        assert set(table) == names
        for algorithm, digest in table.values():
            assert algorithm == "md5" and len(digest) == 32 and int(digest, 16) >= 0
    # the published digest of the MNIST training images, as torchvision has it
    assert datasets.MNIST_CHECKSUMS["mnist"]["train-images-idx3-ubyte.gz"][1] == \
        "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert datasets.MNIST_MIRRORS["mnist"][0].startswith("https://")


class FakeServer:
    """Stands in for urllib.request.urlopen: serves bytes by URL, records requests."""

    def __init__(self, files, fail_prefixes=()):
        self.files = files  # url -> bytes
        self.fail_prefixes = fail_prefixes
        self.requests = []

    def __call__(self, url, timeout=None):
        self.requests.append(url)
        if any(url.startswith(p) for p in self.fail_prefixes):
            raise urllib.error.URLError("connection refused (fake)")
        if url not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        return io.BytesIO(self.files[url])


def _served_variant(monkeypatch, variant="mnist", corrupt=(), mirror=0):
    """Fake .gz files on the variant's mirror ``mirror`` and a checksum table that matches them."""
    table, files, originals = {}, {}, {}
    for kind in ("train", "test"):
        images, labels = fake_mnist(6 if kind == "train" else 2, seed=len(kind))
        originals[kind] = (images, labels)
        for stem, arr in zip(datasets.MNIST_FILES[kind], (images, labels)):
            blob = gzip.compress(idx_bytes(arr), mtime=0)
            table[stem + ".gz"] = ("md5", hashlib.md5(blob).hexdigest())
            if stem + ".gz" in corrupt:
                blob = blob[:-1] + bytes([blob[-1] ^ 0xFF])
            files[datasets.MNIST_MIRRORS[variant][mirror] + stem + ".gz"] = blob
    monkeypatch.setitem(datasets.MNIST_CHECKSUMS, variant, table)
    return files, originals


@pytest.mark.parametrize("variant", ["mnist", "fashion"])
def test_download_good_checksums_are_accepted(tmp_path, monkeypatch, variant):
    files, originals = _served_variant(monkeypatch, variant)
    server = FakeServer(files)
    monkeypatch.setattr(urllib.request, "urlopen", server)
    target = tmp_path / "new" / "dir"
    X, y = datasets.load_mnist(target, kind="test", variant=variant, download=True)
    np.testing.assert_array_equal(y, originals["test"][1])
    assert X.shape == (2, 784)
    assert sorted(p.name for p in target.iterdir()) == sorted(
        stem + ".gz" for stems in datasets.MNIST_FILES.values() for stem in stems)
    assert len(server.requests) == 4
    assert all(u.startswith(datasets.MNIST_MIRRORS[variant][0]) for u in server.requests)
    # a second call finds (and re-verifies) the files: no traffic
    datasets.load_mnist(target, kind="train", variant=variant, download=True)
    assert len(server.requests) == 4


def test_download_falls_back_to_the_next_mirror(tmp_path, monkeypatch):
    files, originals = _served_variant(monkeypatch, "mnist", mirror=1)
    server = FakeServer(files, fail_prefixes=(datasets.MNIST_MIRRORS["mnist"][0],))
    monkeypatch.setattr(urllib.request, "urlopen", server)
    X, y = datasets.load_mnist(tmp_path, download=True)
    np.testing.assert_array_equal(y, originals["train"][1])
    assert len(server.requests) == 8  # each file: first mirror refused, second served


def test_download_bad_checksum_is_rejected(tmp_path, monkeypatch):
    bad = "train-labels-idx1-ubyte.gz"
    files, _ = _served_variant(monkeypatch, "mnist", corrupt=(bad,))
    monkeypatch.setattr(urllib.request, "urlopen", FakeServer(files))
    with pytest.raises(datasets.ChecksumError) as info:
        datasets.load_mnist(tmp_path, download=True)
    msg = str(info.value)
    assert bad in msg and "md5" in msg and datasets.MNIST_CHECKSUMS["mnist"][bad][1] in msg
    assert isinstance(info.value, ValueError)
    names = {p.name for p in tmp_path.iterdir()}
    assert bad not in names and not any(n.endswith(".part") for n in names)


def test_download_skips_a_mirror_that_sends_a_corrupt_file(tmp_path, monkeypatch):
    good, originals = _served_variant(monkeypatch, "mnist", mirror=1)
    bad = {url.replace(datasets.MNIST_MIRRORS["mnist"][1], datasets.MNIST_MIRRORS["mnist"][0]): b"junk"
           for url in good}
    server = FakeServer({**good, **bad})
    monkeypatch.setattr(urllib.request, "urlopen", server)
    X, y = datasets.load_mnist(tmp_path, kind="test", download=True)
    np.testing.assert_array_equal(y, originals["test"][1])
    assert len(server.requests) == 8


def test_download_unknown_checksum_refuses_before_any_request(tmp_path, monkeypatch):
    files, _ = _served_variant(monkeypatch, "fashion")
    table = dict(datasets.MNIST_CHECKSUMS["fashion"])
    table["train-images-idx3-ubyte.gz"] = None
    monkeypatch.setitem(datasets.MNIST_CHECKSUMS, "fashion", table)
    server = FakeServer(files)
    monkeypatch.setattr(urllib.request, "urlopen", server)
    with pytest.raises(datasets.ChecksumError, match=r"no published checksum is known.*train-images"):
        datasets.load_mnist(tmp_path, variant="fashion", download=True)
    assert server.requests == []


def test_download_every_mirror_failing(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", FakeServer({}, fail_prefixes=("http",)))
    with pytest.raises(datasets.DownloadError) as info:
        datasets.load_mnist(tmp_path, download=True)
    msg = str(info.value)
    assert isinstance(info.value, OSError)
    for base in datasets.MNIST_MIRRORS["mnist"]:
        assert base in msg
    assert "by hand" in msg


def test_download_verifies_a_corrupt_cached_file(tmp_path, monkeypatch):
    files, _ = _served_variant(monkeypatch, "mnist")
    for url, blob in files.items():
        (tmp_path / url.rsplit("/", 1)[1]).write_bytes(blob)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"tampered")
    server = FakeServer(files)
    monkeypatch.setattr(urllib.request, "urlopen", server)
    with pytest.raises(datasets.ChecksumError, match="t10k-images-idx3-ubyte.gz"):
        datasets.load_mnist(tmp_path, download=True)
    assert server.requests == []


def test_no_network_without_download(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no network access expected")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    write_split(tmp_path, "train")
    datasets.load_mnist(tmp_path)


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def csv_file(tmp_path, text, name="data.csv", gz=False):
    path = tmp_path / name
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_csv_header_auto_and_label_last(tmp_path):
    X, y = datasets.load_csv(csv_file(tmp_path, "a,b,label\n1,2.5,0\n-3,4e-1,1\n\n5,6,2\n"))
    np.testing.assert_array_equal(X, [[1, 2.5], [-3, 0.4], [5, 6]])
    np.testing.assert_array_equal(y, [0, 1, 2])
    assert X.dtype == np.float64 and y.dtype == np.int64 and X.flags.c_contiguous


def test_csv_without_header_and_label_positions(tmp_path):
    path = csv_file(tmp_path, "1,10,100\n0,20,200\n")
    X, y = datasets.load_csv(path, label_column=0)
    np.testing.assert_array_equal(X, [[10, 100], [20, 200]])
    np.testing.assert_array_equal(y, [1, 0])
    X, y = datasets.load_csv(path, label_column=-2)
    np.testing.assert_array_equal(y, [10, 20])
    np.testing.assert_array_equal(X, [[1, 100], [0, 200]])


def test_csv_label_by_name_delimiters_quotes_bom_gzip(tmp_path):
    text = '\ufeff"x1";"species";"x2"\n"0.5";"1";"7"\n1.5;0;8\n'
    X, y = datasets.load_csv(csv_file(tmp_path, text), label_column="species", delimiter=";")
    np.testing.assert_array_equal(X, [[0.5, 7], [1.5, 8]])
    np.testing.assert_array_equal(y, [1, 0])
    X, y = datasets.load_csv(csv_file(tmp_path, "1\t2\t1\n3\t4\t0\n", "d.tsv.gz", gz=True), delimiter="\t")
    np.testing.assert_array_equal(y, [1, 0])
    X, y = datasets.load_csv(csv_file(tmp_path, " 1  2 1\n3\t4    0 \n", "d.txt"), delimiter=None)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])


def test_csv_skip_header_explicit(tmp_path):
    path = csv_file(tmp_path, "9,9,9\n1,2,0\n")
    assert datasets.load_csv(path, skip_header=True)[0].tolist() == [[1.0, 2.0]]
    assert datasets.load_csv(path, skip_header=False)[0].shape == (2, 2)
    with pytest.raises(datasets.DataFormatError, match=r"line 1, column 1: 'a' is not a number"):
        datasets.load_csv(csv_file(tmp_path, "a,b,c\n1,2,0\n"), skip_header=False)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 20), d=st.integers(1, 5), seed=st.integers(0, 1000))
def test_csv_roundtrip_property(tmp_path_factory, n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, 4, size=n)
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.17g",
               header=",".join([f"f{i}" for i in range(d)] + ["y"]), comments="")
    X2, y2 = datasets.load_csv(path)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


@pytest.mark.parametrize("text, kwargs, match", [
    ("a,b,label\n1,2,0\n3,x,1\n", {}, r"line 3, column 2 \('b'\): 'x' is not a number"),
    ("1,2,0\n3,,1\n", {}, r"line 2, column 2: an empty cell is not a number"),
    ("1,2,0\n3,4\n", {}, r"ragged rows .*line 2 has 2 cells but line 1 has 3"),
    ("a,b,c\n1,2,0\n\n3,4,5,6\n", {}, r"ragged rows .*line 4 has 4 cells but the header has 3"),
    ("1,2,0\n3,4,1.5\n", {}, r"line 2, label column 3 holds 1.5, not an integer class label"),
    ("1,2,0\n3,4,nan\n", {}, r"line 2, label column 3 holds nan"),
    ("a,b\n", {}, r"header row but no data rows"),
    ("\n\n", {}, r"no data rows"),
    ("1\n2\n", {}, r"1 column; it needs at least one feature column"),
])
def test_csv_format_errors(tmp_path, text, kwargs, match):
    path = csv_file(tmp_path, text)
    with pytest.raises(datasets.DataFormatError, match=match) as info:
        datasets.load_csv(path, **kwargs)
    assert "data.csv" in str(info.value)


@pytest.mark.parametrize("kwargs, match", [
    (dict(label_column="c"), r"label_column 'c' is not a column of .*its columns are 'a', 'b'"),
    (dict(label_column=2), r"label_column=2 is out of range .* 2 columns \(valid: -2 .. 1\)"),
    (dict(label_column=-3), r"label_column=-3 is out of range"),
    (dict(label_column=1.0), r"label_column must be a column position"),
    (dict(delimiter=", "), r"delimiter must be a single character"),
    (dict(skip_header="yes"), r"skip_header must be 'auto', True or False"),
])
def test_csv_argument_errors(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.load_csv(csv_file(tmp_path, "a,b\n1,0\n"), **kwargs)


def test_csv_label_name_needs_a_header(tmp_path):
    with pytest.raises(ValueError, match="has no header row"):
        datasets.load_csv(csv_file(tmp_path, "1,0\n"), label_column="label")


def test_csv_missing_file(tmp_path):
    with pytest.raises(datasets.DataNotFoundError, match="does not exist"):
        datasets.load_csv(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError, match="is a directory"):
        datasets.load_csv(tmp_path)


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("caf\xe9,b\n1,0\n".encode("latin-1"))
    with pytest.raises(datasets.DataFormatError, match="not UTF-8"):
        datasets.load_csv(path)


# ---------------------------------------------------------------------------
# NPZ
# ---------------------------------------------------------------------------


def test_npz_roundtrip_and_keys(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([0, 1, 1, 0], dtype=np.uint8)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    X2, y2 = datasets.load_npz(tmp_path / "d.npz")
    assert X2.dtype == np.float64 and y2.dtype == np.int64
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    np.savez_compressed(tmp_path / "e.npz", features=X, labels=y.reshape(-1, 1).astype(np.float64))
    X3, y3 = datasets.load_npz(str(tmp_path / "e.npz"), x_key="features", y_key="labels")
    np.testing.assert_array_equal(y3, y)


@pytest.mark.parametrize("arrays, kwargs, match", [
    (dict(X=np.zeros((2, 2)), y=np.zeros(2)), dict(y_key="labels"),
     r"no array 'labels' \(y_key\); it holds 'X', 'y'"),
    (dict(data=np.zeros((2, 2))), {}, r"no array 'X' \(x_key\); it holds 'data'"),
    (dict(X=np.zeros(3), y=np.zeros(3)), {}, r"'X' has shape \(3,\).*X.reshape\(-1, 1\)"),
    (dict(X=np.zeros((3, 2)), y=np.zeros((3, 2))), {}, r"'y' has shape \(3, 2\).*argmax"),
    (dict(X=np.zeros((3, 2)), y=np.zeros(4)), {}, r"'X' has 3 rows but 'y' has 4 labels"),
    (dict(X=np.zeros((2, 2)), y=np.array([0.0, 0.5])), {}, r"y\[1\] holds 0.5, not an integer"),
    (dict(X=np.array([[0.0, np.nan]]), y=np.zeros(1)), {}, r"X\[0, 1\] is nan; features must be finite"),
    (dict(X=np.array([["a", "b"]]), y=np.zeros(1)), {}, r"'X' has dtype <U1; it must hold real numbers"),
])
def test_npz_errors(tmp_path, arrays, kwargs, match):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(datasets.DataFormatError, match=match) as info:
        datasets.load_npz(tmp_path / "bad.npz", **kwargs)
    assert "bad.npz" in str(info.value)


def test_npz_refuses_pickled_objects(tmp_path):
    objects = np.empty(2, dtype=object)
    objects[:] = [{"a": 1}, None]
    np.savez(tmp_path / "obj.npz", X=np.zeros((2, 2)), y=objects)
    with pytest.raises(datasets.DataFormatError, match=r"'y' cannot be read without pickle"):
        datasets.load_npz(tmp_path / "obj.npz")


def test_npz_not_an_archive(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(datasets.DataFormatError, match="not a NumPy .npz archive"):
        datasets.load_npz(tmp_path / "text.npz")
    np.save(tmp_path / "single.npy", np.zeros((2, 2)))
    with pytest.raises(datasets.DataFormatError, match="single .npy array"):
        datasets.load_npz(tmp_path / "single.npy")
    with pytest.raises(FileNotFoundError):
        datasets.load_npz(tmp_path / "missing.npz")


# ---------------------------------------------------------------------------
# train_test_split
# ---------------------------------------------------------------------------


def test_split_sizes_partition_and_seed():
    X = np.arange(40, dtype=np.float64).reshape(20, 2)
    y = np.arange(20)
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.25, seed=1)
    assert X_tr.shape == (15, 2) and X_te.shape == (5, 2)
    np.testing.assert_array_equal(X_tr[:, 0] / 2, y_tr)  # rows stay paired
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(20))
    again = datasets.train_test_split(X, y, test_size=0.25, seed=1)
    for a, b in zip((X_tr, X_te, y_tr, y_te), again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(datasets.train_test_split(X, y, test_size=0.25, seed=2)[3], y_te)
    assert datasets.train_test_split(X, y, test_size=3)[1].shape == (3, 2)


def test_split_stratified_keeps_class_shares():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    X = np.arange(100.0).reshape(-1, 1)
    _, _, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    assert np.bincount(y_te).tolist() == [10, 6, 4]
    assert np.bincount(y_tr).tolist() == [40, 24, 16]
    _, _, _, y_te = datasets.train_test_split(X, y, test_size=7, stratify=True)
    assert len(y_te) == 7 and set(y_te.tolist()) == {0, 1, 2}


@pytest.mark.parametrize("args, kwargs, match", [
    ((np.zeros((3, 2)), np.zeros(4)), {}, "X has 3 rows but y has 4"),
    ((np.zeros((1, 2)), np.zeros(1)), {}, "at least 2 rows"),
    ((np.zeros((5, 2)), np.zeros(5)), dict(test_size=1.0), r"test_size must be in \(0\.0, 1\.0\); got 1\.0"),
    ((np.zeros((5, 2)), np.zeros(5)), dict(test_size=5), r"row count in 1 .. 4"),
    ((np.zeros((4, 2)), np.zeros((4, 2))), dict(stratify=True), "1-D class labels"),
])
def test_split_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.train_test_split(*args, **kwargs)


# ---------------------------------------------------------------------------
# Labels never change silently: too large for int64, or for float64's integers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["1e19", "18446744073709551615", "9007199254740993", "-9223372036854775809",
                                   "9.3e18"])
def test_csv_label_too_large_is_refused_with_its_line_and_value(tmp_path, label):
    path = csv_file(tmp_path, f"a,b,label\n1,2,0\n3,4,{label}\n5,6,1\n")
    with pytest.raises(datasets.DataFormatError) as info:
        datasets.load_csv(path)
    msg = str(info.value)
    assert "data.csv" in msg and "line 3" in msg and f"'{label}'" in msg and "2**53" in msg


def test_csv_large_labels_are_fine_as_regression_targets(tmp_path):
    path = csv_file(tmp_path, "1,2,0.5\n3,4,1e19\n")
    X, y = datasets.load_csv(path, target="values")
    assert y.dtype == np.float64 and y.tolist() == [0.5, 1e19]
    with pytest.raises(datasets.DataFormatError, match=r"line 2, label column 3 holds '1e19'"):
        datasets.load_csv(csv_file(tmp_path, "1,2,3\n3,4,1e19\n"), target="auto")


@pytest.mark.parametrize("y, index, shown", [
    (np.array([0.0, 1e19]), 1, "1e+19"),
    (np.array([0.0, 2.0**53 + 2, 1.0]), 1, "9007199254740994.0"),
    (np.array([0, 2**64 - 1], dtype=np.uint64), 1, "18446744073709551615"),
    (np.array([3, 2**63], dtype=np.uint64), 1, "9223372036854775808"),
])
def test_npz_label_too_large_is_refused(tmp_path, y, index, shown):
    np.savez(tmp_path / "big.npz", X=np.zeros((len(y), 2)), y=y)
    with pytest.raises(datasets.DataFormatError) as info:
        datasets.load_npz(tmp_path / "big.npz")
    msg = str(info.value)
    assert "big.npz" in msg and f"y[{index}] holds {shown}" in msg


def test_npz_integer_labels_stay_exact(tmp_path):
    y = np.array([2**60 + 1, 0, 2**63 - 1], dtype=np.int64)  # no float64 round trip on the way
    np.savez(tmp_path / "d.npz", X=np.zeros((3, 1)), y=y)
    assert datasets.load_npz(tmp_path / "d.npz")[1].tolist() == y.tolist()
    np.savez(tmp_path / "u.npz", X=np.zeros((2, 1)), y=np.array([1, 2**63 - 1], dtype=np.uint64))
    assert datasets.load_npz(tmp_path / "u.npz")[1].tolist() == [1, 2**63 - 1]


def test_mnist_labels_outside_0_to_9_are_refused(tmp_path):
    images, labels = fake_mnist(6)
    labels[4] = 10
    labels[5] = 255
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(labels), gz=True)
    with pytest.raises(datasets.DataFormatError) as info:
        datasets.load_mnist(tmp_path)
    msg = str(info.value)
    assert "train-labels-idx1-ubyte.gz" in msg and "label 4 is 10" in msg and "0 .. 9" in msg


# ---------------------------------------------------------------------------
# CSV headers: a data row with a bad cell is reported, never dropped as a header
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, match", [
    ("1.0,abc,0\n2.0,3.0,1\n", r"data.csv', line 1, column 2: 'abc' is not a number"),
    ("1.0,,0\n2.0,3.0,1\n", r"line 1, column 2: an empty cell is not a number"),
    (",0,1,2\n0,0.5,1.5,1\n", r"line 1, column 1: an empty cell is not a number.*header=True"),
    ("x1,2020,label\n1,2,0\n", r"line 1, column 1: 'x1' is not a number.*header=True"),
])
def test_csv_first_row_mixing_numbers_and_text_is_not_dropped(tmp_path, text, match):
    with pytest.raises(datasets.DataFormatError, match=match):
        datasets.load_csv(csv_file(tmp_path, text))


def test_csv_header_rule(tmp_path):
    # no cell of the first row is a number: a header (empty cells included, as for an index column)
    X, y = datasets.load_csv(csv_file(tmp_path, ",a,label\n0,1.5,1\n1,2.5,0\n"), index_column=0)
    assert X.tolist() == [[1.5], [2.5]] and y.tolist() == [1, 0]
    # every cell a number: data
    assert datasets.load_csv(csv_file(tmp_path, "0,1,2\n3,4,5\n"))[0].shape == (2, 2)
    # a column name passed as label_column marks the first row as the header, numbers or not
    X, y = datasets.load_csv(csv_file(tmp_path, "0,1,2\n0.5,1.5,1\n"), label_column="2")
    assert X.tolist() == [[0.5, 1.5]] and y.tolist() == [1]
    # text only in the index column: could be a header or data, so it is not guessed
    with pytest.raises(datasets.DataFormatError, match=r"line 1 has text only in its index column"):
        datasets.load_csv(csv_file(tmp_path, "id,0,1\nr1,0.5,1\n"), index_column=0)
    X, _ = datasets.load_csv(csv_file(tmp_path, "id,0,1\nr1,0.5,1\n"), index_column=0, header=False)
    assert X.tolist() == [[0.0], [0.5]]


def test_csv_numeric_header_as_pandas_writes_it(tmp_path):
    # what pandas.DataFrame(np.array(...)).to_csv(path) writes: the index, then columns named 0, 1, 2
    text = ",0,1,2\n0,0.5,-1.25,1.0\n1,2.0,3.5,0.0\n2,1e-3,7.0,2.0\n"
    path = csv_file(tmp_path, text)
    X, y = datasets.load_csv(path, header=True, index_column=0)
    np.testing.assert_array_equal(X, [[0.5, -1.25], [2.0, 3.5], [1e-3, 7.0]])
    assert y.dtype == np.int64 and y.tolist() == [1, 0, 2]
    X2, y2 = datasets.load_csv(path, header=True, index_column=0, label_column="2")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    # ... and to_csv(path, index=False)
    X3, y3 = datasets.load_csv(csv_file(tmp_path, "0,1,2\n0.5,-1.25,1.0\n2.0,3.5,0.0\n"), header=True)
    assert X3.tolist() == [[0.5, -1.25], [2.0, 3.5]] and y3.tolist() == [1, 0]


def test_csv_written_by_pandas(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 3))
    y = np.array([0, 2, 1, 1, 0, 2])
    frame = pd.DataFrame(np.column_stack([X, y]))
    frame.to_csv(tmp_path / "p.csv")
    X2, y2 = datasets.load_csv(tmp_path / "p.csv", header=True, index_column=0)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    frame.to_csv(tmp_path / "q.csv", index=False)
    np.testing.assert_array_equal(datasets.load_csv(tmp_path / "q.csv", header=True)[0], X)


# ---------------------------------------------------------------------------
# CSV options: no labels, index column, header/skip_header, regression targets
# ---------------------------------------------------------------------------


def test_csv_without_labels(tmp_path):
    X, y = datasets.load_csv(csv_file(tmp_path, "a,b\n1,2\n3,4\n"), label_column=None)
    assert y is None and X.tolist() == [[1, 2], [3, 4]] and X.dtype == np.float64
    X, y = datasets.load_csv(csv_file(tmp_path, "5\n6\n"), label_column=None)
    assert y is None and X.tolist() == [[5], [6]]


@pytest.mark.parametrize("text, kwargs", [
    ("id,a,label,b\nx7,1,0,2\nx8,3,1,4\n", dict(index_column="id", label_column="label")),
    ("id,a,label,b\nx7,1,0,2\nx8,3,1,4\n", dict(index_column=0, label_column=2)),
    ("id,a,label,b\nx7,1,0,2\nx8,3,1,4\n", dict(index_column=-4, label_column=-2)),
    ("a,label,b,id\n1,0,2,2024-01-01\n3,1,4,2024-01-02\n", dict(index_column="id", label_column=1)),
])
def test_csv_index_column_is_dropped(tmp_path, text, kwargs):
    X, y = datasets.load_csv(csv_file(tmp_path, text), **kwargs)
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [0, 1]


@pytest.mark.parametrize("text, kwargs, error, match", [
    ("a,b,c\n1,2,0\n", dict(index_column=-1), ValueError, r"label_column and index_column both name column"),
    ("a,b,c\n1,2,0\n", dict(index_column="d"), ValueError, r"index_column 'd' is not a column"),
    ("1,2,0\n", dict(index_column="id"), ValueError, r"index_column='id' is a column name.*no header row"),
    ("a,b,c\n1,2,0\n", dict(index_column=3), ValueError, r"index_column=3 is out of range"),
    ("a,a,c\n1,2,0\n", dict(label_column="a"), ValueError, r"label_column 'a' names 2 columns .*\(1, 2\)"),
    ("a,b\n1,0\n", dict(index_column=0), datasets.DataFormatError, r"needs at least one feature column"),
    ("i,a,b\nr,1,0\nr,3,1,9\n", dict(index_column=0), datasets.DataFormatError,
     r"ragged rows .*line 3 has 4 cells but the header has 3"),
    ("a,b\n1,0\n", dict(index_column=[0]), TypeError, r"index_column must be a column position"),
])
def test_csv_index_column_errors(tmp_path, text, kwargs, error, match):
    with pytest.raises(error, match=match):
        datasets.load_csv(csv_file(tmp_path, text), **kwargs)


def test_csv_header_options(tmp_path):
    path = csv_file(tmp_path, "9,9,9\n1,2,0\n")
    assert datasets.load_csv(path, header=True)[0].tolist() == [[1.0, 2.0]]
    assert datasets.load_csv(path, header=False)[0].shape == (2, 2)
    assert datasets.load_csv(path, -1, ",", False)[0].shape == (2, 2)  # skip_header was the 4th argument
    assert datasets.load_csv(path, header="AUTO")[0].shape == (2, 2)
    with pytest.raises(ValueError, match="pass header= or its former name skip_header=, not both"):
        datasets.load_csv(path, header=True, skip_header=True)
    with pytest.raises(xpnet.InvalidTypeError,
                       match=r"header must be 'auto', True or False; got NoneType None \(header=False reads"):
        datasets.load_csv(path, header=None)
    with pytest.raises(xpnet.InvalidTypeError, match=r"got int 0 \(header=True reads the first row"):
        datasets.load_csv(path, header=0)
    with pytest.raises(xpnet.InvalidArgumentError, match="header must be 'auto', True or False; got str"):
        datasets.load_csv(path, header="yes")


def test_csv_regression_targets(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((5, 2))
    t = rng.standard_normal(5) * 10
    path = tmp_path / "reg.csv"
    np.savetxt(path, np.column_stack([X, t]), delimiter=",", fmt="%.17g", header="x1,x2,t", comments="")
    for target in ("auto", "values"):
        X2, t2 = datasets.load_csv(path, target=target)
        assert t2.dtype == np.float64
        np.testing.assert_array_equal(t2, t)
        np.testing.assert_array_equal(X2, X)
    with pytest.raises(datasets.DataFormatError, match="not an integer class label.*target='values'"):
        datasets.load_csv(path)  # the default reads class labels
    whole = csv_file(tmp_path, "1,2,3.0\n4,5,-1\n")
    assert datasets.load_csv(whole, target="auto")[1].dtype == np.int64
    assert datasets.load_csv(whole, target="values")[1].tolist() == [3.0, -1.0]
    assert datasets.load_csv(whole, target="values")[1].dtype == np.float64
    with pytest.raises(xpnet.InvalidArgumentError, match="unknown target 'regression'; expected one of "
                                                         "classes, auto, values"):
        datasets.load_csv(whole, target="regression")


def test_csv_features_must_be_finite_and_labels_numbers(tmp_path):
    with pytest.raises(datasets.DataFormatError, match=r"line 3, column 2 \('b'\): nan is not a finite"):
        datasets.load_csv(csv_file(tmp_path, "a,b,y\n1,2,0\n3,nan,1\n"))
    with pytest.raises(datasets.DataFormatError, match=r"line 2, column 3: 'setosa' is not a number \("):
        datasets.load_csv(csv_file(tmp_path, "1,2,0\n3,4,setosa\n"))
    with pytest.raises(datasets.DataFormatError, match=r"line 2, label column 1 holds inf"):
        datasets.load_csv(csv_file(tmp_path, "0,1\ninf,2\n"), label_column=0, target="values")


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 12), d=st.integers(1, 4), seed=st.integers(0, 1000), index=st.booleans(),
       label_at=st.integers(0, 4))
def test_csv_index_and_label_anywhere_roundtrip_property(tmp_path_factory, n, d, seed, index, label_at):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, 5, size=n)
    columns = [[repr(float(v)) for v in X[:, j]] for j in range(d)]
    names = [f"f{j}" for j in range(d)]
    at = min(label_at, d)
    columns.insert(at, [str(v) for v in y])
    names.insert(at, "label")
    if index:
        columns.insert(0, [f"row{i}" for i in range(n)])
        names.insert(0, "")
    text = ",".join(names) + "\n" + "".join(",".join(row) + "\n" for row in zip(*columns))
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    path.write_text(text)
    X2, y2 = datasets.load_csv(path, label_column="label", index_column=0 if index else None)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


# ---------------------------------------------------------------------------
# NPZ options
# ---------------------------------------------------------------------------


def test_npz_without_labels_and_with_targets(tmp_path):
    X = np.arange(6.0).reshape(3, 2)
    np.savez(tmp_path / "x.npz", X=X)
    X2, y2 = datasets.load_npz(tmp_path / "x.npz", y_key=None)
    assert y2 is None and X2.tolist() == X.tolist()
    t = np.array([0.5, -2.0, 3.25], dtype=np.float32)
    np.savez(tmp_path / "r.npz", X=X, y=t)
    for target in ("auto", "values"):
        _, t2 = datasets.load_npz(tmp_path / "r.npz", target=target)
        assert t2.dtype == np.float64 and t2.tolist() == t.tolist()
    np.savez(tmp_path / "i.npz", X=X, y=np.array([2.0, 0.0, 1.0]))
    assert datasets.load_npz(tmp_path / "i.npz", target="auto")[1].dtype == np.int64
    assert datasets.load_npz(tmp_path / "i.npz", target="values")[1].dtype == np.float64
    with pytest.raises(xpnet.InvalidTypeError, match="y_key must be a str naming an array, or None"):
        datasets.load_npz(tmp_path / "i.npz", y_key=1)
    with pytest.raises(datasets.DataFormatError, match=r"y\[1\] holds nan"):
        np.savez(tmp_path / "n.npz", X=X, y=np.array([0.0, np.nan, 1.0]))
        datasets.load_npz(tmp_path / "n.npz", target="values")
