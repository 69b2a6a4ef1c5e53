"""The ``meteor`` console script: the click commands of meteor/cli.py on a deep stack, Ctrl-C and SIGTERM as one
line.

``main()`` runs the command line (meteor/cli.py) on a deep-stack thread (meteor/deep_stack.py), except the
interactive REPL, which stays on the main thread to cancel a running statement with Ctrl-C. Ctrl-C anywhere
else, start-up included, prints ``meteor: interrupted`` and exits with status 130 (128 + SIGINT), the shell
convention; a second Ctrl-C leaves at once. SIGTERM (``kill``, a service manager, a batch system's time limit)
unwinds the same way, REPL included: the run stops its worker processes, removes its run directory and the
temp files of unfinished outputs, prints ``meteor: terminated`` and exits with status 143 (128 + SIGTERM).
Click's usage errors and exit codes are kept as click would report them.

Start-up runs without Python's cyclic garbage collector (``pause_gc``): importing the engine allocates some
60,000 long-lived objects (classes, functions, module dictionaries), which the collector would traverse again
and again (a full collection costs about 15 ms), and the interpreter's exit would traverse them once more; a
trivial ``meteor run`` spent about 50 ms of its 0.2 CPU s on that (docs/benchmarks.md, "Start-up"). The
command resumes collection (``resume_gc``) before it processes data, with what start-up made frozen (never
traversed again; the few hundred objects of start-up garbage it holds are not worth a 15 ms collection), and
freezes again before exiting. A process forked meanwhile starts with collection on.
"""

from __future__ import annotations

import errno
import gc
import os
import signal
import sys
from typing import Callable

INTERRUPTED = 130
TERMINATED = 143


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM arrives: not an Exception, so it unwinds everything (outputs
    aborted, worker processes ended, temp files removed) like KeyboardInterrupt, but is no Ctrl-C to cancel a
    REPL statement with."""


_MAIN = {"pid": 0, "sigint": False}  # the process that installed the handlers; whether Ctrl-C arrived
_GC = {"paused": False, "fork_hook": False}  # whether pause_gc turned the collector off; at-fork hook installed


def pause_gc() -> None:
    """Turn the cyclic garbage collector off for start-up, unless something turned it off already (then it
    stays as it was); processes forked before ``resume_gc`` start with it on."""
    if not gc.isenabled():
        return
    gc.disable()
    _GC["paused"] = True
    if not _GC["fork_hook"] and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_enable_in_child)
        _GC["fork_hook"] = True


def resume_gc() -> None:
    """End start-up: freeze what it allocated (``gc.freeze``: kept, never traversed again) and turn the
    collector back on, if ``pause_gc`` turned it off; otherwise nothing. Call before processing data."""
    if _GC["paused"]:
        _GC["paused"] = False
        gc.freeze()
        gc.enable()


def _enable_in_child() -> None:
    if _GC["paused"]:
        _GC["paused"] = False
        gc.enable()


def _on_sigterm(signum: int, frame: object) -> None:
    if os.getpid() != _MAIN["pid"]:  # a forked worker before it set up its own handlers: die as by default
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    raise Terminated()


def _on_sigint(signum: int, frame: object) -> None:
    """Ctrl-C: remembered, then raised as KeyboardInterrupt. CPython swallows an exception raised while the
    import system runs a callback ("Exception ignored in ... _get_module_lock"), so a Ctrl-C during start-up's
    imports could be lost; ``main`` checks the remembered one once the imports are done."""
    _MAIN["sigint"] = True
    raise KeyboardInterrupt


def _quiet_interrupts(hook):
    """``hook`` without its report of a swallowed KeyboardInterrupt ("Exception ignored in ..."): that Ctrl-C
    is not lost (see ``_on_sigint``) and ends the run with its one line like any other."""

    def unraisable(info) -> None:
        if not isinstance(info.exc_value, KeyboardInterrupt):
            hook(info)

    return unraisable


def main() -> None:
    """Run ``meteor`` with the arguments in ``sys.argv``; never returns (exits with the command's status)."""
    pause_gc()
    _MAIN["pid"] = os.getpid()
    signal.signal(signal.SIGTERM, _on_sigterm)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when the shell ignores Ctrl-C
        signal.signal(signal.SIGINT, _on_sigint)
        sys.unraisablehook = _quiet_interrupts(sys.unraisablehook)
    try:
        from meteor.deep_stack import call_deep
        from meteor.run_command import quick_run

        args = sys.argv[1:]
        quick = quick_run(args)  # `meteor run [flags] SCRIPT` needs no option parser: click is not loaded
        if quick is None:
            from meteor.cli import main as commands

        if _MAIN["sigint"]:  # a Ctrl-C the import system swallowed
            raise KeyboardInterrupt

        interactive = len(sys.argv) <= 1 and sys.stdin is not None and sys.stdin.isatty()
        if quick is not None:
            status = call_deep(run_quick, quick)
        else:
            status = invoke(commands, args) if interactive else call_deep(invoke, commands, args)
    except KeyboardInterrupt:
        _leave("interrupted", INTERRUPTED)
    except Terminated:
        _leave("terminated", TERMINATED)
    _freeze_before_exit()
    sys.exit(status)


def _freeze_before_exit() -> None:
    """Freeze every object before the interpreter exits, so its final collections do not traverse the heap
    (objects are still released and exit handlers run as usual; only cyclic garbage is left to the OS)."""
    gc.freeze()


def invoke(commands, args: list[str]) -> int:
    """The exit status of the click group ``commands`` run with ``args``; KeyboardInterrupt propagates.

    Like click's standalone mode (usage errors shown with status 2, ``--help``/``--version`` status 0, a closed
    stdout pipe status 1) but without its ``Aborted!`` handling of Ctrl-C.
    """
    import click

    try:
        with commands.make_context("meteor", list(args)) as ctx:
            commands.invoke(ctx)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except SystemExit as exc:
        return _status(exc)
    except OSError as exc:
        return _broken_pipe(exc)


def run_quick(call: Callable[[], None]) -> int:
    """The exit status of ``call``, a command line that ``meteor.run_command.quick_run`` runs without click, as
    ``invoke`` reports the same command run through click; KeyboardInterrupt propagates."""
    try:
        call()
        return 0
    except SystemExit as exc:
        return _status(exc)
    except OSError as exc:
        return _broken_pipe(exc)


def _status(exc: SystemExit) -> int:
    return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


def _broken_pipe(exc: OSError) -> int:
    """Status 1 for a closed stdout pipe (EPIPE), whose final flush is silenced; other errors propagate."""
    if exc.errno != errno.EPIPE:
        raise exc
    _silence_broken_pipe()
    return 1


def _silence_broken_pipe() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of a closed pipe raises nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _leave(what: str, status: int) -> None:
    """``meteor: <what>`` on stderr and exit ``status``; the exit handlers still shut worker pools down, unless
    a second Ctrl-C or SIGTERM asks to leave at once."""
    signal.signal(signal.SIGINT, lambda signum, frame: os._exit(status))
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(status))
    try:
        sys.stderr.write(f"meteor: {what}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    sys.exit(status)
