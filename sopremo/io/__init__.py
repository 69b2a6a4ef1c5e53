"""Sources, sinks and data formats of Sopremo: json, jsonl, csv, tsv, text, each a DataFormat holding its Meteor
options over the pact_backend.io format that reads and writes."""

from sopremo.io.base import DataFormat, FileInput, FileOutput, RecordWriter, encode_json
from sopremo.io.csv_format import CsvFormat, TsvFormat
from sopremo.io.formats import (FORMATS, ByExtensionFormat, JsonFormat, JsonLinesFormat, TextFormat,
                                format_for_path, input_format_for_path)
from sopremo.io.operators import Sink, Source

__all__ = [
    "DataFormat", "FileInput", "FileOutput", "RecordWriter", "encode_json", "CsvFormat", "TsvFormat", "FORMATS",
    "ByExtensionFormat", "JsonFormat", "JsonLinesFormat", "TextFormat", "format_for_path",
    "input_format_for_path", "Sink", "Source",
]
