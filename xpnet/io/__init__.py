"""Model files and training checkpoints: NumPy ``.npz`` archives, loaded without pickle.

A file holds a JSON header (format name, format version, architecture,
dtype, and for checkpoints the optimizer, epoch, random-generator state and
history) stored as a byte array under ``__xpnet__``, and one plain ``.npy``
member per array.

Files are untrusted input. Loading opens only regular files (not a FIFO, a
device or a directory), never unpickles anything, refuses members compressed
with anything but the two methods a ``.npz`` file uses (stored, deflate) before
decompressing them, and checks the header, every member's declared dtype and
shape against the declared architecture, and the member sizes, *before*
reading array data; checkpoints have every field of their training state
checked (types, shapes, ranges, finiteness). A truncated, corrupt or hostile
file gets an :class:`~xpnet.errors.InvalidFileError` that names it, never an
error from the zip or zlib layer, a crash, a hang or a huge allocation.

Files are written to a temporary file ``.NAME.PID.XXXXXXXX.tmp`` in the same
directory, flushed to disk and renamed over the target, so the file at
``path`` is always either the old one or the complete new one. SIGINT
(Ctrl-C) and SIGTERM are held until the write is done, whichever thread
receives them. A write removes only its own target's temporaries, and only
those of writers that are provably gone.

Arrays are stored on the host in the model's dtype, so a file written from
one backend loads on any other.

The package has four modules: ``files`` (atomic writes, signals, temporaries,
the guarded reader), ``models`` (model files), ``checkpoints`` (training
checkpoints) and ``fields`` (the checkpoint header's field-by-field checks).
"""

from ..errors import InvalidFileError
from .checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from .fields import CHECKPOINT_FIELDS, HISTORY_FIELDS, TRAIN_FIELDS
from .files import (CLASSES_VERSION, FORMAT_VERSION, MAX_LAYERS, MAX_PARAMS, STALE_TEMPORARY_SECONDS, Archive,
                    _interrupts_deferred, check_writable, write_archive, write_file)  # noqa: F401 (tests hold writes)
from .models import build_model, check_builtin_activations, load, read_params, save

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint", "Checkpoint", "InvalidFileError", "FORMAT_VERSION",
           "CLASSES_VERSION", "MAX_LAYERS", "MAX_PARAMS", "STALE_TEMPORARY_SECONDS", "check_writable", "write_file",
           "write_archive", "check_builtin_activations", "read_params", "build_model", "Archive",
           "CHECKPOINT_FIELDS", "TRAIN_FIELDS", "HISTORY_FIELDS"]
