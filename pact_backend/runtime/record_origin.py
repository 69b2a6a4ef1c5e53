"""Where the record an error names was read: its input file and line, found again only once a task failed.

A UDF error of a higher layer may carry the record it was evaluating (``UserError.record``; opaque here). When
the failing task read that record from a source in the same stage, ``locate`` reads the task's splits again,
slowly and line by line (``FileFormat.numbered_records``), until it meets an equal record, and names its file
and line (``UserError.record_file``, ``record_line``). Nothing of this runs unless an error is being reported, so the record loops
carry no line numbers. A record changed by a Map before the failing one, or read in another stage (after a
shuffle), is not found there; ``locate_in_sources`` then looks through every source of the failed program,
on the client; when no source holds it the error shows the record itself (issue 16 item 2).
"""

from __future__ import annotations

from typing import Any

from pact_backend.errors import UserError

SCAN_LIMIT = 10_000_000
"""Records read at most while looking for one (a bound on the time an error may take to report)."""


def locate(error: BaseException, kind: str, head: dict[str, Any], splits: list[Any] | None) -> None:
    """Set ``error.record_file`` and ``record_line`` to the file and line of the first record equal to ``error.record`` in ``splits`` of a
    stage whose head contract ``kind`` is a source (``head['input_format']``); leaves other errors alone and
    never raises (the original error matters more)."""
    if not isinstance(error, UserError) or error.record is None or error.record_file is not None:
        return
    if kind != "source":
        return
    try:
        found = _find(head["input_format"], splits, error.record)
    except Exception:  # noqa: BLE001 - reporting must not replace the error being reported
        return
    if found is not None:
        error.record_file, error.record_line = found
        error.refresh()


def locate_in_sources(error: BaseException, formats: list[Any]) -> None:
    """Like ``locate``, for an error that left its task without a line (its record came through a shuffle):
    the first of the input ``formats`` (of the program's sources) holding an equal record names it. Run once,
    on the client, when the run has failed; never raises."""
    if not isinstance(error, UserError) or error.record is None or error.record_file is not None:
        return
    for fmt in formats:
        try:
            found = _find(fmt, None, error.record)
        except Exception:  # noqa: BLE001 - reporting must not replace the error being reported
            continue
        if found is not None:
            error.record_file, error.record_line = found
            error.refresh()
            return


def _find(fmt: Any, splits: list[Any] | None, record: Any) -> tuple[str, int] | None:
    read = 0
    for split in splits if splits is not None else [None]:
        numbered = fmt.numbered_records(split)
        if numbered is None:
            return None
        for file, line, candidate in numbered:
            if candidate == record:
                return file, line
            read += 1
            if read >= SCAN_LIMIT:
                return None
    return None
