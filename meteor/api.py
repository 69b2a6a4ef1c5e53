"""Run Meteor scripts from Python: compile a script to a Sopremo plan, translate it to PACT and execute it.

``run_file('q15.meteor')`` is what ``meteor run q15.meteor`` does. Relative paths inside a script resolve
against the current working directory (or ``setWorkingDirectory``); includes resolve against the script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meteor.frontend import compile_script
from pact_backend.contracts import PactPlan
from pact_backend.executors.inline import InlineExecutor
from pact_backend.runtime.stats import RunStats
from sopremo.errors import MeteorError
from sopremo.operator import SopremoPlan
from sopremo.to_pact import PactContext, to_pact


def read_script(path: str | Path) -> str:
    """The text of the script file ``path``; raises MeteorError naming the path when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MeteorError(f"script not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MeteorError(f"cannot read script {path}: {exc}") from None


def compile_file(path: str | Path, params: dict[str, Any] | None = None) -> SopremoPlan:
    """The Sopremo plan of the script file ``path`` (parsed and bound, not run)."""
    return compile_script(read_script(path), path=str(path), params=params)


def plan_pact(plan: SopremoPlan, dop: int | None = None) -> PactPlan:
    """The PACT program of a Sopremo plan (composites decomposed, one contract per elementary operator)."""
    return to_pact(plan, PactContext(dop=dop))


def run_plan(plan: SopremoPlan) -> RunStats:
    """Execute a Sopremo plan on the embedded engine; returns per-contract statistics."""
    return InlineExecutor().run(plan_pact(plan))


def run_script(text: str, path: str | None = None, params: dict[str, Any] | None = None) -> RunStats:
    """Compile and run Meteor source ``text`` (``path`` names it in errors and anchors includes)."""
    return run_plan(compile_script(text, path=path, params=params))


def run_file(path: str | Path, params: dict[str, Any] | None = None) -> RunStats:
    """Compile and run the Meteor script file ``path``; raises MeteorError subclasses on user errors."""
    return run_plan(compile_file(path, params))
