"""``detect duplicates`` and ``link records``: candidate pairs by naive, blocking or sorted-neighbourhood plans.

``detect duplicates $p in $in where <cond> [partition on <key> | [keys]] [sort on <key> | [keys]] [with window N]``
emits one ``[r1, r2]`` per pair satisfying ``<cond>``, each unordered pair once (records equal as JSON values are
one record), oriented as the original: the record first in the input on the left, in windows the record first in
sort order. The plan depends on the properties (or on the original's ``on <key>`` with ``with naive | blocking
| snm``; ``on`` alone is snm):
- neither ``partition on`` nor ``sort on``: naive, a Cross of the input with itself (n (n - 1) / 2 comparisons);
- ``partition on k``: blocking, a Reduce per block key comparing all pairs in a block; ``[k1, k2]`` = one pass
  per key, then one Reduce keeping each pair once (multi-pass blocking);
- ``sort on k [with window N]``: sorted neighbourhood, each record against the next N - 1 in key order (default
  window 2, the original's), as a
  range-partitioned sort with window overlap at range borders (sopremo_cleansing.neighbourhood); ``[k1, k2]`` =
  multi-pass; with ``partition on`` as well, a window inside each block (Reduce per block).
``link records $a in $A, $b in $B where ...`` does the same across two inputs (``[a, b]``, ``a`` from the first);
``partition on {$a.k : $b.k}`` is a Match per pass, ``sort on {$a.k : $b.k} with window N`` the original's
dual-source window: both inputs sorted together, each record of the first against the N - 1 records of the second
just before and the N - 1 at or after it (range-partitioned as well). Conditions that
are thresholds on similarities are fused into one test over per-record features (sopremo_cleansing.fused).
VLDB J. 2014, Table 1 (bottom) and Fig. 3.
"""

from __future__ import annotations

from sopremo.api import (CONSTANT, EXPRESSION, CompositeOperator, InputRef, JsonStream, PropertyError, PropertySpec,
                         replace_inputs)

from . import package
from .detect_internal import (CrossPairs, DistinctPairs, GroupPairs, MatchPairs, UnionPairs, WrapRecords,
                              internal)
from .neighbourhood import range_windows
from .pairs import key_list, link_keys
from .similarity import PAIRWISE

DEFAULT_WINDOW = 2  # the original's SortedNeighborhood.DEFAULT_WINDOW_SIZE


def pairwise_ids() -> frozenset[int]:
    """Ids of the package's similarity functions whose one-argument call compares both records."""
    return frozenset(id(package.functions[name]) for name in PAIRWISE)


IMPLEMENTATIONS = ("naive", "blocking", "snm")  # the original's DuplicateDetectionImplementation


def detection_properties(partition_doc: str, sort_doc: str) -> tuple[PropertySpec, ...]:
    return (
        PropertySpec("where", "condition", EXPRESSION, required=True,
                     doc="similarity condition over a pair, e.g. levenshtein($p.name) >= 0.8"),
        PropertySpec("partition on", "partition", EXPRESSION, doc=partition_doc),
        PropertySpec("sort on", "sort", EXPRESSION, doc=sort_doc),
        PropertySpec("with window", "window", CONSTANT, doc=f"sorted-neighbourhood window (default {DEFAULT_WINDOW})"),
        PropertySpec("on", "key", EXPRESSION, doc="candidate key of 'with blocking' or 'with snm' (alone: snm)"),
        PropertySpec("with", "implementation", CONSTANT, choices=IMPLEMENTATIONS,
                     doc="naive | blocking | snm: the plan, with the key of 'on' (or partition on / sort on)"),
    )


class _PairDetection(CompositeOperator):
    """What detect duplicates and link records share: property checks and the final union of passes."""

    def resolve_implementation(self) -> None:
        """The original's ``on <key>`` and ``with naive | blocking | snm`` turned into ``partition on`` /
        ``sort on`` (``on`` alone is snm, as the original's DuplicateDetectionFactory chose). Raises
        PropertyError when ``with`` contradicts the keys given."""
        implementation = (self.implementation or "").lower() or None
        key = self.key
        if implementation == "naive":
            if key is not None or self.partition is not None or self.sort is not None:
                raise PropertyError("'with naive' compares every pair: drop 'on', 'partition on' and 'sort on'",
                                    "with")
            return
        if key is not None:
            if self.partition is not None or self.sort is not None:
                raise PropertyError("give the key once: 'on', 'partition on' or 'sort on'", "on")
            if implementation == "blocking":
                self.partition = key
            else:
                self.sort = key
            self.key = None
        if implementation == "blocking" and self.partition is None:
            raise PropertyError("'with blocking' needs a key: 'on <key>' or 'partition on <key>'", "with")
        if implementation == "blocking" and self.sort is not None:
            raise PropertyError("'with blocking' compares whole blocks: drop 'sort on' (or use 'with snm')", "with")
        if implementation == "snm" and self.sort is None:
            raise PropertyError("'with snm' needs a key: 'on <key>' or 'sort on <key>'", "with")

    def validate(self) -> None:
        super().validate()
        self.resolve_implementation()
        if self.window is not None and (not isinstance(self.window, int) or isinstance(self.window, bool)
                                        or self.window < 2):
            raise PropertyError(f"'with window' needs an int of at least 2, got {self.window!r}", "with window")
        if self.window is not None and self.sort is None:
            raise PropertyError("'with window' needs 'sort on' (sorted neighbourhood)", "with window")

    def _finish(self, passes: list) -> list[JsonStream]:
        if len(passes) == 1:
            return [passes[0].output()]
        union = internal(UnionPairs, [p.output() for p in passes], self, "passes")
        return [internal(DistinctPairs, [union.output()], self, "distinct",
                         link=isinstance(self, LinkRecords)).output()]


