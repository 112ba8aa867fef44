"""Untrusted model and checkpoint files at the archive layer: compression, zip headers, special files.

* A member may claim any compression method the zip format knows. zipfile
  decompresses bzip2 and lzma a whole input block at a time, whatever the
  member declares (a 1.5 KB bzip2 member expands to 600 MB), so members
  compressed with anything but what ``.npz`` files use (stored, deflate) are
  refused before a byte is decompressed.
* Any byte of any zip header may be wrong: a load either gives back exactly
  the saved model or raises ``InvalidFileError`` naming the file, never
  ``zlib.error``, ``struct.error`` or another error of the archive layer.
* A path that is no regular file (a FIFO, a symlink to /dev/zero, a
  directory) is refused before it is read; it would hang or read without end.
  These run in a subprocess with a time and memory limit, so a regression
  fails instead of hanging the suite or exhausting memory.
* The command line turns each of these into one line and exit status 2.
"""

from __future__ import annotations

import bz2
import io as _io
import os
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import xpnet
from xpnet import io as xio

PEAK_LIMIT = 4 * 2**20
LOCAL, CENTRAL = b"PK\x03\x04", b"PK\x01\x02"
#: field offsets in a local header / central-directory entry: method, CRC, uncompressed size, name length
FIELDS = {LOCAL: (8, 14, 22, 26, 30), CENTRAL: (10, 16, 24, 28, 46)}


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("untrusted")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))  # two features, as the CLI's flower data set
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    model = xpnet.MLP([2, 5, 3], output="softmax", seed=2)
    xpnet.train(model, X, y, epochs=3, batch_size=16, optimizer="adam", lr=0.01, checkpoint=d / "ck.npz")
    xpnet.save(model, d / "model.npz")
    deflated = d / "deflated.npz"  # what np.savez_compressed would have written
    with zipfile.ZipFile(d / "model.npz") as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    return {"model": d / "model.npz", "checkpoint": d / "ck.npz", "deflated": deflated}


def host(model: xpnet.MLP) -> list[np.ndarray]:
    return [xpnet.to_numpy(a) for pair in model.params for a in pair]


def headers(data: bytes, signature: bytes):
    """(offset, member name) of every local header or central-directory entry."""
    out, start = [], 0
    name_len_at, name_at = FIELDS[signature][3], FIELDS[signature][4]
    while (i := data.find(signature, start)) >= 0:
        n = struct.unpack("<H", data[i + name_len_at:i + name_len_at + 2])[0]
        out.append((i, data[i + name_at:i + name_at + n].decode()))
        start = i + 4
    return out


def with_member(path: Path, member: str, method: int, stream: bytes, size: int, crc: int) -> bytes:
    """The archive at ``path`` with ``member`` replaced by a raw ``stream`` that claims ``method``,
    an uncompressed ``size`` and ``crc`` in both its local header and the central directory."""
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name, blob in parts.items():
            dst.writestr(name, stream if name == member else blob)
    data = bytearray(buf.getvalue())
    for signature, (method_at, crc_at, size_at, _, _) in FIELDS.items():
        for i, name in headers(bytes(data), signature):
            if name == member:
                data[i + method_at:i + method_at + 2] = struct.pack("<H", method)
                data[i + crc_at:i + crc_at + 4] = struct.pack("<I", crc)
                data[i + size_at:i + size_at + 4] = struct.pack("<I", size)
    return bytes(data)


def bomb_stream(method: str, payload: bytes, zeros_mib: int) -> bytes:
    """``payload`` followed by ``zeros_mib`` MiB of zeros, compressed with bzip2 or zip's lzma."""
    comp = bz2.BZ2Compressor(9) if method == "bzip2" else zipfile.LZMACompressor()
    chunks = [comp.compress(payload)]
    zeros = bytes(2**20)
    chunks += [comp.compress(zeros) for _ in range(zeros_mib)]
    return b"".join(chunks) + comp.flush()


def peak_of(call) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the caller checks what it was
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return None, peak


# -- 1. compression methods xpnet never writes --------------------------------------------
@pytest.mark.parametrize("method, code", [("bzip2", zipfile.ZIP_BZIP2), ("lzma", zipfile.ZIP_LZMA)])
@pytest.mark.parametrize("kind, member", [("model", "W0.npy"), ("model", "__xpnet__.npy"),
                                          ("checkpoint", "opt.exp_avg.0.npy")])
def test_a_member_compressed_with_another_method_is_refused_before_decompressing(
        saved, tmp_path, method, code, kind, member):
    """Honest declared sizes and CRC, a valid .npy in front: the member decompresses to 32 MiB
    more than it declares (zipfile used to expand it all, then cut it to the declared size)."""
    with zipfile.ZipFile(saved[kind]) as z:
        real = z.read(member)
    data = with_member(saved[kind], member, code, bomb_stream(method, real, 32), len(real), zlib.crc32(real))
    path = tmp_path / f"{method}.npz"
    path.write_bytes(data)
    assert len(data) < 64 * 1024
    for loader in (xio.load_checkpoint,) if member.startswith("opt.") else (xpnet.load,):
        err, peak = peak_of(lambda loader=loader: loader(path))
        assert isinstance(err, xio.InvalidFileError), f"{loader.__name__} gave {err!r}"
        assert str(path) in str(err) and method in str(err) and "stored or deflate" in str(err)
        assert peak < PEAK_LIMIT, f"{loader.__name__} allocated {peak} bytes for a {len(data)}-byte file"


