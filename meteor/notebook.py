"""The ``%%meteor`` cell magic of IPython and Jupyter (``%load_ext meteor``).

``%%meteor`` runs the cell as ``meteor.query`` does and shows the Result as a table (its first rows; the
Result's ``_repr_html_``). A ``$name`` the cell reads without defining it is bound to the notebook variable
``name`` when that holds data (a list, a pandas or polars DataFrame, an Arrow table). Options on the magic's
line: ``--explain`` shows the physical plan as an SVG graph instead of running the cell (when a Graphviz
renderer is installed: the ``graphviz`` package with Graphviz's ``dot`` program, or the ``graphviz-pure``
program; otherwise ``meteor explain`` text); ``-o NAME`` also stores the Result in the notebook variable NAME;
``--executor NAME`` runs elsewhere than the default inline executor. User errors show as one message, without a
Python traceback (IPython's UsageError).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from typing import Any

VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
DATA_KINDS = {("pandas", "DataFrame"), ("polars", "DataFrame"), ("pyarrow", "Table"), ("pyarrow", "RecordBatch")}


def _arguments(line: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="%%meteor", add_help=False)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("-o", "--output", default=None)
    parser.add_argument("--executor", default=None)
    try:
        return parser.parse_args(shlex.split(line))
    except (SystemExit, ValueError):
        raise _usage(f"usage: %%meteor [--explain] [-o NAME] [--executor NAME], got {line!r}") from None


def _usage(message: str) -> Exception:
    from IPython.core.error import UsageError

    return UsageError(message)


def is_data(value: Any) -> bool:
    """Whether a notebook variable holds data a cell may read as a data set."""
    if isinstance(value, (list, tuple)):
        return True
    return (type(value).__module__.split(".")[0], type(value).__name__) in DATA_KINDS


def cell_inputs(cell: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """The notebook variables holding data whose ``$name`` the cell mentions."""
    return {name: namespace[name] for name in dict.fromkeys(VARIABLE.findall(cell))
            if name in namespace and is_data(namespace[name])}


def plan_svg(dot: str) -> str | None:
    """The SVG drawing of the Graphviz digraph ``dot``, or None when no renderer is installed."""
    try:
        import graphviz

        try:
            return graphviz.Source(dot).pipe(format="svg", encoding="utf-8")
        except graphviz.ExecutableNotFound:
            pass
    except ImportError:
        pass
    beside = os.path.join(os.path.dirname(sys.executable), "graphviz-pure")  # in this environment, maybe off PATH
    program = shutil.which("graphviz-pure") or (beside if os.access(beside, os.X_OK) else None)
    if program is None:
        return None
    done = subprocess.run([program, "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60)
    return done.stdout if done.returncode == 0 and "<svg" in done.stdout else None


class Explained:
    """What ``%%meteor --explain`` shows: the physical plan as SVG when it could be drawn, else the text of
    ``meteor explain``."""

    def __init__(self, text: str, svg: str | None):
        self.text, self.svg = text, svg

    def _repr_svg_(self) -> str | None:
        return self.svg

    def __repr__(self) -> str:
        return self.text


def meteor_cell(line: str, cell: str, namespace: dict[str, Any]) -> Any:
    """Run (or with ``--explain``, explain) ``cell``; the Result, or an Explained. Raises UsageError."""
    from meteor.python_query import prepare, query
    from sopremo.errors import MeteorError

    args = _arguments(line)
    inputs = cell_inputs(cell, namespace)
    try:
        if args.explain:
            from meteor.api import make_executor
            from meteor.explain import explain

            plan, _, _ = prepare(cell, inputs=inputs)
            runner = make_executor(args.executor or "inline", quiet=True)
            dot = explain(plan, "dot", executor=runner)
            return Explained(explain(plan, "text", executor=runner), plan_svg(dot))
        result = query(cell, executor=args.executor, **inputs)
    except MeteorError as exc:
        raise _usage(f"error: {exc}") from None
    if args.output:
        namespace[args.output] = result
    return result


def register(ipython: Any) -> None:
    """Register ``%%meteor`` in the IPython shell ``ipython``."""

    def meteor(line: str, cell: str) -> Any:
        return meteor_cell(line, cell, ipython.user_ns)

    meteor.__doc__ = __doc__
    ipython.register_magic_function(meteor, magic_kind="cell", magic_name="meteor")


__all__ = ["Explained", "cell_inputs", "is_data", "meteor_cell", "plan_svg", "register"]