@package.operator
class DetectDuplicates(_PairDetection):
    """Duplicate pairs of one data set; out: ``[r1, r2]`` per pair, each pair once (see the module docstring).

    Raises PropertyError for a window below 2, a window without ``sort on``, or a list of sort keys together
    with ``partition on``.
    """

    bare_names_are_fields = True  # the paper's levenshtein(name), retain longest(name)
    verb = "detect duplicates"
    doc = "detect duplicates $p in $in where <cond> [partition on <key> | [keys]] [sort on <key> [with window N]]"
    properties = detection_properties("blocking key, or [keys] for multi-pass blocking",
                                      "sorted-neighbourhood key, or [keys] for multi-pass")

    def validate(self) -> None:
        super().validate()
        if self.partition is not None and self.sort is not None and len(key_list(self.sort)) > 1:
            raise PropertyError("detect duplicates: with 'partition on', 'sort on' takes one key", "sort on")

    def expand(self) -> list[JsonStream]:
        self.resolve_implementation()
        functions = pairwise_ids()
        test = {"condition": self.condition, "functions": functions, "link": False}
        if self.partition is None and self.sort is None:
            wrapped = internal(WrapRecords, [self.inputs[0]], self, "wrap", side=0, **test).output()
            return [internal(CrossPairs, [wrapped, wrapped], self, "all pairs", **test).output()]
        window = self.window or DEFAULT_WINDOW
        if self.partition is None:  # sorted neighbourhood: range-partitioned windows, one run per key
            orders = key_list(self.sort)
            final = len(orders) == 1
            passes = [range_windows(self, internal(WrapRecords, [self.inputs[0]], self, f"wrap{i}", side=0,
                                                   sort=order, **test).output(),
                                    "pairs" if final else f"pass{i}", window=window, final=final, **test)
                      for i, order in enumerate(orders)]
            return self._finish(passes)
        wrapped = internal(WrapRecords, [self.inputs[0]], self, "wrap", side=0, sort=self.sort, **test).output()
        keys = key_list(self.partition)
        final = len(keys) == 1
        passes = [internal(GroupPairs, [wrapped], self, f"pass{i}" if not final else "pairs", key=key,
                           window=window if self.sort is not None else None, final=final, **test)
                  for i, key in enumerate(keys)]
        return self._finish(passes)


@package.operator
class LinkRecords(_PairDetection):
    """Linked pairs across two data sets; out: ``[a, b]`` per pair satisfying the condition, each pair once.

    Raises PropertyError for keys that do not pair the first input with the second, for ``partition on``
    together with ``sort on``, and for window errors as detect duplicates.
    """

    verb = "link records"
    min_inputs = max_inputs = 2
    doc = "link records $a in $A, $b in $B where <cond> [partition on {$a.k : $b.k}] [sort on {...} [with window N]]"
    properties = detection_properties("{$a.key : $b.key} (or a path of one record meaning both); [..] or several "
                                      "entries = multi-pass", "{$a.key : $b.key}: both inputs sorted together")

    def validate(self) -> None:
        super().validate()
        if self.partition is not None and self.sort is not None:
            raise PropertyError("link records takes 'partition on' or 'sort on', not both", "sort on")
        for words, value in (("partition on", self.partition), ("sort on", self.sort)):
            if value is not None:
                link_keys(value, words)

    def expand(self) -> list[JsonStream]:
        self.resolve_implementation()
        functions = pairwise_ids()
        if self.sort is not None:
            return self._windows(functions)
        left, right = (internal(WrapRecords, [stream], self, f"wrap{i}", side=i, condition=self.condition,
                                functions=functions, link=True).output() for i, stream in enumerate(self.inputs))
        if self.partition is None:
            return [internal(CrossPairs, [left, right], self, "all pairs", condition=self.condition,
                             functions=functions, link=True).output()]
        keys = link_keys(self.partition, "partition on")
        final = len(keys) == 1
        passes = [internal(MatchPairs, [left, right], self, f"pass{i}" if not final else "pairs",
                           condition=self.condition, functions=functions, left_key=a, right_key=b, final=final)
                  for i, (a, b) in enumerate(keys)]
        return self._finish(passes)

    def _windows(self, functions: frozenset[int]) -> list[JsonStream]:
        window, test = self.window or DEFAULT_WINDOW, {"condition": self.condition, "functions": functions}
        passes = []
        keys = link_keys(self.sort, "sort on")
        for i, (a, b) in enumerate(keys):
            left = internal(WrapRecords, [self.inputs[0]], self, f"wrap{i}a", side=0, sort=a, link=True,
                            **test).output()
            right = internal(WrapRecords, [self.inputs[1]], self, f"wrap{i}b", side=1, sort=_to_first(b),
                             link=True, **test).output()
            both = internal(UnionPairs, [left, right], self, f"sorted{i}").output()
            passes.append(range_windows(self, both, f"window{i}", window=window, link=True,
                                        final=len(keys) == 1, **test))
        return self._finish(passes)


def _to_first(expr):
    """A key expression of the second input rewritten to read the record it is evaluated on (input 0)."""
    return replace_inputs(expr, {1: InputRef(0)})
