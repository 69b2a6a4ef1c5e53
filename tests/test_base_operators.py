"""Base operators filter, transform, group (incl. co-group), set operators, sort, unique and enumerate, run
through to_pact and the inline executor against plain-Python expectations; plus metadata and validation."""

from __future__ import annotations

import pytest

from pact_backend import contracts as pact
from sopremo.expressions.nodes import ArrayIndex, ArrayProjection, ElementRef, FunctionCall
from sopremo.function import SopremoFunction
from sopremo.errors import OperatorError
from sopremo.operator import CompositeOperator, ElementaryOperator, PropertyError
from sopremo_base import (Difference, GlobalEnumeration, Grouping, Intersection, Projection, Selection, Sort,
                          Union, UnionAll, Unique, package)
from test_base_helpers import arr, c, canon, cmp, contract_of, fld, inp, obj, run, src

COUNT = SopremoFunction("count", lambda xs: len(xs), 1, 1)
TOTAL = SopremoFunction("total", lambda xs: sum(xs), 1, 1)

EMPS = [{"name": "ann", "dept": 1, "pay": 10}, {"name": "bob", "dept": 2, "pay": 20},
        {"name": "cid", "dept": 1, "pay": 30}, {"name": "dan", "dept": 3, "pay": 5},
        {"name": "eve", "dept": 1, "pay": 7}]


def count(expr):
    return FunctionCall("count", COUNT, (expr,))


def total(expr):
    return FunctionCall("total", TOTAL, (expr,))


def test_filter_keeps_truthy_records_in_order():
    op = Selection(inputs=[src(*EMPS)], condition=cmp(">", fld(inp(), "pay"), c(8)))
    assert run(op) == [e for e in EMPS if e["pay"] > 8]


def test_filter_uses_meteor_truthiness():
    values = [{"m": True}, {"m": 0}, {"m": 2}, {"m": ""}, {"m": "x"}, {"m": []}, {"m": [0]}, {"m": None}, {}]
    op = Selection(inputs=[src(*values)], condition=fld(inp(), "m"))
    assert run(op) == [{"m": True}, {"m": 2}, {"m": "x"}, {"m": [0]}]


def test_transform_projects_each_record():
    op = Projection(inputs=[src(*EMPS)], projection=obj(who=fld(inp(), "name"), missing=fld(inp(), "nope")))
    assert run(op) == [{"who": e["name"]} for e in EMPS]


def test_group_by_key_sees_group_array_in_input_order():
    into = obj(dept=fld(ArrayIndex(inp(), c(0)), "dept"), n=count(inp()),
               pay=total(ArrayProjection(inp(), fld(ElementRef(), "pay"))),
               names=ArrayProjection(inp(), fld(ElementRef(), "name")))
    op = Grouping(inputs=[src(*EMPS)], keys=(fld(inp(), "dept"),), projection=into)
    expected = {}
    for e in EMPS:
        g = expected.setdefault(e["dept"], {"dept": e["dept"], "n": 0, "pay": 0, "names": []})
        g["n"] += 1
        g["pay"] += e["pay"]
        g["names"].append(e["name"])
    assert canon(run(op)) == canon(list(expected.values()))


def test_group_without_by_is_one_global_group():
    op = Grouping(inputs=[src(*EMPS)], projection=obj(n=count(inp()),
                                                        pay=total(ArrayProjection(inp(), fld(ElementRef(), "pay")))))
    assert run(op) == [{"n": 5, "pay": sum(e["pay"] for e in EMPS)}]


def test_global_group_of_empty_input_emits_nothing():
    assert run(Grouping(inputs=[src()], projection=count(inp()))) == []


def test_group_default_into_is_the_group_array():
    op = Grouping(inputs=[src(*EMPS)], keys=fld(inp(), "dept"))
    assert canon(run(op)) == canon([[e for e in EMPS if e["dept"] == d] for d in (1, 2, 3)])


def test_group_by_array_key_and_numeric_equality():
    rows = [{"a": 1, "b": "x"}, {"a": 1.0, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}]
    op = Grouping(inputs=[src(*rows)], keys=(arr(fld(inp(), "a"), fld(inp(), "b")),), projection=count(inp()))
    assert sorted(run(op)) == [1, 1, 2]


def test_cogroup_two_inputs_with_empty_sides():
    depts = [{"id": 1, "n": "a"}, {"id": 2, "n": "b"}, {"id": 4, "n": "d"}]
    into = obj(emps=count(inp(0)), dept=ArrayProjection(inp(1), fld(ElementRef(), "n")))
    op = Grouping(inputs=[src(*EMPS), src(*depts)], keys=(fld(inp(), "dept"), fld(inp(), "id")), projection=into)
    expected = [{"emps": 3, "dept": ["a"]}, {"emps": 1, "dept": ["b"]}, {"emps": 1, "dept": []},
                {"emps": 0, "dept": ["d"]}]
    assert canon(run(op)) == canon(expected)


def test_cogroup_default_into_and_contract_kind():
    op = Grouping(inputs=[src({"k": 1}), src({"k": 1}, {"k": 2})], keys=(fld(inp(), "k"), fld(inp(), "k")))
    assert canon(run(op)) == canon([[[{"k": 1}], [{"k": 1}]], [[], [{"k": 2}]]])
    assert isinstance(contract_of(op), pact.CoGroup)


def test_cogroup_needs_keys_on_both_or_no_inputs():
    op = Grouping(inputs=[src(), src()], keys=(fld(inp(), "k"), None))
    with pytest.raises(PropertyError):
        op.validate()


