"""A crash-safe results store for studies: one SQLite database (WAL mode) in a directory.

Every finished chunk is committed in its own transaction, so a study killed at any moment
(SIGKILL, power loss with ``synchronous=FULL``) keeps every chunk it finished and none it did
not: SQLite either commits the whole chunk or rolls it back when the database is next opened.
Each chunk also carries the SHA-256 of its encoded bytes; a chunk whose bytes no longer match
(a damaged file) is detected when the store is opened, dropped and recomputed.

The store records the study's spec (family, measures, solvers, batch layout) and its chunking;
resuming with another spec is refused. Reading a complete store back gives the same table, bit
for bit, as a run that never stopped (floats are stored as raw IEEE bytes).

Layout of ``DIR/study.sqlite``: ``meta(key, value)`` (format, spec, chunk size, ...),
``chunks(idx, start, stop, nrows, sha256, data)`` and ``log(seq, run, idx, t)``: one line per
chunk computation committed (a resumed study that recomputed nothing adds one line per chunk it
was missing; the tests count them).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pidlab.study._families import InvalidStudyError

__all__ = ["StudyStore", "STORE_FILE", "check_store_dir", "read_store", "store_spec"]

STORE_FILE = "study.sqlite"
FORMAT = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (idx INTEGER PRIMARY KEY, start INTEGER NOT NULL, stop INTEGER NOT NULL,
                                   nrows INTEGER NOT NULL, sha256 TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY AUTOINCREMENT, run INTEGER NOT NULL, idx INTEGER NOT NULL,
                                t REAL NOT NULL);
"""


def _canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True, default=str)


def store_spec(spec: Mapping[str, Any], family: Any) -> dict[str, Any]:
    """The identity of a study as the store records it: its spec, plus a content fingerprint for
    user-supplied arrays (whose spec names only their count and shapes)."""
    from pidlab.study._families import Arrays

    out = json.loads(_canon(dict(spec)))
    if isinstance(family, Arrays):
        h = hashlib.sha256()
        for a in family.arrays:
            arr = np.ascontiguousarray(a, dtype=np.float64)
            h.update(str(arr.shape).encode())
            h.update(arr.tobytes())
        h.update(_canon(list(family.labels) if family.labels is not None else None).encode())
        out["arrays_sha256"] = h.hexdigest()
    return out


# --------------------------------------------------------------------------- chunk encoding
def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def encode_chunk(chunk: Mapping[str, np.ndarray]) -> bytes:
    """Bytes of one chunk: a JSON header (object columns inline) followed by the raw numeric columns."""
    cols: list[dict[str, Any]] = []
    bufs: list[bytes] = []
    for name, arr in chunk.items():
        if arr.dtype == object:
            cols.append({"name": name, "kind": "json", "values": [_plain(v) for v in arr.tolist()]})
        else:
            b = np.ascontiguousarray(arr).tobytes()
            cols.append({"name": name, "kind": "raw", "dtype": arr.dtype.str, "n": int(arr.shape[0]), "nbytes": len(b)})
            bufs.append(b)
    head = json.dumps({"columns": cols}, allow_nan=True).encode()
    return len(head).to_bytes(8, "little") + head + b"".join(bufs)


