"""Decorrelation as ``meteor explain`` shows it: nested operators and data sets inside expressions become semi and
anti joins, grouped joins and broadcast values (sopremo/decorrelate.py); the plan as written stays as it was.

The answers of these forms are checked by the golden cases ``tests/cases/nested_*`` and ``side_channel_*``; here
the plans are: which operators replace a nested value, and that a run without the logical rewrites still
decorrelates (it is no optimization).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from meteor.cli import main
from meteor.frontend import compile_script
from sopremo.decorrelate import decorrelate
from sopremo.expressions.nodes import NestedOperator

CUSTOMERS = [{"id": 1, "city": "Berlin"}, {"id": 2, "city": "Paris"}, {"id": 3, "city": "Rome"}]
ORDERS = [{"cust": 1, "total": 30, "status": "open"}, {"cust": 1, "total": 12, "status": "done"},
          {"cust": 3, "total": 50, "status": "done"}]
READ = "$customers = read from 'customers.json';\n$orders = read from 'orders.json';\n"


@pytest.fixture
def data(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "customers.json").write_text(json.dumps(CUSTOMERS))
    (tmp_path / "orders.json").write_text(json.dumps(ORDERS))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def explained(data: Path, statement: str, *flags: str) -> dict:
    """The JSON explain report of a script reading both data sets, running ``statement`` into $r."""
    (data / "script.meteor").write_text(READ + statement + "\nwrite $r to 'out.json';\n")
    result = CliRunner().invoke(main, ["explain", "script.meteor", "--format", "json", *flags])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def operators(entries: list[dict]) -> list[tuple[str, dict]]:
    """(operator, properties) of the entries that are no reads or writes."""
    return [(e["operator"], e["properties"]) for e in entries
            if not e["operator"].startswith(("read ", "write "))]


def test_exists_is_a_semi_join(data):
    plan = explained(data, "$r = filter $c in $customers where count(filter $o in $orders where $o.cust == $c.id) > 0;")
    assert operators(plan["sopremo"]) == [
        ("filter", {"where": "count(filter $orders where $orders.cust == $customers.id) > 0"})]
    assert operators(plan["decorrelated"]) == [
        ("join", {"where": "$customers.id in [$orders.cust]", "into": "$customers"})]


def test_not_exists_is_an_anti_join_after_the_local_conditions(data):
    """The local conditions of both sides come first: fewer records meet the anti join."""
    plan = explained(data, "$r = filter $c in $customers where $c.city != 'Rome' and count(filter $o in $orders "
                           "where $o.status == 'open' and $o.cust == $c.id) == 0;")
    assert operators(plan["decorrelated"]) == [
        ("filter", {"where": "$customers.city != 'Rome'"}),
        ("filter", {"where": "$orders.status == 'open'"}),
        ("join", {"where": "$customers.id not in [$orders.cust]", "into": "$customers"})]


def test_a_joins_own_conditions_on_the_semi_joined_input_come_first(data):
    """TPC-H Q21's shape: in a join's where, the conditions that read only the input that EXISTS / NOT EXISTS
    correlate with filter it before its semi and anti joins; the join keeps the rest."""
    plan = explained(data, "$r = join $c in $customers, $o in $orders where $c.id == $o.cust and $o.total > 20 "
                           "and $c.city != 'Rome' "
                           "and count(filter $p in $orders where $p.cust == $o.cust and $p.status != $o.status) > 0 "
                           "and count(filter $q in $orders where $q.cust == $o.cust and $q.total > $o.total) == 0 "
                           "into {$c.city, $o.total};")
    assert operators(plan["decorrelated"]) == [
        ("filter", {"where": "$orders.total > 20"}),
        ("join", {"where": "$orders.cust in [$orders_2.cust] and ($orders_2.status != $orders.status)",
                  "into": "$orders"}),
        ("join", {"where": "$orders.cust not in [$orders_2.cust] and ($orders_2.total > $orders.total)",
                  "into": "$orders"}),
        ("join", {"where": "($customers.id == $orders.cust) and ($customers.city != 'Rome')",
                  "into": "{city: $customers.city, total: $orders.total}"})]


def test_in_is_a_semi_join_on_the_values(data):
    plan = explained(data, "$r = filter $o in $orders where $o.cust in (transform $c in $customers into $c.id);")
    assert operators(plan["decorrelated"]) == [
        ("join", {"where": "$orders.cust in [$customers.id]", "into": "$orders"})]


def test_scalar_aggregate_is_a_group_per_key_and_a_left_outer_join(data):
    plan = explained(data, "$r = filter $o in $orders "
                           "where $o.total > mean((filter $p in $orders where $p.cust == $o.cust)[*].total);")
    assert operators(plan["decorrelated"]) == [
        ("group", {"by": "($orders.cust)", "into": "{key0: $orders[0].cust, value: mean($orders[*].total)}"}),
        ("join", {"where": "$orders.cust == $orders_2.key0", "preserve": "(0)",
                  "into": "[$orders, $orders_2 ? $orders_2.value : missing]"}),
        ("filter", {"where": "$orders[0].total > $orders[1]"}),
        ("transform", {"into": "$orders[0]"})]


def test_count_of_no_partner_is_the_count_of_an_empty_result(data):
    plan = explained(data, "$r = transform $c in $customers "
                           "into {id: $c.id, n: count(filter $o in $orders where $o.cust == $c.id)};")
    join = next(p for op, p in operators(plan["decorrelated"]) if op == "join")
    assert join["into"] == "[$customers, $orders ? $orders.value : 0]"


def test_exists_with_a_residual_correlation_is_a_semi_join_with_more_conditions(data):
    plan = explained(data, "$r = filter $c in $customers "
                           "where count(filter $o in $orders where $o.cust == $c.id and $o.total > $c.id * 20) > 0;")
    assert operators(plan["decorrelated"]) == [
        ("join", {"where": "$customers.id in [$orders.cust] and ($orders.total > ($customers.id * 20))",
                  "into": "$customers"})]


def test_residual_correlation_filters_each_group_per_record(data):
    plan = explained(data, "$r = filter $c in $customers "
                           "where count(filter $o in $orders where $o.cust == $c.id and $o.total > $c.id * 20) > 1;")
    ops = operators(plan["decorrelated"])
    assert ops[0] == ("group", {"by": "($orders.cust)", "into": "{key0: $orders[0].cust, value: $orders}"})
    assert ops[2] == ("filter", {"where": "count(filter($customers[1], fn($m) { ($m.total > ($customers[0].id * 20)) }))"
                                          " > 1"})


def test_uncorrelated_and_data_sets_are_computed_once_and_attached(data):
    plan = explained(data, "$r = filter $o in $orders where $o.total > max(transform $d in $orders into $d.total) "
                           "/ count($customers);", "--executor", "process")  # broadcast: a plan for 2+ workers
    ops = [op for op, _ in operators(plan["decorrelated"])]
    assert "data set value max($transform)" in ops and "data set value count($customers)" in ops
    assert ops.count("attach value") == 2
    pact = [(c["kind"], c["name"]) for c in plan["pact"]]
    assert ("Cross", "$orders") in pact and ("CoGroup", "$customers") in pact
    assert any(n["kind"] == "Cross" and "broadcast" in n["ship"] for n in plan["physical"])


def test_no_optimize_still_decorrelates(data):
    plan = explained(data, "$r = filter $c in $customers where count(filter $o in $orders where $o.cust == $c.id) > 0;",
                     "--no-optimize")
    assert plan["optimized"] is False and plan["decorrelated"] is not None
    result = CliRunner().invoke(main, ["run", "script.meteor", "--no-optimize", "--executor", "inline"])
    assert result.exit_code == 0, result.output
    assert sorted(r["id"] for r in json.loads((data / "out.json").read_text())) == [1, 3]


def test_the_plan_as_written_is_left_untouched(data):
    plan = compile_script(READ + "$r = filter $c in $customers where count(filter $o in $orders "
                                 "where $o.cust == $c.id) > 0;\nwrite $r to 'out.json';\n")
    condition = plan.sinks[0].inputs[0].operator.condition
    decorrelated = decorrelate(plan)
    assert decorrelated is not plan and plan.sinks[0].inputs[0].operator.condition is condition
    assert any(isinstance(n, NestedOperator) for n in condition.walk())
    assert decorrelate(decorrelated) is decorrelated  # nothing nested left: the same plan back


def test_text_report_shows_the_plan_before_and_after(data):
    (data / "script.meteor").write_text(READ + "$r = filter $c in $customers where $c.id not in $orders[*].cust;\n"
                                        "write $r to 'out.json';\n")
    result = CliRunner().invoke(main, ["explain", "script.meteor"])
    text = result.output
    assert text.index("== Sopremo plan ==") < text.index("== Sopremo plan after decorrelation ==") \
        < text.index("== PACT program ==")
    assert "where: $customers.id not in $orders[*].cust" in text
    assert "where: $customers.id not in [$orders.cust]" in text


def test_own_conditions_reduce_the_grouped_aggregate_to_the_keys_asked_for(data):
    """TPC-H Q17's shape: the join's conditions on the correlated input filter it first, and the nested source
    is reduced to the distinct keys of those records (an equi join with a group of the keys) before the
    aggregate per key: the magic set of the decorrelated aggregate."""
    plan = explained(data, "$r = join $c in $customers, $o in $orders where $c.id == $o.cust and $c.city != 'Rome' "
                           "and $o.total > 0.5 * mean((filter $p in $orders where $p.cust == $c.id)[*].total) "
                           "into {$c.city, $o.total};")
    ops = operators(plan["decorrelated"])
    assert ops[:4] == [
        ("filter", {"where": "$customers.city != 'Rome'"}),
        ("group", {"by": "($customers.id)", "into": "{key0: $customers[0].id}"}),
        ("join", {"where": "$orders.cust == $customers.key0", "into": "$orders"}),
        ("group", {"by": "($orders.cust)", "into": "{key0: $orders[0].cust, value: (0.5 * mean($orders[*].total))}"})]
    assert ops[4][0] == "join" and ops[4][1]["preserve"] == "(0)"


def test_no_own_conditions_no_reduction(data):
    plan = explained(data, "$r = join $c in $customers, $o in $orders where $c.id == $o.cust "
                           "and $o.total > 0.5 * mean((filter $p in $orders where $p.cust == $c.id)[*].total) "
                           "into {$c.city, $o.total};")
    assert [op for op, _ in operators(plan["decorrelated"])] == ["group", "join", "join"]


# Edge data for the reduction: a key with no partner, null keys on both sides (null matches null, as a join key),
# missing keys on both sides (matching nothing), several partners per key, an array key compared whole.
PARTS = [{"k": 1, "brand": "A"}, {"k": 2, "brand": "A"}, {"k": 3, "brand": "B"}, {"k": None, "brand": "A"},
         {"brand": "A"}, {"k": [1, 2], "brand": "A"}, {"k": 4, "brand": "A"}, {"k": 1, "brand": "A"}]
LINES = [{"k": 1, "q": 10}, {"k": 1, "q": 2}, {"k": 1, "q": 3}, {"k": 3, "q": 7}, {"k": 3, "q": 1},
         {"k": None, "q": 4}, {"k": None, "q": 1}, {"q": 5}, {"q": 9}, {"k": [1, 2], "q": 6}, {"k": [1, 2], "q": 2},
         {"k": 4, "q": 1}, {"k": 5, "q": 8}]


def _run(data: Path, script: str, *flags: str) -> list:
    (data / "parts.json").write_text(json.dumps(PARTS))
    (data / "lines.json").write_text(json.dumps(LINES))
    (data / "s.meteor").write_text("$parts = read from 'parts.json';\n$lines = read from 'lines.json';\n" + script
                                   + "\nwrite $r to 'out.json';\n")
    result = CliRunner().invoke(main, ["run", "s.meteor", "-q", *flags])
    assert result.exit_code == 0, result.output
    return sorted(json.dumps(r, sort_keys=True) for r in json.loads((data / "out.json").read_text()))


def _key_equal(a: dict, b: dict) -> bool:
    """Join-key equality: a missing key matches nothing, null matches null, arrays compare whole."""
    return "k" in a and "k" in b and a["k"] == b["k"]


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_reduced_join_answers_as_the_unreduced_one(data, executor):
    """Q17's shape over the edge data, reduced (the brand condition sits in the join's where) against the same
    query with the condition applied after the join (nothing to reduce by) and against plain Python."""
    mean = "0.5 * mean((filter $x in $lines where $x.k == $p.k)[*].q)"
    reduced = _run(data, f"$r = join $l in $lines, $p in $parts where $p.k == $l.k and $p.brand == 'A' "
                         f"and $l.q > {mean} into {{k: $l.k, q: $l.q}};", "--executor", executor)
    unreduced = _run(data, f"$j = join $l in $lines, $p in $parts where $p.k == $l.k and $l.q > {mean} "
                           f"into {{k: $l.k, q: $l.q, brand: $p.brand}};\n"
                           f"$a = filter $y in $j where $y.brand == 'A';\n"
                           f"$r = transform $x in $a into {{k: $x.k, q: $x.q}};",
                     "--executor", executor)
    expected = []
    for p in PARTS:
        partners = [l for l in LINES if _key_equal(l, p)]
        if p["brand"] == "A" and partners:
            avg = sum(l["q"] for l in partners) / len(partners)
            expected += [json.dumps({"k": l["k"], "q": l["q"]}, sort_keys=True) for l in partners if l["q"] > 0.5 * avg]
    assert reduced == unreduced == sorted(expected)
    assert len(expected) >= 4


def test_reduced_filter_counts_no_partner_as_zero(data):
    """A filter holding a count: a part of the wanted brand with no line keeps its count 0 after the reduction."""
    got = _run(data, "$r = filter $p in $parts where $p.brand == 'A' "
                     "and count(filter $x in $lines where $x.k == $p.k) < 3;", "--executor", "inline")
    expected = sorted(json.dumps(p, sort_keys=True) for p in PARTS
                      if p["brand"] == "A" and sum(_key_equal(l, p) for l in LINES) < 3)
    assert got == expected and any("k" in json.loads(p) and json.loads(p)["k"] == 2 for p in got)
