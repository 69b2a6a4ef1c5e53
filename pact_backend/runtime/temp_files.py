"""Temp files and directories that carry their owner: made by a run, removed by it, or by a later run once the
process that made them is gone.

A run's temp names carry an owner tag ``<pid>-<start>-<host>``: the process id, its start time (clock ticks
since boot, from ``/proc/<pid>/stat``; 0 where the OS does not tell) and 8 hex digits of a hash of the host
name. A run removes what it made when it ends (Ctrl-C and SIGTERM included); only SIGKILL or a crash of the
whole machine leaves something behind. A later run that makes a temp name of the same kind in the same
directory first removes the ones whose owner is gone: same host (a directory on shared storage may hold
another machine's files, whose processes cannot be checked from here), same user, and no process with that
id and start time (the start time tells a reused process id from the owner). The idea is Hadoop's and
Spark's: scratch space named after its owner and swept by the next one that comes along.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from functools import lru_cache

from pact_backend.digest import blake2b

TAG = r"(?P<pid>\d+)-(?P<start>\d+)-(?P<host>[0-9a-f]{8})"
RUN_PREFIX = "meteor-run-"
_RUN_NAME = re.compile(re.escape(RUN_PREFIX) + TAG + r"-")


def process_start(pid: int) -> int:
    """The start time of process ``pid`` in clock ticks since boot (Linux ``/proc``), 0 when unknown; raises
    ProcessLookupError when Linux says there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            text = stream.read()
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            raise ProcessLookupError(pid) from None
        return 0
    except OSError:
        return 0
    fields = text[text.rindex(b")") + 2:].split()  # after the command name, which may hold spaces
    return int(fields[19])  # field 22 of stat(5); fields[0] is field 3


@lru_cache(maxsize=1)
def _host() -> str:
    if hasattr(os, "uname"):
        name = os.uname().nodename  # socket.gethostname() on POSIX, without importing socket (a millisecond)
    else:
        import socket

        name = socket.gethostname()
    return blake2b(name.encode(), digest_size=4).hexdigest()


def owner_tag() -> str:
    """This process's owner tag, ``<pid>-<start>-<host>``."""
    pid = os.getpid()
    return f"{pid}-{process_start(pid)}-{_host()}"


def owner_gone(pid: int, start: int, host: str) -> bool:
    """Whether the owner of a tag is known to be gone: a process of this host and no process ``pid`` started at
    ``start`` (a tag of another host is never gone: it cannot be checked from here)."""
    if host != _host():
        return False
    try:
        os.kill(pid, 0)
        return bool(start) and process_start(pid) not in (0, start)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user: alive
        return False


def _stale(path: str, match: re.Match | None) -> bool:
    """Whether ``path`` (its name matched as ``match``) is ours to remove: our user's, its owner gone."""
    if match is None:
        return False
    try:
        if os.lstat(path).st_uid != os.geteuid():
            return False
    except OSError:
        return False
    return owner_gone(int(match["pid"]), int(match["start"]), match["host"])


def remove_stale(directory: str, pattern: re.Pattern) -> list[str]:
    """Remove every entry of ``directory`` whose name matches ``pattern`` (a regex holding ``TAG``, matched at
    the start of the name) and whose owner is gone; returns the paths removed. Never raises for an entry
    that vanished or cannot be removed (another run may be sweeping the same directory)."""
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        path = os.path.join(directory, name)
        if not _stale(path, pattern.match(name)):
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def run_directory(parent: str | None = None) -> str:
    """A fresh run directory ``meteor-run-<owner tag>-<random>`` (mode 0700) in ``parent`` (None: the system
    temp dir), after removing the run directories in it that a gone process left behind."""
    parent = parent or tempfile.gettempdir()
    remove_stale(parent, _RUN_NAME)
    return tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{owner_tag()}-", dir=parent)


def temp_output_prefix(name: str) -> str:
    """The prefix of the temp file an output ``name`` is written to before it is renamed into place:
    ``.<name>.<owner tag>.`` (hidden; the suffix is ``.<random>.tmp``)."""
    return f".{name}.{owner_tag()}."


def remove_stale_outputs(directory: str, name: str) -> list[str]:
    """Remove the temp files of output ``name`` in ``directory`` that a gone process left behind."""
    return remove_stale(directory, re.compile(re.escape(f".{name}.") + TAG + r"\.[^.]+\.tmp$"))
