"""The ``meteor`` command line: ``meteor run``, ``meteor explain``, ``meteor packages``.

User errors (bad script, bad data, missing files) print one clear message and exit with status 1; ``--debug``
shows the Python traceback too. Internal errors always show their traceback.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any

import click
import orjson

from sopremo.errors import MeteorError
from sopremo.package import PACKAGES, PackageError


def _parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``name=value`` pairs to constants; values are JSON when they parse as JSON, else plain strings."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"expected name=value, got {pair!r}", param_hint="--param")
        try:
            params[name] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            params[name] = raw
    return params


def _fail(exc: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exception(exc)
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


_params_option = click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
                              help="Define the constant NAME in the script (repeatable).")
_debug_option = click.option("--debug", is_flag=True, help="Show Python tracebacks of user errors.")


@click.group(invoke_without_command=True)
@click.version_option(package_name="meteor")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Meteor: a query language for JSON-like data over Sopremo operators and PACT programs."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@main.command()
@click.argument("script", type=click.Path(dir_okay=False))
@_params_option
@click.option("--stats", is_flag=True, help="Print records in/out and time per operator to stderr.")
@click.option("--dry-run", is_flag=True, help="Parse, bind and plan the script without running it.")
@_debug_option
def run(script: str, params: tuple[str, ...], stats: bool, dry_run: bool, debug: bool) -> None:
    """Run a Meteor SCRIPT on the embedded engine."""
    from meteor import api

    try:
        started = time.perf_counter()
        plan = api.compile_file(script, _parse_params(params))
        if dry_run:
            api.plan_pact(plan)
            click.echo(f"{script}: ok ({len(plan.sinks)} output(s))", err=True)
            return
        result = api.run_plan(plan)
        if stats:
            click.echo(result.table(), err=True)
            click.echo(f"total {time.perf_counter() - started:.3f} s", err=True)
    except (MeteorError, PackageError) as exc:
        _fail(exc, debug)


@main.command()
@click.argument("script", type=click.Path(dir_okay=False))
@_params_option
@_debug_option
def explain(script: str, params: tuple[str, ...], debug: bool) -> None:
    """Print the Sopremo plan and the PACT program of SCRIPT."""
    from meteor import api
    from meteor.explain import render_sopremo
    from pact_backend.plan_text import plan_text

    try:
        plan = api.compile_file(script, _parse_params(params))
        click.echo("== Sopremo plan ==")
        click.echo(render_sopremo(plan))
        click.echo("\n== PACT program ==")
        click.echo(plan_text(api.plan_pact(plan)))
    except (MeteorError, PackageError) as exc:
        _fail(exc, debug)


@main.command()
def packages() -> None:
    """List installed operator packages with their operators and functions."""
    for name in PACKAGES.available():
        try:
            package = PACKAGES.get(name)
        except PackageError as exc:
            click.echo(f"{name}: failed to load: {exc}")
            continue
        click.echo(f"{name}: {package.doc}")
        click.echo(f"  operators: {', '.join(sorted(package.operators))}")
        click.echo(f"  functions: {', '.join(sorted(package.functions))}")
        if package.formats:
            click.echo(f"  formats:   {', '.join(sorted(package.formats))}")


if __name__ == "__main__":  # pragma: no cover
    main()
