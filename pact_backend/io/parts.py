"""Sinks that write a directory of part files: a sink path ending with '/' (Hadoop's output directory).

Every executor writes such a sink as ``part-NNNNN<ext>`` files (``<ext>``: the ``extension`` of the sink's
format), one per partition of the sink's producer (the planner keeps such a sink at its producer's DOP).
Parts are written into ``<dir>/_temporary/<owner>-<job>/`` (``<owner>``: the process that commits, see
``pact_backend.runtime.temp_files``; a later job sweeps what a killed one left) and moved into ``<dir>`` only when the job succeeded,
replacing the ``part-*`` files of an earlier run (Hadoop's FileOutputCommitter), so a failed run leaves the
earlier result in place. The OutputFormat is used through a copy whose ``path`` names the part file.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import uuid
from typing import Any

from pact_backend.runtime.temp_files import TAG, owner_tag, remove_stale

PART_PREFIX = "part-"
TEMPORARY = "_temporary"   # the directory parts are written to before the job commits (skipped on reading)


def is_part_directory(output_format: Any) -> bool:
    """Whether a sink's OutputFormat writes a directory of part files: its ``path`` ends with '/'."""
    path = getattr(output_format, "path", None)
    return isinstance(path, str) and path.endswith("/") and "://" not in path


def part_name(output_format: Any, index: int) -> str:
    """``part-00003.json``: the file name of part ``index``, with the ``extension`` of the sink's format."""
    return f"{PART_PREFIX}{index:05d}{getattr(output_format, 'extension', '')}"


def part_format(output_format: Any, path: str) -> Any:
    """A copy of ``output_format`` writing the single file ``path``."""
    part = copy.copy(output_format)
    part.path = path
    return part


_STAGING = re.compile(TAG + "-")


def staging_directory(directory: str, job: str) -> str:
    """``<directory>/_temporary/<owner tag>-<job>``, created, after removing the staging directories that
    jobs of gone processes left there."""
    temporary = os.path.join(directory, TEMPORARY)
    remove_stale(temporary, _STAGING)
    staging = os.path.join(temporary, f"{owner_tag()}-{job}")
    os.makedirs(staging, exist_ok=True)
    return staging


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


class PartDirectoryWriter:
    """A writer of part files staged under ``<dir>/_temporary/<job>``: part 0 is open from the start,
    ``start_part(i)`` finishes the current part and opens part ``i`` (one per partition of the producer);
    ``commit`` moves the parts into the directory (replacing an earlier run's parts), ``abort`` discards them."""

    def __init__(self, output_format: Any):
        self.format = output_format
        self.directory = output_format.path
        self.staging = staging_directory(self.directory, uuid.uuid4().hex)
        self.writer: Any = None
        try:
            self.start_part(0)
        except BaseException:
            self._remove_staging()
            raise

    def start_part(self, index: int) -> None:
        """Finish the part being written (if any) and open part ``index``."""
        if self.writer is not None:
            self.writer.commit()
        self.writer = part_format(self.format, os.path.join(self.staging, part_name(self.format, index))).open()
        self.write = self.writer.write

    def commit(self) -> None:
        """Finish the last part and move every part into the directory (earlier parts are replaced)."""
        self.writer.commit()
        commit_parts(self.directory, self.staging)

    def abort(self) -> None:
        """Discard the parts; the directory keeps what it held."""
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
    a part directory a PartDirectoryWriter (part-00000<ext> first). Raises what the format raises."""
    return PartDirectoryWriter(output_format) if is_part_directory(output_format) else output_format.open()
