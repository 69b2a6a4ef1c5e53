"""Opening input files: missing-path errors, directories of part files, compression, remote schemes.

A path is a local file, a local directory (every visible file in it, sorted by name, as the original
Stratosphere read a directory of part files), or a URI with a scheme other than ``file`` that goes through
fsspec when it is installed (meteor-language.md, "Paths"). ``.gz``, ``.bz2`` and ``.xz`` files are decompressed
transparently. Every function raises ``InputNotFoundError`` naming the path when the input does not exist.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from typing import IO, Callable

from sopremo.errors import InputNotFoundError, MeteorError

COMPRESSION: dict[str, Callable[..., IO[bytes]]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def scheme_of(path: str) -> str | None:
    """The URI scheme of ``path`` ('hdfs', 's3', ...) or None for a local path (``file://`` counts as local)."""
    head, sep, _ = path.partition("://")
    if not sep or not head.isidentifier() or head == "file":
        return None
    return head


def local_path(path: str) -> str:
    """``path`` without a leading ``file://``."""
    return path[len("file://"):] if path.startswith("file://") else path


def _fsspec(path: str):
    try:
        import fsspec
    except ImportError:
        raise MeteorError(f"cannot open {path}: the {scheme_of(path)!r} scheme needs fsspec "
                          f"(pip install fsspec)", path=path) from None
    return fsspec


def compression_suffix(path: str) -> str:
    """The compression extension of ``path`` ('.gz', '.bz2', '.xz') or ''."""
    ext = os.path.splitext(path)[1].lower()
    return ext if ext in COMPRESSION else ""


def input_files(path: str) -> list[str]:
    """The files an input path denotes: itself, or the visible files of a directory (sorted).

    Raises InputNotFoundError naming ``path`` when it does not exist or is an empty directory.
    """
    if scheme_of(path):
        fs, _, paths = _fsspec(path).get_fs_token_paths(path)
        if not fs.exists(paths[0]):
            raise InputNotFoundError("input not found (no such file or directory)", path=path)
        return [path]
    path = local_path(path)
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not n.startswith((".", "_")))
        files = [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
        if not files:
            raise InputNotFoundError(f"input directory holds no files: {path}", path=path)
        return files
    if not os.path.exists(path):
        raise InputNotFoundError("input not found (no such file or directory)", path=path)
    return [path]


def open_binary(path: str, buffer_size: int = -1) -> IO[bytes]:
    """A binary read stream of one input file (decompressed, local or through fsspec); ``buffer_size`` (bytes,
    -1 = Python's default) sets the read buffer of a local uncompressed file."""
    if scheme_of(path):
        return _fsspec(path).open(path, "rb", compression="infer").open()
    path = local_path(path)
    suffix = compression_suffix(path)
    try:
        return COMPRESSION[suffix](path, "rb") if suffix in COMPRESSION else open(path, "rb", buffering=buffer_size)
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
    except (OSError, MeteorError):
        return None


def is_utf8(encoding: str) -> bool:
    """Whether ``encoding`` names UTF-8 (so orjson can parse the raw bytes)."""
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


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
