"""Semi and anti joins with further conditions on the filtering input (EXISTS / NOT EXISTS with a correlated
predicate, TPC-H Q21) cross-checked against DuckDB on every executor; the semi/anti input as missing in ``into``;
co-group ``into`` reading the key paths of its group arrays (composite keys too)."""

from __future__ import annotations

import json
import random

import duckdb
import pytest

from sopremo.errors import MeteorError

EXECUTORS = ("inline", "process", "dask")


@pytest.fixture
def lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = random.Random(2014)
    rows = [{"o": rng.randrange(200), "s": rng.randrange(8), "late": rng.random() < 0.4, "q": rng.randrange(50)}
            for _ in range(1500)]
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    con = duckdb.connect()
    con.execute("create table l as select * from read_json_auto('lines.jsonl')")
    return tmp_path, con


def _run(script: str, executor: str) -> None:
    from meteor.api import run_file
    with open("q.meteor", "w") as f:
        f.write(script)
    run_file("q.meteor", executor=executor)


def _rows(path) -> list:
    return sorted(json.dumps(json.loads(line), sort_keys=True) for line in path.read_text().splitlines())


def _sql(con, query: str) -> list:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return sorted(json.dumps(dict(zip(names, row)), sort_keys=True) for row in cursor.fetchall())


@pytest.mark.parametrize("executor", EXECUTORS)
def test_q21_exists_and_not_exists_with_correlated_conditions_match_duckdb(lines, executor, request):
    if executor == "dask":
        request.getfixturevalue("dask_cluster")
    work, con = lines
    _run("$l = read from 'lines.jsonl'; $late = filter $x in $l where $x.late;"
         "$r = join $a in $late, $b in $l, $c in $late"
         "  where $a.o in $b.o and $a.s != $b.s and $a.o not in $c.o and $a.s != $c.s and $c.q > $a.q"
         "  into {$a.*, $b.*, $c.*};"
         "write $r to 'q21.jsonl';"
         "$some = join $a in $l, $b in $l where $a.o in $b.o and $b.q > $a.q + 40 into {o: $a.o, q: $a.q};"
         "write $some to 'some.jsonl';", executor)
    late = "(select * from l where late)"
    assert _rows(work / "q21.jsonl") == _sql(con, f"""
        select * from {late} a
        where exists (select * from l b where b.o = a.o and b.s <> a.s)
          and not exists (select * from {late} c where c.o = a.o and c.s <> a.s and c.q > a.q)""")
    assert _rows(work / "some.jsonl") == _sql(con, """
        select o, q from l a where exists (select * from l b where b.o = a.o and b.q > a.q + 40)""")


def test_explain_names_the_fields_a_semi_join_ships_of_its_filtering_input(tmp_path):
    # the members of $b travel with the one field the residual reads ($b.s), TPC-H Q21's l2.l_suppkey; a
    # residual reading $b whole ships the whole record (no field list)
    from meteor.api import compile_file
    from meteor.explain import explain
    script = tmp_path / "q.meteor"
    script.write_text("$l = read from 'lines.jsonl';"
                      "$r = join $a in $l, $b in $l where $a.o in $b.o and $a.s != $b.s into $a;"
                      "$w = join $a in $l, $b in $l where $a.o not in $b.o and $a != $b into $a;"
                      "write $r to 'r.json'; write $w to 'w.json';")
    text = explain(compile_file(script))
    assert "$r/members1[s] udf=members" in text
    assert "$w/members1 udf=members" in text


def test_a_semi_join_reads_as_missing_and_an_anti_join_field_is_refused(tmp_path, monkeypatch):
    from meteor.api import run_file
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps([{"k": 1, "v": "x"}, {"k": 2, "v": "y"}]))
    (tmp_path / "b.json").write_text(json.dumps([{"k": [1, 2], "w": "z"}, {"k": [1], "w": "t"}]))
    (tmp_path / "ok.meteor").write_text(
        "$a = read from 'a.json'; $b = read from 'b.json';\n"
        "$r = join $x in $a, $y in $b where $x.k in $y.k into {v: $x.v, w: $y.w};\n"
        "$s = join $x in $a, $y in $b where $x.k in $y.k into {$x.*, $y.*};\n"
        "write $r to 'pairs.json'; write $s to 'semi.json';\n")
    run_file("ok.meteor")
    pairs = json.loads((tmp_path / "pairs.json").read_text())
    assert sorted(pairs, key=lambda r: r["w"]) == [{"v": "x", "w": "t"}, {"v": "x", "w": "z"}, {"v": "y", "w": "z"}]
    assert sorted(json.loads((tmp_path / "semi.json").read_text()), key=lambda r: r["k"]) == \
        [{"k": 1, "v": "x"}, {"k": 2, "v": "y"}]  # $y.* copies nothing: each $x once
    (tmp_path / "bad.meteor").write_text(
        "$a = read from 'a.json'; $b = read from 'b.json';\n"
        "$r = join $x in $a, $y in $b where $x.k not in $y.k into {v: $x.v, w: $y.w};\n"
        "write $r to 'out.json';\n")
    with pytest.raises(MeteorError) as error:
        run_file("bad.meteor")
    assert "bad.meteor:2:" in str(error.value) and "not in" in str(error.value)


def test_cogroup_into_reads_composite_key_parts_from_either_side(tmp_path, monkeypatch):
    from meteor.api import run_file
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps([{"x": 1, "y": "a", "n": 5}, {"x": 1, "y": "b", "n": 6}]))
    (tmp_path / "b.json").write_text(json.dumps([{"p": 1, "q": "b", "m": 7}, {"p": 2, "q": "c", "m": 8}]))
    (tmp_path / "s.meteor").write_text(
        "$a = read from 'a.json'; $b = read from 'b.json';\n"
        "$r = group $l in $a by [$l.x, $l.y], $r in $b by [$r.p, $r.q]\n"
        "  into {x: $l.x, q: $r.q, key: [$r.p, $r.q], n: sum($l[*].n), m: sum($r[*].m)};\n"
        "write $r to 'out.json';\n")
    run_file("s.meteor")
    got = sorted(json.loads((tmp_path / "out.json").read_text()), key=lambda r: (r["x"], r["q"]))
    assert got == [{"x": 1, "q": "a", "key": [1, "a"], "n": 5, "m": 0},
                   {"x": 1, "q": "b", "key": [1, "b"], "n": 6, "m": 7},
                   {"x": 2, "q": "c", "key": [2, "c"], "n": 0, "m": 8}]
