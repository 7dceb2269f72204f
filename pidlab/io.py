"""Reading distributions, samples and probability tables from files: pidlab's one I/O layer.

The command line (``pidlab decompose --file``, ``pidlab bounds``, ``pidlab couple``), the panels
(:func:`pidlab.widgets.distribution_from_file`) and Python code all read files through these
functions, so the same file gives the same table everywhere.

Sources
    A path (``str`` or :class:`os.PathLike`), or a pair ``(name, content)`` with the file's bytes
    (or its text), such as an upload; ``name=`` overrides the name used in messages. The suffix of the name picks
    the format: ``.json``, ``.npy`` or ``.csv``.

Formats
    ``.json``
        A table as nested lists (``p[x1][x2][y]`` for a joint distribution), or an object
        ``{"p": table, "names": ["A", "B", "T"], "labels": [[...], null, [...]]}`` (``names`` and
        ``labels`` optional; ``labels`` has one list, or ``null`` for ``0..n-1``, per variable).
        Samples as an object of columns ``{"x1": [...], "x2": [...], "y": [...]}`` or a list of
        records ``[{"x1": 0, "x2": 1, "y": 1}, ...]`` (keys matched case-insensitively).
    ``.npy``
        A plain numeric array saved with :func:`numpy.save` (never a pickle): a table, or samples as
        a 2-D array with one row per sample and the columns taken by position.
    ``.csv``
        Samples: one row per sample, a header row naming the columns (matched case-insensitively,
        other columns ignored; ``header=False`` takes them by position). Blank lines are skipped;
        every other row must have as many cells as the header (a row with extra cells is refused,
        never cut short). A table (:func:`read_table`): rows of numbers, no header.

    JSON is read strictly: ``NaN`` and ``Infinity`` (accepted by Python's json module, not by the
    JSON standard) are refused, and so is nesting deeper than :data:`MAX_JSON_DEPTH`. Probability
    tables and vectors must hold finite numbers (and JSON ones numbers, not strings or booleans).

Labels
    A CSV cell is a symbol label, stripped of surrounding spaces. Integers written canonically
    (``7``, ``-2``, ``0``) become ``int``; anything else (``07``, ``+7``, ``-0``, ``1.0``, ``cat``)
    stays a string, so ``07`` and ``7`` are two different symbols, never merged. Non-numeric cells
    are fine: samples are categorical. Missing values are refused, never made a class: an empty
    cell, a JSON ``null``, and a NaN in any spelling (the text ``nan``, ``NaN``, ``-nan``; a float
    NaN in a ``.npy`` or JSON file), with the line or sample named. Other markers such as ``NA``
    or ``null`` written as text are ordinary labels: clean them first if they mean "missing".
    Text with a NUL byte (a binary or UTF-16 file) is refused.

Errors
    :class:`~pidlab.exceptions.InvalidDistributionError` (a :class:`ValueError`) with a one-line
    message naming the file, the place (the line of a CSV file, the key, sample or entry of a JSON
    file, the row of a ``.npy`` file) and the fix; never another exception on any content.

Examples
--------
>>> from pidlab.io import read_distribution
>>> d = read_distribution(("and.csv", b"X1,x2,y\\n0,0,0\\n0,1,0\\n1,0,0\\n1,1,1\\n"))
>>> d.shape, float(d.p[1, 1, 1])
((2, 2, 2), 0.25)
"""

from __future__ import annotations

import csv
import io as _io
import json
import os
import re
import warnings
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np
from numpy.typing import NDArray

from pidlab._distribution import Distribution
from pidlab.exceptions import InvalidDistributionError

__all__ = [
    "Source", "read_distribution", "read_samples", "read_table", "read_marginals", "read_vectors", "read_json",
    "parse_label",
]

#: A path, or a ``(name, content)`` pair with the file's bytes.
Source = Union[str, "os.PathLike[str]", tuple[str, bytes]]

#: Integers written canonically: ``0``, ``7``, ``-12`` (not ``07``, ``+7`` or ``-0``).
_INT_RE = re.compile(r"(?:0|-?[1-9][0-9]*)\Z")

#: JSON nested deeper than this is refused (a joint table needs 3 levels, an object one more).
MAX_JSON_DEPTH = 32

_SUFFIXES = (".json", ".npy", ".csv")
_DEFAULT_COLUMNS = ("x1", "x2", "y")
_NPY_MAGIC = b"\x93NUMPY"


# ----------------------------------------------------------------------------- helpers
def _err(message: str) -> InvalidDistributionError:
    """An InvalidDistributionError whose message is one line."""
    return InvalidDistributionError(" ".join(str(message).split()))


#: Spellings of NaN (those ``float()`` reads as NaN, case-insensitive): a missing value, never a label.
_NAN_TEXT = frozenset({"nan", "+nan", "-nan"})


def _label_problem(v: Any) -> str | None:
    """Why ``v`` cannot be a symbol label (a missing value or a NUL byte), or None."""
    if v is None:
        return "is missing (null)"
    if isinstance(v, str):
        if "\x00" in v:
            return "contains a NUL byte (is this a binary or UTF-16 file?)"
        if v.strip().lower() in _NAN_TEXT:
            return "is a missing value (NaN), which pidlab never turns into a class"
        return None
    if isinstance(v, (float, np.floating)) and not np.isfinite(v):
        return "is a missing value (NaN), which pidlab never turns into a class" if np.isnan(v) else "is infinite, not a symbol"
    if isinstance(v, (list, tuple)):
        for x in v:
            why = _label_problem(x)
            if why:
                return why
    return None


