"""Reading ``(X, y)`` from a CSV file."""

from __future__ import annotations

import csv
import gzip
import io
import numbers
import zlib
from typing import NamedTuple

import numpy as np

from ..errors import DataFormatError, InvalidArgumentError, InvalidKindError, InvalidTypeError
from ..validation import check_path
from .targets import check_target, labels_from_floats

__all__ = ["load_csv"]


def load_csv(path, label_column=-1, delimiter=",", header="auto", index_column=None, *,
             target="classes", skip_header=None):
    """Read data from a CSV file: one sample per row, every used cell a number.

    Parameters
    ----------
    path : str or os.PathLike
        The file (UTF-8; a name ending in ``.gz`` is decompressed).  Blank
        lines are skipped; cells may be quoted.
    label_column : int, str or None, default -1
        The column holding the labels: a position (negative counts from the
        end, so the default is the last column) or, for a file with a header,
        its name; ``None`` for a file without labels (``y`` is then ``None``).
        Positions count every column of the file, the index column included.
    delimiter : str or None, default ","
        The cell separator (``";"``, ``"\\t"``, ...); ``None`` splits on runs
        of whitespace.
    header : "auto", True or False, default "auto"
        Whether the first row is a header of column names.  ``"auto"`` takes
        it for one when none of its cells is a number, or when it holds a
        column name passed as ``label_column``/``index_column``; a first row
        that mixes numbers and text is refused as ambiguous (with its line and
        column), never dropped.  A header of numbers, as pandas writes by
        default (``,0,1,2``), needs ``header=True``.
    index_column : int, str or None, default None
        A column to leave out of the features (a row index or id, as
        ``DataFrame.to_csv`` writes first); its cells may be anything.
    target : {"classes", "auto", "values", "labels"}, default "classes"
        What the label column holds: integer class labels (int64; a value that
        is not a whole number is an error), ``"auto"`` (int64 when every
        value is a whole number, otherwise float64 regression targets),
        ``"values"`` (float64 regression targets) or ``"labels"`` (as
        ``"auto"``, but when some label is not a number, every label as it is
        written, a ``str`` array of class names such as ``'setosa'``).
    skip_header : "auto" or bool, optional
        The former name of ``header``, still accepted.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_rows, n_features)
        The columns other than the label and index columns, in file order.
    y : numpy.ndarray of int64, float64 or str, shape (n_rows,), or None
        The labels (see ``target``); ``None`` when ``label_column`` is None.

    Raises
    ------
    DataFormatError
        A cell that is not a number or a feature that is NaN or infinite
        (naming its line and column), an ambiguous first row, rows of
        different lengths (naming the first that differs), labels that are not
        integers or too large to be exact (naming the line and the value), or
        a file without data rows.
    InvalidArgumentError
        ``label_column`` or ``index_column`` names no column of the file, or
        both name the same one.
    InvalidTypeError
        An argument of the wrong type.
    DataNotFoundError
        ``path`` does not exist.
    """
    path = check_path("path", path, what="CSV file")
    header = _header_option(header, skip_header)
    delimiter = _delimiter_option(delimiter)
    target = check_target(target)
    for argument, value in (("label_column", label_column), ("index_column", index_column)):
        _column_option(argument, value)
    layout = _layout(path, delimiter, header, label_column, index_column, text_labels=target == "labels")
    try:
        data, lines = _parse(path, delimiter, layout)
    except _LabelNotANumber:
        if target != "labels":
            raise
        layout = layout._replace(text_label=True)  # class names: read the column as text
        data, lines = _parse(path, delimiter, layout)
    X = np.ascontiguousarray(data[:, layout.features])
    _check_finite(X, layout, lines, path, delimiter)
    if layout.label is None:
        return X, None
    if layout.text_label:
        return X, _label_texts(path, delimiter, layout)
    values = data[:, layout.label]

    def where(i):  # these two run only on an error path
        line = _lines(lines, path, delimiter, layout)[i]
        return f"{layout.name}, line {line}, label {layout.column(layout.label)}"

    def written(i):
        return repr(_cell(path, delimiter, _lines(lines, path, delimiter, layout)[i], layout.label))

    return X, np.ascontiguousarray(labels_from_floats(values, target, where, written))


# -- the arguments ------------------------------------------------------------------
def _header_option(header, skip_header):
    name = "header"
    if skip_header is not None:
        if header != "auto":
            raise InvalidArgumentError("pass header= or its former name skip_header=, not both")
        name, header = "skip_header", skip_header
    if isinstance(header, str) and header.lower() == "auto":
        return "auto"
    if isinstance(header, (bool, np.bool_)):
        return bool(header)
    expected = f"{name} must be 'auto', True or False; got {type(header).__name__} {header!r}"
    if isinstance(header, str):
        raise InvalidArgumentError(expected)
    if header is None:
        expected += " (header=False reads no header row, like pandas' header=None)"
    elif isinstance(header, numbers.Integral) and header == 0:
        expected += " (header=True reads the first row as the header, like pandas' header=0)"
    raise InvalidTypeError(expected)


