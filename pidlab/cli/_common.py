"""Helpers shared by the CLI subcommands."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from pidlab.exceptions import InvalidDistributionError

__all__ = ["emit", "to_jsonable", "existing_file", "read_json", "read_npy", "read_samples_csv", "parse_symbol"]


def to_jsonable(obj: Any) -> Any:
    """Convert results, numpy values and tuples into JSON-ready Python objects."""
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None if np.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def emit(obj: Any, fmt: str, text: str | None = None) -> None:
    """Print ``obj`` as JSON (``fmt == "json"``) or ``text`` / ``str(obj)`` otherwise."""
    if fmt == "json":
        print(json.dumps(to_jsonable(obj), indent=2))
    else:
        print(text if text is not None else str(obj))


def existing_file(path: str) -> Path:
    """``path`` as a Path, or an error naming it when it does not exist."""
    f = Path(path)
    if not f.exists():
        raise InvalidDistributionError(f"file {path!r} does not exist; check the path.")
    return f


def read_json(path: str) -> Any:
    """Parse a JSON file, with a one-line error naming the file when it is not JSON."""
    try:
        return json.loads(existing_file(path).read_text())
    except json.JSONDecodeError as exc:
        raise InvalidDistributionError(f"{path} is not valid JSON ({exc}).") from None


def read_npy(path: str) -> np.ndarray:
    """Load a plain numeric .npy array (no pickles)."""
    try:
        return np.load(existing_file(path), allow_pickle=False)
    except ValueError as exc:
        raise InvalidDistributionError(f"{path} is not a plain numeric .npy array ({exc}).") from None


def parse_symbol(v: str) -> Any:
    """A CSV cell as an int when it is one, else the stripped string (a symbol label)."""
    v = v.strip()
    try:
        return int(v)
    except ValueError:
        return v


def read_samples_csv(path: str, cols: tuple[str, ...]) -> tuple[list[Any], ...]:
    """Columns ``cols`` of a samples CSV with a header (one row per sample), as lists of symbols."""
    f = existing_file(path)
    with f.open(newline="") as fh:
        reader = csv.DictReader(fh)
        found = [c.strip() for c in (reader.fieldnames or [])]
        if not all(c in found for c in cols):
            raise InvalidDistributionError(
                f"{path}: a samples CSV needs a header with columns {','.join(cols)} (found {found})."
            )
        rows = [{k.strip(): v for k, v in r.items() if k is not None} for r in reader]
    if not rows:
        raise InvalidDistributionError(f"{path} has a header but no samples.")
    out: tuple[list[Any], ...] = tuple([] for _ in cols)
    for i, r in enumerate(rows, start=2):
        for j, c in enumerate(cols):
            v = r.get(c)
            if v is None or str(v).strip() == "":
                raise InvalidDistributionError(f"{path}: line {i} has no value in column {c!r}.")
            out[j].append(parse_symbol(str(v)))
    return out
