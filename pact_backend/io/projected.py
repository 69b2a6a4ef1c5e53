"""Decoding chunks of JSON lines, whole or reduced to the top-level fields a plan reads (projection pushdown).

The paper's "compact representation of the referenced fields" (VLDB J. 2014, sec. 7; DESIGN.md, "Records,
expressions, speed"): when a higher layer proves that a source's records are only ever read through some
top-level fields, ``ChunkDecoder(fields)`` decodes a chunk of lines with msgspec into a generated Struct holding
just those fields (unknown fields are skipped without being built) and turns the Structs into dicts in one C
call. A record lacking a field still lacks it (the Struct's default ``UNSET`` is dropped), and a line that is
not an object keeps its whole value. Without ``fields`` the chunk is decoded whole, also in one msgspec call.

``decode(chunk)`` raises ``ChunkFallback`` whenever the fast path might differ from decoding line by line
(malformed or blank lines, several values on a line, values other than objects, a line that may nest deeper
than the readers allow); the caller then decodes that chunk line by line
(``pact_backend.io.json_values.loads``: integers exact, as msgspec reads them here) and reports errors with
file and line (``slow_value`` projects those values the same way). One difference remains, on malformed data
only: the fields a projected read skips are checked for JSON syntax but not for values msgspec rejects (numbers
beyond the double range) or for their depth, so such a line fails only when a read field holds the bad value.
"""

from __future__ import annotations

import operator
from typing import Any, Iterable, Iterator, Literal, Union

import msgspec
import orjson

from pact_backend.io.json_values import MAX_DEPTH

_astuple = msgspec.structs.astuple
_decode_lines = msgspec.json.Decoder().decode_lines

# A scalar field: integers (of any size), floats, strings, booleans, null. Containers fail validation and take
# the Any path.
_FLAT = Union[int, float, str, bool, None]


class ChunkFallback(Exception):
    """The chunk must be decoded line by line (see the module docstring)."""


def _struct_for(fields: Iterable[str], kind: Any, default: Any = msgspec.UNSET) -> type:
    """A msgspec Struct type with one optional field of type ``kind`` per name, in sorted name order, held in
    attribute ``f<i>`` (renamed, so any name works); an absent field reads as ``default``."""
    names = sorted(fields)
    return msgspec.defstruct("ProjectedRecord", [(f"f{i}", kind, default) for i in range(len(names))],
                             rename={f"f{i}": name for i, name in enumerate(names)}, gc=False)


