"""Built-in data sets, generated and real, and readers for your own files.

This package sits at the data edge of :mod:`xpnet`: everything here is plain
host-side NumPy (it uses only xpnet's errors and argument checks).  Move the
arrays to an accelerator (or another array namespace) yourself after
generating them.

==================  ===============================================================
module              what it holds
==================  ===============================================================
``generated``       the seeded generators (:data:`NAMES`)
``digits``          scikit-learn's 8x8 digits
``idx``, ``mnist``  the IDX format; MNIST/Fashion-MNIST files, mirrors, checksums
``csv_reader``      :func:`load_csv`
``npz_reader``      :func:`load_npz`
``targets``         label and target columns as read from files (shared by both)
``preprocessing``   :func:`one_hot`, :func:`standardize`, :func:`train_test_split`
``catalog``         :func:`load` by name, :data:`ALL_NAMES`
==================  ===============================================================

Conventions shared by every generator
-------------------------------------
* Each generator accepts a ``seed`` argument (default ``0``) and draws all of
  its randomness from ``np.random.default_rng(seed)``; the global NumPy random
  state is never used or modified.  The same seed always gives identical
  arrays.
* Each generator returns ``(X, y)`` where ``X`` is a C-contiguous ``float64``
  array of shape ``(n_samples, n_features)`` (one sample per row) and ``y`` is
  a 1-D ``int64`` array of class labels ``0 .. k-1``.
* Nothing is shuffled: the points come grouped by class (all of class 0 first,
  then class 1, ...), except for :func:`teacher`, whose labels are a function
  of randomly drawn inputs.  Shuffle (or split with a permutation) before
  mini-batch training or a train/test split.
* When ``n_samples`` does not divide evenly among the classes, the first
  classes get one extra point each.
* Invalid arguments raise :class:`xpnet.InvalidArgumentError` (a
  ``ValueError``) or, for a wrong type, :class:`xpnet.InvalidTypeError` (a
  ``TypeError``), with a message naming the argument, what was expected and
  what was given (see :mod:`xpnet.validation`).

Real data
---------
Besides the generators, the module reads real data into the same
``(X float64, y int64)`` convention:

* :func:`digits`: the 8x8 handwritten digits that scikit-learn ships
  (1,797 images, no download; needs ``pip install scikit-learn``).
* :func:`load_mnist`: MNIST or Fashion-MNIST from the standard IDX files in a
  directory (``.gz`` or not), optionally downloaded once and verified against
  the published MD5 checksums.
* :func:`load_csv` and :func:`load_npz`: your own data from a CSV or ``.npz``
  file.
* :func:`train_test_split`: a seeded (optionally stratified) split.

Errors about files are :class:`xpnet.XpnetError` subclasses that are also the
built-in type a Python user expects: :class:`DataFormatError` (a
``ValueError``, naming the file and the row/column or header field at fault),
:class:`ChecksumError`, :class:`DataNotFoundError` (a ``FileNotFoundError``),
:class:`DownloadError` (an ``OSError``) and :class:`MissingDependencyError`
(an ``ImportError`` saying what to install).
"""

from ..errors import (
    ChecksumError,
    DataFormatError,
    DataNotFoundError,
    DownloadError,
    MissingDependencyError,
)
from .catalog import ALL_NAMES, NAMES, REAL_NAMES, load
from .csv_reader import load_csv
from .digits import digits
from .generated import blobs, circles, flower, moons, spirals, teacher, xor
from .idx import read_idx
from .mnist import MNIST_CHECKSUMS, MNIST_FILES, MNIST_MIRRORS, load_mnist
from .npz_reader import load_npz
from .preprocessing import one_hot, standardize, train_test_split

__all__ = [
    "NAMES",
    "xor",
    "flower",
    "moons",
    "circles",
    "spirals",
    "blobs",
    "teacher",
    "one_hot",
    "standardize",
    "load",
    "ALL_NAMES",
    "REAL_NAMES",
    "digits",
    "load_mnist",
    "read_idx",
    "load_csv",
    "load_npz",
    "train_test_split",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_CHECKSUMS",
    "DataFormatError",
    "ChecksumError",
    "DataNotFoundError",
    "DownloadError",
    "MissingDependencyError",
]
