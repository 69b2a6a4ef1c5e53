"""An input whose files are each read in their own format: a directory of part files or a glob pattern holding
``.json``, ``.jsonl`` and ``.csv`` files side by side (``read from 'dir/'``).

``choose(file)`` (from the layer that knows the formats by extension: sopremo.io.formats) returns the input
format of one file, or raises a UserError naming a file whose format it cannot tell. Every file is then read as
if it were named alone: its own splits, its own projection of the read fields, and batches of decoded rows for a
fused source stage when every file's format offers them (pact_backend.runtime.fused_source).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Iterator

from pact_backend.errors import UserError
from pact_backend.io.base import WHOLE, FileFormat, Split
from pact_backend.io.paths import input_files, splittable


class ByExtension(FileFormat):
    """The files of ``path`` each read through ``choose(file)`` (see the module docstring)."""

    name = "by extension"

    def __init__(self, path: str, choose: Callable[[str], Any], **options: Any):
        super().__init__(path, **options)
        self.choose = choose
        self._inputs: dict[str, Any] = {}  # the format of each file, kept (with what it learnt) once chosen

    def input_of(self, file: str) -> Any:
        """The input format reading ``file`` (projected like this one)."""
        fmt = self._inputs.get(file)
        if fmt is None:
            fmt = self.choose(file)
            if self.fields is not None and hasattr(fmt, "project"):
                fmt = fmt.project(self.fields)
            self._inputs[file] = fmt
        return fmt

    def project(self, fields: frozenset[str] | None) -> "ByExtension":
        clone = super().project(fields)
        clone._inputs = {}
        return clone  # type: ignore[return-value]

    def read_file(self, file: str) -> Iterator[Any]:
        return self.input_of(file).read()

    def describe(self) -> str:
        text = f"files of {self.path} by extension"
        return text if self.fields is None else f"{text} fields [{', '.join(sorted(self.fields))}]"

    def splits(self, n: int) -> list[Split]:
        """Each file's own splits, about ``n`` in all, shared out by file size."""
        files = input_files(self.path)
        sizes = [os.path.getsize(f) if splittable(f, "utf-8") else 0 for f in files]
        total = max(1, sum(sizes))
        parts: list[Split] = []
        for file, size in zip(files, sizes):
            fmt = self.input_of(file)
            if size and hasattr(fmt, "splits") and hasattr(fmt, "read_split"):
                parts.extend(fmt.splits(max(1, round(n * size / total))))
            else:
                parts.append((file, 0, WHOLE))
        return parts

    def read_split(self, part: Split) -> Iterator[Any]:
        fmt = self.input_of(part[0])
        return fmt.read_split(part) if hasattr(fmt, "read_split") else fmt.read()

    def row_decoder(self, absent: Any) -> Any:
        """The row decoder of the files' format when every file has one (all JSON Lines), else None (also
        when the files cannot be listed yet: planning goes on, and the read reports the error)."""
        try:
            makers = [getattr(self.input_of(f), "row_decoder", None) for f in input_files(self.path)]
        except UserError:
            return None
        if not makers or None in makers or len({type(m.__self__) for m in makers}) != 1:
            return None
        return makers[0](absent)

    def read_batches(self, part: Split | None, decoder: Any) -> Iterator[Iterable[Any]]:
        """Batches of the files (``part`` None) or of one split, by each file's format."""
        parts = [(f, 0, WHOLE) for f in input_files(self.path)] if part is None else [part]
        for file, lo, hi in parts:
            yield from self.input_of(file).read_batches((file, lo, hi), decoder)
