"""The base ``join``: equi, theta, outer (preserve), semi/anti (in / not in), three-way joins and validation,
run through to_pact and the inline executor against plain-Python nested loops."""

from __future__ import annotations

import pytest

from sopremo.decompose import decompose
from sopremo.operator import PropertyError, SopremoPlan
from sopremo_base import Join
from sopremo_base.join import analyse
from test_base_helpers import Collect, arr, both, c, canon, cmp, eq, fld, inp, isin, obj, run, src

USERS = [{"id": 1, "name": "ann", "age": 30}, {"id": 2, "name": "bob", "age": 20},
         {"id": 3, "name": "cid", "age": 40}, {"id": 4, "name": "dan"}]
PAGES = [{"uid": 1, "url": "a", "min": 25}, {"uid": 1, "url": "b", "min": 35}, {"uid": 3, "url": "c", "min": 10},
         {"uid": 5, "url": "d", "min": 0}, {"url": "e", "min": 0}]
VISITS = [{"url": "a", "t": 1}, {"url": "c", "t": 2}, {"url": "c", "t": 3}, {"url": "z", "t": 4}]


def user_page(a=USERS, b=PAGES, **props):
    return Join(inputs=[src(*a), src(*b)], **props)


def elementary_kinds(op):
    sink = Collect([op.output()])
    return {type(o).__name__ for o in decompose(SopremoPlan(sinks=[sink])).operators()}


def test_equi_join_default_projection_is_pair_array():
    result = run(user_page(condition=eq(fld(inp(0), "id"), fld(inp(1), "uid"))))
    assert canon(result) == canon([[u, p] for u in USERS for p in PAGES if p.get("uid") == u["id"]])


def test_equi_join_with_into_and_reversed_condition():
    into = obj(name=fld(inp(0), "name"), url=fld(inp(1), "url"))
    result = run(user_page(condition=eq(fld(inp(1), "uid"), fld(inp(0), "id")), projection=into))
    assert canon(result) == canon([{"name": "ann", "url": "a"}, {"name": "ann", "url": "b"},
                                   {"name": "cid", "url": "c"}])


def test_equi_join_with_residual_theta_condition():
    cond = both(eq(fld(inp(0), "id"), fld(inp(1), "uid")), cmp("<", fld(inp(1), "min"), fld(inp(0), "age")))
    result = run(user_page(condition=cond))
    assert canon(result) == canon([[u, p] for u in USERS for p in PAGES
                                   if p.get("uid") == u["id"] and "age" in u and p["min"] < u["age"]])


def test_theta_join_uses_cross():
    cond = cmp(">", fld(inp(0), "age"), fld(inp(1), "min"))
    op = user_page(condition=cond, projection=arr(fld(inp(0), "id"), fld(inp(1), "url")))
    expected = [[u["id"], p["url"]] for u in USERS for p in PAGES if "age" in u and u["age"] > p["min"]]
    assert canon(run(op)) == canon(expected)
    assert "TwoSourceJoin" in elementary_kinds(op)


def test_join_without_where_is_the_cross_product():
    op = Join(inputs=[src(1, 2), src("a", "b"), src(True)])  # the original's default: no condition at all
    op.validate()
    assert canon(run(op)) == canon([[a, b, True] for a in (1, 2) for b in ("a", "b")])
    outer = Join(inputs=[src(1, 2), src()], preserve=(0,))
    assert canon(run(outer)) == canon([[1, None], [2, None]])


def test_not_equal_theta_join():
    op = Join(inputs=[src(1, 2, 3), src(2, 3)], condition=cmp("!=", inp(0), inp(1)))
    assert canon(run(op)) == canon([[a, b] for a in (1, 2, 3) for b in (2, 3) if a != b])


def test_missing_join_keys_never_match():
    op = Join(inputs=[src({"k": 1}, {}), src({}, {"k": 1})], condition=eq(fld(inp(0), "k"), fld(inp(1), "k")))
    assert run(op) == [[{"k": 1}, {"k": 1}]]


