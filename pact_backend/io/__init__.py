"""Sources and sinks of PACT programs, used by the PACT API (pact_backend.api) and, through thin wrappers that
hold the Meteor options, by the Sopremo formats (sopremo.io). Each file format is one object per path that is both
an InputFormat (``read``; ``splits``/``read_split`` for parallel reads of byte ranges; ``project`` to build only
the fields a plan reads) and an OutputFormat (``open`` -> a writer with ``write``/``commit``/``abort``, atomic)
of pact_backend.contracts. Malformed input raises pact_backend.errors.DataError naming file and line."""

from pact_backend.errors import DataError, InputNotFoundError, OutputError
from pact_backend.io.atomic import AtomicFile, RecordWriter
from pact_backend.io.base import FileFormat
from pact_backend.io.binary import FixedBinary
from pact_backend.io.by_extension import ByExtension
from pact_backend.io.csv_values import INFER
from pact_backend.io.delimited import Csv, DelimitedLines
from pact_backend.io.json_array import JsonArray
from pact_backend.io.json_lines import JsonLines
from pact_backend.io.memory import CollectOutput, MemoryInput
from pact_backend.io.projected import RowBatch, RowDecoder
from pact_backend.io.sql import SqlQuery, SqlTable
from pact_backend.io.text import TextLines

__all__ = ["AtomicFile", "ByExtension", "CollectOutput", "Csv", "DataError", "DelimitedLines", "FileFormat",
           "FixedBinary", "INFER", "InputNotFoundError", "JsonArray", "JsonLines", "MemoryInput", "OutputError",
           "RecordWriter", "RowBatch", "RowDecoder", "SqlQuery", "SqlTable", "TextLines"]
