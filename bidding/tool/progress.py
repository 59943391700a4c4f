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
    def __init__(self, label: str, total: int, *, stream=None, enabled: bool = True):
        self.label, self.total, self.done = label, max(total, 0), 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._drawn_at = 0.0

    def advance(self, n: int) -> None:
        self.done += n
        if self.enabled and time.monotonic() - self._drawn_at >= _INTERVAL:
            self._draw()

    def finish(self) -> None:
        if self.enabled:
            self.done = max(self.done, self.total)
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self._drawn_at = time.monotonic()
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(fraction * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction * 100:5.1f}% {self.done / (1 << 20):.1f}/{self.total / (1 << 20):.1f} MiB")
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
