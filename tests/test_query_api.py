"""meteor.query from Python as an analyst uses it: Python data in, records and data frames out, errors with line:col.

Oracles: plain Python over the same rows, and DuckDB over the same pandas DataFrame.
"""

from __future__ import annotations

import datetime
import decimal
import subprocess
import sys

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import meteor
from meteor.errors import MeteorBindError, MeteorSyntaxError

ORDERS = [{"id": i, "customer": f"c{i % 7}", "amount": (i * 37) % 101, "region": ["north", "south"][i % 2]}
          for i in range(200)]

BY_CUSTOMER = """
$big = filter $orders where $orders.amount > 20;
$per = group $big by $big.customer into {
    customer: $big[0].customer,
    n: count($big),
    total: sum($big[*].amount)
};
$per = sort $per on $per.customer;
$per;
"""


def expected_by_customer(rows):
    """The plain-Python answer of BY_CUSTOMER."""
    totals: dict[str, list[int]] = {}
    for row in rows:
        if row["amount"] > 20:
            totals.setdefault(row["customer"], []).append(row["amount"])
    return [{"customer": c, "n": len(v), "total": sum(v)} for c, v in sorted(totals.items())]


def test_list_of_dicts_in_records_out():
    result = meteor.query(BY_CUSTOMER, orders=ORDERS)
    assert result.records() == expected_by_customer(ORDERS)
    assert len(result) == 7 and list(result) == result.records()


def test_pandas_in_and_out_agrees_with_duckdb():
    frame = pd.DataFrame(ORDERS)
    got = meteor.query(BY_CUSTOMER, orders=frame).to_pandas()
    want = duckdb.sql("select customer, count(*) as n, sum(amount) as total from frame where amount > 20 "
                      "group by customer order by customer").df()
    assert list(got.columns) == ["customer", "n", "total"]
    assert got["customer"].tolist() == want["customer"].tolist()
    assert got["n"].tolist() == want["n"].tolist() and got["total"].tolist() == want["total"].tolist()


def test_arrow_and_polars_inputs_and_outputs():
    table = pa.Table.from_pylist(ORDERS)
    result = meteor.query(BY_CUSTOMER, orders=table)
    arrow = result.to_arrow()
    assert arrow.column_names == ["customer", "n", "total"]
    assert arrow.schema.field("n").type == pa.int64() and arrow.schema.field("customer").type == pa.string()
    assert arrow.to_pylist() == expected_by_customer(ORDERS)
    frame = meteor.query(BY_CUSTOMER, orders=pl.DataFrame(ORDERS)).to_polars()
    assert frame.columns == ["customer", "n", "total"] and frame.to_dicts() == expected_by_customer(ORDERS)


def test_pandas_values_become_meteor_values():
    frame = pd.DataFrame({"k": [1, 2, 3], "x": [1.5, float("nan"), 2.0],
                          "day": pd.to_datetime(["2024-01-31", None, "2024-03-01"]),
                          "s": ["a", None, "c"]})
    script = "$t = transform $f into {k: $f.k, x: $f.x, day: $f.day, s: $f.s, missing: $f.x == null}; $t;"
    assert meteor.query(script, f=frame).records() == [
        {"k": 1, "x": 1.5, "day": "2024-01-31T00:00:00", "s": "a", "missing": False},
        {"k": 2, "x": None, "day": None, "s": None, "missing": True},
        {"k": 3, "x": 2.0, "day": "2024-03-01T00:00:00", "s": "c", "missing": False}]


def test_python_values_dates_and_decimals():
    rows = [{"d": datetime.date(2024, 2, 28), "p": decimal.Decimal("2.50"), "q": decimal.Decimal("3"),
             "t": ("a", 1)}]
    script = "$t = transform $r into {y: year($r.d), next: add_days($r.d, 1), p: $r.p, q: $r.q, t: $r.t}; $t;"
    assert meteor.query(script, r=rows).records() == [
        {"y": 2024, "next": "2024-02-29", "p": 2.5, "q": 3, "t": ["a", 1]}]


