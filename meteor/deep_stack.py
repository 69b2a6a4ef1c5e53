"""Running a call on a thread with a deep stack, so deeply nested scripts and data do not hit Python's limits.

The parser's tree transformer, the binder, the expression compiler and the value code (``sopremo.values``)
recurse once per nesting level. Python's default recursion limit (1000 frames) stops them at a few hundred
levels of a script (a sum of 329 terms, 245 nested arrays) or of data. ``call_deep`` runs a call on a thread
with a 512 MB stack (reserved address space, touched only as far as used) under a recursion limit of 100 000
frames, far beyond the explicit limits that turn deeper input into clear errors (``MAX_NESTING`` here for
scripts; the JSON readers' depth limit for data). Worker processes forked from that thread inherit its stack
and the limit.

Ctrl-C in the main thread while the call runs (or SIGTERM, whose handler raises there too): the call's thread
gets ``WAKE_SECONDS`` to end by itself, then the same exception is raised in it (the executors wait for their
workers in short polls, so it is seen at once; their workers ignore Ctrl-C and are ended by the executor as it
unwinds); a thread blocked in C code only sees it once that returns, so after another ``WAKE_SECONDS`` the
worker processes are terminated. Once the thread has ended, or after ``GRACE_SECONDS``, the exception is
raised in the caller.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

STACK_BYTES = 512 * 1024 * 1024
RECURSION_LIMIT = 100_000
MAX_NESTING = 3000  # nesting levels of a script's expressions and statements (meteor.parser checks it)
WAKE_SECONDS = 1.0
GRACE_SECONDS = 10.0
TOO_DEEP = (f"nested too deeply to process: a value or expression holds thousands of levels (scripts may nest "
            f"{MAX_NESTING} levels, JSON data about 1000)")

_deep = threading.local()
_LIMIT_LOCK = threading.Lock()
_saved_limit: dict[str, int] = {"calls": 0, "limit": 1000}


def call_deep(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` on a deep-stack thread (or directly when already on one): returns its result or
    raises its exception (SystemExit included). KeyboardInterrupt and SIGTERM as described in the module
    docstring."""
    if getattr(_deep, "active", False):
        return function(*args)
    outcome: dict[str, Any] = {}
    finished = threading.Event()  # waited on instead of join(): an interrupted join() breaks the Thread in 3.11

    def body() -> None:
        _deep.active = True
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            outcome["error"] = exc
        finally:
            finished.set()

    _raise_limit()
    try:
        return _run(body, finished, outcome)
    finally:
        _restore_limit()


def _run(body: Callable[[], None], finished: threading.Event, outcome: dict[str, Any]) -> Any:
    previous = threading.stack_size(STACK_BYTES)
    try:
        thread = threading.Thread(target=body, name="meteor-deep-stack", daemon=True)
        thread.start()
    finally:
        threading.stack_size(previous)
    try:
        finished.wait()
    except BaseException as stop:  # KeyboardInterrupt, or what a signal handler raised (SIGTERM)
        if not finished.wait(WAKE_SECONDS):
            _interrupt(thread, type(stop))
            if not finished.wait(WAKE_SECONDS):
                _stop_workers()
                finished.wait(GRACE_SECONDS)
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _raise_limit() -> None:
    """Raise the recursion limit for the first of the calls running at a time (the limit is process-wide)."""
    with _LIMIT_LOCK:
        if _saved_limit["calls"] == 0:
            _saved_limit["limit"] = sys.getrecursionlimit()
            sys.setrecursionlimit(max(RECURSION_LIMIT, _saved_limit["limit"]))
        _saved_limit["calls"] += 1


def _restore_limit() -> None:
    """Put the caller's recursion limit back once no call runs (threads with the default stack keep a limit
    that stops runaway recursion with RecursionError rather than a crash)."""
    with _LIMIT_LOCK:
        _saved_limit["calls"] -= 1
        if _saved_limit["calls"] == 0:
            sys.setrecursionlimit(_saved_limit["limit"])


def _interrupt(thread: threading.Thread, error: type[BaseException]) -> None:
    """Raise ``error`` in ``thread`` at its next Python instruction (CPython's async exception)."""
    import ctypes  # only when interrupted: start-up stays lean

    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(error))


def _stop_workers() -> None:
    """Terminate this process's multiprocessing children (worker pools) and reap them."""
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(GRACE_SECONDS)
