"""Logical rewrites (sopremo.rewrite, VLDB J. 2014, sec. 6.2): each rule fires where it may, never where it may not,
and every rewritten plan answers exactly what the original answers (both run on the inline executor); the
whole golden case suite runs with the rewrites on and off."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from meteor.api import compile_file, compile_script, run_plan
from sopremo.expressions.nodes import Comparison, Constant, FieldAccess, FunctionCall, InputRef
from sopremo.readwrite import origin, reads
from sopremo.rewrite import rewrite
from tests.test_cases import (CASE_DIRS, CASES_DIR, CONTROL_FILES, assert_same_records, expected_files, format_of,
                              load_config, read_records)

EMPS = [{"id": 1, "dept": 10, "name": "Ann", "pay": 5}, {"id": 2, "dept": 20, "name": "Bob", "pay": 7},
        {"id": 3, "dept": 10, "name": "Cy", "pay": 9}, {"id": 4, "dept": 30, "name": "Di", "pay": 2},
        {"id": 5, "name": "Ed", "pay": 4}, {"id": 6, "dept": 20, "name": None, "pay": None},
        {"id": 7, "dept": 10.0, "pay": 9.5}, {"id": 8, "dept": 40}]  # missing, null, mixed types
DEPTS = [{"did": 10, "title": "R&D", "size": 3}, {"did": 20, "title": "Ops", "size": 1},
         {"did": 40, "title": "HR", "size": 8}]


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "emps.json").write_text(json.dumps(EMPS))
    (tmp_path / "depts.json").write_text(json.dumps(DEPTS))
    return tmp_path


def _verbs(plan) -> list[str]:
    return [op.verb for op in plan.operators() if op.verb]


def _run_both(plan, data: Path) -> tuple[list, list]:
    """(output without rewrites, output with rewrites) of a plan writing out.json."""
    results = []
    for optimize in (False, True):
        run_plan(plan, optimize=optimize)
        results.append(json.loads((data / "out.json").read_text()))
    return results[0], results[1]


def _both(script: str, data: Path) -> tuple[list, list, object]:
    """(output without rewrites, output with rewrites, the rewritten plan) of ``script`` writing out.json."""
    plan = compile_script(script)
    return (*_run_both(plan, data), rewrite(plan))


def _same(a: list, b: list) -> None:
    assert_same_records("out.json", a, b, False, 1e-9)


HEAD = "$e = read from 'emps.json'; $d = read from 'depts.json';\n"


def test_read_sets_and_origins():
    cond = Comparison(">", FieldAccess(InputRef(0), "pay"), Constant(3))
    assert dict(reads(cond).fields) == {0: frozenset({"pay"})} and not reads(cond).unknown
    assert reads(InputRef(1)).fields == {1: None}
    plan = compile_script(HEAD + "$p = transform $e into {$e.pay, twice: $e.pay * 2, $e.*};\nwrite $p to 'out.json';")
    proj = next(op for op in plan.operators() if op.verb == "transform").projection
    assert origin(proj, "pay") is None  # assigned, then possibly overwritten by the copy $e.*
    assert origin(proj, "name") == FieldAccess(InputRef(0), "name")
    assert origin(proj, "twice") is None


def test_selection_moves_below_a_join_through_into(data):
    script = HEAD + ("$j = join $e, $d where $e.dept == $d.did into {$e.name, $e.pay, $d.title};\n"
                     "$f = filter $j where $j.pay > 4 and $j.title != 'Ops';\nwrite $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert plain and _verbs(plan)[-1] == "join"  # both conjuncts moved: the join is the last operator
    assert _verbs(plan).count("filter") == 2


def test_selection_on_a_computed_field_stays_above_the_join(data):
    script = HEAD + ("$j = join $e, $d where $e.dept == $d.did into {$e.name, big: $e.pay * $d.size};\n"
                     "$f = filter $j where $j.big > 20;\nwrite $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert _verbs(plan)[-1] == "filter"


def test_selection_below_a_default_join_output(data):
    script = HEAD + ("$j = join $e, $d where $e.dept == $d.did;\n"
                     "$f = filter $j where $j[0].pay >= 5 and $j[1].size > 2 and $j[0].pay < $j[1].size * 3;\n"
                     "write $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert _verbs(plan) == ["filter", "filter", "join", "filter"]  # the theta conjunct stays above


def test_selection_is_not_moved_onto_the_null_supplying_side_of_an_outer_join(data):
    script = HEAD + ("$j = join $e, $d where $e.dept == $d.did preserve $e into {$e.name, $e.pay, $d.title};\n"
                     "$f = filter $j where $j.title != 'R&D' and $j.pay > 3;\nwrite $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    verbs = _verbs(plan)
    assert verbs[-1] == "filter" and verbs.count("filter") == 2  # pay moved (preserved side), title stayed


def test_selection_swaps_with_a_projection_that_copies_what_it_reads(data):
    script = HEAD + ("$p = transform $e into {who: $e.name, $e.pay, double: $e.pay * 2};\n"
                     "$f = filter $p where $p.pay > 4 and $p.who != 'Cy';\nwrite $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert _verbs(plan) == ["filter", "transform"]


def test_selection_reading_a_written_field_stays_above_the_projection(data):
    script = HEAD + ("$p = transform $e into {$e.name, double: $e.pay * 2};\n"
                     "$f = filter $p where $p.double > 9;\nwrite $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert _verbs(plan) == ["transform", "filter"]


def test_selection_moves_below_union_all_and_then_below_projections(data):
    script = HEAD + ("$a = transform $e into {$e.name, v: $e.pay};\n"
                     "$b = transform $d into {name: $d.title, v: $d.size};\n"
                     "$u = union all $a, $b;\n$f = filter $u where $u.v > 2;\nwrite $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert _verbs(plan)[-1] == "union all" and _verbs(plan).count("filter") == 2
    assert all(op.inputs[0].operator.verb == "filter" for op in plan.operators() if op.verb == "transform")


def test_selection_on_the_group_key_moves_below_the_group(data):
    script = HEAD + ("$g = group $e by $e.dept into {dept: $e[0].dept, n: count($e), total: sum($e[*].pay)};\n"
                     "$f = filter $g where ($g.dept >= 10 and $g.dept != 30) and $g.n > 1;\nwrite $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert plain and _verbs(plan) == ["filter", "group", "filter"]  # the count conjunct stays above


def test_selection_on_an_aggregate_or_a_computed_key_stays_above_the_group(data):
    for into in ("{dept: $e[0].dept + 0, n: count($e)}", "{dept: $e[0].dept, n: count($e), $e[0].*}"):
        script = HEAD + (f"$g = group $e by $e.dept into {into};\n"
                         "$f = filter $g where $g.dept == 10;\nwrite $f to 'out.json';")
        plain, optimized, plan = _both(script, data)
        _same(plain, optimized)
        assert _verbs(plan) == ["group", "filter"]


SWITCH = ("$sizes = group $d by $d.did into {{did: $d[0].did, rows: count($d)}};\n"
          "$j = join $e, {right} where $e.dept == {right}.did into {{$e.dept, $e.pay, $e.name}};\n"
          "$g = group $j by $j.dept into {{dept: $j[0].dept, n: count($j), total: sum($j[*].pay),"
          " top: max($j[*].pay)}};\n"
          "write $g to 'out.json';")


def test_reduce_switches_below_a_match_that_preserves_its_groups(data):
    plain, optimized, plan = _both(HEAD + SWITCH.format(right="$sizes"), data)
    _same(plain, optimized)
    assert plain and _verbs(plan)[-1] == "join"  # the group of $e now runs before the join
    join = plan.operators()[-2]
    assert [s.operator.verb for s in join.inputs] == ["group", "group"]


def test_reduce_stays_above_a_match_with_a_non_unique_side(data):
    plain, optimized, plan = _both(HEAD + SWITCH.format(right="$d"), data)
    _same(plain, optimized)
    assert _verbs(plan)[-1] == "group"


def test_reduce_stays_above_a_match_when_it_reads_an_order_dependent_value(data):
    script = HEAD + SWITCH.format(right="$sizes").replace("top: max($j[*].pay)", "who: $j[0].name")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert _verbs(plan)[-1] == "group"


def test_a_python_udf_is_opaque_so_its_selection_stays(data, monkeypatch):
    (data / "rewrite_udfs_meteor.py").write_text("def big(x):\n    return isinstance(x, (int, float)) and x > 4\n")
    monkeypatch.syspath_prepend(str(data))
    script = ("big = pyudf('rewrite_udfs_meteor:big');\n" + HEAD
              + "$p = transform $e into {$e.name, $e.pay};\n$f = filter $p where big($p.pay);\nwrite $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert plain and _verbs(plan) == ["transform", "filter"]


def test_semi_join_with_default_output_keeps_its_selection(data):
    script = HEAD + ("$j = join $e, $d where $e.dept in $d.did;\n$f = filter $j where $j[0].pay > 4;\n"
                     "write $f to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert _verbs(plan)[-1] == "filter"


def _calls(plan) -> list[str]:
    """The names of the function calls left in the where and into expressions of ``plan``'s operators."""
    found = []
    for op in plan.operators():
        for expr in (getattr(op, "condition", None), getattr(op, "projection", None)):
            found += [n.name for n in (expr.walk() if expr is not None else ()) if isinstance(n, FunctionCall)]
    return found


