"""Date functions on 'YYYY-MM-DD' strings: year month day, add_days add_months add_years, days_between.

Not in the original (its Meteor had no date type); dates stay JSON strings in ISO form, which already compare in
date order, and these functions read or shift them the way SQL's EXTRACT and ``date + interval`` do (TPC-H
writes ``l_shipdate <= date '1998-12-01' - interval '90' day``; in Meteor ``add_days('1998-12-01', -90)``).
Month and year arithmetic clamps to the last day of the month (``add_months('2021-01-31', 1)`` is
'2021-02-28'). A missing or null argument passes through (missing first); anything else that is not a valid
'YYYY-MM-DD' date, or a non-int count, raises OperatorError naming the function and the value.
"""

from __future__ import annotations

import functools
import re
from datetime import date, timedelta
from typing import Any, Callable

from sopremo.errors import OperatorError
from sopremo.function import SopremoFunction
from sopremo.types import string_form
from sopremo.values import MISSING, type_name

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(value: Any, function: str) -> date:
    """The ``date`` of a 'YYYY-MM-DD' string; OperatorError for any other value or an impossible date."""
    if type(value) is str and _ISO_DATE.fullmatch(value):
        try:
            return date(int(value[:4]), int(value[5:7]), int(value[8:]))
        except ValueError as error:
            raise OperatorError(f"{function}(): {value!r} is not a valid date ({error})") from None
    raise OperatorError(f"{function}() needs a date 'YYYY-MM-DD', got {type_name(value)} "
                        f"{string_form(value)[:40]!r}")


def _count(value: Any, function: str) -> int:
    if type(value) is int:
        return value
    raise OperatorError(f"{function}() needs an int count, got {type_name(value)} {string_form(value)[:40]!r}")


def _format(when: date) -> str:
    return f"{when.year:04d}-{when.month:02d}-{when.day:02d}"


def _shift_months(start: date, months: int, function: str) -> str:
    """``start`` moved by ``months`` calendar months, clamped to the last day of the target month."""
    to_year, to_month = divmod(start.year * 12 + start.month - 1 + months, 12)
    if not 1 <= to_year <= 9999:
        raise OperatorError(f"{function}(): {_format(start)} moved by {months} months leaves the years 1-9999")
    import calendar  # here: its import (locale) is a millisecond of every start-up

    last = calendar.monthrange(to_year, to_month + 1)[1]
    return _format(date(to_year, to_month + 1, min(start.day, last)))


def _passing_absent(impl: Callable[..., Any]) -> Callable[..., Any]:
    """``impl`` returning missing when any argument is missing, else null when any is null."""

    @functools.wraps(impl)
    def wrapper(*args: Any) -> Any:
        if any(a is MISSING for a in args):
            return MISSING
        if any(a is None for a in args):
            return None
        return impl(*args)

    return wrapper


def year(value: Any) -> int:
    """The year of a date 'YYYY-MM-DD' as an int: year('1995-03-15') = 1995."""
    return parse_date(value, "year").year


def month(value: Any) -> int:
    """The month (1-12) of a date 'YYYY-MM-DD' as an int: month('1995-03-15') = 3."""
    return parse_date(value, "month").month


def day(value: Any) -> int:
    """The day of the month (1-31) of a date 'YYYY-MM-DD' as an int: day('1995-03-15') = 15."""
    return parse_date(value, "day").day


def add_days(value: Any, days: Any) -> str:
    """The date ``days`` days later (earlier when negative): add_days('1998-12-01', -90) = '1998-09-02'."""
    start = parse_date(value, "add_days")
    try:
        return _format(start + timedelta(days=_count(days, "add_days")))
    except OverflowError:
        raise OperatorError(f"add_days(): {value} moved by {days} days leaves the years 1-9999") from None


def add_months(value: Any, months: Any) -> str:
    """The date ``months`` months later (clamped to the month's end): add_months('2021-01-31', 1) = '2021-02-28'."""
    return _shift_months(parse_date(value, "add_months"), _count(months, "add_months"), "add_months")


def add_years(value: Any, years: Any) -> str:
    """The date ``years`` years later (clamped to the month's end): add_years('2020-02-29', 1) = '2021-02-28'."""
    return _shift_months(parse_date(value, "add_years"), 12 * _count(years, "add_years"), "add_years")


def days_between(start: Any, end: Any) -> int:
    """Days from ``start`` to ``end`` (negative if earlier): days_between('1995-01-01', '1995-03-01') = 59."""
    return (parse_date(end, "days_between") - parse_date(start, "days_between")).days


def date_functions() -> dict[str, SopremoFunction]:
    """The date built-ins by Meteor name."""
    functions = [(year, 1), (month, 1), (day, 1), (add_days, 2), (add_months, 2), (add_years, 2),
                 (days_between, 2)]
    return {f.__name__: SopremoFunction(f.__name__, _passing_absent(f), n, n, doc=f.__doc__, deterministic=True)
            for f, n in functions}
