"""Which task the current thread runs, and per-task sequence numbers for UDFs that need unique numbers.

``stages.run_task`` / ``stream_task`` call ``enter(run, stage, part)`` before a task's drivers run; a UDF may
then call ``task_sequence(key)`` for a number that no other call with the same ``key`` in the same stage of the
same run returns: ``part << 32 | n``, ``n`` counting 0, 1, 2, ... within the task (the task number in the high
bits, as the original Stratosphere's GlobalEnumeration numbered parallel tasks). On one partition the numbers
are 0, 1, 2, ... in the order of the calls. Counters live in the thread (a worker thread runs one task at a
time) and are dropped when the thread starts a task of another run.
"""

from __future__ import annotations

import threading
from typing import Any, Hashable

_local = threading.local()


def enter(run: str, stage: int, part: int) -> None:
    """Mark the current thread as running partition ``part`` of ``stage`` in the run ``run``."""
    if getattr(_local, "run", None) != run:
        _local.counters = {}
    _local.run, _local.task = run, (stage, part)


def task_sequence(key: Hashable) -> int:
    """The next number of ``key`` in the current task: ``part << 32 | n`` (module docstring). Outside a task
    (an expression evaluated while binding) the numbers count as partition 0 of a task of its own."""
    task: tuple[int, int] = getattr(_local, "task", (-1, 0))
    counters: dict[Any, int] = getattr(_local, "counters", None) or {}
    _local.counters = counters
    slot = (task, key)
    n = counters.get(slot, 0)
    counters[slot] = n + 1
    return task[1] << 32 | n