VALUES = [{"a": 1}, [1, 2], "x", 3, {"a": 1}, 3.0, None, {"a": [1, {"b": 2}]}]
OTHER = [{"a": 1.0}, "y", [1, 2], None, {"a": [1, {"b": 2}]}]


def test_union_all_keeps_duplicates():
    assert canon(run(UnionAll(inputs=[src(*VALUES), src(*OTHER)]))) == canon(VALUES + OTHER)


def test_union_is_set_union_of_whole_values():
    result = run(Union(inputs=[src(*VALUES), src(*OTHER), src("z")]))
    assert canon(result) == canon([{"a": 1}, [1, 2], "x", 3, None, {"a": [1, {"b": 2}]}, "y", "z"])


def test_intersect_and_subtract():
    assert canon(run(Intersection(inputs=[src(*VALUES), src(*OTHER)]))) == canon(
        [{"a": 1}, [1, 2], None, {"a": [1, {"b": 2}]}])
    assert canon(run(Difference(inputs=[src(*VALUES), src(*OTHER)]))) == canon(["x", 3])
    assert canon(run(Difference(inputs=[src(1, 2, 3, 4, 2), src(2), src(4, 5)]))) == canon([1, 3])
    assert canon(run(Intersection(inputs=[src(1, 2, 3, 1), src(3, 2, 2), src(2, 9, 3)]))) == canon([2, 3])


def test_single_input_set_operators_deduplicate():
    assert canon(run(Union(inputs=[src(1, 1, 2)]))) == canon([1, 2])
    assert canon(run(Difference(inputs=[src(1, 1, 2)]))) == canon([1, 2])


def test_unique_keeps_first_occurrence():
    assert run(Unique(inputs=[src(3, 1, 3, {"a": 1}, 1, {"a": 1})])) == [3, 1, {"a": 1}]


def test_sort_ascending_descending_and_stable():
    rows = [{"k": 2, "i": 0}, {"k": 1, "i": 1}, {"k": 2, "i": 2}, {"k": 0, "i": 3}, {"k": 1, "i": 4}]
    up = run(Sort(inputs=[src(*rows)], key=fld(inp(), "k")))
    assert up == sorted(rows, key=lambda r: r["k"])
    down = run(Sort(inputs=[src(*rows)], key=fld(inp(), "k"), order="descending"))
    assert down == sorted(rows, key=lambda r: r["k"], reverse=True)
    assert [r["i"] for r in down] == [0, 2, 1, 4, 3]


def test_sort_mixed_types_and_default_key():
    values = ["b", 2, None, [1], {"a": 1}, True, 1.5, "a"]
    assert run(Sort(inputs=[src(*values)])) == [None, True, 1.5, 2, "a", "b", [1], {"a": 1}]


def test_sort_is_a_global_reduce_with_group_order_that_may_split_by_range():
    contract = contract_of(Sort(inputs=[src()], key=fld(inp(), "k"), order="DESCENDING"))
    assert isinstance(contract, pact.Reduce) and contract.key is None and contract.dop is None
    assert contract.sorts_only  # the optimizer may range-partition it (tests/test_range_sort.py)
    assert contract.group_order[1] is True


def test_sort_rejects_unknown_order():
    with pytest.raises(PropertyError):
        Sort(inputs=[src()], key=fld(inp(), "k"), order="SIDEWAYS").validate()


def test_enumerate_objects_and_wrapped_values():
    result = run(GlobalEnumeration(inputs=[src({"a": "x"}, 7, {"a": "y"})]))
    assert result == [{"a": "x", "_ID": 0}, {"_ID": 1, "value": 7}, {"a": "y", "_ID": 2}]


def test_enumerate_with_key_retain_value_and_by():
    op = GlobalEnumeration(inputs=[src({"a": 3}, 5)], id_field="nr", value_field="v")
    assert run(op) == [{"a": 3, "nr": 0}, {"nr": 1, "v": 5}]  # retain value in wraps only non-objects
    record = {"a": 3, "m": {"k": 1}}
    op = GlobalEnumeration(inputs=[src(record, {"a": 1, "m": {}})], id_at=fld(fld(inp(), "m"), "nr"))
    assert run(op) == [{"a": 3, "m": {"k": 1, "nr": 0}}, {"a": 1, "m": {"nr": 1}}]
    assert record == {"a": 3, "m": {"k": 1}}  # the input record is not changed


def test_enumerate_by_needs_a_path_that_exists():
    with pytest.raises(PropertyError):
        GlobalEnumeration(inputs=[src()], id_at=c(1)).validate()
    with pytest.raises(OperatorError):
        run(GlobalEnumeration(inputs=[src({"a": 1})], id_at=fld(fld(inp(), "m"), "nr")))


def test_enumerate_rejects_bad_field_name():
    with pytest.raises(PropertyError):
        GlobalEnumeration(inputs=[src()], id_field=3).validate()


def test_every_operator_declares_its_syntax():
    expected = {"filter", "transform", "join", "group", "union", "union all", "intersect", "subtract", "unique",
                "sort", "replace", "replace all", "split array", "split object", "split value", "enumerate",
                "pivot", "nest", "unnest"}
    assert set(package.operators) == expected
    for verb, cls in package.operators.items():
        assert cls.verb == verb and cls.doc and cls.package == "base"
        assert issubclass(cls, (ElementaryOperator, CompositeOperator))
        assert all(spec.doc for spec in cls.properties)
    assert package.operators["sort"].property_spec("direction").attr == "order"
    assert package.operators["group"].property_spec("by").per_input


def test_input_count_is_checked():
    with pytest.raises(PropertyError):
        Selection(inputs=[src(), src()], condition=c(True)).validate()
    Selection(inputs=[src()]).validate()  # no where: every record passes (the original's default)
