"""Sinks that write a directory of part files: a sink path ending with '/' (Hadoop's output directory).

Every executor writes such a sink as ``part-NNNNN<ext>`` files (``<ext>``: the first extension of the sink's
format): the Dask executor one per partition, the inline and process executors one for the gathered output.
Parts are written into ``<dir>/_temporary/<job>/`` and moved into ``<dir>`` only when the job succeeded,
replacing the ``part-*`` files of an earlier run (Hadoop's FileOutputCommitter), so a failed run leaves the
earlier result in place. The OutputFormat is used through a copy whose ``path`` names the part file.
"""

from __future__ import annotations

import copy
import os
import shutil
import uuid
from typing import Any

PART_PREFIX = "part-"
TEMPORARY = "_temporary"   # the directory parts are written to before the job commits (skipped on reading)


def is_part_directory(output_format: Any) -> bool:
    """Whether a sink's OutputFormat writes a directory of part files: its ``path`` ends with '/'."""
    path = getattr(output_format, "path", None)
    return isinstance(path, str) and path.endswith("/") and "://" not in path


def part_name(output_format: Any, index: int) -> str:
    """``part-00003.json``: the file name of part ``index``, with the first extension of the sink's format."""
    extensions = getattr(getattr(output_format, "format", None), "extensions", None) or ("",)
    return f"{PART_PREFIX}{index:05d}{extensions[0]}"


def part_format(output_format: Any, path: str) -> Any:
    """A copy of ``output_format`` writing the single file ``path``."""
    part = copy.copy(output_format)
    part.path = path
    return part


def commit_parts(directory: str, staging: str) -> None:
    """Move the part files of ``staging`` into ``directory`` (replacing the parts of an earlier run), then
    remove ``staging`` and an empty ``_temporary``."""
    for name in os.listdir(directory):
        if name.startswith(PART_PREFIX):
            os.remove(os.path.join(directory, name))
    for name in sorted(os.listdir(staging)):
        os.replace(os.path.join(staging, name), os.path.join(directory, name))
    shutil.rmtree(staging, ignore_errors=True)
    try:
        os.rmdir(os.path.join(directory, TEMPORARY))
    except OSError:
        pass


class _PartDirectoryWriter:
    """A writer of one part file staged under ``<dir>/_temporary``; ``commit`` moves it into place."""

    def __init__(self, output_format: Any):
        self.directory = output_format.path
        self.staging = os.path.join(self.directory, TEMPORARY, uuid.uuid4().hex)
        os.makedirs(self.staging, exist_ok=True)
        try:
            self.writer = part_format(output_format, os.path.join(self.staging, part_name(output_format, 0))).open()
        except BaseException:
            self._remove_staging()
            raise
        self.write = self.writer.write

    def commit(self) -> None:
        """Finish the part and move it into the directory (earlier parts are replaced)."""
        self.writer.commit()
        commit_parts(self.directory, self.staging)

    def abort(self) -> None:
        """Discard the part; the directory keeps what it held."""
        try:
            self.writer.abort()
        finally:
            self._remove_staging()

    def _remove_staging(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        try:
            os.rmdir(os.path.join(self.directory, TEMPORARY))
        except OSError:
            pass


def open_sink(output_format: Any) -> Any:
    """A writer (``write``, ``commit``, ``abort``) for all of a sink's records: ``output_format.open()``, or for
    a part directory one writing ``part-00000<ext>`` into it on commit. Raises what the format raises."""
    return _PartDirectoryWriter(output_format) if is_part_directory(output_format) else output_format.open()
