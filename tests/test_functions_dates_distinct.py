"""Tests of the date functions (sopremo.functions.dates, cross-checked against DuckDB's date arithmetic) and of
``distinct`` / ``count_distinct`` (sopremo.functions.aggregations; their merge for combiners is tested with the
other algebraic aggregations in test_functions.py)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import duckdb
import pytest

from sopremo.errors import OperatorError
from sopremo.functions import BUILTIN_FUNCTIONS
from sopremo.values import MISSING

F = BUILTIN_FUNCTIONS


def _random_dates(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    days = [date(1992, 1, 1) + timedelta(days=rng.randrange(4000)) for _ in range(n)]
    days += [date(2020, 2, 29), date(2021, 1, 31), date(2021, 3, 31), date(2000, 12, 31), date(1999, 1, 1)]
    return [d.isoformat() for d in days]


def test_date_arithmetic_matches_duckdb():
    dates = _random_dates(200, 7)
    shifts = [-400, -31, -1, 0, 1, 13, 29, 90, 366]
    rows = [(d, n, other) for d, other in zip(dates, reversed(dates)) for n in shifts]
    con = duckdb.connect()
    con.execute("create table t (d date, n integer, e date)")
    con.executemany("insert into t values (?, ?, ?)", rows)
    expected = con.execute(
        "select strftime(d + to_days(n), '%Y-%m-%d'), strftime(d + to_months(n), '%Y-%m-%d'), "
        "strftime(d + to_years(n), '%Y-%m-%d'), year(d), month(d), day(d), "
        "date_diff('day', d, e) from t order by rowid").fetchall()
    for (d, n, other), want in zip(rows, expected):
        got = (F["add_days"](d, n), F["add_months"](d, n), F["add_years"](d, n), F["year"](d), F["month"](d),
               F["day"](d), F["days_between"](d, other))
        assert got == tuple(want), (d, n)


def test_month_arithmetic_clamps_to_the_last_day():
    assert F["add_months"]("2021-01-31", 1) == "2021-02-28"
    assert F["add_months"]("2020-01-31", 1) == "2020-02-29"
    assert F["add_months"]("2021-03-31", -1) == "2021-02-28"
    assert F["add_months"]("2021-11-15", 3) == "2022-02-15"
    assert F["add_years"]("2020-02-29", 1) == "2021-02-28"
    assert F["add_years"]("2020-02-29", 4) == "2024-02-29"
    assert F["add_days"]("1998-12-01", -90) == "1998-09-02"
    assert F["days_between"]("1995-03-01", "1995-01-01") == -59


def test_dates_pass_missing_and_null_through():
    assert F["year"](None) is None and F["year"](MISSING) is MISSING
    assert F["add_days"]("1995-01-01", None) is None
    assert F["add_days"](MISSING, None) is MISSING
    assert F["days_between"](None, "1995-01-01") is None


@pytest.mark.parametrize("call, fragment", [
    (lambda: F["year"]("1995-02-30"), "year(): '1995-02-30' is not a valid date"),
    (lambda: F["month"]("1995-2-3"), "month() needs a date 'YYYY-MM-DD', got string '1995-2-3'"),
    (lambda: F["day"]("1995-03-15T10:00"), "day() needs a date 'YYYY-MM-DD'"),
    (lambda: F["year"](19950315), "got int '19950315'"),
    (lambda: F["add_days"]("1995-01-01", 1.5), "add_days() needs an int count, got decimal"),
    (lambda: F["add_days"]("9999-12-31", 1), "leaves the years 1-9999"),
    (lambda: F["add_years"]("0001-01-01", -1), "leaves the years 1-9999"),
    (lambda: F["days_between"]("1995-01-01", "x"), "days_between() needs a date"),
])
def test_malformed_dates_raise_operator_errors(call, fragment):
    with pytest.raises(OperatorError) as error:
        call()
    assert fragment in str(error.value)


def test_distinct_keeps_first_occurrences_under_meteor_equality():
    assert F["distinct"]([3, 1, 3.0, None, "1", None, 1, True]) == [3, 1, None, "1", True]
    assert F["distinct"]([{"a": 1}, {"a": 1.0}, [1, 2], [1.0, 2]]) == [{"a": 1}, [1, 2]]
    assert F["distinct"]([]) == [] and F["distinct"](None) == [] and F["distinct"]([1, MISSING, 1]) == [1]


def test_count_distinct_skips_null_and_counts_equal_numbers_once():
    assert F["count_distinct"]([1, 1.0, 2, None, MISSING, "2", True]) == 4
    assert F["count_distinct"]([]) == 0 and F["count_distinct"](None) == 0
    with pytest.raises(OperatorError):
        F["count_distinct"]("abc")
