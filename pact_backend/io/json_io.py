"""JSON sources and sinks of the PACT API: a JSON array file and JSON Lines (records as JSON values: dicts,
lists, strings, numbers; tuples are written as arrays). JSON Lines files split into byte ranges for parallel
reads; an array file is read whole. Malformed input raises FormatError with file and line."""

from __future__ import annotations

from typing import Any, Iterator

import orjson

from pact_backend.io.files import AtomicOutput, FormatError, RecordWriter, Split, byte_splits, range_lines


def _dump(record: Any) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_PASSTHROUGH_DATACLASS, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class JsonLines:
    """One JSON value per line (blank lines skipped); writes one compact JSON value per line."""

    name = "jsonl"

    def __init__(self, path: str):
        self.path = str(path)

    def describe(self) -> str:
        return f"{self.name} {self.path}"

    def read(self) -> Iterator[Any]:
        with open(self.path, "rb") as stream:
            for number, line in enumerate(stream, 1):
                if line.strip():
                    yield self._parse(line, number, None)

    def splits(self, n: int) -> list[Split]:
        return byte_splits(self.path, n)

    def read_split(self, part: Split) -> Iterator[Any]:
        for offset, line in range_lines(*part):
            if line.strip():
                yield self._parse(line, None, offset)

    def _parse(self, line: bytes, number: int | None, offset: int | None) -> Any:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise FormatError(f"not JSON: {exc}", self.path, number, offset) from None

    def open(self) -> RecordWriter:
        return RecordWriter(AtomicOutput(self.path, binary=True),
                            lambda stream, record: stream.write(_dump(record) + b"\n"))


class JsonArray:
    """A file holding one JSON array whose elements are the records; writes one such array."""

    name = "json"

    def __init__(self, path: str):
        self.path = str(path)

    def describe(self) -> str:
        return f"{self.name} {self.path}"

    def read(self) -> Iterator[Any]:
        with open(self.path, "rb") as stream:
            data = stream.read()
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            line = data[:exc.pos].count(b"\n") + 1
            raise FormatError(f"not JSON: {exc.msg}", self.path, line) from None
        if not isinstance(value, list):
            raise FormatError(f"expected a JSON array, got {type(value).__name__}", self.path, 1)
        yield from value

    def open(self) -> RecordWriter:
        state = {"first": True}

        def encode(stream: Any, record: Any) -> None:
            stream.write(b"[\n" if state["first"] else b",\n")
            state["first"] = False
            stream.write(_dump(record))

        def finish(stream: Any) -> None:
            stream.write(b"[]\n" if state["first"] else b"\n]\n")

        return RecordWriter(AtomicOutput(self.path, binary=True), encode, finish)
