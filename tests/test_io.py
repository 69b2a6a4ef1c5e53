"""Formats, sources and sinks of sopremo.io: streaming reads, conventions, errors, atomic writes."""

from __future__ import annotations

import io
import os

import orjson
import pytest

from pact_backend import contracts
from pact_backend.io import AtomicFile, json_array
from pact_backend.io.json_array import read_json_stream
from sopremo.errors import DataError, InputNotFoundError, OutputError
from sopremo.io import (FORMATS, CsvFormat, DataFormat, JsonFormat, JsonLinesFormat, Sink, Source,
                        TextFormat, TsvFormat, format_for_path)
from sopremo.operator import PropertyError
from sopremo.values import MISSING

RECORDS = [{"a": 1, "s": 'x,]}"[{\\', "n": [1, {"b": [2.5, None]}]}, {"a": 2, "s": "", "n": []}, 7, "t", [1]]


def write_all(fmt: DataFormat, path, records) -> None:
    writer = fmt.output_format(str(path)).open()
    for record in records:
        writer.write(record)
    writer.commit()


def read_all(fmt: DataFormat, path) -> list:
    return list(fmt.input_format(str(path)).read())


@pytest.mark.parametrize("layout", ["lines", "compact", "indented"])
@pytest.mark.parametrize("chunk", [2, 7, 1 << 20])
def test_json_array_streams_every_layout(tmp_path, monkeypatch, layout, chunk):
    monkeypatch.setattr(json_array, "CHUNK", chunk)
    text = {"lines": b"[\n" + b",\n".join(orjson.dumps(r) for r in RECORDS) + b"\n]\n",
            "compact": orjson.dumps(RECORDS),
            "indented": orjson.dumps(RECORDS, option=orjson.OPT_INDENT_2)}[layout]
    (tmp_path / "x.json").write_bytes(text)
    assert read_all(JsonFormat(), tmp_path / "x.json") == RECORDS


