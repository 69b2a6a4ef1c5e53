"""The base of the file formats: one object per format and path that is the InputFormat of a Source (reading,
byte-range splits, projection of the read fields) and the OutputFormat of a Sink (``open``).

A path may name several files (a directory of part files, a pattern: pact_backend.io.paths); they are read one
after the other, or split into byte ranges so a parallel executor reads on every core (DESIGN.md, "split files
into byte ranges"). A split is ``(file, first byte, end byte)``; ``end`` ``WHOLE`` means the whole file, read
as one part (a compressed or remote file, or one whose records may span lines). A record belongs to the range
its first byte lies in, so the ranges of a file cover each record once.
"""

from __future__ import annotations

import copy
import itertools
import json
import mmap
import os
from typing import Any, Callable, Iterator

from pact_backend.io.paths import input_files, is_utf8, splittable, total_size

Split = tuple[str, int, int]
WHOLE = -1


class FileFormat:
    """A file format over ``path`` in ``encoding``; subclasses provide ``read_file(file)`` (an input) and
    ``open()`` returning a RecordWriter (an output).

    ``fields`` (None: whole records) are the top-level fields of object records a plan reads (projection
    pushdown, the paper's compact representation of the referenced fields); a format that honours them builds
    only those. ``label`` names the format in ``describe()`` (e.g. with the options a higher layer set).
    ``normalize`` rewrites a record the writer cannot encode into plain JSON values (a higher layer's own
    values, e.g. Sopremo's MISSING; pact_backend.io.json_values). A
    format that can read byte ranges overrides ``splittable(file)`` and ``read_range(file, lo, hi)``;
    ``align`` is the byte multiple ranges start at (fixed-length records). ``extension`` (default: the
    format's own) names the files of a directory of parts (pact_backend.io.parts).
    """

    name = "file"
    extension = ""
    align = 1

    def __init__(self, path: str, encoding: str = "utf-8", *, fields: frozenset[str] | None = None,
                 label: str | None = None, normalize: Callable[[Any], Any] | None = None,
                 extension: str | None = None):
        self.path, self.encoding, self.fields, self.label = str(path), encoding, fields, label
        self.normalize = normalize
        if extension is not None:
            self.extension = extension

    # -- input ------------------------------------------------------------------------------------------------------

    def read(self) -> Iterator[Any]:
        """Every record of every file of the path, in order; raises InputNotFoundError / DataError (file, line)."""
        for file in input_files(self.path):
            yield from self.read_file(file)  # type: ignore[attr-defined]

    def splittable(self, file: str) -> bool:
        """Whether ``file`` may be cut into byte ranges (False: it is read whole, as one split)."""
        return False

    def splits(self, n: int) -> list[Split]:
        """About ``n`` byte ranges covering every file of the path, sized alike (whole files when not
        splittable)."""
        files = input_files(self.path)
        sizes = [os.path.getsize(f) if self.splittable(f) else 0 for f in files]
        target = max(1, sum(sizes) // max(1, n))
        parts: list[Split] = []
        for file, size in zip(files, sizes):
            units = size // self.align
            if not units:
                parts.append((file, 0, WHOLE))
                continue
            count = max(1, min(units, round(size / target)))
            bounds = [units * i // count * self.align for i in range(count)] + [size]
            parts.extend((file, lo, hi) for lo, hi in zip(bounds, bounds[1:]))
        return parts

    def numbered_records(self, part: Split | None) -> Iterator[tuple[str, int, Any]] | None:
        """(file, line, record) of every record of split ``part`` (None: every file of the path), read slowly:
        only used to find where a record that an error names was read (``pact_backend.runtime.record_origin``).
        None for a format that cannot tell lines (a record may span several)."""
        return None

    def field_presence(self, names: frozenset[str], sample: int = 256) -> tuple[frozenset[str], list[str]] | None:
        """(those of ``names`` that no record of the input has as a top-level field, the fields the first
        ``sample`` records have) for object records, or None when the format cannot tell cheaply. A name is
        only called absent when that is sure: it is missing from the sample and its JSON-encoded key occurs
        nowhere in the input's bytes (local uncompressed UTF-8 files; elsewhere it counts as present). Reads a
        sample and, only for names the sample lacks, scans the bytes (``mmap.find``, no decoding). Used to warn
        of typos before a run (issue 16 item 3)."""
        seen: dict[str, None] = {}
        try:
            for record in itertools.islice(self.read(), sample):
                if type(record) is dict:
                    seen.update(dict.fromkeys(record))
        except Exception:  # noqa: BLE001 - bad data is reported by the run itself
            return None
        suspects = names - seen.keys()
        return frozenset(n for n in suspects if not self._bytes_hold(json.dumps(n))), list(seen)

    def _bytes_hold(self, text: str) -> bool:
        """Whether ``text`` may occur in the input: False only when every file is a local, uncompressed UTF-8
        file whose bytes do not hold it (text that a writer may escape otherwise counts as present)."""
        if not text.isascii() or "\\" in text or not is_utf8(self.encoding):
            return True
        needle = text.encode()
        for file in input_files(self.path):
            if not splittable(file, self.encoding):
                return True
            if os.path.getsize(file) == 0:
                continue
            with open(file, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
                if data.find(needle) >= 0:
                    return True
        return False

    def _parts(self, part: Split | None) -> list[Split]:
        """``[part]``, or every file of the path whole when ``part`` is None."""
        return [(f, 0, WHOLE) for f in input_files(self.path)] if part is None else [part]

    def read_split(self, part: Split) -> Iterator[Any]:
        """The records of one split (see the module docstring)."""
        file, lo, hi = part
        return self.read_file(file) if hi == WHOLE else self.read_range(file, lo, hi)  # type: ignore

    def project(self, fields: frozenset[str] | None) -> "FileFormat":
        """A copy that builds only ``fields`` of every object record (None: whole records)."""
        clone = copy.copy(self)
        clone.fields = fields
        return clone

    def size_bytes(self) -> int | None:
        """Bytes on disk of the input (None when unknown)."""
        return total_size(self.path)

    def describe(self) -> str:
        """``<label or name> file <path>``, plus ``fields [a, b]`` when projected (explain output, errors)."""
        text = f"{self.label or self.name} file {self.path}"
        return text if self.fields is None else f"{text} fields [{', '.join(sorted(self.fields))}]"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"
