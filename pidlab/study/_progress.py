"""The progress bar with ETA of studies on the command line: tqdm, drawn only on a terminal.

tqdm (well kept, pure Python) does the drawing, the rate and the ETA; this adapter turns
:func:`pidlab.study.run_study`'s ``progress(done, total)`` callback into tqdm updates. It draws
only when its stream is a terminal: piped or redirected stderr (logs, CI, tests) stays clean. A
resumed study's first report counts the items already stored; they are the bar's starting
point, not part of the rate.
"""

from __future__ import annotations

import sys
from typing import IO, Any


class ProgressLine:
    """``progress(done, total)`` callback for :func:`pidlab.study.run_study` drawing
    ``study:  42%|████▏     | 4200/10000 [00:12<00:17, 350.0 distributions/s]`` on a terminal."""

    def __init__(self, stream: IO[str] | None = None, *, interval: float = 0.2, label: str = "study",
                 force: bool = False, resumed: bool = False, unit: str = " distributions") -> None:
        self.stream = stream if stream is not None else sys.stderr
        try:
            tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            tty = False
        self.enabled = force or tty
        self.interval, self.label, self.resumed, self.unit = interval, label, resumed, unit
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            start = done if self.resumed else 0
            self.bar = tqdm(total=total, initial=start, file=self.stream, desc=self.label, unit=self.unit,
                            mininterval=self.interval, dynamic_ncols=True, leave=True)
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Finish the bar (a newline) if one was drawn."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
