"""Sources and sinks of PACT programs, used by the PACT API (pact_backend.api) and, through thin wrappers that
hold the Meteor options, by the Sopremo formats (sopremo.io). Each file format is one object per path that is both
an InputFormat (``read``; ``splits``/``read_split`` for parallel reads of byte ranges; ``project`` to build only
the fields a plan reads) and an OutputFormat (``open`` -> a writer with ``write``/``commit``/``abort``, atomic)
of pact_backend.contracts. Malformed input raises pact_backend.errors.DataError naming file and line."""

# Every name is imported from its module on first use (module ``__getattr__``): a program that reads JSON
# does not pay for loading the CSV, SQL and binary formats.
_HOMES = {"DataError": "pact_backend.errors", "InputNotFoundError": "pact_backend.errors",
          "OutputError": "pact_backend.errors", "AtomicFile": "pact_backend.io.atomic",
          "RecordWriter": "pact_backend.io.atomic", "FileFormat": "pact_backend.io.base",
          "FixedBinary": "pact_backend.io.binary", "ByExtension": "pact_backend.io.by_extension",
          "INFER": "pact_backend.io.csv_values", "Csv": "pact_backend.io.delimited",
          "DelimitedLines": "pact_backend.io.delimited", "JsonArray": "pact_backend.io.json_array",
          "JsonLines": "pact_backend.io.json_lines", "CollectOutput": "pact_backend.io.memory",
          "MemoryInput": "pact_backend.io.memory", "RowBatch": "pact_backend.io.projected",
          "RowDecoder": "pact_backend.io.projected", "SqlQuery": "pact_backend.io.sql",
          "SqlTable": "pact_backend.io.sql", "TextLines": "pact_backend.io.text"}

__all__ = ["AtomicFile", "ByExtension", "CollectOutput", "Csv", "DataError", "DelimitedLines", "FileFormat",
           "FixedBinary", "INFER", "InputNotFoundError", "JsonArray", "JsonLines", "MemoryInput", "OutputError",
           "RecordWriter", "RowBatch", "RowDecoder", "SqlQuery", "SqlTable", "TextLines"]


def __getattr__(name: str):
    """The format, error or helper ``name`` of ``__all__``, imported from its module when first asked for."""
    if name in _HOMES:
        import importlib

        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
