"""Sources, sinks and data formats of Sopremo: json, jsonl, csv, tsv, text; streaming reads, atomic writes."""

from sopremo.io.atomic import AtomicFile
from sopremo.io.base import DataFormat, encode_json
from sopremo.io.csv_format import CsvFormat, TsvFormat
from sopremo.io.formats import FORMATS, format_for_path
from sopremo.io.json_format import JsonFormat, read_json_stream
from sopremo.io.jsonl_format import JsonLinesFormat
from sopremo.io.operators import Sink, Source, ValuesInput
from sopremo.io.text_format import TextFormat

__all__ = [
    "AtomicFile", "DataFormat", "encode_json", "CsvFormat", "TsvFormat", "FORMATS", "format_for_path",
    "JsonFormat", "read_json_stream", "JsonLinesFormat", "Sink", "Source", "ValuesInput", "TextFormat",
]