_LABEL_FIX = "drop or impute the missing samples (or rename the label) first"


def parse_label(cell: str) -> Hashable:
    """A CSV cell as a symbol label: an ``int`` when written canonically, else the stripped string.

    Raises
    ------
    InvalidDistributionError
        A NaN spelling (``nan``, ``NaN``, ``-nan``: a missing value, never a class) or a NUL byte.

    Examples
    --------
    >>> parse_label(" 7 "), parse_label("07"), parse_label("-0"), parse_label("cat")
    (7, '07', '-0', 'cat')
    """
    why = _label_problem(cell)
    if why:
        raise _err(f"the label {cell[:20]!r} {why}; {_LABEL_FIX}.")
    return _to_label(cell)


def _to_label(cell: str) -> Hashable:
    """:func:`parse_label` without the checks (the caller made them, naming the line)."""
    v = cell.strip()
    if _INT_RE.match(v):
        try:
            return int(v)
        except ValueError:  # more digits than int() converts: keep the text
            return v
    return v


def _load(source: Any, name: str | None) -> tuple[str, bytes]:
    """``(display name, content)`` of a path or a ``(name, bytes)`` pair."""
    if isinstance(source, tuple):
        if len(source) == 2 and isinstance(source[1], str):  # text content, e.g. a CSV typed in a notebook
            source = (source[0], source[1].encode("utf-8"))
        if len(source) != 2 or not isinstance(source[1], (bytes, bytearray, memoryview)):
            raise _err(
                f"a (name, content) source needs two items, the name and the file's bytes, got {len(source)} "
                f"item(s) of types {[type(v).__name__ for v in source]}; "
                "pass a path or a pair such as ('data.csv', b'x1,x2,y\\n0,0,0\\n')."
            )
        return (name or str(source[0])), bytes(source[1])
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not name:
            raise _err("bytes need a file name to tell the format: pass name='data.csv' (or .json, .npy).")
        return name, bytes(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        shown = name or str(source)
        if not path.exists():
            raise _err(f"file {str(source)!r} does not exist; check the path.")
        if path.is_dir():
            raise _err(f"{shown} is a directory; give the path of a .json, .npy or .csv file.")
        try:
            return shown, path.read_bytes()
        except OSError as exc:
            raise _err(f"cannot read {shown} ({exc.strerror or exc}); check the path and its permissions.") from None
    raise _err(f"cannot read a {type(source).__name__}; give a path or a (name, bytes) pair.")


def _suffix(name: str, allowed: Sequence[str], what: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in allowed:
        got = repr(suffix) if suffix else "no suffix"
        kinds = ", ".join(allowed[:-1]) + " or " + allowed[-1] if len(allowed) > 1 else allowed[0]
        raise _err(f"cannot read {name!r} ({got}): {what} must be a {kinds} file; rename or convert it.")
    return suffix


def _text(name: str, content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise _err(
            f"{name} line {line}: not UTF-8 text (byte 0x{content[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8."
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise _err(
            f"{name} line {line}: a NUL byte (character {nul - (text.rfind(chr(10), 0, nul) + 1) + 1} of the line); "
            "text files hold no NUL bytes: is this a binary or UTF-16 file? Save it as UTF-8 text."
        )
    return text


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of lists and objects (stops counting once past ``limit``); no recursion."""
    best = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, dict)):
            best = max(best, d)
            if best > limit:
                return best
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
    return best


class _JSONConstant(ValueError):
    """A non-standard JSON constant (NaN, Infinity, -Infinity)."""


def _no_constant(token: str) -> Any:
    raise _JSONConstant(token)


def _json(name: str, content: bytes, what: str = "a JSON value such as a nested list of probabilities") -> Any:
    text = _text(name, content)
    if not text.strip():
        raise _err(f"{name} is empty; it must hold {what}.")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except _JSONConstant as exc:
        m = re.search(r"(?<![\w\"])" + re.escape(str(exc)) + r"(?![\w\"])", text)
        line = text.count("\n", 0, m.start()) + 1 if m else None
        where = f" line {line}" if line else ""
        raise _err(
            f"{name}{where}: {exc} is not valid JSON (the standard has no NaN or infinity); write a finite number, "
            "or drop the entry (a missing sample is dropped, not written as NaN)."
        ) from None
    except json.JSONDecodeError as exc:
        raise _err(f"{name} line {exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno}); fix the syntax.") from None
    except RecursionError:
        raise _err(
            f"{name}: the JSON is nested too deeply to read; pidlab's files need a few levels (a joint table "
            "p[x1][x2][y] has 3): check how the file was written."
        ) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise _err(f"{name}: not valid JSON ({exc}); fix the value.") from None
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise _err(
            f"{name}: the JSON is nested more than {MAX_JSON_DEPTH} levels deep; pidlab's files need a few levels "
            "(a joint table p[x1][x2][y] has 3): check how the file was written."
        )
    return data


def _npy(name: str, content: bytes) -> NDArray[Any]:
    if not content:
        raise _err(f"{name} is empty (0 bytes); save the array with numpy.save.")
    if not content.startswith(_NPY_MAGIC):
        raise _err(f"{name} is not a .npy file (no NumPy header); save the array with numpy.save, or use .json or .csv.")
    fh = _io.BytesIO(content)
    try:
        # The header is a Python literal parsed by numpy; a corrupt one can fail in many ways
        # (ValueError, EOFError, SyntaxError, tokenize.TokenError, ...): every failure is reported
        # as an unreadable file, below.
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            shape, dtype = None, None
        if dtype is not None and dtype.hasobject:
            raise _err(
                f"{name} holds Python objects (a pickled array), which pidlab never loads; "
                "save a plain numeric array, e.g. numpy.save(path, table.astype(float))."
            )
        if shape is not None and dtype is not None:
            need = int(np.prod(shape, dtype=object)) * dtype.itemsize
            have = len(content) - fh.tell()
            if have < need:
                raise _err(
                    f"{name} is truncated: its header announces shape {tuple(shape)} ({need} bytes of data) "
                    f"but only {have} bytes follow; save the array again with numpy.save."
                )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "created on Python 2": loads all the same
            arr = np.load(_io.BytesIO(content), allow_pickle=False)
    except InvalidDistributionError:
        raise
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: see above
        raise _err(
            f"{name} is not a readable .npy array ({type(exc).__name__}: {exc}); save it again with numpy.save."
        ) from None
    if not isinstance(arr, np.ndarray):  # pragma: no cover - np.load of a .npy payload is an array
        raise _err(f"{name} does not hold a single array; save one array with numpy.save.")
    return arr


def _numeric(name: str, arr: NDArray[Any]) -> NDArray[np.float64]:
    if arr.dtype.kind not in "biuf":
        raise _err(
            f"{name} holds {arr.dtype} values, not real numbers; save the probabilities as a float array."
        )
    return np.asarray(arr, dtype=float)


def _hashable(v: Any) -> Hashable:
    """JSON values as labels: lists become tuples."""
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        raise TypeError("an object")
    out: Hashable = v
    return out


def _columns(columns: Any, what: str) -> tuple[str | int, ...]:
    if isinstance(columns, str):
        columns = [c for c in columns.split(",")]
    try:
        cols = tuple(columns)
    except TypeError:
        raise _err(f"columns must be a sequence of column names or positions, got {columns!r}.") from None
    for c in cols:
        if isinstance(c, bool) or not isinstance(c, (str, int, np.integer)):
            raise _err(f"columns must hold column names (str) or 0-based positions (int), got {c!r}.")
        if isinstance(c, str) and not c.strip():
            raise _err(f"columns {list(cols)} contains an empty name; name every column to read.")
        if not isinstance(c, str) and int(c) < 0:
            raise _err(f"column positions count from 0; got {int(c)}.")
    if not cols:
        raise _err(f"columns is empty; name the {what} to read.")
    keys = [c.strip().lower() if isinstance(c, str) else int(c) for c in cols]
    if len(set(keys)) != len(keys):
        raise _err(f"columns {list(cols)} names a column twice; each variable needs its own column.")
    return tuple(c.strip() if isinstance(c, str) else int(c) for c in cols)


def _col_name(c: str | int) -> str:
    return c if isinstance(c, str) else f"column {c + 1}"


# ----------------------------------------------------------------------------- CSV
def _csv_rows(name: str, content: bytes) -> list[tuple[int, list[str]]]:
    """Non-blank rows of a CSV file as ``(line number, stripped cells)``."""
    text = _text(name, content)
    reader = csv.reader(_io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    prev = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line, end = prev + 1, reader.line_num
            runs = f" (the row runs on to line {end})" if end > line else ""
            if "field larger than field limit" in str(exc):
                raise _err(
                    f"{name} line {line}: a cell is longer than {csv.field_size_limit()} characters, the csv "
                    f"module's field size limit{runs}; look for an unclosed quote on this line, or shorten the cell."
                ) from None
            raise _err(f"{name} line {line}: malformed CSV ({exc}){runs}; check the quotes on that line.") from None
        start, prev = prev + 1, reader.line_num
        cells = [c.strip() for c in row]
        if any(cells):
            rows.append((start, cells))
    return rows


def _csv_samples(
    name: str, content: bytes, columns: tuple[str | int, ...], header: bool
) -> tuple[tuple[list[Hashable], ...], tuple[str, ...]]:
    """Columns of a samples CSV and their names as written in the header."""
    rows = _csv_rows(name, content)
    wanted = ",".join(_col_name(c) for c in columns)
    if not rows:
        need = f"a header row naming the columns {wanted} and " if header else ""
        raise _err(f"{name} is empty; it needs {need}one row per sample.")
    if header:
        hline, head = rows[0]
        data = rows[1:]
        lower = [h.lower() for h in head]
        idx: list[int] = []
        missing: list[str] = []
        for c in columns:
            if isinstance(c, int):
                if c >= len(head):
                    raise _err(
                        f"{name} line {hline}: the header has {len(head)} columns, so there is no column {c + 1}; "
                        "choose existing columns."
                    )
                idx.append(c)
                continue
            hits = [i for i, h in enumerate(lower) if h == c.lower()]
            if len(hits) > 1:
                raise _err(
                    f"{name} line {hline}: the header names column {c!r} {len(hits)} times (columns "
                    f"{', '.join(str(i + 1) for i in hits)}); rename the duplicates."
                )
            if hits:
                idx.append(hits[0])
            else:
                missing.append(c)
        if missing:
            raise _err(
                f"{name} line {hline}: no column(s) {missing} in the header {head}; a samples file needs a header "
                f"with columns {wanted} (case-insensitive, other columns are ignored): rename the header cells, "
                "choose the columns with columns=(...), or pass header=False if the file has no header row."
            )
        found = tuple(head[i] for i in idx)
        width, where = len(head), "the header has"
        if not data:
            raise _err(f"{name} has a header (line {hline}) but no samples; add one row per sample.")
    else:
        data = rows
        width, where = len(rows[0][1]), f"line {rows[0][0]} has"
        idx = [c if isinstance(c, int) else k for k, c in enumerate(columns)]
        if max(idx) >= width:
            raise _err(
                f"{name} line {rows[0][0]}: {width} column(s), but the columns {wanted} are read by position "
                f"(no header row), which needs {max(idx) + 1}; add the missing columns or a header row."
            )
        found = tuple(_col_name(c) for c in columns)
    out: tuple[list[Hashable], ...] = tuple([] for _ in columns)
    for line, cells in data:
        if len(cells) != width:
            raise _err(
                f"{name} line {line}: {len(cells)} cell(s), but {where} {width} (a ragged row); give every row "
                "the same number of cells, and quote cells that contain commas."
            )
        for k, i in enumerate(idx):
            v = cells[i]
            if v == "":
                raise _err(
                    f"{name}: line {line} has no value for column {found[k]!r}; fill it in or drop that sample."
                )
            if len(v) <= 4 and v.lower() in _NAN_TEXT:  # (cells are stripped; _text refused NUL bytes)
                raise _err(
                    f"{name} line {line}: the value {v!r} of column {found[k]!r} {_label_problem(v)}; {_LABEL_FIX}."
                )
            out[k].append(_to_label(v))
    return out, found


# ----------------------------------------------------------------------------- JSON / npy samples
def _json_samples(name: str, data: Any, columns: tuple[str | int, ...]) -> tuple[tuple[list[Hashable], ...], tuple[str, ...]]:
    fix = (
        "write samples as an object of columns {\"x1\": [...], \"x2\": [...], \"y\": [...]} "
        "or a list of records [{\"x1\": 0, \"x2\": 1, \"y\": 1}, ...]"
    )
    if any(isinstance(c, int) for c in columns):
        raise _err(f"{name}: JSON samples are found by column name, not position; name the columns.")
    names = [str(c) for c in columns]
    if isinstance(data, dict):
        keys = {str(k).lower(): k for k in data}
        missing = [c for c in names if c.lower() not in keys]
        if missing:
            raise _err(f"{name}: no column(s) {missing} among the keys {sorted(map(str, data))}; {fix}.")
        found = tuple(str(keys[c.lower()]) for c in names)
        cols = [data[keys[c.lower()]] for c in names]
        for c, v in zip(found, cols):
            if not isinstance(v, list):
                raise _err(f"{name}: column {c!r} is a {type(v).__name__}, not a list of samples; {fix}.")
        lens = {len(v) for v in cols}
        if len(lens) != 1:
            raise _err(
                f"{name}: the columns have different lengths ({', '.join(f'{c}: {len(v)}' for c, v in zip(found, cols))}); "
                "give every column one value per sample."
            )
        rows_by_col = cols
    elif isinstance(data, list) and all(isinstance(r, dict) for r in data):
        found = tuple(names)
        rows_by_col = [[] for _ in names]
        for i, rec in enumerate(data):
            keys = {str(k).lower(): k for k in rec}
            for k, c in enumerate(names):
                if c.lower() not in keys:
                    raise _err(f"{name}: record {i + 1} has no key {c!r}; give every record all of {names}.")
                rows_by_col[k].append(rec[keys[c.lower()]])
    else:
        raise _err(f"{name}: the JSON value is a {type(data).__name__} of non-records, not samples; {fix}.")
    out: tuple[list[Hashable], ...] = tuple([] for _ in names)
    for k, (c, vals) in enumerate(zip(found, rows_by_col)):
        for i, v in enumerate(vals):
            if v is None or v == "":
                raise _err(f"{name}: sample {i + 1} has no value for column {c!r}; fill it in or drop that sample.")
            why = _label_problem(v)
            if why:
                raise _err(f"{name}: sample {i + 1} of column {c!r} ({json.dumps(v)[:20]}) {why}; {_LABEL_FIX}.")
            try:
                out[k].append(_hashable(v))
            except TypeError:
                raise _err(f"{name}: sample {i + 1} of column {c!r} is an object; labels are numbers, strings or lists.") from None
    if not out[0]:
        raise _err(f"{name} holds no samples; give at least one.")
    return out, found


def _npy_samples(name: str, arr: NDArray[Any], columns: tuple[str | int, ...]) -> tuple[list[Hashable], ...]:
    if arr.ndim != 2:
        raise _err(
            f"{name}: samples in a .npy file must be a 2-D array (one row per sample), got shape {arr.shape}; "
            "stack the columns, e.g. numpy.column_stack([x1, x2, y])."
        )
    if arr.dtype.kind not in "biufU":
        raise _err(f"{name} holds {arr.dtype} values; save integer, float or string labels.")
    idx = [c if isinstance(c, int) else k for k, c in enumerate(columns)]
    if max(idx) >= arr.shape[1]:
        raise _err(
            f"{name}: {arr.shape[1]} column(s), but the columns {','.join(_col_name(c) for c in columns)} are read "
            f"by position, which needs {max(idx) + 1}; add the missing columns."
        )
    if arr.shape[0] == 0:
        raise _err(f"{name} holds no samples (0 rows); give at least one.")
    out = tuple(arr[:, i].tolist() for i in idx)
    for i, col in zip(idx, out):
        for r, v in enumerate(col):
            why = _label_problem(v)
            if why:
                raise _err(f"{name}: row {r} (0-based), column {i + 1}: the value {v!r} {why}; {_LABEL_FIX}.")
    return out


def _samples(
    source: Any, columns: Any, header: bool, name: str | None
) -> tuple[str, tuple[list[Hashable], ...], tuple[str, ...]]:
    fname, content = _load(source, name)
    cols = _columns(columns, "columns")
    suffix = _suffix(fname, _SUFFIXES, "a samples file")
    if suffix == ".csv":
        data, found = _csv_samples(fname, content, cols, bool(header))
        return fname, data, found
    if suffix == ".json":
        data, found = _json_samples(fname, _json(fname, content), cols)
        return fname, data, found
    return fname, _npy_samples(fname, _npy(fname, content), cols), tuple(_col_name(c) for c in cols)


def read_samples(
    source: Source, columns: Sequence[str | int] | str, *, header: bool = True, name: str | None = None
) -> tuple[list[Hashable], ...]:
    """Read columns of samples (one sample per row) from a CSV, JSON or .npy file.

    Parameters
    ----------
    source : path or (name, bytes)
        The file, or its name and content (an upload).
    columns : sequence of str or int, or a comma-separated str
        The columns to read, in the order wanted: header names (matched case-insensitively, other
        columns are ignored) or 0-based positions. Without a header, the k-th name is the k-th column.
    header : bool, default True
        CSV only: the first non-blank row names the columns. ``False``: every row is a sample.
    name : str, optional
        File name for messages and to pick the format (default: the path's or the pair's name).

    Returns
    -------
    tuple of lists
        One list of labels per requested column (see the module docstring for the label rule).

    Raises
    ------
    InvalidDistributionError
        Missing file or column, empty file, a header without samples, a ragged row, an empty cell,
        malformed CSV or JSON, invalid UTF-8; the one-line message names the file, the line and the fix.

    Examples
    --------
    >>> read_samples(("d.csv", b"id,X1,label\\n1,07,a\\n2,7,b\\n"), ["x1", "label"])
    (['07', 7], ['a', 'b'])
    >>> read_samples(("d.csv", b"0,1\\n1,1\\n"), ["x1", "y"], header=False)
    ([0, 1], [1, 1])
    """
    return _samples(source, columns, header, name)[1]


# ----------------------------------------------------------------------------- tables
def _json_table_object(name: str, data: dict[str, Any]) -> tuple[Any, Any, Any]:
    """``(p, labels, names)`` of ``{"p": ..., "labels": ..., "names": ...}`` (validated)."""
    p = data["p"]
    if isinstance(p, list):
        _json_numbers(name, p, "key 'p', entry ")
    else:
        raise _err(
            f"{name}: the value of 'p' is a {type(p).__name__}, not a nested list p[x1][x2][y] of probabilities; "
            "write e.g. {\"p\": [[[0.25, 0], [0, 0.25]], [[0, 0.25], [0.25, 0]]]}."
        )
    names: Any = ("X1", "X2", "Y")
    if "names" in data:
        names = data["names"]
        if not (
            isinstance(names, list) and len(names) == 3 and all(isinstance(n, str) and n.strip() and "\x00" not in n for n in names)
            and len(set(names)) == 3
        ):
            raise _err(
                f"{name}: key 'names' must be a list of three distinct, non-empty variable names (sources, then target), "
                f"got {json.dumps(names)[:80]}; write e.g. \"names\": [\"X1\", \"X2\", \"Y\"], or drop the key."
            )
        names = tuple(names)
    labels: Any = None
    if data.get("labels") is not None:
        raw = data["labels"]
        if not (isinstance(raw, list) and len(raw) == 3 and all(v is None or isinstance(v, list) for v in raw)):
            raise _err(
                f"{name}: key 'labels' must be a list of three lists (the symbols of X1, X2 and Y; null for 0..n-1), "
                f"got {json.dumps(raw)[:80]}; write e.g. \"labels\": [[\"a\", \"b\"], null, [0, 1]], or drop the key."
            )
        for axis, v in zip(("X1", "X2", "Y"), raw):
            for k, x in enumerate(v or ()):
                why = _label_problem(x)
                if why:
                    raise _err(f"{name}: key 'labels', label {k + 1} of {axis} {why}; give every symbol a label.")
        try:
            labels = tuple(None if v is None else tuple(_hashable(x) for x in v) for v in raw)
        except TypeError:
            raise _err(
                f"{name}: key 'labels' holds an object; labels are numbers, strings or lists: replace the object."
            ) from None
    return p, labels, names


def read_distribution(
    source: Source,
    *,
    columns: Sequence[str | int] | str | None = None,
    header: bool = True,
    normalize: bool = False,
    name: str | None = None,
) -> Distribution:
    """Read a joint distribution ``p(x1, x2, y)`` from a table or from samples.

    Parameters
    ----------
    source : path or (name, bytes)
        ``.json``: a nested list ``p[x1][x2][y]``, an object ``{"p": ..., "names": [...],
        "labels": [...]}``, or samples (an object of columns or a list of records);
        ``.npy``: a 3-D array; ``.csv``: samples, one row per sample (see the module docstring).
    columns : sequence of three str or int, or "A,B,C", optional
        Samples: the columns holding X1, X2 and Y, in that order (default ``x1, x2, y``, matched
        case-insensitively); given names become the variable names.
    header : bool, default True
        CSV samples: the first non-blank row names the columns; ``False`` reads x1, x2, y by position.
    normalize : bool, default False
        Tables: divide by the total instead of rejecting a table that does not sum to 1.
    name : str, optional
        File name for messages and to pick the format (default: the path's or the pair's name).

    Returns
    -------
    Distribution
        Samples give the empirical distribution, with the labels recorded.

    Raises
    ------
    InvalidDistributionError
        One line naming the file, the line (CSV) and the fix.

    Examples
    --------
    >>> d = read_distribution(("and.csv", b"x1,x2,y\\n0,0,0\\n0,1,0\\n1,0,0\\n1,1,1\\n"))
    >>> d.shape, float(d.p[1, 1, 1])
    ((2, 2, 2), 0.25)
    >>> read_distribution(("l.csv", b"x1,x2,y\\n7,0,0\\n07,0,1\\n")).labels[0]
    (7, '07')
    """
    fname, content = _load(source, name)
    suffix = _suffix(fname, _SUFFIXES, "a distribution")
    cols = _DEFAULT_COLUMNS if columns is None else _columns(columns, "X1, X2 and Y columns")
    if len(cols) != 3:
        raise _err(f"columns must name three columns (X1, X2, Y), got {len(cols)}: {list(cols)}.")

    def samples(data: tuple[list[Hashable], ...], found: tuple[str, ...]) -> Distribution:
        names = ("X1", "X2", "Y") if columns is None or len({f.lower() for f in found}) != 3 else found
        try:
            return Distribution.from_samples(*data, names=names)  # type: ignore[arg-type]
        except InvalidDistributionError as exc:
            raise _err(f"{fname}: {exc}") from None

    if suffix == ".csv":
        return samples(*_csv_samples(fname, content, cols, bool(header)))
    if not header:
        raise _err(f"{fname} is a {suffix} file: header=False applies to .csv samples only; drop it.")
    labels: Any = None
    names: Any = ("X1", "X2", "Y")
    if suffix == ".json":
        data = _json(fname, content)
        if isinstance(data, dict):
            if "p" in data:
                p, labels, names = _json_table_object(fname, data)
            elif all(str(c).lower() in {str(k).lower() for k in data} for c in cols):
                return samples(*_json_samples(fname, data, cols))
            else:
                raise _err(
                    f"{fname}: a JSON object needs a key 'p' holding p[x1][x2][y] (or keys "
                    f"{', '.join(map(str, cols))} holding samples); found keys {sorted(map(str, data))[:10]}."
                )
        elif isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
            return samples(*_json_samples(fname, data, cols))
        elif isinstance(data, list):
            p = data
            _json_numbers(fname, p, "entry ")
        else:
            raise _err(
                f"{fname}: the JSON value is a {type(data).__name__}, not a nested list p[x1][x2][y]; write the "
                "joint table as e.g. [[[0.25, 0], [0, 0.25]], [[0, 0.25], [0.25, 0]]]."
            )
    else:
        p = _numeric(fname, _npy(fname, content))
    if columns is not None:
        raise _err(f"{fname} holds a table, not samples: columns=(...) applies to samples only; drop it.")
    try:
        return Distribution(p, labels=labels, names=names, normalize=normalize)
    except InvalidDistributionError as exc:
        raise _err(f"{fname}: {exc}") from None


def _json_numbers(name: str, data: Any, what: str) -> None:
    """Refuse a leaf of nested JSON lists that is not a number (a string, a bool, null, an object)."""
    stack: list[tuple[Any, tuple[int, ...]]] = [(data, ())]
    while stack:
        v, at = stack.pop()
        if isinstance(v, list):
            stack.extend((x, (*at, i)) for i, x in reversed(list(enumerate(v))))
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            where = "".join(f"[{i}]" for i in at)
            raise _err(
                f"{name}: {what}{where} is {json.dumps(v)[:30]}, not a number; write the probabilities as numbers "
                "(no quotes, no true/false/null)."
            )


def _check_finite(name: str, arr: NDArray[np.float64], what: str) -> NDArray[np.float64]:
    """Refuse NaN and infinite entries of a table read from ``name``, naming the first one."""
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise _err(
            f"{name}: {what} entry {list(idx) if idx else '(the only one)'} is {arr[idx]}; probabilities are finite "
            "numbers: fix or remove that entry."
        )
    return arr


def _csv_table(name: str, content: bytes) -> NDArray[np.float64]:
    rows = _csv_rows(name, content)
    if not rows:
        raise _err(f"{name} is empty; a table needs rows of numbers (one row per value of the first variable).")
    width = len(rows[0][1])
    out = []
    for line, cells in rows:
        if len(cells) != width:
            raise _err(
                f"{name} line {line}: {len(cells)} cell(s), but line {rows[0][0]} has {width} (a ragged row); "
                "give every row of the table the same number of numbers."
            )
        vals = []
        for k, c in enumerate(cells):
            try:
                x = float(c)
            except ValueError:
                what = "is empty" if c == "" else f"is {c[:20]!r}, not a number"
                raise _err(
                    f"{name} line {line}: cell {k + 1} {what}; a table holds numbers only (no header row)."
                ) from None
            if not np.isfinite(x):
                raise _err(
                    f"{name} line {line}: cell {k + 1} is {c[:20]!r}, not a finite number; a table holds "
                    "probabilities: fix or remove that cell."
                )
            vals.append(x)
        out.append(vals)
    return np.asarray(out, dtype=float)


def read_table(source: Source, *, ndim: int | None = None, name: str | None = None) -> NDArray[np.float64]:
    """Read a probability table (numbers only) as a float array.

    Parameters
    ----------
    source : path or (name, bytes)
        ``.json``: nested lists or ``{"p": nested lists}``; ``.npy``: a numeric array; ``.csv``:
        rows of numbers without a header (a 2-D table; one row or one column is 1-D with ``ndim=1``).
    ndim : int, optional
        Required number of dimensions.
    name : str, optional
        File name for messages and to pick the format.

    Returns
    -------
    numpy.ndarray of float64
        The numbers as written; the caller checks that they are probabilities
        (:class:`~pidlab.Marginals` and :class:`~pidlab.Distribution` do).

    Raises
    ------
    InvalidDistributionError
        Unreadable or non-numeric content, ragged rows, or the wrong number of dimensions.

    Examples
    --------
    >>> read_table(("p12.csv", b"0.25,0.25\\n0.5,0\\n"))
    array([[0.25, 0.25],
           [0.5 , 0.  ]])
    """
    fname, content = _load(source, name)
    suffix = _suffix(fname, _SUFFIXES, "a table")
    if suffix == ".csv":
        arr = _csv_table(fname, content)
        if ndim == 1 and 1 in arr.shape:
            arr = arr.ravel()
    elif suffix == ".npy":
        arr = _numeric(fname, _npy(fname, content))
    else:
        data = _json(fname, content)
        if isinstance(data, dict):
            if "p" not in data:
                raise _err(f"{fname}: a JSON object needs a key 'p' holding the table; found keys {sorted(map(str, data))[:10]}.")
            data = data["p"]
        if not isinstance(data, list):
            raise _err(f"{fname}: the table is a {type(data).__name__}, not a nested list of numbers; write e.g. [[0.5, 0], [0, 0.5]].")
        _json_numbers(fname, data, "entry ")
        try:
            arr = np.array(data, dtype=float)
        except (TypeError, ValueError) as exc:
            raise _err(
                f"{fname}: the table is not a rectangular array of numbers ({exc}); give every row the same length."
            ) from None
    if ndim is not None and arr.ndim != ndim:
        raise _err(f"{fname}: a table with {ndim} dimension(s) is needed, got shape {arr.shape}; check which file this is.")
    return _check_finite(fname, arr, "table")


def read_json(source: Source, *, name: str | None = None) -> Any:
    """Parse a JSON file (any value), with the one-line errors of this module.

    Examples
    --------
    >>> read_json(("i.json", b'{"availability": [[1, 2], [3]]}'))
    {'availability': [[1, 2], [3]]}
    """
    fname, content = _load(source, name)
    return _json(fname, content, "a JSON value")


# ----------------------------------------------------------------------------- three pairwise tables
def read_marginals(source: Source, *, name: str | None = None) -> Any:
    """The semi-supervised triple from one JSON object ``{"p_x1y": ..., "p_x2y": ..., "p_x1x2": ...}``
    (the format of :meth:`pidlab.Marginals.to_dict`; ``names`` optional), as a :class:`pidlab.Marginals`.

    Examples
    --------
    >>> m = read_marginals(("m.json", b'{"p_x1y": [[0.5, 0], [0.25, 0.25]], "p_x2y": [[0.5, 0], [0.25, 0.25]], '
    ...                     b'"p_x1x2": [[0.25, 0.25], [0.25, 0.25]]}'))
    >>> m.shape
    (2, 2, 2)
    """
    from pidlab._marginals import Marginals

    fname, content = _load(source, name)
    _suffix(fname, (".json",), "the three pairwise tables (keys p_x1y, p_x2y, p_x1x2)")
    data = _json(fname, content)
    keys = ("p_x1y", "p_x2y", "p_x1x2")
    if not isinstance(data, dict) or any(k not in data for k in keys):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise _err(
            f"{fname}: needs a JSON object with the keys {list(keys)} (found {found}); "
            "write the tables p(x1,y), p(x2,y), p(x1,x2) as nested lists under those keys."
        )
    kwargs: dict[str, Any] = {}
    if "names" in data:
        nm = data["names"]
        if not (isinstance(nm, list) and len(nm) == 3 and all(isinstance(n, str) and n.strip() and "\x00" not in n for n in nm)):
            raise _err(
                f"{fname}: key 'names' must be a list of three non-empty strings, got {json.dumps(nm)[:80]}; "
                "write e.g. \"names\": [\"X1\", \"X2\", \"Y\"], or drop the key."
            )
        kwargs["names"] = tuple(nm)
    try:
        return Marginals(data["p_x1y"], data["p_x2y"], data["p_x1x2"], **kwargs)
    except InvalidDistributionError as exc:
        raise type(exc)(f"{fname}: {exc}") from None


# ----------------------------------------------------------------------------- two vectors
def read_vectors(source: Source, *, name: str | None = None) -> tuple[list[float], list[float]]:
    """Read two probability vectors ``p`` and ``q`` (lengths may differ), e.g. for a coupling.

    ``.json``: ``{"p": [...], "q": [...]}`` or ``[[...], [...]]``; ``.csv``: two rows of numbers, or a
    header with columns ``p`` and ``q`` (case-insensitive) where the shorter column ends in empty
    cells; ``.npy``: a 2-row array.

    Examples
    --------
    >>> read_vectors(("v.csv", b"p,q\\n0.6,0.4\\n0.4,0.3\\n,0.3\\n"))
    ([0.6, 0.4], [0.4, 0.3, 0.3])
    """
    fname, content = _load(source, name)
    suffix = _suffix(fname, _SUFFIXES, "a pair of vectors")
    if suffix == ".json":
        data = _json(fname, content)
        if isinstance(data, dict):
            if "p" not in data or "q" not in data:
                raise _err(
                    f"{fname}: a JSON object needs keys 'p' and 'q' holding the two vectors (found keys "
                    f"{sorted(map(str, data))[:10]}); write {{\"p\": [0.6, 0.4], \"q\": [0.5, 0.5]}}."
                )
            vecs = [data["p"], data["q"]]
        elif isinstance(data, list) and len(data) == 2:
            vecs = list(data)
        else:
            got = f"a list of {len(data)} items" if isinstance(data, list) else f"a {type(data).__name__}"
            raise _err(
                f"{fname}: expected {{\"p\": [...], \"q\": [...]}} or a list of two vectors, got {got}; "
                "write {\"p\": [0.6, 0.4], \"q\": [0.5, 0.5]}."
            )
        out = []
        for key, v in zip("pq", vecs):
            if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                raise _err(
                    f"{fname}: vector {key} must be a list of numbers, got {json.dumps(v)[:60]}; write e.g. [0.6, 0.4]."
                )
            out.append(_check_finite(fname, np.asarray(v, dtype=float), f"vector {key}").tolist())
        return out[0], out[1]
    if suffix == ".npy":
        arr = _numeric(fname, _npy(fname, content))
        if arr.ndim != 2 or arr.shape[0] != 2:
            raise _err(
                f"{fname}: a .npy file of two vectors must have shape (2, n), got {arr.shape}; save "
                "numpy.stack([p, q]), or use .json for vectors of different lengths."
            )
        _check_finite(fname, arr, "the (2, n) array's")
        return arr[0].tolist(), arr[1].tolist()
    rows = _csv_rows(fname, content)
    if not rows:
        raise _err(f"{fname} is empty; it needs two vectors (two rows of numbers, or columns p,q).")

    def num(line: int, c: str) -> float:
        try:
            x = float(c)
        except ValueError:
            raise _err(f"{fname} line {line}: {c[:20]!r} is not a number; give probabilities such as 0.6.") from None
        if not np.isfinite(x):
            raise _err(f"{fname} line {line}: {c[:20]!r} is not a finite number; give probabilities such as 0.6.")
        return x

    head = [c.lower() for c in rows[0][1]]
    if "p" in head and "q" in head:
        if head.count("p") > 1 or head.count("q") > 1:
            raise _err(f"{fname} line {rows[0][0]}: the header names column p or q twice; rename the duplicate.")
        ip, iq = head.index("p"), head.index("q")
        cols: list[list[float]] = [[], []]
        ended: list[int | None] = [None, None]  # line of the first empty cell of each column
        for line, r in rows[1:]:
            if len(r) > len(head):
                raise _err(
                    f"{fname} line {line}: {len(r)} cells, but the header (line {rows[0][0]}) has {len(head)}; "
                    "remove the extra cells, or name their column in the header."
                )
            for k, ix in enumerate((ip, iq)):
                cell = r[ix] if ix < len(r) else ""
                if not cell:
                    ended[k] = ended[k] or line
                elif ended[k] is not None:
                    raise _err(
                        f"{fname} line {line}: column {'pq'[k]} has a value after an empty cell on line {ended[k]}; "
                        "only the shorter column may end in empty cells: fill the gap or remove that row."
                    )
                else:
                    cols[k].append(num(line, cell))
        return cols[0], cols[1]
    if len(rows) != 2:
        raise _err(
            f"{fname} has {len(rows)} non-empty rows; give exactly two rows of numbers (p, then q) "
            "or a header with columns p,q."
        )
    out2 = []
    for line, r in rows:
        if any(c == "" for c in r[: max(i for i, c in enumerate(r) if c) + 1]):
            raise _err(f"{fname} line {line} has an empty entry; give comma-separated numbers such as 0.6,0.4.")
        out2.append([num(line, c) for c in r if c])
    return out2[0], out2[1]