def decode_chunk(data: bytes) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode_chunk` (raises ValueError/KeyError on malformed bytes)."""
    hl = int.from_bytes(data[:8], "little")
    head = json.loads(data[8:8 + hl].decode())
    pos = 8 + hl
    out: dict[str, np.ndarray] = {}
    for c in head["columns"]:
        if c["kind"] == "json":
            arr = np.empty(len(c["values"]), dtype=object)
            arr[:] = c["values"]
        else:
            nb = int(c["nbytes"])
            if pos + nb > len(data):
                raise ValueError("truncated column")
            arr = np.frombuffer(data[pos:pos + nb], dtype=np.dtype(c["dtype"])).copy()
            if arr.shape[0] != c["n"]:
                raise ValueError("column length mismatch")
            pos += nb
        out[c["name"]] = arr
    if pos != len(data):
        raise ValueError("trailing bytes")
    return out


# --------------------------------------------------------------------------- checks (before any work)
def _store_file(directory: str | Path) -> Path:
    return Path(directory) / STORE_FILE


def _read_meta(path: Path) -> dict[str, str]:
    """The meta table of an existing store, read-only; InvalidStudyError when it is not one."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
                return {}  # an empty database: a study killed while it created its store
            return dict(con.execute("SELECT key, value FROM meta").fetchall())
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise InvalidStudyError(
            f"{str(path)!r} is not a readable pidlab study store ({exc}); move it away or choose another --out directory."
        ) from None


def _describe_spec(spec: Mapping[str, Any]) -> str:
    fam = dict(spec.get("family", {}))
    return f"family {fam}, measures {spec.get('measures')}"


@dataclass(frozen=True)
class StoreState:
    """What :func:`check_store_dir` found: the directory, and the chunk size of an existing store."""

    directory: Path
    exists: bool
    chunk_size: int | None = None


def probe_writable(directory: Path, file: Path | None = None) -> None:
    """Create and delete a temporary file in ``directory`` and open ``file`` for appending if it
    exists; raises the ``OSError`` that a write would. A real probe: permission bits do not tell
    for root or read-only file systems. Callers turn the error into their own message."""
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".pidlab-write-test-"):
        pass
    if file is not None and file.exists():
        with file.open("ab"):
            pass


def check_store_dir(directory: str | Path, spec: Mapping[str, Any] | None, resume: bool) -> StoreState:
    """Check, before any work, that a study can be stored in (or resumed from) ``directory``.

    Raises :class:`InvalidStudyError` when the path is a file, the directory cannot be created or
    written, it holds a store of another study (``spec`` differs), it holds this study's store
    and ``resume`` is false, or ``resume`` is true and there is no store. ``spec=None`` skips the
    comparison (the CLI's early check, before the spec is known).
    """
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise InvalidStudyError(f"--out {str(d)!r} is a file; a study store is a directory: give a directory path "
                                "(or a .csv/.json file name to write the table once at the end).")
    f = _store_file(d)
    if resume and not f.exists():
        raise InvalidStudyError(
            f"cannot resume: {str(d)!r} holds no study store ({STORE_FILE} missing); run the study without --resume "
            "to start it there."
        )
    if not d.exists():
        try:
            d.mkdir(parents=True)
        except OSError as exc:
            raise InvalidStudyError(f"cannot create the study directory {str(d)!r}: {exc.strerror or exc}; choose a "
                                    "writable path.") from None
    try:
        probe_writable(d, f)
    except OSError as exc:
        raise InvalidStudyError(f"cannot write the study store in {str(d)!r}: {exc.strerror or exc}; choose a writable "
                                "directory.") from None
    if not f.exists():
        return StoreState(d, False)
    meta = _read_meta(f)
    if not meta:  # killed before its spec was committed: nothing was computed, start afresh
        if resume:
            raise InvalidStudyError(f"cannot resume: the store in {str(d)!r} was never initialised (the study stopped "
                                    "before its first chunk); run the study without --resume.")
        return StoreState(d, False)
    if meta.get("format") != str(FORMAT) or "spec" not in meta:
        raise InvalidStudyError(f"{str(f)!r} is not a pidlab study store of format {FORMAT}; move it away or choose "
                                "another directory.")
    stored = json.loads(meta["spec"])
    if spec is not None and _canon(stored) != _canon(dict(spec)):
        diff = "; ".join(f"{k}: stored {stored.get(k)!r}, now {spec.get(k)!r}"
                         for k in sorted(set(stored) | set(spec)) if _canon(stored.get(k)) != _canon(spec.get(k)))
        raise InvalidStudyError(
            f"{str(d)!r} holds the store of another study (it differs in {diff}). Choose another --out directory, "
            "or rerun exactly the stored study to resume it."
        )
    if not resume:
        raise InvalidStudyError(
            f"{str(d)!r} already holds a store of {'this' if spec is not None else 'a'} study "
            f"({_describe_spec(stored)}); pass --resume (resume=True) to continue it, or choose another directory."
        )
    return StoreState(d, True, int(meta["chunk_size"]))


# --------------------------------------------------------------------------- the store
class StudyStore:
    """An open study store (one writer: the process running the study)."""

    def __init__(self, directory: Path, con: sqlite3.Connection, meta: dict[str, str], run: int,
                 lock: Any = None) -> None:
        self.directory, self.con, self.meta, self.run, self.lock = directory, con, meta, run, lock
        #: Chunks dropped when opened because their bytes did not match their checksum.
        self.dropped: list[int] = []

    @classmethod
    def open(cls, state: StoreState, spec: Mapping[str, Any], *, chunk_size: int, n_tasks: int, n_items: int,
             family_name: str, param_names: tuple[str, ...], target: str) -> StudyStore:
        path = _store_file(state.directory)
        lock = _lock(state.directory)
        try:
            con = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.executescript(_SCHEMA)
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            if not meta:
                meta = {"format": str(FORMAT), "spec": _canon(dict(spec)), "chunk_size": str(chunk_size),
                        "n_tasks": str(n_tasks), "n_items": str(n_items), "family": family_name,
                        "param_names": json.dumps(list(param_names)), "target": target,
                        "created": str(time.time())}
                con.execute("BEGIN IMMEDIATE")
                con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items()))
                con.execute("COMMIT")
            elif _canon(json.loads(meta["spec"])) != _canon(dict(spec)) or int(meta["chunk_size"]) != chunk_size:
                con.close()
                _unlock(lock)
                raise InvalidStudyError(f"the store in {str(state.directory)!r} changed while this study started; "
                                        "rerun it.")
            run = int(con.execute("SELECT COALESCE(MAX(run), 0) + 1 FROM log").fetchone()[0])
        except sqlite3.Error as exc:
            _unlock(lock)
            raise InvalidStudyError(f"cannot open the study store {str(path)!r}: {exc}; move it away or choose another "
                                    "directory.") from None
        return cls(state.directory, con, meta, run, lock)

    def finished(self) -> dict[int, dict[str, np.ndarray]]:
        """The finished chunks, verified (checksum and decoding); damaged ones are deleted (listed
        in :attr:`dropped`) so that they are recomputed."""
        out: dict[int, dict[str, np.ndarray]] = {}
        n_tasks = int(self.meta["n_tasks"])
        for idx, nrows, digest, data in self.con.execute("SELECT idx, nrows, sha256, CAST(data AS BLOB) FROM chunks ORDER BY idx"):
            try:
                if not (0 <= idx < n_tasks) or hashlib.sha256(data).hexdigest() != digest:
                    raise ValueError("checksum")
                chunk = decode_chunk(bytes(data))
                if any(a.shape[0] != nrows for a in chunk.values()):
                    raise ValueError("rows")
                out[int(idx)] = chunk
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                self.dropped.append(int(idx))
        if self.dropped:
            self.con.execute("BEGIN IMMEDIATE")
            self.con.executemany("DELETE FROM chunks WHERE idx = ?", [(i,) for i in self.dropped])
            self.con.execute("COMMIT")
        return out

    def append(self, idx: int, start: int, stop: int, chunk: Mapping[str, np.ndarray]) -> None:
        """Commit one finished chunk (all or nothing)."""
        data = encode_chunk(chunk)
        nrows = int(next(iter(chunk.values())).shape[0]) if chunk else 0
        try:
            self.con.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise InvalidStudyError(f"cannot write chunk {idx} to the study store in {str(self.directory)!r}: {exc}; "
                                    "the chunks finished so far are kept: free the disk or fix the directory, then "
                                    "resume.") from None
        try:
            self.con.execute("INSERT INTO chunks (idx, start, stop, nrows, sha256, data) VALUES (?, ?, ?, ?, ?, ?)",
                             (idx, start, stop, nrows, hashlib.sha256(data).hexdigest(), sqlite3.Binary(data)))
            self.con.execute("INSERT INTO log (run, idx, t) VALUES (?, ?, ?)", (self.run, idx, time.time()))
            self.con.execute("COMMIT")
        except BaseException as exc:
            self.con.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise InvalidStudyError(f"cannot write chunk {idx} to the study store in {str(self.directory)!r}: "
                                        f"{exc}; the chunks finished so far are kept: fix the cause, then resume.") \
                    from None
            raise

    def close(self) -> None:
        self.con.close()
        _unlock(self.lock)


def _lock(directory: Path) -> Any:
    """An exclusive lock on the store for this process (released by the OS if it dies); None where
    ``fcntl`` is missing (Windows: one writer is then the user's responsibility)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    fh = (directory / "study.lock").open("a+")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.seek(0)
        who = fh.read().strip()
        fh.close()
        raise InvalidStudyError(
            f"another process{' (' + who + ')' if who else ''} is running the study stored in {str(directory)!r}; "
            "wait for it to finish (or stop it), then resume."
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}")
    fh.flush()
    return fh


def _unlock(fh: Any) -> None:
    if fh is not None:
        fh.close()  # closing the file releases the flock


def read_store(directory: str | Path) -> Any:
    """The :class:`~pidlab.study.StudyResult` of a complete store (bit-identical to the run's table).

    Raises :class:`InvalidStudyError` when there is no store, or when chunks are missing or
    damaged (resume the study to compute them).
    """
    from pidlab.study._result import StudyResult
    from pidlab.study._runner import _assemble, _notes

    d = Path(directory)
    f = _store_file(d)
    if not f.exists():
        raise InvalidStudyError(f"{str(d)!r} holds no study store ({STORE_FILE} missing).")
    meta = _read_meta(f)
    if meta.get("format") != str(FORMAT):
        raise InvalidStudyError(f"{str(f)!r} is not a pidlab study store of format {FORMAT}.")
    try:
        con = sqlite3.connect(f"file:{f}?mode=ro", uri=True, timeout=30)
        try:
            rows = con.execute("SELECT idx, sha256, CAST(data AS BLOB) FROM chunks ORDER BY idx").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise InvalidStudyError(f"cannot read the study store {str(f)!r}: {exc}; resume the study or move the store "
                                "away.") from None
    n_tasks = int(meta["n_tasks"])
    chunks = []
    bad = []
    for idx, digest, data in rows:
        try:
            if hashlib.sha256(data).hexdigest() != digest:
                raise ValueError("checksum")
            chunks.append((idx, decode_chunk(bytes(data))))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            bad.append(idx)
    have = {i for i, _ in chunks}
    missing = [i for i in range(n_tasks) if i not in have]
    if missing or bad:
        raise InvalidStudyError(
            f"the study store in {str(d)!r} is incomplete: {len(missing)} of {n_tasks} chunk(s) missing or damaged "
            f"(first: {missing[0]}); resume the study (pidlab study ... --out DIR --resume) to compute them."
        )
    spec = json.loads(meta["spec"])
    spec.pop("arrays_sha256", None)
    cols = _assemble([c for _, c in chunks], meta["family"], tuple(json.loads(meta["param_names"])), meta["target"])
    return StudyResult(spec, cols, meta["target"], f"store {str(d)!r}", n_tasks, int(meta["chunk_size"]), 0.0,
                       _notes(cols))


def store_log(directory: str | Path) -> list[tuple[int, int]]:
    """(run, chunk index) of every chunk computation committed to the store, in order."""
    f = _store_file(directory)
    con = sqlite3.connect(f"file:{f}?mode=ro", uri=True, timeout=30)
    try:
        return [(int(r), int(i)) for r, i in con.execute("SELECT run, idx FROM log ORDER BY seq")]
    finally:
        con.close()
