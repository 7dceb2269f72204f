"""Helpers shared by the CLI subcommands."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

__all__ = ["emit", "to_jsonable"]


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
