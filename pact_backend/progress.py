"""Progress of a run on stderr: one line per stage (process executor) or contract (inline executor) showing
tasks done, records, bytes and elapsed seconds, drawn with tqdm (issue 3, item 7).

Executors talk to a ``Progress``: ``begin(key, label, total)`` opens a line, ``advance(key, steps, records,
bytes_)`` counts work done, ``end(key)`` closes the line and ``tick()`` refreshes the elapsed times of open
lines while the caller waits. ``progress_for(stream, quiet)`` gives a ``BarProgress`` only when the stream
is a terminal and ``quiet`` is off; otherwise a ``NoProgress`` that does nothing (so the executors never
need to check). Lines appear only ``delay`` seconds into a line's life, so short runs stay silent.
"""

from __future__ import annotations

import sys
from time import monotonic
from typing import TYPE_CHECKING, Any, Hashable, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

DEFAULT_DELAY = 1.0     # seconds before a line is first drawn
TICK_SECONDS = 0.5      # how often a waiting executor refreshes the elapsed times


def human_bytes(value: float) -> str:
    """``value`` bytes for humans: ``512 B``, ``3.4 KB``, ``1.2 GB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


class NoProgress:
    """Reports nothing (quiet runs, a stderr that is no terminal); ``active`` is False."""

    active = False
    interval: float | None = None

    def begin(self, key: Hashable, label: str, total: int | None = None, unit: str = "task") -> None:
        """Open the line ``key`` (no-op)."""

    def advance(self, key: Hashable, steps: int = 1, records: int = 0, bytes_: int | None = None) -> None:
        """Count ``steps`` done on line ``key`` (no-op)."""

    def end(self, key: Hashable) -> None:
        """Close the line ``key`` (no-op)."""

    def tick(self) -> None:
        """Refresh the open lines (no-op)."""

    def close(self) -> None:
        """Close every open line (no-op)."""


class _Line:
    """One open line: its tqdm bar and the records and bytes counted so far (bytes None: not measured)."""

    __slots__ = ("bar", "records", "bytes", "started", "unit")

    def __init__(self, bar: tqdm, unit: str):
        self.bar, self.records, self.bytes, self.started, self.unit = bar, 0, None, monotonic(), unit

    def postfix(self) -> str:
        parts = [] if self.unit == "record" else [f"{self.records:,} records"]
        parts += [] if self.bytes is None else [human_bytes(self.bytes)]
        return ", ".join(parts)


class BarProgress(NoProgress):
    """tqdm lines on ``stream``: ``label: n/total tasks [elapsed] 12,345 records, 3.4 MB`` per key.

    ``delay``: seconds a line waits before it is first drawn (0 draws at once). Lines of concurrent stages
    stack; a finished line stays on screen. Every method is to be called from one thread.
    """

    active = True
    interval = TICK_SECONDS

    def __init__(self, stream: TextIO, delay: float = DEFAULT_DELAY):
        self.stream, self.delay = stream, delay
        self.lines: dict[Hashable, _Line] = {}

    def begin(self, key: Hashable, label: str, total: int | None = None, unit: str = "task") -> None:
        from tqdm import tqdm  # imported when a bar is drawn: quiet runs skip its import (about 20 ms)

        counter = "{n_fmt}/{total_fmt} " + unit + "s" if total is not None else "{n_fmt} " + unit + "s"
        bar = tqdm(total=total, desc=label, file=self.stream, delay=self.delay, leave=True, unit=unit,
                   dynamic_ncols=False, ncols=100, mininterval=0.2,
                   bar_format="{desc}: " + counter + " [{elapsed}]{postfix}")
        self.lines[key] = _Line(bar, unit)

    def advance(self, key: Hashable, steps: int = 1, records: int = 0, bytes_: int | None = None) -> None:
        line = self.lines.get(key)
        if line is None:
            return
        line.records += records
        if bytes_ is not None:
            line.bytes = (line.bytes or 0) + bytes_
        line.bar.set_postfix_str(line.postfix(), refresh=False)
        line.bar.update(steps)

    def end(self, key: Hashable) -> None:
        line = self.lines.pop(key, None)
        if line is not None:
            line.bar.close()

    def tick(self) -> None:
        now = monotonic()
        for line in self.lines.values():
            if now >= line.started + self.delay:
                line.bar.refresh()

    def close(self) -> None:
        for key in list(self.lines):
            self.end(key)


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an interactive terminal (False when it has no working ``isatty``)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress_for(stream: TextIO | None = None, quiet: bool = False, delay: float | None = None) -> NoProgress:
    """The progress reporter of a run: a ``BarProgress`` on ``stream`` (default: ``sys.stderr``) drawing lines
    after ``delay`` seconds (default DEFAULT_DELAY) when the stream is a terminal and ``quiet`` is False, else
    a ``NoProgress``."""
    stream = stream if stream is not None else sys.stderr
    if quiet or not is_terminal(stream):
        return NoProgress()
    return BarProgress(stream, DEFAULT_DELAY if delay is None else delay)
