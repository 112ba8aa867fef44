"""Reading (X, y) from a CSV file."""

from __future__ import annotations

import csv
import gzip
import io
import numbers
import zlib

import numpy as np

from ..errors import DataFormatError, InvalidArgumentError
from ..validation import check_path
from ._common import finish

__all__ = ["load_csv"]


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


def _integral_labels(values, where):
    """``values`` (float64) as int64 labels, or a DataFormatError naming the first bad one."""
    bad = ~np.isfinite(values) | (values != np.round(values))
    if np.any(bad):
        i = int(np.argmax(bad))
        raise DataFormatError(
            f"{where(i)} holds {values[i].item()!r}, not an integer class label; labels must be whole "
            "numbers 0 .. k-1 (map names such as 'setosa' to numbers first)"
        )
    return values.astype(np.int64)


def load_csv(path, label_column=-1, delimiter=",", skip_header="auto"):
    """Read labelled data from a CSV file: one sample per row, all cells numbers.

    Parameters
    ----------
    path : str or os.PathLike
        The file (UTF-8; a name ending in ``.gz`` is decompressed).  Blank
        lines are skipped; cells may be quoted.
    label_column : int or str, default -1
        The column holding the integer class labels: a position (negative
        counts from the end, so the default is the last column) or, for a
        file with a header, its name.  Every other column is a feature.
    delimiter : str or None, default ","
        The cell separator (``";"``, ``"\\t"``, ...); ``None`` splits on runs
        of whitespace.
    skip_header : "auto", bool, default "auto"
        Whether the first row is a header of column names.  ``"auto"``
        treats it as one when any of its cells is not a number.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_rows, n_columns - 1)
    y : numpy.ndarray of int64, shape (n_rows,)

    Raises
    ------
    DataFormatError
        A cell that is not a number (naming its line and column), rows of
        different lengths (naming the first that differs), non-integer labels,
        or a file without data rows.
    InvalidArgumentError
        ``label_column`` names no column of the file.
    DataNotFoundError
        ``path`` does not exist.
    """
    path = check_path("path", path, what="CSV file")
    if skip_header not in ("auto", True, False):
        raise InvalidArgumentError(f"skip_header must be 'auto', True or False, got {skip_header!r}")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise InvalidArgumentError(
            f"delimiter must be a single character such as ',' or ';' (or None for whitespace), "
            f"got {delimiter!r}"
        )
    if isinstance(label_column, (bool, np.bool_)) or not isinstance(label_column, (numbers.Integral, str)):
        raise InvalidArgumentError(
            f"label_column must be a column position (int) or a header name (str), got {label_column!r}"
        )
    name = repr(str(path))
    head = _split_rows(path, delimiter, limit=2)  # enough to see the header and the width
    if not head:
        raise DataFormatError(f"{name} holds no data rows")
    header = None
    if skip_header is True or (skip_header == "auto" and not all(map(_is_number, head[0][1]))):
        header, head = head[0][1], head[1:]
    if not head:
        raise DataFormatError(f"{name} holds a header row but no data rows")
    width = len(header) if header is not None else len(head[0][1])
    if width < 2:
        raise DataFormatError(
            f"{name} has {width} column; it needs at least one feature column and the label column"
        )

    def column_name(j):
        return f"column {j + 1}" + (f" ({header[j]!r})" if header is not None else "")

    if isinstance(label_column, str):
        if header is None:
            raise InvalidArgumentError(
                f"label_column={label_column!r} is a column name, but {name} has no header row; "
                "pass a position such as -1 (or skip_header=True if the first row is a header)"
            )
        if label_column not in header:
            raise InvalidArgumentError(
                f"label_column {label_column!r} is not a column of {name}; its columns are "
                f"{', '.join(map(repr, header))}"
            )
        j_label = header.index(label_column)
    else:
        j_label = int(label_column)
        if not -width <= j_label < width:
            raise InvalidArgumentError(
                f"label_column={j_label} is out of range for {name}, whose rows have {width} columns "
                f"(valid: {-width} .. {width - 1})"
            )
        j_label %= width

    first_data_line = head[0][0]
    data = _parse_fast(path, delimiter, skiprows=first_data_line - 1, width=width)
    line_numbers = None  # the fast parser keeps none; they are found again on an error
    if data is None:  # something is wrong (or unusual): parse cell by cell and say exactly where
        rows = [r for r in _split_rows(path, delimiter) if r[0] >= first_data_line]
        data = np.empty((len(rows), width), dtype=np.float64)
        for i, (line, cells) in enumerate(rows):
            if len(cells) != width:
                source = "the header" if header is not None else f"line {first_data_line}"
                raise DataFormatError(
                    f"ragged rows in {name}: line {line} has {len(cells)} cells but {source} has {width}"
                )
            for j, cell in enumerate(cells):
                try:
                    data[i, j] = float(cell)
                except ValueError:
                    shown = "an empty cell" if cell == "" else repr(cell)
                    raise DataFormatError(
                        f"{name}, line {line}, {column_name(j)}: {shown} is not a number"
                    ) from None
        line_numbers = [line for line, _ in rows]

    def where(i):
        lines = line_numbers
        if lines is None:  # only on this error path: find the lines again
            lines = [r[0] for r in _split_rows(path, delimiter) if r[0] >= first_data_line]
        return f"{name}, line {lines[i]}, label {column_name(j_label)}"

    y = _integral_labels(data[:, j_label], where)
    X = np.delete(data, j_label, axis=1)
    return finish(X, y)


def _parse_fast(path, delimiter, skiprows, width):
    """NumPy's C parser for the well-formed common case; None to fall back to the careful one."""
    try:
        data = np.loadtxt(path, delimiter=delimiter, skiprows=skiprows, comments=None,
                          dtype=np.float64, ndmin=2, quotechar='"' if delimiter is not None else None,
                          encoding="utf-8-sig")
    except (ValueError, OSError, EOFError, UnicodeDecodeError, zlib.error):
        return None
    return data if data.ndim == 2 and data.shape[1] == width and data.shape[0] > 0 else None
