"""Input paths: the files a path names (a file, a directory of part files, a glob), opening them (compressed,
local or remote through fsspec), and the byte and line arithmetic of reading a file in ranges.

A path is a local file, a local directory (its visible files, sorted by name, as the original Stratosphere read
a directory of part files; names starting with ``.`` or ``_`` are skipped, e.g. ``_SUCCESS``), a glob pattern
(``logs/*.csv``, ``**`` crossing directories), or a URI with a scheme other than ``file`` that goes through
fsspec when it is installed. ``.gz``, ``.bz2`` and ``.xz`` files are decompressed transparently. Functions that
look at inputs raise ``InputNotFoundError`` naming the path when it names no file.
"""

from __future__ import annotations

import bz2
import codecs
import glob
import gzip
import io
import lzma
import os
from typing import IO, Any, Callable, Iterator

from pact_backend.errors import InputNotFoundError, UserError

COMPRESSION: dict[str, Callable[..., IO[bytes]]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_MAGIC = frozenset("*?[")


def scheme_of(path: str) -> str | None:
    """The URI scheme of ``path`` ('hdfs', 's3', ...) or None for a local path (``file://`` counts as local)."""
    head, sep, _ = path.partition("://")
    if not sep or not head.isidentifier() or head == "file":
        return None
    return head


def local_path(path: str) -> str:
    """``path`` without a leading ``file://``."""
    return path[len("file://"):] if path.startswith("file://") else path


def absolute(path: str) -> str:
    """``path`` made absolute against this process's working directory when it is a relative local path (a
    trailing '/' is kept: it names a directory of part files); URLs are returned unchanged. Plans are built
    with absolute paths, so tasks never depend on a worker's working directory."""
    if scheme_of(path) or os.path.isabs(local_path(path)):
        return path
    resolved = os.path.abspath(local_path(path))
    return resolved + "/" if path.endswith("/") and resolved != "/" else resolved


def with_absolute_path(io_format: Any) -> Any:
    """``io_format`` with its ``path`` attribute (if it has a str one) made ``absolute``; returns it."""
    path = getattr(io_format, "path", None)
    if isinstance(path, str):
        io_format.path = absolute(path)
    return io_format


def is_pattern(path: str) -> bool:
    """Whether ``path`` is a glob pattern (holds ``*``, ``?`` or ``[``) rather than the name of a file."""
    return not _MAGIC.isdisjoint(path) and not os.path.exists(local_path(path))


def filesystem(path: str) -> tuple[Any, str]:
    """(the fsspec file system of a URI, the path within it); UserError naming the path without fsspec."""
    try:
        import fsspec
    except ImportError:
        raise UserError(f"cannot open {path}: the {scheme_of(path)!r} scheme needs fsspec (pip install fsspec)",
                        path=path) from None
    return fsspec.core.url_to_fs(path)


def compression_suffix(path: str) -> str:
    """The compression extension of ``path`` ('.gz', '.bz2', '.xz') or ''."""
    ext = os.path.splitext(path)[1].lower()
    return ext if ext in COMPRESSION else ""


def _visible(name: str) -> bool:
    return not os.path.basename(name.rstrip("/")).startswith((".", "_"))


def input_files(path: str) -> list[str]:
    """The files an input path names: itself, the visible files of a directory, or the files a pattern matches
    (sorted). Raises InputNotFoundError naming ``path`` when that is no file at all."""
    if scheme_of(path):
        return _remote_files(path)
    path = local_path(path)
    if is_pattern(path):
        files = sorted(f for f in glob.glob(path, recursive=True) if os.path.isfile(f) and _visible(f))
        if not files:
            raise InputNotFoundError("no file matches the pattern", path=path)
        return files
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if _visible(n))
        files = [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
        if not files:
            raise InputNotFoundError(f"input directory holds no files: {path}", path=path)
        return files
    if not os.path.exists(path):
        raise InputNotFoundError("input not found (no such file or directory)", path=path)
    return [path]


def _remote_files(path: str) -> list[str]:
    """``input_files`` of a URI: fsspec lists directories and expands patterns (URIs keep their scheme, but
    ``file://``)."""
    fs, target = filesystem(path)
    if not _MAGIC.isdisjoint(target) and not fs.exists(target):
        found = [f for f in fs.glob(target) if fs.isfile(f) and _visible(f)]
    elif fs.isdir(target):
        found = [f for f in fs.ls(target, detail=False) if fs.isfile(f) and _visible(f)]
    else:
        found = [target] if fs.exists(target) else []
    if not found:
        raise InputNotFoundError("input not found (no such file or directory)", path=path)
    return [local_path(fs.unstrip_protocol(f)) for f in sorted(found)]  # a local file system's files are local


def open_binary(path: str, buffer_size: int = -1) -> IO[bytes]:
    """A binary read stream of one input file (decompressed, local or through fsspec); ``buffer_size`` (bytes,
    -1 = Python's default) sets the read buffer of a local uncompressed file. InputNotFoundError when missing."""
    if scheme_of(path):
        fs, target = filesystem(path)
        return fs.open(target, "rb", compression="infer")
    path = local_path(path)
    suffix = compression_suffix(path)
    try:
        return COMPRESSION[suffix](path, "rb") if suffix else open(path, "rb", buffering=buffer_size)
    except FileNotFoundError:
        raise InputNotFoundError("input not found (no such file or directory)", path=path) from None
    except OSError as exc:
        raise InputNotFoundError(f"cannot open input {path}: {exc.strerror or exc}", path=path) from None


def total_size(path: str) -> int | None:
    """Bytes of all files of an input path (compressed size), None when unknown (remote or missing)."""
    if scheme_of(path):
        return None
    try:
        return sum(os.path.getsize(f) for f in input_files(path))
    except (OSError, UserError):
        return None


def is_utf8(encoding: str) -> bool:
    """Whether ``encoding`` names UTF-8 (so the raw bytes can be parsed as they are)."""
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def lines_split_safely(encoding: str) -> bool:
    """Whether a file in ``encoding`` may be cut at any ``\\n`` byte: the byte only ever encodes a line break
    (UTF-8, Latin-1, ASCII; not UTF-16)."""
    return "\n".encode(encoding) == b"\n"


def splittable(path: str, encoding: str) -> bool:
    """Whether ``path`` can be read in byte ranges: a local, uncompressed file in an encoding cut at ``\\n``."""
    return not scheme_of(path) and not compression_suffix(path) and lines_split_safely(encoding)


def newlines_before(file: str, offset: int) -> int:
    """Number of line breaks in the first ``offset`` bytes of ``file`` (for line numbers of byte ranges)."""
    count, done = 0, 0
    with open(file, "rb") as stream:
        while done < offset:
            chunk = stream.read(min(1 << 20, offset - done))
            if not chunk:
                break
            count += chunk.count(b"\n")
            done += len(chunk)
    return count


def line_start(file: str, offset: int) -> int:
    """The first line start at or after ``offset`` of a local file (its size when there is none): a line
    belongs to the byte range it starts in (Hadoop's line splits)."""
    if offset <= 0:
        return 0
    with open(file, "rb") as stream:
        stream.seek(offset - 1)
        return offset - 1 + len(stream.readline())


class LineNumbers:
    """``LineNumbers(file, offset)(local)``: the line number in ``file`` of line ``local`` (1-based) of a range
    that starts at byte ``offset``; the lines before the range are counted only when an error needs them."""

    def __init__(self, file: str, offset: int):
        self.file, self.offset, self.before = file, offset, None if offset else 0

    def __call__(self, local: int) -> int:
        if self.before is None:
            self.before = newlines_before(self.file, self.offset)
        return self.before + local


class _Range(io.RawIOBase):
    """A raw stream over bytes [start, end) of a local file."""

    def __init__(self, file: str, start: int, end: int):
        self._file, self._left = open(file, "rb"), end - start
        self._file.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: max(0, self._left)]
        count = self._file.readinto(view) if len(view) else 0
        self._left -= count
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def open_text(file: str, encoding: str, start: int = 0, end: int | None = None) -> io.TextIOWrapper:
    """The text of ``file`` (bytes [start, end) of a local file when ``end`` is given), lines kept with their
    line ends (``newline=''``); a UTF-8 byte-order mark at the start of the file is dropped."""
    raw: Any = open_binary(file) if end is None else io.BufferedReader(_Range(file, start, end))
    return io.TextIOWrapper(raw, encoding="utf-8-sig" if is_utf8(encoding) and start == 0 else encoding,
                            newline="")


class Utf8Transcoder:
    """A binary ``read(size)`` stream of UTF-8 bytes over a stream in another ``encoding``."""

    def __init__(self, raw: IO[bytes], encoding: str):
        self.raw, self.decoder = raw, codecs.getincrementaldecoder(encoding)()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        return self.decoder.decode(data, final=not data).encode("utf-8")

    def __iter__(self) -> Iterator[bytes]:
        pending = b""
        while chunk := self.read(1 << 20):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            yield from (line + b"\n" for line in lines)
        if pending:
            yield pending

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> "Utf8Transcoder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_utf8(file: str, encoding: str) -> Any:
    """A binary stream of ``file``'s content as UTF-8 (transcoded when ``encoding`` is another one)."""
    raw = open_binary(file)
    return raw if is_utf8(encoding) else Utf8Transcoder(raw, encoding)
