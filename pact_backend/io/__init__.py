"""Sources and sinks of the PACT API (pact_backend.api): each class is both an InputFormat (``read``, and
``splits``/``read_split`` where the input splits for parallel reads) and an OutputFormat (``open`` -> writer
with ``write``/``commit``/``abort``) of pact_backend.contracts."""

from pact_backend.io.binary import FixedBinary
from pact_backend.io.files import FormatError
from pact_backend.io.json_io import JsonArray, JsonLines
from pact_backend.io.memory import CollectOutput, MemoryInput
from pact_backend.io.sql import SqlQuery, SqlTable
from pact_backend.io.text import Csv, DelimitedLines, TextLines

__all__ = ["CollectOutput", "Csv", "DelimitedLines", "FixedBinary", "FormatError", "JsonArray", "JsonLines",
           "MemoryInput", "SqlQuery", "SqlTable", "TextLines"]
