"""Fixed-length binary records of the PACT API: every record is one ``struct`` packing (e.g. ``'<qqd'``: two
64-bit ints and a double, little-endian) and read back as a tuple. Files split at record boundaries for
parallel reads; a file whose size is not a multiple of the record size raises FormatError."""

from __future__ import annotations

import os
import struct
from typing import Any, Iterator

from pact_backend.io.files import AtomicOutput, FormatError, RecordWriter, Split, byte_splits

_CHUNK = 1 << 16  # records per read


class FixedBinary:
    """Records of ``struct.Struct(fmt)``: tuples in, tuples out (``bytes`` for ``s`` fields, as struct does)."""

    name = "binary"

    def __init__(self, path: str, fmt: str):
        self.path, self.struct = str(path), struct.Struct(fmt)

    def describe(self) -> str:
        return f"{self.name}({self.struct.format}) {self.path}"

    def _check(self) -> int:
        size = os.path.getsize(self.path)
        if size % self.struct.size:
            raise FormatError(f"{size} bytes is not a multiple of the record size {self.struct.size} "
                              f"(format {self.struct.format!r})", self.path, offset=size - size % self.struct.size)
        return size

    def read(self) -> Iterator[tuple]:
        yield from self.read_split((self.path, 0, self._check()))

    def splits(self, n: int) -> list[Split]:
        self._check()
        return byte_splits(self.path, n, align=self.struct.size)

    def read_split(self, part: Split) -> Iterator[tuple]:
        """The records of the byte range ``part`` (its bounds are multiples of the record size)."""
        path, lo, hi = part
        step = self.struct.size * _CHUNK
        with open(path, "rb") as stream:
            stream.seek(lo)
            pos = lo
            while pos < hi:
                data = stream.read(min(step, hi - pos))
                if len(data) % self.struct.size:
                    raise FormatError("truncated record", path, offset=pos + len(data))
                yield from self.struct.iter_unpack(data)
                pos += len(data)

    def open(self) -> RecordWriter:
        pack = self.struct.pack

        def encode(stream: Any, record: Any) -> None:
            stream.write(pack(*record))

        return RecordWriter(AtomicOutput(self.path, binary=True), encode)
