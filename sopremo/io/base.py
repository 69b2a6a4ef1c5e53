"""The data-format abstraction: DataFormat (options as Meteor properties), file inputs and record writers.

A ``DataFormat`` names a file format (``read csv from ...``) and declares its options as CONSTANT
``PropertySpec``s (``columns``, ``delimiter``, ``quote``, ``encoding``, ``header``), as the original Sopremo
formats declared their ``@Property`` setters. ``input_format(path)`` / ``output_format(path)`` return the
``pact_backend.contracts`` InputFormat / OutputFormat objects a Source / Sink contract reads and writes through.
"""

from __future__ import annotations

import os

import codecs
import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Iterator

import orjson

from sopremo.errors import OutputError
from sopremo.io.atomic import AtomicFile
from sopremo.io.files import input_files, total_size
from sopremo.operator import CONSTANT, PropertyError, PropertySpec
from sopremo.registry import suggest
from sopremo.values import to_json

ENCODING = PropertySpec("encoding", "encoding", CONSTANT, default="utf-8",
                        doc="character encoding of the file (default utf-8)")


def check_encoding(value: Any) -> str:
    """``value`` if it names a codec Python knows; raises PropertyError('encoding') otherwise."""
    if not isinstance(value, str):
        raise PropertyError(f"property 'encoding' must be a string, got {value!r}", "encoding")
    try:
        codecs.lookup(value)
    except LookupError:
        raise PropertyError(f"unknown encoding {value!r}", "encoding") from None
    return value


class DataFormat(ABC):
    """A file format with options; ``DataFormat(**options)`` validates them (PropertyError naming the option).

    Subclasses set ``name`` ('json', ...), ``extensions`` (('.json',), ...) and ``properties`` (CONSTANT
    PropertySpecs; ``attr`` equals the Meteor word) and implement ``input_format`` / ``output_format``.
    Options may be given by attribute name or by Meteor words. Formats are values: equal when their class
    and options are equal.
    """

    name: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    properties: ClassVar[tuple[PropertySpec, ...]] = (ENCODING,)
    doc: ClassVar[str] = ""

    def __init__(self, **options: Any):
        specs = {w.replace(" ", "_"): spec for spec in self.properties for w in (spec.attr, *spec.all_words)}
        for spec in self.properties:
            setattr(self, spec.attr, spec.default)
        for key, value in options.items():
            spec = specs.get(key.replace(" ", "_"))
            if spec is None:
                close = suggest(key, [s.words for s in self.properties])
                hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                raise PropertyError(f"format {self.name!r} has no property {key!r}{hint}", key)
            setattr(self, spec.attr, value)
        self.validate()

    def validate(self) -> None:
        """Check and normalise the options; subclasses extend (call super). Raises PropertyError."""
        self.encoding = check_encoding(self.encoding)

    def options(self) -> dict[str, Any]:
        """The options that differ from their defaults (attribute -> value)."""
        return {s.attr: getattr(self, s.attr) for s in self.properties if getattr(self, s.attr) != s.default}

    @abstractmethod
    def input_format(self, path: str) -> Any:
        """An InputFormat reading ``path`` (a file or a directory of files) in this format."""

    @abstractmethod
    def output_format(self, path: str) -> Any:
        """An OutputFormat writing ``path`` atomically in this format."""

    def describe(self) -> str:
        """``csv (delimiter=';')`` style text for explain output."""
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{self.name} ({opts})" if opts else self.name

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.options() == self.options()

    def __hash__(self) -> int:
        return hash((type(self), repr(sorted(self.options().items()))))

    def __repr__(self) -> str:
        return f"<format {self.describe()}>"


