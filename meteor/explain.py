"""``meteor explain``: the Sopremo plan, its rewrites, the PACT program and the physical plan, as text, JSON or
Graphviz (VLDB J. 2014, sec. 6: what the optimizer decided and why)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from pact_backend.contracts import PactPlan
from pact_backend.optimizer import optimize as physical_optimize
from pact_backend.physical import PhysicalPlan, default_physical
from pact_backend.plan_text import contract_details, physical_dict, physical_dot, physical_text, plan_text
from sopremo.expressions.nodes import Expression
from sopremo.expressions.render import render
from sopremo.operator import Operator, SopremoPlan
from sopremo.projection import source_fields
from sopremo.rewrite import rewrite
from sopremo.to_pact import PactContext, to_pact

FORMATS = ("text", "json", "dot")


def _value_text(value: Any, inputs: tuple[str, ...]) -> str:
    if isinstance(value, Expression):
        return render(value, inputs)
    if isinstance(value, tuple):
        return "(" + ", ".join(_value_text(v, inputs) for v in value) + ")"
    return repr(value)


def _describe(op: Operator) -> str:
    describe = getattr(op, "describe", None)
    return describe() if callable(describe) else (op.verb or type(op).__name__)


def _variable(name: str) -> str:
    """``$name`` for a display name (names of script variables already start with ``$``)."""
    return name if name.startswith("$") else "$" + name


def sopremo_entries(plan: SopremoPlan) -> list[dict[str, Any]]:
    """One dict per operator in topological order: ``id``, ``operator``, ``name``, ``inputs`` (ids, with
    ``#k`` for output k > 0), ``parallel`` and ``properties`` (Meteor words -> rendered value)."""
    ids = {id(op): i for i, op in enumerate(plan.operators(), 1)}
    entries = []
    for op in plan.operators():
        names = tuple(_variable(s.operator.name or str(ids[id(s.operator)])) for s in op.inputs)
        props = {spec.words or spec.attr: _value_text(value, names) for spec, value in op.property_values()
                 if value is not None and value != spec.default}
        entries.append({"id": ids[id(op)], "operator": _describe(op), "name": op.name,
                        "inputs": [f"{ids[id(s.operator)]}" + (f"#{s.index}" if s.index else "") for s in op.inputs],
                        "parallel": op.dop, "properties": props})
    return entries


def render_sopremo(plan: SopremoPlan) -> str:
    """One line per operator in topological order: ``[id] verb -> $name <- inputs`` then its set properties."""
    lines = []
    for entry in sopremo_entries(plan):
        head = f"[{entry['id']}] {entry['operator']}"
        head += f" -> {_variable(entry['name'])}" if entry["name"] else ""
        head += "  <- " + ", ".join(f"[{i}]" for i in entry["inputs"]) if entry["inputs"] else ""
        head += f"  (parallel {entry['parallel']})" if entry["parallel"] else ""
        lines.append(head)
        lines += [f"      {words}: {text}" for words, text in entry["properties"].items()]
    return "\n".join(lines)


@dataclass
class Explanation:
    """Every layer of one script: the Sopremo plan as written, after the logical rewrites (None when they are
    off or changed nothing), the PACT program and the physical plan."""

    sopremo: SopremoPlan
    rewritten: SopremoPlan | None
    pact: PactPlan
    physical: PhysicalPlan
    optimize: bool


def explain_plan(plan: SopremoPlan, optimize: bool = True, parallelism: int | None = None) -> Explanation:
    """Plan ``plan`` through every layer; ``optimize`` False = no rewrites and the default physical strategies
    (``--no-optimize``); ``parallelism`` defaults to the number of cores."""
    dop = max(1, parallelism or os.cpu_count() or 1)
    rewritten = rewrite(plan) if optimize else plan
    fields = source_fields(rewritten) if optimize else {}  # what a run decodes (projection pushdown)
    program = to_pact(rewritten, PactContext(dop=dop, optimize=False, source_fields=fields))
    physical = physical_optimize(program, dop) if optimize else default_physical(program, dop)
    changed = rewritten is not plan
    return Explanation(plan, rewritten if changed else None, program, physical, optimize)


def explain_text(e: Explanation) -> str:
    """The text report: one section per layer."""
    parts = ["== Sopremo plan ==", render_sopremo(e.sopremo)]
    if e.rewritten is not None:
        parts += ["", "== Sopremo plan after logical rewrites ==", render_sopremo(e.rewritten)]
    parts += ["", "== PACT program ==", plan_text(e.pact)]
    from pact_backend.api_explain import step_sections

    parts += step_sections(e.pact)  # the step plans of `iterate` statements
    title = "optimized" if e.optimize else "default strategies, not optimized"
    parts += ["", f"== Physical plan ({title}) ==", physical_text(e.physical)]
    return "\n".join(parts)


def explain_dict(e: Explanation) -> dict[str, Any]:
    """The JSON report: ``sopremo``, ``rewritten`` (or null), ``pact`` and ``physical`` lists, ``optimized``."""
    pact_entries = [{"id": c.id, "kind": c.kind, "name": c.name, "inputs": [i.id for i in c.inputs],
                     "details": contract_details(c)} for c in e.pact.contracts()]
    return {"optimized": e.optimize, "sopremo": sopremo_entries(e.sopremo),
            "rewritten": sopremo_entries(e.rewritten) if e.rewritten is not None else None,
            "pact": pact_entries, "physical": physical_dict(e.physical),
            "total_cost": e.physical.total_cost()}


def explain(plan: SopremoPlan, fmt: str = "text", optimize: bool = True, parallelism: int | None = None) -> str:
    """``meteor explain`` output for ``plan`` in ``fmt`` (one of FORMATS); raises ValueError for another."""
    e = explain_plan(plan, optimize, parallelism)
    if fmt == "text":
        return explain_text(e)
    if fmt == "json":
        return json.dumps(explain_dict(e), indent=2, default=str)
    if fmt == "dot":
        return physical_dot(e.physical)
    raise ValueError(f"unknown explain format {fmt!r}; expected one of {', '.join(FORMATS)}")
