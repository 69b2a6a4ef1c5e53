"""Lark, the parser generator of the front end, imported without ``regex`` and without OpenSSL.

Lark imports the third-party ``regex`` module whenever it is installed (the ``ie`` extra brings it, through
nltk) to measure Unicode-category patterns; Meteor's grammar has none and lexes with the standard ``re``. And
lark's grammar loader imports ``hashlib`` at its top, whose import initialises OpenSSL, for hashing grammars
in lark's own cache, which meteor does not use (meteor/parser_cache.py). Each costs about a tenth of
``meteor run``'s start-up. So lark is imported here with ``regex`` hidden (lark then uses ``re`` alone, as
without the module) and ``hashlib`` replaced, in lark's modules only, by a stand-in that imports the real one
when an attribute is first asked for; ``import regex`` and ``import hashlib`` anywhere later work as usual.
Every front-end module takes the lark names it needs from this module.
"""

from __future__ import annotations

import sys
import types



class _HashlibOnDemand(types.ModuleType):
    """Stands in for ``hashlib`` in lark's modules: the real module is imported at the first attribute asked
    for (lark hashes grammars only for its own ``cache=True``, which meteor never uses)."""

    def __getattr__(self, name: str):
        import hashlib

        return getattr(hashlib, name)


if "lark" not in sys.modules:
    hidden = {}
    if "regex" not in sys.modules:
        hidden["regex"] = None  # `import regex` raises ImportError meanwhile: lark uses `re`
    if "hashlib" not in sys.modules:
        hidden["hashlib"] = _HashlibOnDemand("hashlib")
    sys.modules.update(hidden)
    try:
        import lark
    finally:
        for name, stand_in in hidden.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]

import lark  # noqa: E402
from lark import Lark, Token, Transformer, Tree, v_args  # noqa: E402
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError  # noqa: E402
from lark.grammar import Rule  # noqa: E402
from lark.lexer import PatternStr, TerminalDef  # noqa: E402
from lark.parsers.lalr_analysis import Reduce, Shift  # noqa: E402
from lark.parsers.lalr_parser import LALR_Parser  # noqa: E402

VERSION = lark.__version__


class QuickTableParser(LALR_Parser):
    """Lark's LALR parser, its table rebuilt from serialized tables with plain dictionary look-ups.

    Lark's own ``IntParseTable.deserialize`` deserializes the rule of every reduce action through its generic
    ``Serialize`` machinery (about 16,000 calls for Meteor's grammar, half of loading a cached parser); the
    rules are already deserialized in ``memo`` and every action names its rule by memo number (``{'@': n}``),
    so the table is built here by looking them up, each (Reduce, rule) pair made once. Loading passes this
    class as lark's ``LALR_Parser`` plugin (``Lark._load_from_dict(..., _plugins={"LALR_Parser": ...})``);
    the parser is lark's in every other respect.
    """

    @classmethod
    def deserialize(cls, data, memo, callbacks, debug=False):
        tokens, reduces, states = data["tokens"], {}, {}
        for state, actions in data["states"].items():
            row = {}
            for token, (action, arg) in actions.items():
                if action == 1:
                    ref = arg["@"]
                    row[tokens[token]] = reduces.get(ref) or reduces.setdefault(ref, (Reduce, memo[ref]))
                else:
                    row[tokens[token]] = (Shift, arg)
            states[state] = row
        parser = super().deserialize({**data, "states": {}}, memo, callbacks, debug)  # an empty table ...
        parser.parser.parse_table.states.update(states)  # ... that the parser reads filled in
        return parser

__all__ = ["Lark", "PatternStr", "QuickTableParser", "Rule", "TerminalDef", "Token", "Transformer", "Tree", "UnexpectedCharacters",
           "UnexpectedInput", "UnexpectedToken", "VERSION", "VisitError", "v_args"]