def test_records_that_are_not_objects_make_one_value_column():
    result = meteor.query("$v = transform $n into $n * 2; $v;", n=[1, 2, 3])
    assert result.records() == [2, 4, 6]
    assert result.to_pandas()["value"].tolist() == [2, 4, 6]


def test_missing_fields_are_null_columns_and_mixed_types_name_the_column():
    result = meteor.query("$r;", r=[{"a": 1}, {"b": "x"}, {"a": "text"}])
    assert result.to_pandas().columns.tolist() == ["a", "b"]
    with pytest.raises(meteor.MeteorError, match="column 'a' holds int, str values"):
        result.to_arrow()


def test_a_script_may_define_its_inputs_and_write_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = "$d = [{a: 1}, {a: 2}];\nwrite $d to 'd.json';\n$e = filter $d where $d.a > 1;\n$e;"
    assert meteor.query(script).records() == [{"a": 2}]
    assert (tmp_path / "d.json").read_text().count('"a"') == 2


def test_every_executor_gives_the_same_records():
    inline = meteor.query(BY_CUSTOMER, orders=ORDERS).records()
    assert meteor.query(BY_CUSTOMER, orders=ORDERS, executor="process", parallelism=2).records() == inline


def test_params_are_constants():
    assert meteor.query("$f = filter $o where $o.amount > limit; $f;", o=ORDERS,
                        params={"limit": 99}).records() == [r for r in ORDERS if r["amount"] > 99]


def test_explain_shows_the_plan_that_ran():
    result = meteor.query(BY_CUSTOMER, orders=ORDERS)
    text = result.explain()
    assert "== Sopremo plan ==" in text and "ad-hoc source (200 values) -> $orders" in text
    assert "inline executor" in text and "== PACT program ==" in text and "Sink $per returned to Python" in text
    assert result.explain("dot").startswith("digraph")


def test_user_errors_are_meteor_errors_with_line_and_column():
    with pytest.raises(MeteorSyntaxError) as error:
        meteor.query("$a = filter $o where $o.x > 1;\n  write $a to 'x.json';", o=ORDERS)
    assert (error.value.line, error.value.column) == (2, 3)
    assert "end the script with one like '$result;'" in str(error.value)
    with pytest.raises(MeteorBindError) as error:
        meteor.query("$a = filter $o where $o.x > 1;\n$a;")
    assert (error.value.line, error.value.column) == (1, 13) and "unknown variable $o" in str(error.value)
    with pytest.raises(MeteorSyntaxError) as error:
        meteor.query("$a = fitler $o;\n$a;", o=ORDERS)
    assert (error.value.line, error.value.column) == (1, 6) and "did you mean 'filter'" in str(error.value)
    with pytest.raises(MeteorBindError, match="names \\$b, which the script does not define") as error:
        meteor.query("$a = [1];\n\n  $b;")
    assert (error.value.line, error.value.column) == (3, 3)


def test_inputs_that_are_not_data_are_meteor_errors():
    with pytest.raises(meteor.MeteorError, match=r"input \$r, row 1, field 'x': nan has no Meteor value"):
        meteor.query("$r;", r=[{"x": 1.0}, {"x": float("nan")}])
    with pytest.raises(meteor.MeteorError, match=r"input \$r, row 0, field 'f': a set is not a JSON value"):
        meteor.query("$r;", r=[{"f": {1, 2}}])
    with pytest.raises(meteor.MeteorError, match=r"input \$r must be a list of records.*got dict"):
        meteor.query("$r;", r={"a": 1})


def test_import_meteor_loads_no_engine():
    code = ("import sys, meteor; heavy = [m for m in ('sopremo', 'pact_backend', 'lark', 'pandas', "
            "'meteor.python_query') if m in sys.modules]; print(heavy); meteor.query; "
            "print('meteor.python_query' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "True"]