def _delimiter_option(delimiter):
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise InvalidArgumentError(
            f"delimiter must be a single character such as ',' or ';' (or None for whitespace), "
            f"got {delimiter!r}"
        )
    return delimiter


def _column_option(argument, value):
    if value is None or isinstance(value, str):
        return
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return
    near_miss = isinstance(value, (bool, np.bool_, numbers.Real))  # a bool or float for a position
    raise (InvalidKindError if near_miss else InvalidTypeError)(
        f"{argument} must be a column position (int), a header name (str) or None, "
        f"got {type(value).__name__} {value!r}"
    )


# -- where things are: header, width, label, index and feature columns ---------------
class _Layout(NamedTuple):
    name: str  # the file, as messages show it
    header: list | None
    width: int
    first_line: int  # the line number of the first data row
    label: int | None
    index: int | None
    features: list
    text_label: bool = False  # the label column holds class names (target="labels"), not numbers

    def skipped(self, j):
        """Whether column ``j`` is not parsed as numbers."""
        return j == self.index or (self.text_label and j == self.label)

    def column(self, j):
        return f"column {j + 1}" + (f" ({self.header[j]!r})" if self.header is not None else "")


def _layout(path, delimiter, header, label_column, index_column, text_labels=False):
    name = repr(str(path))
    head = _split_rows(path, delimiter, limit=2)  # enough to see the header and the width
    if not head:
        raise DataFormatError(f"{name} holds no data rows")
    names = [c for c in (label_column, index_column) if isinstance(c, str)]
    has_header = header if header != "auto" else _looks_like_header(name, head[0], names, index_column,
                                                                     label_column if text_labels else None)
    names_row = head[0][1] if has_header else None
    data_rows = head[1:] if has_header else head
    if not data_rows:
        raise DataFormatError(f"{name} holds a header row but no data rows")
    width = len(names_row) if names_row is not None else len(data_rows[0][1])
    label = _resolve(name, "label_column", label_column, names_row, width)
    index = _resolve(name, "index_column", index_column, names_row, width)
    if label is not None and label == index:
        raise InvalidArgumentError(f"label_column and index_column both name column {label + 1} of {name}")
    features = [j for j in range(width) if j not in (label, index)]
    if not features:
        raise DataFormatError(
            f"{name} has {width} column{'s' if width != 1 else ''}; it needs at least one feature column "
            "besides the label and index columns"
        )
    return _Layout(name, names_row, width, data_rows[0][0], label, index, features)


def _looks_like_header(name, first, names, index_column, text_label=None):
    """``header="auto"``: is the first row a header? Refuses a row that could be either.

    With class names (``target="labels"``, ``text_label`` the label column's position), a row whose
    only text is its label is data, unless its numbers are 0, 1, 2, ...: the names pandas gives
    unnamed columns, so the row could as well be a header.
    """
    line, cells = first
    if any(n in cells for n in names) or not any(map(_is_number, cells)):
        return True
    text = [j for j, c in enumerate(cells) if not _is_number(c)]
    if not text:
        return False
    if _only_in(text, text_label, len(cells)) and cells[text[0]] != "":
        values = [float(c) for j, c in enumerate(cells) if j != text[0]]
        if values != list(range(len(values))):
            return False
    if isinstance(index_column, numbers.Integral) and -len(cells) <= index_column < len(cells) \
            and text == [index_column % len(cells)]:
        raise DataFormatError(
            f"{name}, line {line} has text only in its index column ({cells[text[0]]!r}): pass header=True "
            "if it is a header, header=False if it is data"
        )
    j = text[0]
    shown = "an empty cell" if cells[j] == "" else repr(cells[j])
    raise DataFormatError(
        f"{name}, line {line}, column {j + 1}: {shown} is not a number; the line mixes numbers and text, "
        "so it is neither clearly a header nor data: fix the cell, or pass header=True if the line is a "
        "header (pandas writes numeric column names, e.g. ',0,1,2')"
    )


def _only_in(columns, position, width):
    """Whether ``columns`` is exactly the column at ``position`` (an int, negative from the end)."""
    return isinstance(position, numbers.Integral) and -width <= position < width and columns == [position % width]


def _resolve(name, argument, value, header, width):
    """The 0-based position of the column that ``value`` (a position or a header name) names."""
    if value is None:
        return None
    if isinstance(value, str):
        if header is None:
            raise InvalidArgumentError(
                f"{argument}={value!r} is a column name, but {name} has no header row; pass a position "
                "such as -1 (or header=True if the first row is a header)"
            )
        matches = [j for j, cell in enumerate(header) if cell == value]
        if not matches:
            raise InvalidArgumentError(
                f"{argument} {value!r} is not a column of {name}; its columns are "
                f"{', '.join(map(repr, header))}"
            )
        if len(matches) > 1:
            raise InvalidArgumentError(
                f"{argument} {value!r} names {len(matches)} columns of {name} "
                f"({', '.join(str(j + 1) for j in matches)}); pass a position instead"
            )
        return matches[0]
    j = int(value)
    if not -width <= j < width:
        raise InvalidArgumentError(
            f"{argument}={j} is out of range for {name}, whose rows have {width} columns "
            f"(valid: {-width} .. {width - 1})"
        )
    return j % width


