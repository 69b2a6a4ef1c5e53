"""The data-format abstraction of Sopremo: DataFormat (options as Meteor properties) over the file formats of
pact_backend.io, and the base classes of a package's own formats.

A ``DataFormat`` names a file format (``read csv from ...``) and declares its options as CONSTANT
``PropertySpec``s (``columns``, ``delimiter``, ``quote``, ``encoding``, ``header``), as the original Sopremo
formats declared their ``@Property`` setters. ``input_format(path)`` / ``output_format(path)`` build the
pact_backend.io objects (InputFormat / OutputFormat of pact_backend.contracts) a Source / Sink contract reads
and writes through; all reading, splitting and writing happens there. Sopremo's own values reach the writers
through ``to_json`` (MISSING is dropped from objects, null in arrays).
"""

from __future__ import annotations

import codecs
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pact_backend.io import FileFormat, RecordWriter
from pact_backend.io.json_values import dumps
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

    def file_options(self) -> dict[str, Any]:
        """The keyword arguments every pact_backend.io format takes: encoding, the label explain shows, the
        normalisation of Sopremo values for writing and the extension of part files."""
        return {"encoding": self.encoding, "label": self.describe(), "normalize": to_json,
                "extension": self.extensions[0] if self.extensions else ""}

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


def encode_json(record: Any) -> bytes:
    """Compact JSON bytes of a Sopremo value: MISSING dropped in objects, null in arrays (``to_json``), integers
    exact. Raises OutputError for NaN, Infinity and values that are not JSON (pact_backend.io.json_values)."""
    return dumps(record, to_json)


class FileInput(FileFormat):
    """Base of a package format's input: ``read_file(file)`` yields the records of one file of the path (which
    may name a directory of files or a pattern); ``self.format`` is the DataFormat holding the options."""

    def __init__(self, fmt: DataFormat, path: str):
        super().__init__(path, **fmt.file_options())
        self.format = fmt


class FileOutput(FileInput):
    """Base of a package format's output: ``open()`` returns a ``RecordWriter(self.path, self.encoding)``
    subclass, whose output appears at the path on ``commit()`` (a directory of parts: ``extension``)."""


__all__ = ["DataFormat", "ENCODING", "FileInput", "FileOutput", "RecordWriter", "check_encoding", "encode_json"]