def test_calls_of_deterministic_functions_on_constants_are_computed_once(data):
    script = HEAD + ("$f = filter $e where $e.name != upper_case('ann') and $e.pay > length('abc')\n"
                     "  and add_days('2020-02-27', 2) == '2020-02-29';\n"
                     "$p = transform $f into {$f.name, tag: lower_case($f.name),\n"
                     "  year: year(add_years('2019-05-01', 1))};\n"
                     "write $p to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert [r["year"] for r in optimized] == [2020] * 5  # pay above 3, and no name is "ANN"
    assert _calls(plan) == ["lower_case"]  # reads a record: computed per record
    where = next(op for op in plan.operators() if op.verb == "filter").condition
    assert {Constant("ANN"), Constant(3), Constant("2020-02-29")} <= set(where.walk())


def test_calls_that_fail_give_lists_or_are_not_deterministic_are_left(data, monkeypatch):
    (data / "fold_udfs_meteor.py").write_text("def three():\n    return 3\n")
    monkeypatch.syspath_prepend(str(data))
    script = ("three = pyudf('fold_udfs_meteor:three');\n" + HEAD
              + "$f = filter $e where $e.pay > three() and length(split('a b')) == 2;\n"
                "$p = transform $f into {$f.name, bad: $f.pay > 100 ? add_days('no date', 1) : 0};\n"
                "write $p to 'out.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert sorted(_calls(plan)) == ["add_days", "length", "split", "three"]


def test_shared_producer_is_left_alone(data):
    script = HEAD + ("$p = transform $e into {$e.name, $e.pay};\n$f = filter $p where $p.pay > 4;\n"
                     "write $f to 'out.json';\nwrite $p to 'all.json';")
    plain, optimized, plan = _both(script, data)
    _same(plain, optimized)
    assert _verbs(plan) == ["transform", "filter"]


def test_rewrite_leaves_the_given_plan_untouched(data):
    plan = compile_script(HEAD + "$p = transform $e into {$e.pay};\n$f = filter $p where $p.pay > 4;\n"
                          "write $f to 'out.json';")
    before = [(op, list(op.inputs)) for op in plan.operators()]
    rewrite(plan)
    assert [(op, list(op.inputs)) for op in plan.operators()] == before


def _random_condition(rnd, fields: list[str], var: str) -> str:
    """A random conjunction of 1-3 comparisons of ``var``'s fields with constants."""
    items = []
    for _ in range(rnd.randint(1, 3)):
        field, op = rnd.choice(fields), rnd.choice(["<", "<=", ">", ">=", "==", "!="])
        constant = rnd.choice(["0", "3", "5", "9", "10", "20", "null", "'Ann'"])
        items.append(f"{var}{field} {op} {constant}")
    return " and ".join(items)


def _random_script(rnd) -> str:
    """One of five shapes (transform, join with each preserve, union all, group, group over a join) with random
    filters on top."""
    shape = rnd.choice(["transform", "join", "union", "group", "switch"])
    if shape == "transform":
        body = "$x = transform $e into {$e.name, $e.pay, $e.dept, twice: $e.id * 2};\n"
        fields = [".name", ".pay", ".dept", ".twice"]
    elif shape == "join":
        preserve = rnd.choice(["", " preserve $e", " preserve $d", " preserve [$e, $d]"])
        into = rnd.choice([" into {$e.name, $e.pay, $d.title, $d.size}", ""])
        body = f"$x = join $e, $d where $e.dept == $d.did{preserve}{into};\n"
        fields = [".name", ".pay", ".title", ".size"] if into else ["[0].pay", "[0].dept", "[1].size", "[1].did"]
    elif shape == "union":
        body = ("$a = transform $e into {k: $e.name, v: $e.pay};\n$b = transform $d into {k: $d.title, v: $d.size};\n"
                "$x = union all $a, $b;\n")
        fields = [".k", ".v"]
    else:
        source = "$e" if shape == "group" else "$j"
        body = "" if shape == "group" else (
            "$s = group $d by $d.did into {did: $d[0].did, c: count($d)};\n"
            "$j = join $e, $s where $e.dept == $s.did into {$e.dept, $e.pay};\n")
        body += (f"$x = group {source} by {source}.dept into {{dept: {source}[0].dept, n: count({source}), "
                 f"total: sum({source}[*].pay)}};\n")
        fields = [".dept", ".n", ".total"]
    return HEAD + body + f"$f = filter $x where {_random_condition(rnd, fields, '$x')};\nwrite $f to 'out.json';"


def test_random_plans_same_with_and_without_rewrites(data):
    """A differential battery: 40 random scripts over data with missing, null and mixed-type values."""
    rnd = random.Random(2014)
    fired = 0
    for _ in range(40):
        plan = compile_script(_random_script(rnd))
        _same(*_run_both(plan, data))
        fired += rewrite(plan) is not plan
    assert fired >= 20


OUTPUT_CASES = [d for d in CASE_DIRS if (d / "expected").is_dir()]


def test_golden_suite_same_with_and_without_rewrites(tmp_path, monkeypatch):
    """Every golden case that produces outputs answers the same with the rewrites off and on. A plan no rule
    changes is the very same plan (nothing to run twice); the others run both ways in one directory."""
    for case_dir in OUTPUT_CASES:
        config, outputs = load_config(case_dir), {}
        work = tmp_path / case_dir.name
        shutil.copytree(case_dir, work, ignore=shutil.ignore_patterns(*CONTROL_FILES))
        monkeypatch.chdir(work)
        plan = compile_file("script.meteor")
        if rewrite(plan) is plan:
            continue
        for optimize in (False, True):
            run_plan(plan, optimize=optimize)
            outputs[optimize] = {rel.as_posix(): read_records(work / rel, format_of(rel.as_posix(), config))
                                 for rel in expected_files(CASES_DIR / case_dir.name)}
        for name, records in outputs[False].items():
            ordered = bool(config.get("ordered")) and (config["ordered"] is True or name in config["ordered"])
            assert_same_records(f"{case_dir.name}/{name}", records, outputs[True][name], ordered, 1e-9)
