"""The one CSV tokenizer and renderer (pact_backend.io.csv_rows): the original Sopremo's backslash escapes inside
quoted fields, RFC 4180's doubled quotes, rows spanning lines, errors with the row's line; Python's csv module is
the oracle wherever the two rules agree (text without backslashes), and every value written reads back."""

from __future__ import annotations

import csv
import io
import random

import pytest

from pact_backend.errors import OutputError
from pact_backend.io.csv_rows import CsvSyntax, csv_rows, render_row


def rows(text: str, delimiter: str = ",", quote: str | None = '"') -> list[tuple[int, list[str]]]:
    return list(csv_rows(io.StringIO(text, newline=""), delimiter, quote))


@pytest.mark.parametrize("text, expected", [
    ('"say \\"hi\\"",x\n', [(1, ['say "hi"', "x"])]),               # \" is a quote inside quotes (the original)
    ('"back\\\\slash"\n', [(1, ["back\\slash"])]),                   # \\ is one backslash
    ('"a\\,b\\n"\n', [(1, ["a,bn"])]),                               # any other escaped character is itself
    ('"a ""doubled"" quote"\n', [(1, ['a "doubled" quote'])]),       # RFC 4180
    ('C:\\temp,x"y\n', [(1, ["C:\\temp", 'x"y'])]),                  # outside quotes both are plain
    ('"two\r\nlines",z\n\nnext\n', [(1, ["two\r\nlines", "z"]), (4, ["next"])]),
    ('"",,\n', [(1, ["", "", ""])]),
    ('a,"b"', [(1, ["a", "b"])]),                                    # no line end at the end of the file
])
def test_quoted_fields(text, expected):
    assert rows(text) == expected


@pytest.mark.parametrize("text, line, fragment", [
    ('a\n"open\nstill open\n', 2, "the file ends inside a quoted field"),
    ('a\n"say \\"hi\\"\n', 2, "the file ends inside a quoted field"),  # the escaped quote does not close it
    ('ok\n"x"y,z\n', 2, "',' expected after the closing quote"),
])
def test_malformed_rows_name_the_line_they_start_on(text, line, fragment):
    with pytest.raises(CsvSyntax) as info:
        rows(text)
    assert (info.value.line, fragment in info.value.message) == (line, True)


def random_text(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(size)))


@pytest.mark.parametrize("seed", range(20))
def test_without_backslashes_rows_are_what_pythons_csv_reads(seed):
    rng = random.Random(seed)
    values = [[random_text(rng, 'ab ;,"\n\r', 8) for _ in range(rng.randrange(1, 5))] for _ in range(30)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])).writerows(values)
    expected = [row for row in csv.reader(io.StringIO(out.getvalue(), newline=""), strict=True) if row]
    assert [fields for _, fields in rows(out.getvalue())] == expected


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("delimiter, quote", [(",", '"'), ("\t", "'"), (";", '"')])
def test_every_value_written_reads_back(seed, delimiter, quote):
    rng = random.Random(seed)
    values = [[random_text(rng, f'ab {delimiter}{quote}"\\\n\r', 10) for _ in range(4)] for _ in range(25)]
    text = "".join(render_row(cells, delimiter, quote) for cells in values)
    assert [fields for _, fields in rows(text, delimiter, quote)] == values


def test_without_quoting_fields_are_split_at_the_delimiter_only():
    assert rows('a\\,"b",c\n', quote=None) == [(1, ["a\\", '"b"', "c"])]
    assert render_row(["x", 'y"\\'], ",", None) == 'x,y"\\\n'
    with pytest.raises(OutputError, match="without quoting"):
        render_row(["a,b"], ",", None)
