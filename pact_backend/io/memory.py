"""In-memory sources and sinks: a list of records read as a source (split into index ranges for parallel
reads) and a sink that collects what it receives into a list in the calling process (``collect()``, iteration
drivers). Both travel to worker processes by pickling; a collecting sink is always written by the caller."""

from __future__ import annotations

import copy
from typing import Any, Iterable, Iterator


class MemoryInput:
    """Source format over ``records`` (kept as a list); ``name`` shows in explain. ``copies``: every read hands
    out deep copies, so a consumer that changes records in place never changes the source (ad-hoc data of a
    script, read again by every run)."""

    def __init__(self, records: Iterable[Any], name: str = "collection", copies: bool = False):
        self.records = records if isinstance(records, list) else list(records)
        self.name, self.copies = name, copies

    def describe(self) -> str:
        return f"memory {self.name} ({len(self.records)} records)"

    def read(self) -> Iterator[Any]:
        return map(copy.deepcopy, self.records) if self.copies else iter(self.records)

    def field_presence(self, names: frozenset[str], sample: int = 0) -> tuple[frozenset[str], list[str]]:
        """(those of ``names`` no record has as a top-level field, the fields the records have): exact, every
        record is at hand (see pact_backend.io.base.FileFormat.field_presence)."""
        seen: dict[str, None] = {}
        for record in self.records:
            if type(record) is dict:
                seen.update(dict.fromkeys(record))
        return frozenset(names - seen.keys()), list(seen)

    def splits(self, n: int) -> list[tuple[int, int]]:
        """Up to ``n`` index ranges (start, end) covering the records."""
        size = len(self.records)
        count = max(1, min(n, size))
        bounds = [size * i // count for i in range(count + 1)]
        return list(zip(bounds, bounds[1:]))

    def read_split(self, part: tuple[int, int]) -> Iterator[Any]:
        records = self.records[part[0]:part[1]]
        return map(copy.deepcopy, records) if self.copies else iter(records)


class CollectOutput:
    """Sink format whose ``records`` list holds what the sink wrote, set on commit (empty before)."""

    def __init__(self, name: str = "collect"):
        self.name = name
        self.records: list[Any] = []

    def describe(self) -> str:
        return f"collect {self.name}"

    def open(self) -> "_Collector":
        return _Collector(self)


class _Collector:
    def __init__(self, target: CollectOutput):
        self.target, self.records = target, []
        self.write = self.records.append

    def commit(self) -> None:
        self.target.records = self.records

    def abort(self) -> None:
        self.records = []