def _line_count(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


class ChunkDecoder:
    """Decodes chunks of whole JSON lines (bytes) into records; ``fields`` None keeps whole records.

    In: a chunk of complete lines. Out: the list of their values, each object reduced to ``fields``.
    Raises ChunkFallback (never a decoding error) when the chunk needs the line-by-line path.
    """

    def __init__(self, fields: frozenset[str] | None = None, absent: Any = msgspec.UNSET):
        self.fields, self.absent = fields, absent  # absent: what an absent field holds (UNSET: left out)
        default = absent
        self._flat = None if fields is None else msgspec.json.Decoder(_struct_for(fields, _FLAT, default))
        self._any = None if fields is None else msgspec.json.Decoder(_struct_for(fields, Any, default))

    def _finish(self, structs: list[Any]) -> list[Any]:
        """The records of decoded Structs: dicts of the present fields, built in one C call."""
        return msgspec.to_builtins(structs)

    def decode(self, data: bytes, lines: int | None = None) -> list[Any]:
        """The values of the lines of ``data`` (``lines`` of them, counted here when None); raises
        ChunkFallback."""
        try:
            records = self._decode_whole(data) if self.fields is None else self._decode_projected(data)
        except (orjson.JSONDecodeError, msgspec.MsgspecError, RecursionError):
            raise ChunkFallback() from None
        if len(records) != (_line_count(data) if lines is None else lines):  # blank lines, several values on a line
            raise ChunkFallback()
        return records

    @staticmethod
    def _decode_whole(data: bytes) -> list[Any]:
        """Whole values in one msgspec call (integers exact). msgspec has no depth limit of its own, so a chunk
        with a line that may nest deeper than ``MAX_DEPTH`` (more opening brackets than that) takes the slow
        path, whose orjson refuses it as the readers' rule says (pact_backend.io.json_values)."""
        if len(data) > MAX_DEPTH and max(map(len, data.split(b"\n"))) > MAX_DEPTH:
            if any(line.count(b"[") + line.count(b"{") > MAX_DEPTH for line in data.split(b"\n")):
                raise ChunkFallback()
        return _decode_lines(data)

    def _decode_projected(self, data: bytes) -> list[Any]:
        """Scalar fields through the typed decoder; once a read field holds a container, the ``Any`` decoder."""
        if self._flat is not None:
            try:
                return self._finish(self._flat.decode_lines(data))
            except msgspec.ValidationError:
                self._flat = None
        return self._finish(self._any.decode_lines(data))

    def slow_value(self, value: Any) -> Any:
        """``value`` (decoded line by line) reduced to ``fields`` when it is an object."""
        if self.fields is None or type(value) is not dict:
            return value
        fields = self.fields
        return {k: v for k, v in value.items() if k in fields}


class RowBatch(list):
    """A decoded chunk as a list of rows (``RowDecoder``): one tuple of the projected field values per line, the
    value of field ``layout[i]`` at index i, an absent field holding the decoder's ``absent`` marker. A fused
    batch kernel reads columns with ``operator.itemgetter`` over the rows without building a dict per record.
    ``types`` ({field: "number" or "string"}) holds for every row of the chunk: the decoder validated it
    (numbers are ints or floats, never bools; no row lacks the field)."""

    __slots__ = ("types", "layout")

    def __init__(self, rows: Iterable[Any], types: dict[str, str], layout: tuple[str, ...]):
        super().__init__(rows)
        self.types, self.layout = types, layout


_NUMBER = Union[int, float]
_INFER = {frozenset({int}): "number", frozenset({float}): "number", frozenset({int, float}): "number",
          frozenset({str}): "string"}


class RowDecoder(ChunkDecoder):
    """A ChunkDecoder (``fields`` required; ``absent``: the value an absent field holds in a row, e.g. the
    caller's own marker of a missing value) whose ``decode`` returns a ``RowBatch``: one tuple per line (msgspec
    decodes a Struct, ``msgspec.structs.astuple`` reads its slots in one C call, cheaper than one attribute
    access per field and row). ``records(batch)`` are the dicts the plain decoder would have made.

    The first chunk's rows tell which fields hold only numbers or only strings; later chunks are first decoded
    with those fields required and typed (msgspec validates them while parsing), so their batches carry
    ``types`` and a kernel may skip per-value type checks. A string field with at most ``LITERALS`` distinct
    values is decoded as a ``Literal`` of them (msgspec then hands out the same str objects: nothing to allocate
    or free, hashes cached). A chunk that does not validate is decoded as the first was (``types`` empty) and
    narrows the typing (a field it breaks loses its type, new strings join a Literal); after ``REBUILDS`` such
    chunks typing stops. The typed Struct declares its fields in the order the first line holds them (msgspec
    matches keys faster in declaration order: about 8 % less decoding time on TPC-H lineitem), so typed batches
    have that ``layout``; untyped ones have the fields in name order. Same ChunkFallback rules as ChunkDecoder;
    a line that is not an object never reaches the rows.
    """

    LITERALS = 64
    REBUILDS = 8

    def __init__(self, fields: frozenset[str], absent: Any):
        super().__init__(fields, absent)
        self.names = tuple(sorted(fields))
        self._typed: Any = None
        self._layout = self.names
        self._types: dict[str, str] = {}
        self._literals: dict[str, frozenset[str]] = {}
        self._order: dict[str, int] = {}
        self._inferred, self._rebuilds = False, 0
        self._getters: dict[tuple[str, ...], Any] = {}

    def _finish(self, structs: list[Any]) -> RowBatch:
        return RowBatch(map(_astuple, structs), {}, self.names)

    def _decode_projected(self, data: bytes) -> list[Any]:
        missed = False
        if self._typed is not None:
            try:
                return RowBatch(map(_astuple, self._typed.decode_lines(data)), self._types, self._layout)
            except msgspec.ValidationError:
                missed = True
        rows = super()._decode_projected(data)
        if rows and (missed or not self._inferred):
            self._retype(rows, data)
        return rows

    def _retype(self, rows: list[Any], data: bytes) -> None:
        """Infer the field types from the first chunk's ``rows``, or narrow them by a chunk that broke them."""
        first, self._inferred = not self._inferred, True
        if not first:
            self._rebuilds += 1
        if self._flat is None or self._rebuilds > self.REBUILDS:  # containers, or types that keep breaking
            self._typed, self._types = None, {}
            return
        if first:
            self._order = _key_order(data[:data.find(b"\n")] if b"\n" in data else data)
        types: dict[str, str] = {}
        for i, name in enumerate(self.names):
            values = list(map(operator.itemgetter(i), rows))
            kind = _INFER.get(frozenset(map(type, values)))
            if kind is None or not (first or self._types.get(name) == kind):
                self._literals.pop(name, None)
                continue
            types[name] = kind
            if kind == "string" and (first or name in self._literals):
                seen = self._literals.get(name, frozenset()) | frozenset(values)
                self._literals[name] = seen
                if len(seen) > self.LITERALS:
                    del self._literals[name]
        self._types = types  # a new dict: batches handed out keep the types they were decoded with
        self._typed = self._typed_decoder() if types else None

    def _typed_decoder(self) -> Any:
        """A decoder of Structs with the typed fields required, in the first line's key order (``_layout``)."""
        def field(name: str) -> tuple:
            kind = self._types.get(name)
            if kind is None:
                return name, _FLAT, self.absent
            if name in self._literals:
                return name, Literal[tuple(sorted(self._literals[name]))]
            return name, _NUMBER if kind == "number" else str

        self._layout = tuple(sorted(self.names, key=lambda n: self._order.get(n, len(self._order))))
        spec = [field(name) for name in self._layout]
        attributes = {name: f"f{i}" for i, name in enumerate(self._layout)}
        struct = msgspec.defstruct("TypedRecord", [(attributes[name], *rest) for name, *rest in spec], gc=False,
                                   kw_only=True, rename={attr: name for name, attr in attributes.items()})
        return msgspec.json.Decoder(struct)

    def record(self, row: tuple, layout: tuple[str, ...]) -> dict[str, Any]:
        """The record of one row of a batch with ``layout``: its present fields in sorted name order (what
        ChunkDecoder yields)."""
        getter = self._getters.get(layout)
        if getter is None:
            positions = [layout.index(name) for name in self.names]
            getter = self._getters[layout] = (operator.itemgetter(*positions) if len(positions) > 1
                                              else lambda row: (row[positions[0]],))
        absent = self.absent
        return {name: value for name, value in zip(self.names, getter(row)) if value is not absent}

    def records(self, batch: RowBatch) -> Iterator[dict[str, Any]]:
        """The records of ``batch`` (see ``record``)."""
        layout, record = batch.layout, self.record
        return (record(row, layout) for row in batch)


def _key_order(line: bytes) -> dict[str, int]:
    """{key: position} of the top-level keys of a JSON object line (empty when it is none)."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return {key: i for i, key in enumerate(value)} if type(value) is dict else {}