def test_left_outer_join_keeps_unmatched_left_with_null():
    result = run(user_page(condition=eq(fld(inp(0), "id"), fld(inp(1), "uid")), preserve=(0,)))
    expected = [[u, p] for u in USERS for p in PAGES if p.get("uid") == u["id"]] + [[USERS[1], None], [USERS[3], None]]
    assert canon(result) == canon(expected)


def test_right_and_full_outer_join():
    cond = eq(fld(inp(0), "id"), fld(inp(1), "uid"))
    inner = [[u, p] for u in USERS for p in PAGES if p.get("uid") == u["id"]]
    right = run(user_page(condition=cond, preserve=(1,)))
    assert canon(right) == canon(inner + [[None, PAGES[3]], [None, PAGES[4]]])
    full = run(user_page(condition=cond, preserve=(0, 1)))
    assert canon(full) == canon(inner + [[None, PAGES[3]], [None, PAGES[4]], [USERS[1], None], [USERS[3], None]])


def test_outer_join_into_leaves_out_missing_fields():
    into = obj(name=fld(inp(0), "name"), url=fld(inp(1), "url"))
    result = run(user_page(condition=eq(fld(inp(0), "id"), fld(inp(1), "uid")), preserve=(0,), projection=into))
    assert canon(result) == canon([{"name": "ann", "url": "a"}, {"name": "ann", "url": "b"},
                                   {"name": "cid", "url": "c"}, {"name": "bob"}, {"name": "dan"}])


def test_outer_join_residual_condition_acts_like_on_clause():
    cond = both(eq(fld(inp(0), "id"), fld(inp(1), "uid")), cmp(">", fld(inp(1), "min"), c(30)))
    result = run(user_page(condition=cond, preserve=(0,), projection=arr(fld(inp(0), "id"), fld(inp(1), "url"))))
    assert canon(result) == canon([[1, "b"], [2, None], [3, None], [4, None]])


def test_semi_and_anti_join_default_to_left_array():
    semi = run(user_page(condition=isin(fld(inp(0), "id"), fld(inp(1), "uid"))))
    assert canon(semi) == canon([[USERS[0]], [USERS[2]]])
    anti = run(user_page(condition=isin(fld(inp(0), "id"), fld(inp(1), "uid"), negate=True)))
    assert canon(anti) == canon([[USERS[1]], [USERS[3]]])


def test_semi_join_against_array_members_and_with_filter():
    groups = [{"members": [1, 2]}, {"members": [2]}, {"members": 9}]
    cond = both(isin(fld(inp(0), "id"), fld(inp(1), "members")), cmp(">", fld(inp(0), "age"), c(25)))
    op = Join(inputs=[src(*USERS), src(*groups)], condition=cond, projection=fld(inp(0), "name"))
    assert run(op) == ["ann"]
    assert "SemiJoin" in elementary_kinds(op)


LINES = [{"o": 1, "s": 1, "late": True, "pad": "x" * 20}, {"o": 1, "s": 2, "late": False}, {"o": 2, "s": 3},
         {"o": 2, "s": 3, "late": True}, {"o": 3, "late": True}, {"o": 3, "s": None, "late": True},
         {"s": 4, "late": True}, {"o": [1], "s": 5, "late": True}, 7, [1, 2], {"o": 4, "s": 6, "late": False}]


def _shipped_fields(op) -> frozenset[str] | None:
    """The fields the one SetMembers of ``op``'s expansion keeps of its pairs' records (it ships pairs)."""
    (members,) = [o for o in decompose(SopremoPlan(sinks=[Collect([op.output()])])).operators()
                  if type(o).__name__ == "SetMembers"]
    assert members.with_records
    return members.fields


def _semi_residual_join(residual, negate: bool = False):
    cond = both(isin(fld(inp(0), "o"), arr(fld(inp(1), "o")), negate=negate), residual)
    return Join(inputs=[src(*LINES), src(*LINES)], condition=cond, projection=inp(0))


