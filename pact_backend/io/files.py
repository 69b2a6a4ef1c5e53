"""File plumbing of the PACT sources and sinks: format errors with file and line, byte-range splits of line
files, and atomic output files (temp file in the target directory, renamed on commit)."""

from __future__ import annotations

import os
import tempfile
from typing import IO, Any, Iterator

Split = tuple[str, int, int]  # (file, first byte, end byte) of a byte range of a line file


class FormatError(ValueError):
    """Input a format cannot read: ``path`` and ``line`` (1-based; None when a split read only knows a byte
    ``offset``) say where (DESIGN.md, "Malformed input data fails with file and line")."""

    def __init__(self, message: str, path: str, line: int | None = None, offset: int | None = None):
        where = f"{path}:{line}" if line is not None else f"{path} (byte {offset})" if offset is not None else path
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.offset = path, line, offset


def file_size(path: str) -> int | None:
    """Bytes of ``path`` (None when it does not exist yet)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def byte_splits(path: str, n: int, align: int = 1) -> list[Split]:
    """Up to ``n`` byte ranges covering ``path``, each starting at a multiple of ``align`` bytes."""
    size = os.path.getsize(path)
    units = size // align
    count = max(1, min(n, units))
    bounds = [units * i // count * align for i in range(count)] + [size]
    return [(path, lo, hi) for lo, hi in zip(bounds, bounds[1:])]


def range_lines(path: str, lo: int, hi: int) -> Iterator[tuple[int, bytes]]:
    """(byte offset, raw line) of every line that starts in ``[lo, hi)`` of ``path`` (Hadoop's line splits: a
    line belongs to the split it starts in, so a reader skips the partial line it lands in)."""
    with open(path, "rb") as stream:
        pos = lo
        if lo > 0:
            stream.seek(lo - 1)
            pos = lo - 1 + len(stream.readline())
        for line in stream:
            if pos >= hi:
                return
            yield pos, line
            pos += len(line)


class AtomicOutput:
    """An output file that appears at ``path`` only on ``commit()`` (``abort()`` deletes the temp file).

    ``stream`` is a binary (``binary=True``) or text stream (``encoding``, newline '\\n'). Raises FileNotFoundError
    when the target directory does not exist.
    """

    def __init__(self, path: str, binary: bool = False, encoding: str = "utf-8", newline: str | None = "\n"):
        self.path = os.path.abspath(path)
        directory, name = os.path.split(self.path)
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"output directory does not exist: {directory}")
        fd, self.temp_path = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
        mode = "wb" if binary else "w"
        self.stream: IO[Any] = (os.fdopen(fd, mode, buffering=1 << 20) if binary else
                                os.fdopen(fd, mode, encoding=encoding, newline=newline, buffering=1 << 20))
        self.done = False

    def commit(self) -> None:
        """Flush and rename the temp file onto ``path``."""
        if self.done:
            return
        self.done = True
        self.stream.close()
        os.chmod(self.temp_path, 0o644)
        os.replace(self.temp_path, self.path)

    def abort(self) -> None:
        """Close and delete the temp file; ``path`` stays as it was."""
        if self.done:
            return
        self.done = True
        self.stream.close()
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass


class RecordWriter:
    """A sink writer over an AtomicOutput: ``write(record)`` through ``encode(stream, record)``, then
    ``commit()`` (after ``finish(stream)``, e.g. a closing bracket) or ``abort()``."""

    def __init__(self, output: AtomicOutput, encode: Any, finish: Any = None):
        self.output, self.encode, self.finish = output, encode, finish

    def write(self, record: Any) -> None:
        self.encode(self.output.stream, record)

    def commit(self) -> None:
        if self.finish is not None:
            self.finish(self.output.stream)
        self.output.commit()

    def abort(self) -> None:
        self.output.abort()
