"""What ``meteor run`` does, without click: ``run_script``, and ``quick_run`` for the command lines that need no
option parser.

meteor/cli.py declares the command with click and calls ``run_script``. Importing click (with the ``uuid``,
``platform``, ``datetime`` and ``gettext`` modules it loads) and building the command objects costs about 11 ms,
a tenth of a trivial run's start-up (docs/benchmarks.md, "Start-up"), so ``meteor.entry`` asks ``quick_run``
first: a command line made only of ``run``, the flags of ``run`` (``-q``/``--quiet``, ``--stats``,
``--dry-run``, ``--strict``, ``--no-optimize``, ``--debug``) and one script path that is no directory runs
``run_script`` directly, exactly as click would call it (options that take values keep their defaults; the Dask
address comes from ``METEOR_DASK_ADDRESS`` as click reads it). Every other command line (any other option or
command, ``--help``, a repeated or misspelled flag, ``--``, a directory) goes to click, which parses, reports
usage errors and runs the same ``run_script``.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
import warnings
from typing import Any, Callable

from meteor.deep_stack import TOO_DEEP
from meteor.entry import resume_gc
from sopremo.errors import MeteorError, MeteorWarning

# the last line of --stats; the table's last row is the run alone (RunStats.table)
COMMAND_TOTAL = "meteor run in all (compile, plan and run; wall clock):"

# the flags of ``meteor run`` (cli.py declares them with click) and the parameter each sets
FLAGS = {"-q": "quiet", "--quiet": "quiet", "--stats": "stats", "--dry-run": "dry_run", "--strict": "strict",
         "--no-optimize": "no_optimize", "--debug": "debug"}
DASK_ADDRESS_VARIABLE = "METEOR_DASK_ADDRESS"


def echo(message: str) -> None:
    """``message`` and a newline on stderr, flushed (as ``click.echo(message, err=True)`` writes text)."""
    sys.stderr.write(f"{message}\n")
    sys.stderr.flush()


def quick_run(args: list[str]) -> Callable[[], None] | None:
    """A call running ``meteor <args>`` without click when ``args`` is ``run``, flags of ``run`` (each at most
    once) and one script path that is no directory, in any order; None for every other command line."""
    if not args or args[0] != "run":
        return None
    options: dict[str, Any] = {}
    scripts = []
    for arg in args[1:]:
        if arg in FLAGS and FLAGS[arg] not in options:
            options[FLAGS[arg]] = True
        elif arg.startswith("-"):
            return None  # an option with a value, --help, --, a repeated flag: click parses those
        else:
            scripts.append(arg)
    if len(scripts) != 1 or os.path.isdir(scripts[0]):
        return None
    setup_warnings()
    address = os.environ.get(DASK_ADDRESS_VARIABLE) or None
    return lambda: run_script(scripts[0], address=address, **options)


def setup_warnings() -> None:
    """Show MeteorWarnings as ``warning: ...`` lines on stderr, every time they occur (what the ``meteor``
    command group does before any command)."""
    warnings.showwarning = _show_warning
    warnings.simplefilter("always", MeteorWarning)


def run_script(script: str, params: tuple[str, ...] = (), stats: bool = False, dry_run: bool = False,
               debug: bool = False, strict: bool = False, no_optimize: bool = False, executor: str | None = None,
               parallelism: int | None = None, memory: str | None = None, address: str | None = None,
               quiet: bool = False) -> None:
    """``meteor run SCRIPT`` with its options (see ``meteor run --help``): compile, plan and run the script,
    then one summary line per output; a user error is one ``error:`` line and exit status 1 (SystemExit)."""
    from meteor import api
    from sopremo.package import PackageError

    typos: list[Any] = []
    try:
        started = time.perf_counter()
        plan = api.compile_file(script, parse_params(params))
        runner = api.make_executor(executor, parallelism, memory, address, quiet=quiet or dry_run, plan=plan)
        from sopremo import engine

        compilation = api.compile_plan(plan, runner, not no_optimize)
        typos = engine.find_typos(compilation)
        if strict:
            engine.raise_typos(typos)
        if dry_run:
            from meteor.explain import explain_plan

            explain_plan(plan, not no_optimize, runner)
            echo(f"{script}: ok ({len(plan.sinks)} output(s))")
            return
        resume_gc()  # start-up ends here: the data is processed with the garbage collector on
        result = engine.run(compilation, runner)
        if not quiet:
            for line in sink_summary(plan, result):
                echo(line)
        if stats:
            for iteration in result.iterations:
                echo(iteration.table() + "\n")
            echo(result.table())
            echo(f"{COMMAND_TOTAL} {time.perf_counter() - started:.3f} s")
    except (MeteorError, PackageError, RecursionError) as exc:
        warn_typos([] if strict else typos)
        fail(exc, debug)
    warn_typos(typos)


def parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``name=value`` pairs to constants; values are JSON when they parse as JSON (integers of any size exact,
    as in data files), else plain strings. A malformed pair raises click.BadParameter (``--param``)."""
    if not pairs:
        return {}
    import msgspec

    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.isidentifier():
            import click

            raise click.BadParameter(f"expected name=value, got {pair!r}", param_hint="--param")
        try:
            params[name] = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            params[name] = raw
    return params


def fail(exc: BaseException, debug: bool) -> None:
    """Report the user error ``exc`` as one ``error:`` line (and its notes; its traceback first with
    ``debug``) and exit with status 1."""
    if debug:
        traceback.print_exception(exc)
    echo(f"error: {TOO_DEEP if isinstance(exc, RecursionError) else exc}")
    for note in getattr(exc, "__notes__", ()):  # where a distributed task failed (operator, partition, file)
        echo(f"  {note}")
    sys.exit(1)


def sink_summary(plan: Any, result: Any) -> list[str]:
    """One line per sink of ``plan`` after the run ``result`` (RunStats): ``wrote N record(s) to PATH (S s)``,
    PATH relative to the working directory when it lies below it, S the seconds of the run that wrote it (the
    sinks of a script are written by one run, so they share it)."""
    lines = []
    for sink, entry in zip(plan.sinks, result.sinks()):
        path = sink.path
        if os.path.isabs(path) and not os.path.relpath(path).startswith(".."):
            path = os.path.relpath(path) + ("/" if path.endswith("/") else "")
        count = entry.records_out
        lines.append(f"wrote {count} record{'' if count == 1 else 's'} to {path} ({result.seconds:.3f} s)")
    return lines


def warn_typos(typos: list[Any]) -> None:
    """Each typo (sopremo.typos) as a ``warning:`` after the run, where the user looks last."""
    for typo in typos:
        warnings.warn(typo.format(), MeteorWarning)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """MeteorWarnings as ``warning: ...`` lines on stderr; other warnings as Python shows them."""
    if issubclass(category, MeteorWarning):
        echo(f"warning: {message}")
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning
