"""Atomic file output and the record writer over it: a temporary file next to the target, renamed into place on
commit.

DESIGN.md ("Errors and data safety"): sinks write to a temporary file in the target directory and rename on
success, so a failed run never leaves a half-written file in place of a good one. The temp file is named
``.<name>.<owner>.<random>.tmp`` (hidden, and skipped when the directory is read as input; ``<owner>`` names
the writing process, so that a later write of the same output removes what a killed writer left:
``pact_backend.runtime.temp_files``).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import os
import tempfile
from abc import ABC, abstractmethod
from typing import IO, Any

from pact_backend.errors import OutputError
from pact_backend.io.paths import local_path, scheme_of
from pact_backend.runtime.temp_files import remove_stale_outputs, temp_output_prefix


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
_COMPRESSORS = {".gz": gzip.GzipFile, ".bz2": bz2.BZ2File, ".xz": lzma.LZMAFile}


class AtomicFile:
    """A binary output file that appears at ``path`` only when ``commit()`` succeeds.

    ``stream`` is the (possibly compressing, by ``.gz``/``.bz2``/``.xz`` suffix) binary stream to write to.
    ``commit()`` flushes, fsyncs and ``os.replace``s the temp file onto ``path`` (keeping the mode of a file it
    replaces); ``abort()`` closes and deletes the temp file and leaves ``path`` untouched. Usable as a context
    manager (commit on success, abort on an exception). Raises OutputError when the target directory does not
    exist, the target is a directory, or the file system refuses the write.
    """

    def __init__(self, path: str):
        if scheme_of(path):
            raise OutputError(f"cannot write {path}: only local paths can be written "
                              f"(scheme {scheme_of(path)!r})", path=path)
        self.path = os.path.abspath(local_path(path))
        directory, name = os.path.split(self.path)
        if not os.path.isdir(directory):
            raise OutputError(f"output directory does not exist: {directory}", path=self.path)
        if os.path.isdir(self.path):
            raise OutputError(f"output path is a directory: {self.path}", path=self.path)
        remove_stale_outputs(directory, name)
        try:
            fd, self.temp_path = tempfile.mkstemp(prefix=temp_output_prefix(name), suffix=".tmp", dir=directory)
        except OSError as exc:
            raise OutputError(f"cannot write to {directory}: {exc.strerror or exc}", path=self.path) from None
        self._raw: IO[bytes] = os.fdopen(fd, "wb", buffering=1 << 20)
        compressor = _COMPRESSORS.get(os.path.splitext(name)[1].lower())
        self.stream: IO[bytes] = compressor(fileobj=self._raw, mode="wb") if compressor else self._raw
        self.closed = False

    def write(self, data: bytes) -> None:
        """Append ``data``; raises OutputError when the file system refuses."""
        try:
            self.stream.write(data)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}", path=self.path) from None

    def commit(self) -> None:
        """Make the output visible at ``path`` (atomic rename); raises OutputError on failure."""
        if self.closed:
            return
        try:
            if self.stream is not self._raw:
                self.stream.close()
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()
            os.chmod(self.temp_path, self._final_mode())
            os.replace(self.temp_path, self.path)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}", path=self.path) from None
        self.closed = True

    def _final_mode(self) -> int:
        try:
            return os.stat(self.path).st_mode & 0o7777
        except OSError:
            return 0o666 & ~_UMASK

    def abort(self) -> None:
        """Discard the temp file; the target path keeps whatever it held before. Idempotent."""
        if self.closed:
            return
        self.closed = True
        for stream in (self.stream, self._raw):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass

    def __enter__(self) -> "AtomicFile":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class RecordWriter(ABC):
    """Writes records to an AtomicFile at ``path``: ``write(record)``, then ``commit()`` or ``abort()`` (the
    writer an OutputFormat's ``open()`` returns, pact_backend.contracts).

    Subclasses implement ``encode`` (the bytes of one record, its separator included) and may override ``begin``
    / ``end`` (bytes before the first and after the last record). ``encoding`` other than UTF-8 transcodes the
    bytes. ``count`` is the number of records written. Raises OutputError naming the file.
    """

    def __init__(self, path: str, encoding: str = "utf-8"):
        self.file = AtomicFile(path)
        self.path = self.file.path
        self.encoding = encoding
        self._transcode = codecs.lookup(encoding).name != "utf-8"
        self.count = 0
        self._put(self.begin())

    def begin(self) -> bytes:
        return b""

    def end(self) -> bytes:
        return b""

    @abstractmethod
    def encode(self, record: Any) -> bytes:
        """The bytes of one record (including its separator)."""

    def _put(self, data: bytes) -> None:
        if not data:
            return
        if self._transcode:
            try:
                data = data.decode("utf-8").encode(self.encoding)
            except UnicodeEncodeError as exc:
                self.abort()
                raise OutputError(f"cannot encode output as {self.encoding}: {exc}", path=self.path) from None
        self.file.write(data)

    def write(self, record: Any) -> None:
        """Append one record; raises OutputError naming the file (a value the format cannot hold, a full disk)."""
        try:
            data = self.encode(record)
        except OutputError as exc:
            if exc.path is not None:
                raise
            raise OutputError(exc.message, path=self.path) from None
        self._put(data)
        self.count += 1

    def commit(self) -> None:
        """Finish the file and make it visible at its path."""
        self._put(self.end())
        self.file.commit()

    def abort(self) -> None:
        """Discard everything written; an existing file at the path stays as it was."""
        self.file.abort()
