"""Fixed-length binary records of the PACT API: every record is one ``struct`` packing (e.g. ``'<qqd'``: two
64-bit ints and a double, little-endian) and read back as a tuple. Files split at record boundaries for
parallel reads; a file whose size is not a multiple of the record size raises DataError."""

from __future__ import annotations

import os
import struct
from typing import Any, Iterator

from pact_backend.errors import DataError, OutputError
from pact_backend.io.atomic import RecordWriter
from pact_backend.io.base import FileFormat, Split
from pact_backend.io.paths import input_files

_CHUNK = 1 << 16  # records per read


class FixedBinary(FileFormat):
    """Records of ``struct.Struct(fmt)``: tuples in, tuples out (``bytes`` for ``s`` fields, as struct does)."""

    name = "binary"
    extension = ".bin"

    def __init__(self, path: str, fmt: str, **options: Any):
        super().__init__(path, **options)
        self.struct = struct.Struct(fmt)
        self.align = self.struct.size

    def describe(self) -> str:
        return f"{self.name}({self.struct.format}) file {self.path}"

    def _check(self, file: str) -> int:
        size = os.path.getsize(file)
        if size % self.struct.size:
            raise DataError(f"{size} bytes is not a multiple of the record size {self.struct.size} "
                            f"(format {self.struct.format!r})", path=file)
        return size

    def splittable(self, file: str) -> bool:
        return True

    def splits(self, n: int) -> list[Split]:
        for file in input_files(self.path):
            self._check(file)
        return super().splits(n)

    def read_file(self, file: str) -> Iterator[tuple]:
        return self.read_range(file, 0, self._check(file))

    def read_range(self, file: str, lo: int, hi: int) -> Iterator[tuple]:
        """The records of bytes [lo, hi) of ``file`` (bounds are multiples of the record size)."""
        step = self.struct.size * _CHUNK
        with open(file, "rb") as stream:
            stream.seek(lo)
            pos = lo
            while pos < hi:
                data = stream.read(min(step, hi - pos))
                if len(data) % self.struct.size or not data:
                    raise DataError(f"truncated record at byte {pos + len(data)}", path=file)
                yield from self.struct.iter_unpack(data)
                pos += len(data)

    def open(self) -> "BinaryWriter":
        return BinaryWriter(self)


class BinaryWriter(RecordWriter):
    """Packs every record (a tuple of the struct's fields) into its fixed-length bytes."""

    def __init__(self, fmt: FixedBinary):
        self.pack = fmt.struct.pack
        super().__init__(fmt.path)

    def encode(self, record: Any) -> bytes:
        try:
            return self.pack(*record)
        except struct.error as exc:
            raise OutputError(f"cannot pack {record!r}: {exc}", path=self.path) from None