@pytest.mark.parametrize("negate", [False, True])
@pytest.mark.parametrize("residual, fields", [
    (cmp("!=", fld(inp(1), "s"), fld(inp(0), "s")), ("s",)),                       # Q21's l2.s != l1.s
    (both(cmp("!=", fld(inp(1), "s"), fld(inp(0), "s")), cmp("==", fld(inp(1), "late"), fld(inp(0), "late")),
          cmp("!=", fld(inp(1), "s"), c(3))), ("late", "s")),
])
def test_semi_join_residual_ships_only_the_fields_it_reads(negate, residual, fields, monkeypatch):
    # EXISTS / NOT EXISTS with residual correlations: the right side's pairs hold only the values of the fields
    # the residual reads (missing where a record lacks one); the oracle is the same join shipping whole records
    op = _semi_residual_join(residual, negate)
    assert _shipped_fields(op) == fields
    projected = run(op)
    monkeypatch.setattr("sopremo_base.join._right_fields", lambda residual: None)
    whole = _semi_residual_join(residual, negate)
    assert _shipped_fields(whole) is None
    assert canon(projected) == canon(run(whole))
    assert 0 < len(projected) < len(LINES)


def test_semi_join_residual_reading_the_whole_record_keeps_it():
    # a residual comparing the right record whole keeps the pair's record whole
    op = _semi_residual_join(cmp("!=", inp(1), inp(0)))
    assert _shipped_fields(op) is None
    both_late = cmp("==", fld(inp(1), "late"), fld(inp(0), "late"))
    assert _shipped_fields(_semi_residual_join(both_late)) == ("late",)
    assert canon(run(op)) == canon([r for r in LINES if isinstance(r, dict) and r.get("o") in (1, 2, 3)])


def test_three_way_equi_join_with_into_over_all_inputs():
    cond = both(eq(fld(inp(0), "id"), fld(inp(1), "uid")), eq(fld(inp(1), "url"), fld(inp(2), "url")))
    op = Join(inputs=[src(*USERS), src(*PAGES), src(*VISITS)], condition=cond,
              projection=obj(name=fld(inp(0), "name"), url=fld(inp(1), "url"), t=fld(inp(2), "t")))
    expected = [{"name": u["name"], "url": p["url"], "t": v["t"]} for u in USERS for p in PAGES for v in VISITS
                if p.get("uid") == u["id"] and p["url"] == v["url"]]
    assert canon(run(op)) == canon(expected)


def test_three_way_join_chain_order_follows_equi_conditions():
    # input 0 relates to input 2 only, input 1 only to input 2: the chain must join 0 with 2 first
    cond = both(eq(fld(inp(1), "url"), fld(inp(2), "url")), eq(fld(inp(2), "uid"), fld(inp(0), "id")))
    op = Join(inputs=[src(*USERS), src(*VISITS), src(*PAGES)], condition=cond)
    expected = [[u, v, p] for u in USERS for v in VISITS for p in PAGES
                if p["url"] == v["url"] and p.get("uid") == u["id"]]
    assert canon(run(op)) == canon(expected)
    steps = [o for o in decompose(SopremoPlan(sinks=[Collect([op.output()])])).operators()
             if type(o).__name__ == "TwoSourceJoin"]
    assert [(s.left_slot, s.right_slot, s.left_keys != ()) for s in steps] == [(0, 2, True), (None, 1, True)]


def test_three_way_join_with_preserve_and_semi_join():
    cond = both(eq(fld(inp(0), "id"), fld(inp(1), "uid")), isin(fld(inp(1), "url"), fld(inp(2), "url")))
    op = Join(inputs=[src(*USERS), src(*PAGES), src(*VISITS)], condition=cond, preserve=(0,))
    visited = {v["url"] for v in VISITS}
    pages = [p for p in PAGES if p["url"] in visited]
    expected = [[u, p] for u in USERS for p in pages if p.get("uid") == u["id"]]
    expected += [[u, None] for u in USERS if not any(p.get("uid") == u["id"] for p in pages)]
    assert canon(run(op)) == canon(expected)


def test_three_way_cycle_uses_every_equi_condition():
    rows = [{"a": 1, "b": 1}, {"a": 1, "b": 2}]
    cond = both(eq(fld(inp(0), "a"), fld(inp(1), "a")), eq(fld(inp(1), "b"), fld(inp(2), "b")),
                eq(fld(inp(2), "a"), fld(inp(0), "b")))
    op = Join(inputs=[src(*rows), src(*rows), src(*rows)], condition=cond)
    expected = [[x, y, z] for x in rows for y in rows for z in rows
                if x["a"] == y["a"] and y["b"] == z["b"] and z["a"] == x["b"]]
    assert canon(run(op)) == canon(expected)


