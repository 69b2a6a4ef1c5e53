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
from copy import copy



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
from lark.lexer import ContextualLexer, PatternStr, TerminalDef  # noqa: E402
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

def quick_memo(memo: dict) -> dict:
    """The objects of a serialized parser's ``memo`` (rules and terminal definitions, from
    ``Lark.memo_serialize``), made as lark's ``SerializeMemoizer.deserialize`` makes them (each object's
    ``__serialize_fields__`` set in order, then its ``_deserialize`` hook) without the class look-up tables that
    lark's generic code rebuilds for every object (a third of loading a cached parser). Lark's loader accepts
    the result as the memo: what is no dictionary or list it takes as already deserialized."""
    classes: dict[str, tuple] = {}
    pending = [Rule, TerminalDef]
    while pending:
        cls = pending.pop()
        if cls.__name__ not in classes:
            classes[cls.__name__] = (cls, cls.__serialize_fields__, hasattr(cls, "_deserialize"))
            pending.extend(getattr(cls, "__serialize_namespace__", ()))

    def build(data):
        if isinstance(data, dict):
            if "@" in data:  # lark deserializes the memo with an empty memo: no entry refers to another
                raise KeyError(f"memo entry refers to entry {data['@']}")
            if "__type__" in data:
                cls, fields, hook = classes[data["__type__"]]
                instance = cls.__new__(cls)
                for name in fields:
                    setattr(instance, name, build(data[name]))
                if hook:
                    instance._deserialize()
                return instance
            return {key: build(value) for key, value in data.items()}
        if isinstance(data, list):
            return [build(value) for value in data]
        return data

    return {key: build(value) for key, value in memo.items()}


class LazyContextualLexer(ContextualLexer):
    """Lark's contextual lexer, its lexer for a parser state made when the parser first reaches that state.

    Lark's own makes a lexer (a sorted list of the terminals the state accepts, with their regular expressions)
    for each of the ~140 states of Meteor's grammar when the parser loads, a third of loading a cached parser;
    a script visits a few of them. Each state's lexer here is the one lark would make (same terminals, same
    order; states accepting the same terminals share it), made on first use; so is the lexer of all terminals
    that lark asks for a better error message. Loading passes this class as lark's ``ContextualLexer`` plugin.
    """

    def __init__(self, conf, states, always_accept=()) -> None:  # noqa: D107 - lark's signature
        self._conf = copy(conf)
        self._conf.terminals = list(conf.terminals)
        self._states, self._always_accept = states, always_accept
        self._by_accepts: dict = {}
        self.lexers = _StateLexers(self._state_lexer)

    def _state_lexer(self, state: int):
        accepts = self._states[state]
        key = frozenset(accepts)
        lexer = self._by_accepts.get(key)
        if lexer is None:
            conf = copy(self._conf)
            names = set(accepts) | set(conf.ignore) | set(self._always_accept)
            conf.terminals = [conf.terminals_by_name[n] for n in names if n in conf.terminals_by_name]
            lexer = self._by_accepts[key] = self.BasicLexer(conf, None)
        return lexer

    @property
    def root_lexer(self):
        """The lexer of every terminal (lark's ``root_lexer``), made on first use."""
        lexer = self.__dict__.get("_root")
        if lexer is None:
            self._conf.skip_validation = True
            lexer = self.__dict__["_root"] = self.BasicLexer(self._conf, None)
        return lexer


class _StateLexers(dict):
    """Parser state -> its lexer, each made by ``make(state)`` when first asked for."""

    def __init__(self, make) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, state: int):
        lexer = self[state] = self._make(state)
        return lexer


__all__ = ["Lark", "LazyContextualLexer", "PatternStr", "QuickTableParser", "quick_memo", "Rule", "TerminalDef", "Token", "Transformer", "Tree", "UnexpectedCharacters",
           "UnexpectedInput", "UnexpectedToken", "VERSION", "VisitError", "v_args"]
