"""The ``meteor`` command line: ``meteor run``, ``meteor explain``, ``meteor packages``, ``meteor help``.

User errors (bad script, bad data, missing files) print one clear message and exit with status 1; ``--debug``
shows the Python traceback too. Internal errors always show their traceback. What ``meteor run`` does lives in
meteor/run_command.py, which also runs plain ``meteor run [flags] SCRIPT`` command lines without loading click.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from meteor.entry import resume_gc
from meteor.run_command import (COMMAND_TOTAL, DASK_ADDRESS_VARIABLE, fail, parse_params, run_script, setup_warnings,
                                sink_summary)
from sopremo.errors import MeteorError

__all__ = ["COMMAND_TOTAL", "main", "sink_summary"]


_params_option = click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
                              help="Define the constant NAME in the script (repeatable).")
_debug_option = click.option("--debug", is_flag=True, help="Show Python tracebacks of user errors.")
_no_optimize_option = click.option("--no-optimize", is_flag=True,
                                   help="Skip the optimizer: no logical rewrites, default physical strategies.")


def _executor_options(command: Any) -> Any:
    """The options choosing and sizing the executor, shared by ``run`` and ``explain`` (so an explanation
    is planned for the executor a run would use)."""
    options = [
        click.option("--executor", default=None, metavar="NAME",
                     help="Where the plan runs: process (worker processes on all cores, the default), inline "
                          "(one process; the default when the inputs are below 1 MB and --parallelism is not "
                          "given), dask (a Dask cluster, see --address and docs/distributed.md), or another "
                          "installed executor (meteor.executors)."),
        click.option("--address", default=None, metavar="tcp://HOST:8786", envvar=DASK_ADDRESS_VARIABLE,
                     help="Scheduler of the Dask cluster for --executor dask (default: $METEOR_DASK_ADDRESS, "
                          "else a local cluster of 2 worker processes)."),
        click.option("--parallelism", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Default degree of parallelism (default: all cores; 1 for --executor inline)."),
        click.option("--memory", default=None, metavar="SIZE",
                     help="Memory budget of a run, e.g. 512MB, shared by the tasks running at once; sorts and "
                          "hash tables spill past it (default: half the RAM)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def __getattr__(name: str) -> Any:
    """``PACKAGES``, the package manager of the commands (sopremo.package's), imported when first asked for:
    ``meteor --help`` and the start of ``meteor run`` do not load the package machinery."""
    if name == "PACKAGES":
        from sopremo.package import PACKAGES

        return PACKAGES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _packages() -> Any:
    """The package manager the commands use: this module's ``PACKAGES`` once set (tests set their own), else
    sopremo.package's."""
    manager = globals().get("PACKAGES")
    if manager is None:
        from sopremo.package import PACKAGES as manager
    return manager


def _add_package_path(ctx: click.Context, param: click.Parameter, dirs: tuple[str, ...]) -> None:
    """Put every ``--package-path`` directory on the package path (before METEOR_PACKAGE_PATH)."""
    for directory in dirs:
        _packages().add_path(directory)


_package_path_option = click.option(
    "--package-path", multiple=True, metavar="DIR", expose_value=False, callback=_add_package_path,
    type=click.Path(exists=True, file_okay=False),
    help="Also load operator packages from the Python modules in DIR (repeatable; see docs/packages.md).")


@click.group(invoke_without_command=True)
@click.version_option(package_name="meteor")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Meteor: a query language for JSON-like data over Sopremo operators and PACT programs.

    Without a command: an interactive REPL on a terminal; a script piped to stdin runs statement by statement.
    """
    setup_warnings()
    if ctx.invoked_subcommand is None:
        from meteor import repl

        resume_gc()  # a session processes data for as long as it lasts

        if sys.stdin.isatty():
            sys.exit(repl.run_repl())
        script = sys.stdin.read()
        if script.strip():
            sys.exit(repl.run_stream(script.splitlines(keepends=True)))
        click.echo(ctx.get_help())


@main.command()
@click.argument("script", type=click.Path(dir_okay=False))
@_params_option
@click.option("--stats", is_flag=True, help="Print records in/out and time per operator to stderr, then the "
              "wall-clock seconds of the run and of the whole command.")
@click.option("--dry-run", is_flag=True, help="Parse, bind and plan the script without running it.")
@click.option("--strict", is_flag=True, help="Fail before running when the script reads a field that never holds "
              "a value (a field no record of an input has, a field of a group array); without it, a warning.")
@click.option("--quiet", "-q", is_flag=True, help="No summary line per output and no progress lines (shown only "
              "on a terminal) on stderr.")
@_package_path_option
@_no_optimize_option
@_executor_options
@_debug_option
def run(script: str, params: tuple[str, ...], stats: bool, dry_run: bool, debug: bool, strict: bool = False,
        no_optimize: bool = False, executor: str | None = None, parallelism: int | None = None,
        memory: str | None = None, address: str | None = None, quiet: bool = False) -> None:
    """Run a Meteor SCRIPT on the embedded engine."""
    run_script(script, params, stats, dry_run, debug, strict, no_optimize, executor, parallelism, memory, address,
               quiet)


@main.command()
@click.argument("script", type=click.Path(dir_okay=False))
@_params_option
@_package_path_option
@_no_optimize_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "dot"]), default="text", show_default=True,
              help="text, a machine-readable JSON plan, or a Graphviz digraph of the physical plan.")
@_executor_options
@_debug_option
def explain(script: str, params: tuple[str, ...], debug: bool, no_optimize: bool = False, fmt: str = "text",
            executor: str | None = None, parallelism: int | None = None, memory: str | None = None,
            address: str | None = None) -> None:
    """Print the Sopremo plan, the PACT program and the physical plan (strategies, DOP, estimates, chaining,
    fusion) of SCRIPT, as the chosen executor would run it (the same options as ``meteor run``).

    SCRIPT may also be a PACT program written in Python, ``module:function`` or ``file.py:function``: a
    function without arguments returning an ExecutionEnvironment, a PactPlan or a DataSet (docs/pact.md)."""
    from meteor import api
    from meteor.explain import explain as explain_script
    from sopremo.package import PackageError

    try:
        if _is_program_function(script):
            runner = api.make_executor(executor, parallelism, memory, address, quiet=True)
            _explain_program(script, fmt, not no_optimize, runner, debug)
            return
        plan = api.compile_file(script, parse_params(params))
        runner = api.make_executor(executor, parallelism, memory, address, quiet=True, plan=plan)
        click.echo(explain_script(plan, fmt, optimize=not no_optimize, executor=runner))
    except (MeteorError, PackageError, RecursionError) as exc:
        fail(exc, debug)


def _is_program_function(target: str) -> bool:
    """Whether ``target`` names a PACT program function (``module:function``) rather than a script file."""
    import os

    head, sep, tail = target.rpartition(":")
    return bool(sep and head and tail.isidentifier()) and not os.path.exists(target)


def _explain_program(target: str, fmt: str, optimize: bool, runner: Any, debug: bool) -> None:
    from sopremo.engine import ProgramNotFound, explain_program

    try:
        click.echo(explain_program(target, runner, fmt, optimize))
    except ProgramNotFound as exc:
        fail(exc, debug)


@main.command()
@_package_path_option
def packages() -> None:
    """List installed operator packages with their operators and functions."""
    from meteor.help import packages_listing

    listing, errors = packages_listing(_packages())
    click.echo(listing)
    for error in errors:
        click.echo(f"error: {error}", err=True)
    sys.exit(1 if errors else 0)


@main.command(name="help")
@click.argument("name", nargs=-1)
@_package_path_option
def help_(name: tuple[str, ...]) -> None:
    """Show the syntax and properties of operator NAME (or a function or format); without NAME, list all."""
    from meteor.help import HelpError, help_text, overview

    packages = _packages()
    try:
        click.echo(help_text(" ".join(name), packages) if name else overview(packages))
    except HelpError as exc:
        fail(exc, False)


if __name__ == "__main__":  # pragma: no cover - ``python -m meteor.cli`` is the console script
    from meteor.entry import main as entry

    entry()
