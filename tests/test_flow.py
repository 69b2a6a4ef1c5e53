"""Record flow declarations (sopremo.flow): the rewrites and projection pushdown follow what an operator declares,
whatever its package; an operator of a user package that declares a pass-through or a selection is treated as
the base ones, one that declares nothing blocks both (VLDB J. 2014, sec. 6.2 and 7)."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

import pytest

from meteor.api import run_plan
from meteor.frontend import compile_script
from sopremo.api import (EXPRESSION, ElementaryOperator, Map, PropertySpec, RecordFlow, SopremoPackage,
                         compile_predicate, contract_args, expressions)
from sopremo.decorrelate import decorrelate
from sopremo.expressions.nodes import NestedOperator
from sopremo.flow import flow_of, rebuilt
from sopremo.io import Source
from sopremo.nested import expression_values, expressions_in
from sopremo.package import PackageManager
from sopremo.projection import source_fields
from sopremo.rewrite import rewrite
from sopremo.to_pact import PactContext, translate

package = SopremoPackage("flowtest", doc="operators declaring their record flow, and one declaring nothing")


class Identity(ElementaryOperator):
    """Every record unchanged (a PACT Map); declares nothing: opaque."""

    min_inputs = max_inputs = 1

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        def same(records: Iterator[Any]) -> Iterable[Any]:
            return records

        return Map(udf=same, **contract_args(self, inputs))


@package.operator
class Opaque(Identity):
    verb = "opaque"
    doc = "opaque $in: every record unchanged, declared nowhere"


@package.operator
class Tap(Identity):
    verb = "tap"
    doc = "tap $in: every record unchanged, declared a pass-through"

    def record_flow(self) -> RecordFlow:
        return RecordFlow.pass_through()


@package.operator
class Keep(ElementaryOperator):
    """The records where ``where`` holds: a selection of a user package."""

    verb = "keep"
    min_inputs = max_inputs = 1
    doc = "keep $in where <cond>: the records where the condition holds"
    properties = (PropertySpec("where", "condition", EXPRESSION, required=True),)
    movable = True  # a subclass declares its predicate without naming its attribute

    def record_flow(self) -> RecordFlow:
        return RecordFlow.select(self.condition, attr="condition" if self.movable else None)

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        predicate = compile_predicate(self.condition, 1)

        def keep(records: Iterator[Any]) -> Iterable[Any]:
            return filter(predicate, records)

        return Map(udf=keep, **contract_args(self, inputs))


@package.operator
class KeepInPlace(Keep):
    verb = "keep in place"
    doc = "keep in place $in where <cond>: a selection that does not say where its predicate is"
    movable = False


EMPS = [{"id": 1, "dept": 10, "name": "Ann", "pay": 5, "note": "x"}, {"id": 2, "dept": 20, "name": "Bob", "pay": 7},
        {"id": 3, "dept": 10, "name": "Cy", "pay": 9}, {"id": 4, "dept": 30, "name": "Di", "pay": 2},
        {"id": 5, "name": "Ed", "pay": 4}, {"id": 6, "dept": 20, "name": None, "pay": None}]
DEPTS = [{"did": 10, "title": "R&D"}, {"did": 20, "title": "Ops"}, {"did": 40, "title": "HR"}]
HEAD = "using flowtest;\n$e = read from 'emps.json'; $d = read from 'depts.json';\n"


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "emps.json").write_text(json.dumps(EMPS))
    (tmp_path / "depts.json").write_text(json.dumps(DEPTS))
    return tmp_path


def _compile(script: str):
    manager = PackageManager(env=False)
    manager.add(package)
    return compile_script(HEAD + script, manager=manager)


def _verbs(plan) -> list[str]:
    """The verbs in a topological order, inputs first (sources and sinks left out)."""
    return [op.verb for op in plan.operators() if op.verb]


def _answers(plan, data) -> tuple[list, list]:
    """(out.json without rewrites, with rewrites), both on the inline executor."""
    found = []
    for optimize in (False, True):
        run_plan(plan, optimize=optimize, executor="inline", quiet=True)
        found.append(json.loads((data / "out.json").read_text()))
    return found[0], found[1]


def _fields(plan) -> dict[str, Any]:
    found = source_fields(rewrite(plan))
    return {op.path.rsplit("/", 1)[-1]: found[id(op)] for op in plan.operators() if isinstance(op, Source)}


def test_a_filter_moves_below_a_declared_pass_through_of_a_user_package(data):
    plan = _compile("$t = tap $e; $f = filter $t where $t.pay > 4; write $f to 'out.json';")
    assert _verbs(plan) == ["tap", "filter"]
    assert _verbs(rewrite(plan)) == ["filter", "tap"]
    plain, optimized = _answers(plan, data)
    assert plain == optimized == [r for r in EMPS if (r["pay"] or 0) > 4]


def test_a_user_selection_moves_below_a_join_and_a_union(data):
    plan = _compile("$j = join $e, $d where $e.dept == $d.did into {$e.name, $e.pay, $d.title};\n"
                    "$k = keep $j where $j.pay > 4 and $j.title != 'Ops';\n"
                    "$e2 = read from 'emps.json'; $u = union all $e, $e2;\n"
                    "$v = keep $u where $u.dept == 10;\n"
                    "write $k to 'out.json'; write $v to 'union.json';")
    rewritten = rewrite(plan)
    verbs = _verbs(rewritten)
    assert verbs.count("keep") == 4 and verbs.index("join") > verbs.index("keep")  # both conjuncts moved below
    union = next(op for op in rewritten.operators() if op.verb == "union all")
    assert [s.operator.verb for s in union.inputs] == ["keep", "keep"]
    plain, optimized = _answers(plan, data)
    assert sorted(plain, key=json.dumps) == sorted(optimized, key=json.dumps)
    assert sorted(r["name"] for r in optimized) == ["Ann", "Cy"]


def test_an_opaque_user_operator_blocks_the_filter(data):
    plan = _compile("$o = opaque $e; $f = filter $o where $o.pay > 4; write $f to 'out.json';")
    assert _verbs(rewrite(plan)) == ["opaque", "filter"]
    plain, optimized = _answers(plan, data)
    assert plain == optimized


def test_a_selection_that_names_no_attribute_for_its_predicate_stays(data):
    plan = _compile("$e2 = read from 'emps.json'; $u = union all $e, $e2;\n"
                    "$k = keep in place $u where $u.pay > 4; write $k to 'out.json';")
    assert _verbs(rewrite(plan)) == ["union all", "keep in place"]
    assert _fields(plan) == {"emps.json": None}  # it copies records: the sink's whole records pass through it


def test_projection_reads_through_declared_operators_and_stops_at_opaque_ones(data):
    tail = "$t = transform $x into {n: $x.name};\nwrite $t to 'out.json';"
    assert _fields(_compile("$x = tap $e;\n" + tail)) == {"emps.json": frozenset({"name"})}
    assert _fields(_compile("$x = keep $e where $e.pay > 4;\n" + tail)) == \
        {"emps.json": frozenset({"name", "pay"})}
    assert _fields(_compile("$x = opaque $e;\n" + tail)) == {"emps.json": None}
    plan = _compile("$x = keep $e where $e.pay > 4;\n" + tail)
    plain, optimized = _answers(plan, data)
    assert plain == optimized == [{"n": "Ann"}, {"n": "Bob"}, {"n": "Cy"}]


def test_a_declared_selection_marks_its_contract_as_keeping_records():
    plan = _compile("$k = keep $e where $e.pay > 4; $o = opaque $k; $t = tap $o; write $t to 'out.json';")
    program = translate(plan, PactContext())
    hints = {c.name: c.hints.preserves_records for c in program.contracts() if c.name in ("$k", "$o", "$t")}
    assert hints == {"$k": True, "$o": False, "$t": False}


def test_declarations_are_checked_and_rebuild_through_the_named_attribute():
    cond = expressions.Comparison(">", expressions.FieldAccess(expressions.InputRef(0), "a"), expressions.Constant(1))
    with pytest.raises(ValueError, match="predicate"):
        RecordFlow("select")
    with pytest.raises(ValueError, match="unknown kind"):
        RecordFlow("teleport")
    with pytest.raises(ValueError, match="keys belong to a GROUP"):
        RecordFlow("map", keys=(cond,))
    with pytest.raises(ValueError, match="unknown role"):
        RecordFlow.combine(None, attrs={"where": "condition"})
    op = Keep([], condition=cond)
    flow = flow_of(op)
    assert flow.record_expressions() == (cond,) and flow.copies
    other = rebuilt(op, flow, predicate=expressions.Constant(True))
    assert other.condition == expressions.Constant(True) and op.condition == cond
    with pytest.raises(ValueError, match="no attribute for its predicate"):
        rebuilt(KeepInPlace([], condition=cond), flow_of(KeepInPlace([], condition=cond)), predicate=cond)


def test_a_user_selection_holds_and_is_a_nested_operator_decorrelated_as_a_filter(data):
    """Decorrelation recognises the operators holding nested ones, and the nested filters it unnests, by their
    declarations: a user SELECT (``keep``) with a correlated ``keep`` inside becomes the same semi join and grouped
    join as the base ``filter`` would, with the same answers."""
    statement = ("$r = {op} $x in $e where count({op} $y in $d where $y.did == $x.dept) > 0 and "
                 "$x.pay >= max(({op} $z in $e where $z.dept == $x.dept and $z.pay != null)[*].pay);\n"
                 "write $r to 'out.json';")
    plans = {op: decorrelate(_compile(statement.format(op=op))) for op in ("keep", "filter")}
    for plan in plans.values():
        assert not any(isinstance(n, NestedOperator) for op in plan.operators() for n in _expressions(op))
    assert [v.replace("keep", "filter") for v in _verbs(plans["keep"])] == _verbs(plans["filter"])
    assert _verbs(plans["filter"]).count("join") == 2 and "group" in _verbs(plans["filter"])
    answers = {}
    for op, plan in plans.items():
        run_plan(plan, executor="inline", quiet=True)
        answers[op] = json.loads((data / "out.json").read_text())
    dids = {d["did"] for d in DEPTS}
    top = {}
    for r in EMPS:
        if r.get("pay") is not None:
            top[r.get("dept")] = max(top.get(r.get("dept"), r["pay"]), r["pay"])
    expected = [r for r in EMPS if r.get("dept") in dids and r["pay"] is not None and r["pay"] >= top[r["dept"]]]
    by_id = {op: sorted(found, key=lambda r: r["id"]) for op, found in answers.items()}
    assert by_id["keep"] == by_id["filter"] == expected and [r["name"] for r in expected] == ["Bob", "Cy"]


def _expressions(op) -> list:
    return [n for _, value in expression_values(op) for e in expressions_in(value) for n in e.walk()]
