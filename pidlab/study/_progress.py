"""A one-line progress display with ETA for studies on the command line (no dependency).

It writes only when its stream is a terminal: piped or redirected stderr (logs, CI, tests) stays
clean. The line is redrawn at most every ``interval`` seconds and once at the end.
"""

from __future__ import annotations

import sys
import time
from typing import IO


def _hms(seconds: float) -> str:
    s = int(round(max(0.0, seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressLine:
    """``progress(done, total)`` callback for :func:`pidlab.study.run_study` drawing
    ``study  42% 4200/10000 distributions  elapsed 00:12  ETA 00:17`` on a terminal."""

    def __init__(self, stream: IO[str] | None = None, *, interval: float = 0.2, label: str = "study",
                 force: bool = False, resumed: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        try:
            tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            tty = False
        self.enabled = force or tty
        self.interval, self.label = interval, label
        self.t0 = time.monotonic()
        # the rate is measured from (time, done): the start, or the first report of a resumed study (whose
        # first report, made before any work, counts the items already stored)
        self.first: tuple[float, int] | None = None if resumed else (self.t0, 0)
        self.last = 0.0
        self.drawn = False

    def line(self, done: int, total: int, now: float) -> str:
        frac = done / total if total else 1.0
        text = f"{self.label} {100 * frac:3.0f}% {done}/{total} distributions  elapsed {_hms(now - self.t0)}"
        if self.first is not None and done < total:
            t1, d1 = self.first
            rate = (done - d1) / (now - t1) if now > t1 and done > d1 else 0.0
            text += f"  ETA {_hms((total - done) / rate)}" if rate > 0 else "  ETA --:--"
        return text

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.first is None:
            self.first = (now, done)
        if not self.enabled or (done < total and now - self.last < self.interval):
            return
        self.last = now
        self.stream.write("\r" + self.line(done, total, now) + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """End the line (a newline) if anything was drawn."""
        if self.enabled and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
