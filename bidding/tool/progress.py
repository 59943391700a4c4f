"""A plain text progress bar on stderr, for sealing, opening and verifying large files.

Shown when stderr is a terminal and the file is large enough to take a while, or always with
--progress (then also for small files and when stderr is redirected, e.g. into a log)."""

from __future__ import annotations

import sys
import time

LARGE = 8 << 20  # below this a command finishes before a bar is worth drawing
_WIDTH = 30
_INTERVAL = 0.1  # seconds between redraws


class ProgressBar:
    """`done` may start above 0 (an upload resumed), and `advance` may go back (a chunk that is
    sent again). With `rate`, the bar also shows the speed of this run's bytes."""

    def __init__(self, label: str, total: int, *, stream=None, enabled: bool = True, done: int = 0, rate: bool = False):
        self.label, self.total, self.done = label, max(total, 0), done
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.rate = rate
        self._drawn_at = 0.0
        self._finished = False
        self._started, self._started_done = time.monotonic(), done

    def advance(self, n: int) -> None:
        self.done = max(self.done + n, 0)
        if self.enabled and time.monotonic() - self._drawn_at >= _INTERVAL:
            self._draw()

    def finish(self) -> None:
        if self.enabled and not self._finished:
            self._finished = True
            self.done = max(self.done, self.total)
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def stop(self) -> None:
        """End the bar's line where it stands (an interrupted upload)."""
        if self.enabled and self._drawn_at and not self._finished:
            self._finished = True
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self._drawn_at = time.monotonic()
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(fraction * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        unit, factor = ("MiB", 1 << 20) if self.total >= 1 << 20 else ("KiB", 1 << 10)
        line = f"\r{self.label} [{bar}] {fraction * 100:5.1f}% {self.done / factor:.1f}/{self.total / factor:.1f} {unit}"
        if self.rate:
            elapsed = max(self._drawn_at - self._started, 1e-6)
            line += f"  {(self.done - self._started_done) / elapsed / factor:.1f} {unit}/s "
        self.stream.write(line)
        self.stream.flush()


def wanted(forced: bool, total: int) -> bool:
    if forced:
        return True
    try:
        return sys.stderr.isatty() and total >= LARGE
    except (AttributeError, ValueError):
        return False


class ProgressReader:
    """A binary file that advances a bar as it is read; seeking is passed through."""

    def __init__(self, f, bar: ProgressBar):
        self._f, self._bar = f, bar

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._bar.advance(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def seekable(self) -> bool:
        return self._f.seekable()