class EndlessArray:
    """A binary stream of an endless JSON array: reading it whole would never finish."""

    def __init__(self):
        self.started = False

    def read(self, n=-1):
        head, self.started = (b"" if self.started else b"["), True
        return head + b'{"k": 1},\n' * (max(n, 10) // 10)


def test_json_read_is_lazy():
    records = read_json_stream(EndlessArray(), "endless.json")
    assert [next(records) for _ in range(3)] == [{"k": 1}] * 3


class CountedStream:
    """A binary stream over ``data`` that counts its reads and refuses more than ``limit`` of them."""

    def __init__(self, data: bytes, limit: int):
        self.stream, self.reads, self.limit = io.BytesIO(data), 0, limit

    def read(self, n=-1):
        self.reads += 1
        assert self.reads <= self.limit, "the reader refills its buffer once per chunk (quadratic rescans)"
        return self.stream.read(n)


@pytest.mark.parametrize("text", ["x" * (1 << 20), 'a\\"b\\\\' * (1 << 17)])
def test_a_long_element_is_read_in_logarithmically_many_refills(monkeypatch, text):
    """Issue 15: an element longer than the buffer was rescanned from its start after every chunk read, so a
    100 MB string took 177 s. With 64-byte chunks, a 1 MiB string needs 16,384 chunks, and as many rescans of up
    to 1 MiB (minutes); growing the buffer geometrically needs about log2(16,384) = 14 reads and linear work."""
    monkeypatch.setattr(json_array, "CHUNK", 64)
    data = b'[{"s": "' + text.encode() + b'", "n": 1},\n 2]'
    stream = CountedStream(data, limit=40)
    assert list(read_json_stream(stream, "long.json")) == orjson.loads(data)
    assert stream.reads <= 40


@pytest.mark.parametrize("text,expected", [(b"", []), (b" [ ] ", []), (b'{"x": 1}', [{"x": 1}]), (b"5", [5]),
                                           (b"\xef\xbb\xbf[1, 2]", [1, 2])])
def test_json_edge_files(text, expected):
    assert list(read_json_stream(io.BytesIO(text), "f.json")) == expected


@pytest.mark.parametrize("text,line,fragment", [
    (b'[1,\n2,\n{"a":\n x}]', 4, "malformed JSON"),
    (b"[1,\n]", 2, "expected a value"),
    (b"[1, 2", 1, "end of file"),
    (b'[1,\n"abc', 2, "end of file inside a string"),
    (b"[1]\n2", 2, "after the end"),
])
def test_json_errors_name_file_and_line(text, line, fragment):
    with pytest.raises(DataError, match=fragment) as info:
        list(read_json_stream(io.BytesIO(text), "bad.json"))
    assert info.value.path == "bad.json" and info.value.line == line


def test_json_writer_layout_and_missing(tmp_path):
    write_all(JsonFormat(), tmp_path / "o.json", [{"a": 1, "m": MISSING, "l": [MISSING, 2]}, 3])
    assert (tmp_path / "o.json").read_bytes() == b'[\n{"a":1,"l":[null,2]},\n3\n]\n'
    write_all(JsonFormat(), tmp_path / "e.json", [])
    assert orjson.loads((tmp_path / "e.json").read_bytes()) == []
    write_all(JsonFormat(), tmp_path / "big.json", [2 ** 80])
    assert read_all(JsonFormat(), tmp_path / "big.json") == [2 ** 80]


def test_jsonl_round_trip_blank_lines_and_errors(tmp_path):
    write_all(JsonLinesFormat(), tmp_path / "o.jsonl", RECORDS)
    assert read_all(JsonLinesFormat(), tmp_path / "o.jsonl") == RECORDS
    (tmp_path / "b.jsonl").write_bytes(b'{"a": 1}\n\n  \n{"a": 2}\n{"a": \n')
    reader = JsonLinesFormat().input_format(str(tmp_path / "b.jsonl")).read()
    assert [next(reader), next(reader)] == [{"a": 1}, {"a": 2}]
    with pytest.raises(DataError) as info:
        next(reader)
    assert info.value.line == 5 and info.value.path.endswith("b.jsonl")


def test_jsonl_byte_range_splits_cover_every_line_once(tmp_path):
    records = [{"i": i, "pad": "x" * (i % 17)} for i in range(500)]
    write_all(JsonLinesFormat(), tmp_path / "s.jsonl", records)
    fmt = JsonLinesFormat().input_format(str(tmp_path / "s.jsonl"))
    for n in (1, 3, 8, 1000):
        assert [r for part in fmt.splits(n) for r in fmt.read_split(part)] == records
    (tmp_path / "s.jsonl").write_bytes(b'{"i": 0}\n' * 50 + b"{bad\n")
    with pytest.raises(DataError) as info:
        [r for part in fmt.splits(4) for r in fmt.read_split(part)]
    assert info.value.line == 51


def test_csv_values_are_typed_per_column(tmp_path):
    """A column is numbers only when every non-empty field of it is one: "007" keeps column b text in every row."""
    (tmp_path / "c.csv").write_text('a;b;c\n1;007;x\n\n"-2.5e3";12;\n;3.50;7\n')
    assert read_all(CsvFormat(delimiter=";"), tmp_path / "c.csv") == [
        {"a": 1, "b": "007", "c": "x"}, {"a": -2500.0, "b": "12", "c": None}, {"a": None, "b": "3.50", "c": "7"}]
    assert read_all(CsvFormat(delimiter=";", columns=["p", "q", "r"], header=True), tmp_path / "c.csv")[0] == \
        {"p": 1, "q": "007", "r": "x"}
    assert read_all(CsvFormat(delimiter=";", header=False), tmp_path / "c.csv") == [
        ["a", "b", "c"], ["1", "007", "x"], ["-2.5e3", "12", None], [None, "3.50", "7"]]


def test_csv_errors(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2\n3\n")
    with pytest.raises(DataError, match="1 fields, expected 2") as info:
        read_all(CsvFormat(), tmp_path / "d.csv")
    assert info.value.line == 3
    (tmp_path / "q.csv").write_text('a,b\n1,"2\n')
    with pytest.raises(DataError, match="malformed CSV"):
        read_all(CsvFormat(), tmp_path / "q.csv")


def test_csv_and_tsv_writers(tmp_path):
    write_all(CsvFormat(), tmp_path / "o.csv", [{"a": 1, "b": "x,y", "c": None}, {"a": 2.5, "c": [1], "b": True}])
    assert (tmp_path / "o.csv").read_text() == 'a,b,c\n1,"x,y",\n2.5,true,[1]\n'
    with pytest.raises(OutputError, match="columns"):
        write_all(CsvFormat(), tmp_path / "x.csv", [{"a": 1}, {"z": 2}])
    assert not (tmp_path / "x.csv").exists()
    write_all(TsvFormat(columns=["b"]), tmp_path / "o.tsv", [{"a": 1, "b": "q"}])
    assert (tmp_path / "o.tsv").read_text() == "b\nq\n"
    assert read_all(TsvFormat(), tmp_path / "o.tsv") == [{"b": "q"}]


def test_text_lines(tmp_path):
    (tmp_path / "t.txt").write_bytes(b"one\r\n\ntwo")
    assert read_all(TextFormat(), tmp_path / "t.txt") == [{"line": "one"}, {"line": ""}, {"line": "two"}]
    write_all(TextFormat(), tmp_path / "o.txt", [{"line": "a"}, "b", {"x": 1}])
    assert (tmp_path / "o.txt").read_text() == 'a\nb\n{"x":1}\n'


def test_encoding_option(tmp_path):
    write_all(JsonFormat(encoding="latin-1"), tmp_path / "l.json", [{"s": "café"}])
    assert (tmp_path / "l.json").read_bytes().count(b"\xe9") == 1
    assert read_all(JsonFormat(encoding="latin-1"), tmp_path / "l.json") == [{"s": "café"}]
    write_all(JsonLinesFormat(encoding="latin-1"), tmp_path / "l.jsonl", [{"s": "é"}])
    assert read_all(JsonLinesFormat(encoding="latin-1"), tmp_path / "l.jsonl") == [{"s": "é"}]
    (tmp_path / "l.csv").write_bytes("a\ncaf\xe9\n".encode("latin-1"))
    assert read_all(CsvFormat(encoding="latin-1"), tmp_path / "l.csv") == [{"a": "café"}]


@pytest.mark.parametrize("options,prop", [({"delimiter": ";;"}, "delimiter"), ({"quote": 5}, "quote"),
                                          ({"columns": [1]}, "columns"), ({"encoding": "nope"}, "encoding"),
                                          ({"delimitr": ","}, "delimitr"), ({"header": "yes"}, "header")])
def test_format_options_are_validated(options, prop):
    with pytest.raises(PropertyError) as info:
        CsvFormat(**options)
    assert info.value.prop == prop


def test_format_registry_and_detection():
    assert set(FORMATS) == {"json", "jsonl", "csv", "tsv", "text"}
    assert {s.words for s in CsvFormat.properties} == {"columns", "delimiter", "quote", "header", "encoding"}
    assert format_for_path("a/x.jsonl") is JsonLinesFormat and format_for_path("x.ndjson") is JsonLinesFormat
    assert format_for_path("x.CSV") is CsvFormat and format_for_path("x.tsv") is TsvFormat
    assert format_for_path("x.txt") is TextFormat and format_for_path("x.json.gz") is JsonFormat
    assert format_for_path("x") is JsonFormat and CsvFormat(delimiter="\\t").delimiter == "\t"
    assert CsvFormat(quote=False) == CsvFormat(quote=False) != CsvFormat()


def test_compressed_and_directory_inputs(tmp_path):
    write_all(JsonLinesFormat(), tmp_path / "p.jsonl.gz", [1, 2])
    assert (tmp_path / "p.jsonl.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert read_all(JsonLinesFormat(), tmp_path / "p.jsonl.gz") == [1, 2]
    (tmp_path / "d").mkdir()
    write_all(JsonFormat(), tmp_path / "d" / "b", [3])
    write_all(JsonFormat(), tmp_path / "d" / "a", [1, 2])
    (tmp_path / "d" / ".hidden").write_text("garbage")
    assert read_all(JsonFormat(), tmp_path / "d") == [1, 2, 3]


def test_missing_input_and_output_directory(tmp_path):
    missing = str(tmp_path / "nope.json")
    with pytest.raises(InputNotFoundError, match="nope.json"):
        read_all(JsonFormat(), missing)
    with pytest.raises(OutputError, match="does not exist"):
        JsonFormat().output_format(str(tmp_path / "no" / "dir" / "o.json")).open()
    with pytest.raises(OutputError):
        JsonFormat().output_format(str(tmp_path)).open()


def test_atomic_file_keeps_the_old_output_until_commit(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    atomic = AtomicFile(str(target))
    atomic.write(b"new")
    assert target.read_text() == "old" and os.path.basename(atomic.temp_path).startswith(".out.json.")
    atomic.abort()
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.json"]
    with AtomicFile(str(target)) as atomic:
        atomic.write(b"new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["out.json"]
    with pytest.raises(RuntimeError):
        with AtomicFile(str(target)) as atomic:
            atomic.write(b"half")
            raise RuntimeError("boom")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["out.json"]


def test_source_and_sink_operators(tmp_path):
    (tmp_path / "in.csv").write_text("k,v\n1,a\n")
    source = Source(path=str(tmp_path / "in.csv"))
    source.validate()
    assert isinstance(source.data_format, CsvFormat) and source.verb == "" and source.max_inputs == 0
    contract = source.to_contract([], None)
    assert isinstance(contract, contracts.Source) and list(contract.input_format.read()) == [{"k": 1, "v": "a"}]
    assert "csv" in source.describe() and contract.hints.output_bytes == 8
    sink = Sink(inputs=[source.output()], path=str(tmp_path / "out.jsonl"))
    sink.validate()
    sink_contract = sink.to_contract([contract], None)
    assert isinstance(sink_contract, contracts.Sink) and sink_contract.inputs == [contract]
    assert sink_contract.ordered is False and "jsonl" in sink.describe()
    writer = sink_contract.output_format.open()
    for record in contract.input_format.read():
        writer.write(record)
    writer.commit()
    assert (tmp_path / "out.jsonl").read_text() == '{"k":1,"v":"a"}\n'


def test_adhoc_source_and_validation():
    values = [{"a": [1]}, 2]
    source = Source(values=values)
    source.validate()
    records = list(source.to_contract([], None).input_format.read())
    assert records == values and records[0] is not values[0]
    assert source.describe() == "ad-hoc source (2 values)"
    with pytest.raises(PropertyError):
        Source(values=values, path="/x.json").validate()
    with pytest.raises(PropertyError):
        Sink(path="/x.json").validate()
    with pytest.raises(PropertyError):
        Source(path="/x.json", data_format="json").validate()
