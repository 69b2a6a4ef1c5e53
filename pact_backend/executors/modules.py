"""The client's module search path in a worker, for one task at a time, so long-lived workers keep no job's state.

A stage's UDFs travel cloudpickled: functions of importable modules by reference (module and name), so the
worker imports those modules by name (VLDB J. 2014, sec. 7: the UDF code is shipped with the job). A module
the client found through a directory of its own (``--package-path``, a pyudf module next to the script,
PYTHONPATH) needs that directory on the worker's ``sys.path``. ``client_path()`` is the client's search path
with every entry made absolute on the client (the worker's working directory is never used, nor changed);
``task_modules(paths)`` adds the entries the worker lacks for the duration of one task (unpickling the spec
and running it) and then takes them out again, with every module imported from them, so the next job, maybe
from another directory with a module of the same name, imports its own. Tasks that overlap in one worker
process (a Dask worker with several threads) share the added entries while both run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Iterator

_LOCK = threading.Lock()
_ADDED: dict[str, int] = {}  # entry -> tasks running that added it


def client_path() -> list[str]:
    """This process's ``sys.path`` with relative entries ('' is the working directory) made absolute against
    its working directory; relative entries are dropped when that directory is gone."""
    try:
        cwd = os.getcwd()
    except FileNotFoundError:
        return [p for p in sys.path if os.path.isabs(p)]
    return [p if os.path.isabs(p) else os.path.normpath(os.path.join(cwd, p)) for p in sys.path]


@contextlib.contextmanager
def task_modules(paths: list[str]) -> Iterator[None]:
    """Within the block, the entries of ``paths`` (absolute) that ``sys.path`` lacks are appended to it; on
    leaving, the entries no other running task needs are removed with every module imported from them."""
    with _LOCK:
        mine = [p for p in dict.fromkeys(paths) if p in _ADDED or p not in sys.path]
        for entry in mine:
            if entry not in _ADDED:
                sys.path.append(entry)
            _ADDED[entry] = _ADDED.get(entry, 0) + 1
    try:
        yield
    finally:
        with _LOCK:
            gone = []
            for entry in mine:
                _ADDED[entry] -= 1
                if not _ADDED[entry]:
                    del _ADDED[entry]
                    gone.append(entry)
            if gone:
                _forget(gone)


def _forget(entries: list[str]) -> None:
    """Take ``entries`` out of ``sys.path`` and drop the modules imported from them."""
    sys.path[:] = [p for p in sys.path if p not in entries]
    for entry in entries:
        sys.path_importer_cache.pop(entry, None)
    roots = tuple(os.path.join(entry, "") for entry in entries)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(roots):
            del sys.modules[name]