def test_deflate_members_load_like_stored_ones(saved):
    """What np.savez_compressed writes (deflate) is still read, and gives the same model."""
    a, b = xpnet.load(saved["model"]), xpnet.load(saved["deflated"])
    assert a.config() == b.config()
    for x, y in zip(host(a), host(b)):
        np.testing.assert_array_equal(x, y)


# -- 2. every byte of every zip header -------------------------------------------------------
@pytest.mark.parametrize("kind", ["model", "deflated"])
@pytest.mark.parametrize("signature", [LOCAL, CENTRAL], ids=["local-headers", "central-directory"])
def test_any_single_byte_change_in_a_zip_header_loads_the_same_model_or_is_refused(
        saved, tmp_path, kind, signature):
    """One byte set to 0x00, 0x01 or 0xff, at every offset of every header of the file."""
    original = saved[kind].read_bytes()
    want = host(xpnet.load(saved[kind]))
    path = tmp_path / "changed.npz"
    size = 30 if signature == LOCAL else 46
    outcomes = {"loaded": 0, "refused": 0}
    for start, _ in headers(original, signature):
        for offset in range(size):
            for value in (0x00, 0x01, 0xFF):
                data = bytearray(original)
                data[start + offset] = value
                path.write_bytes(bytes(data))
                try:
                    got = host(xpnet.load(path))
                except xio.InvalidFileError as exc:
                    assert str(path) in str(exc)
                    outcomes["refused"] += 1
                    continue
                except Exception as exc:  # noqa: BLE001
                    pytest.fail(f"byte {offset} of the header at {start} set to {value:#x}: "
                                f"{type(exc).__module__}.{type(exc).__name__}: {exc}")
                assert all(np.array_equal(g, w) for g, w in zip(got, want))
                outcomes["loaded"] += 1
    assert outcomes["refused"] > 0 and outcomes["loaded"] > 0, outcomes


def test_a_corrupt_deflate_stream_is_an_invalid_file_error(saved, tmp_path):
    """The probe's case: a one-byte change to a local header's extra-field length shifts
    where the deflate data starts; zlib used to raise zlib.error."""
    data = bytearray(saved["deflated"].read_bytes())
    start = next(i for i, name in headers(bytes(data), LOCAL) if name == "W0.npy")
    data[start + 28] = 1  # extra-field length 0 -> 1
    path = tmp_path / "shifted.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(xio.InvalidFileError, match="corrupt"):
        xpnet.load(path)


# -- 3. paths that are no regular file --------------------------------------------------------
def special_file(kind: str, tmp: Path) -> Path:
    path = tmp / f"{kind}.npz"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero-symlink":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    return path


def limited() -> None:
    """In the child: 2 GiB of address space, so a regression fails rather than eats the machine."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


def run_python(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout,
                              check=False, preexec_fn=limited, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args} still ran after {timeout} s (reading a file without end?)")


SPECIAL = ["fifo", "dev-zero-symlink", "directory"]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, /dev/zero and rlimits are POSIX")


@posix_only
@pytest.mark.parametrize("kind", SPECIAL)
def test_a_path_that_is_no_regular_file_is_refused_before_reading(tmp_path, kind):
    path = special_file(kind, tmp_path)
    script = ("import sys, xpnet\nfrom xpnet import io\n"
              "for loader in (xpnet.load, io.load_checkpoint):\n"
              "    try:\n        loader(sys.argv[1])\n    except xpnet.InvalidFileError as exc:\n"
              "        print('InvalidFileError:', exc)\n")
    done = run_python(["-c", script, str(path)])
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"InvalidFileError: {path}: not an xpnet file")
                                   for line in lines), done.stdout
    assert "regular file" in lines[0]


# -- 4. the command line ----------------------------------------------------------------------
def cli_bad_file(kind: str, saved: dict, tmp: Path) -> Path:
    if kind in SPECIAL:
        return special_file(kind, tmp)
    path = tmp / f"{kind}.npz"
    if kind == "bzip2-member":
        with zipfile.ZipFile(saved["model"]) as z:
            real = z.read("W0.npy")
        path.write_bytes(with_member(saved["model"], "W0.npy", zipfile.ZIP_BZIP2, bz2.compress(real),
                                     len(real), zlib.crc32(real)))
    elif kind == "corrupt-deflate-stream":
        data = bytearray(saved["deflated"].read_bytes())
        start = next(i for i, name in headers(bytes(data), LOCAL) if name == "W0.npy")
        data[start + 28] = 1
        path.write_bytes(bytes(data))
    return path


@posix_only
@pytest.mark.parametrize("kind", ["corrupt-deflate-stream", "bzip2-member", *SPECIAL])
def test_the_cli_reports_a_bad_model_file_in_one_line_and_exits_2(saved, tmp_path, kind):
    path = cli_bad_file(kind, saved, tmp_path)
    done = run_python(["-m", "xpnet", "evaluate", str(path), "--dataset", "flower"])
    err = done.stderr.strip()
    assert done.returncode == 2, (done.returncode, err[-2000:])
    assert err.count("\n") == 0 and err.startswith(f"xpnet: error: {path}: "), err
    assert "Traceback" not in err and done.stdout == ""