# -- the numbers ---------------------------------------------------------------------
def _parse(path, delimiter, layout):
    """``(data, lines)``: every cell as float64 (0 in the index column) and, when the careful
    parser ran, the line number of each row (None after the fast one)."""
    data = _parse_fast(path, delimiter, layout)
    if data is not None:
        return data, None
    return _parse_careful(path, delimiter, layout)


def _parse_fast(path, delimiter, layout):
    """NumPy's C parser for the well-formed common case; None to fall back to the careful one."""
    converters = {j: _ignored for j in (layout.index, layout.label) if j is not None and layout.skipped(j)} or None
    try:
        data = np.loadtxt(path, delimiter=delimiter, skiprows=layout.first_line - 1, comments=None,
                          dtype=np.float64, ndmin=2, quotechar='"' if delimiter is not None else None,
                          encoding="utf-8-sig", converters=converters)
    except (ValueError, TypeError, OSError, EOFError, UnicodeDecodeError, zlib.error):
        return None
    return data if data.ndim == 2 and data.shape[1] == layout.width and data.shape[0] > 0 else None


def _ignored(cell):
    return 0.0


def _parse_careful(path, delimiter, layout):
    """Cell by cell, saying exactly where the first problem is."""
    rows = _data_rows(path, delimiter, layout)
    data = np.zeros((len(rows), layout.width), dtype=np.float64)
    for i, (line, cells) in enumerate(rows):
        if len(cells) != layout.width:
            source = "the header" if layout.header is not None else f"line {layout.first_line}"
            raise DataFormatError(
                f"ragged rows in {layout.name}: line {line} has {len(cells)} cells but {source} has "
                f"{layout.width}"
            )
        for j, cell in enumerate(cells):
            if not layout.skipped(j):
                data[i, j] = _number(cell, layout, line, j)
    return data, [line for line, _ in rows]


def _number(cell, layout, line, j):
    try:
        return float(cell)
    except ValueError:
        shown = "an empty cell" if cell == "" else repr(cell)
        where = f"{layout.name}, line {line}, {layout.column(j)}"
        if j == layout.label:
            raise _LabelNotANumber(f"{where}: {shown} is not a number (labels must be numbers: map names such "
                                   "as 'setosa' to 0 .. k-1 first, or pass target='labels')") from None
        raise DataFormatError(f"{where}: {shown} is not a number") from None


class _LabelNotANumber(DataFormatError):
    """A label cell that is not a number: an error, unless ``target="labels"`` reads names."""


def _label_texts(path, delimiter, layout):
    """The label column as written (stripped), for ``target="labels"``; empty labels are refused."""
    rows = _data_rows(path, delimiter, layout)
    texts = np.array([cells[layout.label] for _, cells in rows], dtype=str)
    empty = texts == ""
    if empty.any():
        line = rows[int(np.argmax(empty))][0]
        raise DataFormatError(f"{layout.name}, line {line}, {layout.column(layout.label)}: the label is empty")
    return texts


def _check_finite(X, layout, lines, path, delimiter):
    finite = np.isfinite(X)
    if not np.all(finite):
        i, k = (int(v) for v in np.argwhere(~finite)[0])
        line = _lines(lines, path, delimiter, layout)[i]
        raise DataFormatError(
            f"{layout.name}, line {line}, {layout.column(layout.features[k])}: {X[i, k].item()!r} is not a "
            "finite number; features must be finite (fill in or drop missing values first)"
        )


# -- rows as text (the careful parser, and messages after the fast one) -----------------
def _data_rows(path, delimiter, layout):
    return [r for r in _split_rows(path, delimiter) if r[0] >= layout.first_line]


def _lines(lines, path, delimiter, layout):
    """The line number of each data row; after the fast parser (only on an error path) found again."""
    return lines if lines is not None else [line for line, _ in _data_rows(path, delimiter, layout)]


def _cell(path, delimiter, line, j):
    """The text of column ``j`` on ``line``, as written in the file."""
    return next(cells[j] for number, cells in _split_rows(path, delimiter) if number == line)


def _open_text(path):
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _split_rows(path, delimiter, limit=None):
    """``[(line_number, [cells])]`` of the non-blank lines (at most ``limit``), cells stripped."""
    rows = []
    try:
        with _open_text(path) as fh:
            if delimiter is None:
                for number, line in enumerate(fh, start=1):
                    cells = line.split()
                    if cells:
                        rows.append((number, cells))
                        if limit is not None and len(rows) >= limit:
                            break
            else:
                reader = csv.reader(fh, delimiter=delimiter)
                for cells in reader:
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        continue  # a blank line
                    rows.append((reader.line_num, [c.strip() for c in cells]))
                    if limit is not None and len(rows) >= limit:
                        break
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{str(path)!r} is not UTF-8 text ({exc})") from None
    except csv.Error as exc:
        raise DataFormatError(f"{str(path)!r} is not valid CSV ({exc})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"could not read {str(path)!r} ({exc})") from None
    return rows


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True