class FileInput(ABC):
    """Base of the file InputFormats: ``read()`` streams the records of every file of ``path`` in order."""

    def __init__(self, fmt: DataFormat, path: str):
        self.format, self.path = fmt, path

    def read(self) -> Iterator[Any]:
        """Every record of every file of the path; raises InputNotFoundError / DataError (file and line)."""
        for file in input_files(self.path):
            yield from self.read_file(file)

    @abstractmethod
    def read_file(self, file: str) -> Iterator[Any]:
        """The records of one file."""

    def describe(self) -> str:
        return f"{self.format.describe()} file {self.path}"

    def size_bytes(self) -> int | None:
        """Bytes on disk of the input (None when unknown)."""
        return total_size(self.path)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"


Split = tuple[str, int, "int | None"]  # (file, first byte, end byte); end -1: the whole file, None: to its end


class ProjectableInput(FileInput):
    """A FileInput that can materialise only some top-level ``fields`` of object records (projection
    pushdown, the paper's compact representation of the referenced fields; None = whole records) and split
    its files into byte ranges read in parallel (``splits``; a subclass says which files by ``_splittable``
    and reads one range with ``read_split``)."""

    def __init__(self, fmt: DataFormat, path: str, fields: frozenset[str] | None = None):
        super().__init__(fmt, path)
        self.fields = fields

    def project(self, fields: frozenset[str] | None) -> "ProjectableInput":
        """A copy that materialises only ``fields`` of every object record (None: whole records)."""
        return type(self)(self.format, self.path, fields)

    def describe(self) -> str:
        """``<format> file <path>``, plus ``fields [a, b]`` when projected."""
        text = super().describe()
        return text if self.fields is None else f"{text} fields [{', '.join(sorted(self.fields))}]"

    def _splittable(self, file: str) -> bool:
        """Whether ``file`` may be cut into byte ranges (False: it is read whole, as one split)."""
        return False

    def splits(self, n: int) -> list[Split]:
        """Up to about ``n`` byte ranges covering every file of the path (whole files when not splittable)."""
        files = input_files(self.path)
        sizes = [os.path.getsize(f) if self._splittable(f) else 0 for f in files]
        target = max(1, sum(sizes) // max(1, n))
        parts: list[Split] = []
        for file, size in zip(files, sizes):
            count = max(1, round(size / target)) if size else 1
            bounds = [size * i // count for i in range(count + 1)] if size else [0, -1]
            parts.extend((file, lo, hi) for lo, hi in zip(bounds, bounds[1:]))
        return parts


def encode_json(record: Any) -> bytes:
    """Compact JSON bytes of a Sopremo value: MISSING dropped in objects, null in arrays (to_json).

    Fast path: orjson on the value as is; values holding MISSING go through ``to_json``; ints beyond 64 bits
    fall back to the standard library. Raises OutputError for values that are not JSON.
    """
    try:
        return orjson.dumps(record)
    except TypeError:
        pass
    value = to_json(record)
    try:
        return orjson.dumps(value)
    except TypeError:
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise OutputError(f"cannot write {record!r} as JSON: {exc}") from None


class FileOutput(ABC):
    """Base of the file OutputFormats: ``open()`` returns a fresh ``RecordWriter`` over an AtomicFile."""

    def __init__(self, fmt: DataFormat, path: str):
        self.format, self.path = fmt, path

    @abstractmethod
    def open(self) -> "RecordWriter":
        """A writer whose output appears at ``path`` on ``commit()``; raises OutputError."""

    def describe(self) -> str:
        return f"{self.format.describe()} file {self.path}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"


class RecordWriter(ABC):
    """Writes records to an AtomicFile: ``write(record)``, then ``commit()`` or ``abort()``.

    Subclasses override ``begin`` / ``encode`` / ``end``; ``encoding`` other than UTF-8 transcodes the bytes.
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
        """Append one record; raises OutputError."""
        self._put(self.encode(record))
        self.count += 1

    def commit(self) -> None:
        """Finish the file and make it visible at its path."""
        self._put(self.end())
        self.file.commit()

    def abort(self) -> None:
        """Discard everything written; an existing file at the path stays as it was."""
        self.file.abort()