def test_analysis_classifies_conditions():
    cond = both(eq(fld(inp(0), "x"), fld(inp(1), "y")), cmp("<", fld(inp(0), "a"), fld(inp(1), "b")),
                isin(fld(inp(0), "z"), fld(inp(2), "w")), isin(fld(inp(0), "q"), fld(inp(1), "r")))
    result = analyse(cond, needed={1})  # the output reads input 1: its `in` is an ordinary condition of the pairs
    assert [(i, j) for i, _, j, _ in result.equi] == [(0, 1)]
    assert [(s.left, s.right, s.negate, s.residual) for s in result.semi] == [(0, 2, False, None)]
    assert len(result.theta) == 2 and result.consumed == {2}
    only_filters = analyse(cond)  # input 1 only filters: a semi join whose other conditions join the test
    assert only_filters.equi == [] and only_filters.theta == [] and only_filters.consumed == {1, 2}
    (semi,) = [s for s in only_filters.semi if s.right == 1]
    assert semi.residual is not None and len(semi.residual.items) == 2


@pytest.mark.parametrize("props", [
    {"condition": cmp(">", fld(inp(0), "a"), c(1))},                                   # input 1 unmentioned
    {"condition": c(True)},                                                              # no usable condition
    {"condition": eq(fld(inp(0), "a"), fld(inp(1), "b")), "preserve": (2,)},             # preserve non-input
    {"condition": isin(fld(inp(0), "a"), fld(inp(1), "b"), negate=True), "preserve": (1,)},  # preserve anti input
    {"condition": isin(fld(inp(0), "a"), fld(inp(1), "b"), negate=True),
     "projection": fld(inp(1), "b")},                                                    # into reads the anti input
])
def test_join_validation_errors(props):
    with pytest.raises(PropertyError):
        Join(inputs=[src(), src()], **props).validate()


def test_join_needs_two_inputs():
    with pytest.raises(PropertyError):
        Join(inputs=[src()], condition=c(True)).validate()


def test_equi_join_translates_to_match_and_outer_to_cogroup():
    from sopremo.to_pact import to_pact
    inner = Collect([user_page(condition=eq(fld(inp(0), "id"), fld(inp(1), "uid"))).output()])
    outer = Collect([user_page(condition=eq(fld(inp(0), "id"), fld(inp(1), "uid")), preserve=(0,)).output()])
    assert "Match" in {k.kind for k in to_pact(SopremoPlan(sinks=[inner])).contracts()}
    assert "CoGroup" in {k.kind for k in to_pact(SopremoPlan(sinks=[outer])).contracts()}


@pytest.mark.parametrize("theta", [False, True])
def test_join_steps_carry_only_the_slots_read_after_them(theta):
    """A step of a join chain leaves MISSING the inputs that nothing after it reads (not shipped, not held in a
    later hash table); a condition of a later step keeps what it reads. Same answer either way."""
    cond = both(eq(fld(inp(0), "id"), fld(inp(1), "uid")), eq(fld(inp(1), "url"), fld(inp(2), "url")))
    if theta:
        cond = both(cond, cmp("<", fld(inp(2), "t"), fld(inp(0), "id")))
    op = Join(inputs=[src(*USERS), src(*PAGES), src(*VISITS)], condition=cond,
              projection=obj(url=fld(inp(1), "url"), t=fld(inp(2), "t")))
    steps = [o for o in decompose(SopremoPlan(sinks=[Collect([op.output()])])).operators()
             if type(o).__name__ == "TwoSourceJoin"]
    assert [sorted(s.kept) for s in steps] == ([[0, 1, 2], [1, 2]] if theta else [[1, 2], [1, 2]])
    expected = [{"url": p["url"], "t": v["t"]} for u in USERS for p in PAGES for v in VISITS
                if p.get("uid") == u["id"] and p["url"] == v["url"] and (not theta or v["t"] < u["id"])]
    assert canon(run(op)) == canon(expected)
