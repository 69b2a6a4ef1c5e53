"""Similarity functions of the cleansing package (levenshtein ... numericSim) and their combinators.

Every similarity is a number in [0, 1] (1 = equal). String measures come from rapidfuzz (normalised similarity),
token measures split on whitespace. Two arguments compare two values; the one-argument form
``levenshtein($p.name)`` is only meaningful inside ``detect duplicates`` / ``link records``, whose condition is
rewritten to the two-argument form over the pair (sopremo_cleansing.pairs). A missing or null argument gives 0.

Combinators: ``average(s1, s2, ...)``, weighted ``average([s1, s2], [w1, w2])``, and ``min``/``max``. ``min`` and
``max`` shadow base's aggregations while ``cleansing`` is in scope: with one argument they are exactly base's
aggregation (``min($g[*].x)`` still folds a group), with two or more they return the smallest/largest argument.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

from rapidfuzz.distance import Hamming, Jaro, JaroWinkler, Levenshtein

from sopremo.api import MISSING, OperatorError, SopremoFunction, aggregation_functions, sort_key, string_form

ONE_ARGUMENT = ("the one-argument form {0}(<path>) compares a field of both records and only works inside "
                "'detect duplicates', 'link records' and 'remove duplicates'; write {0}(a, b) elsewhere")


def _absent(value: Any) -> bool:
    return value is None or value is MISSING


def as_text(value: Any) -> str:
    return value if type(value) is str else string_form(value)


def _strings(name: str, args: tuple) -> tuple[str, str] | None:
    """Both arguments as text, or None when one is missing/null; raises OperatorError for one argument."""
    if len(args) == 2 and type(args[0]) is str and type(args[1]) is str:
        return args
    if len(args) != 2:
        raise OperatorError(ONE_ARGUMENT.format(name))
    a, b = args
    if _absent(a) or _absent(b):
        return None
    return as_text(a), as_text(b)


def levenshtein(*args: Any) -> float:
    """1 - edit distance / length of the longer string (rapidfuzz ``Levenshtein.normalized_similarity``)."""
    pair = _strings("levenshtein", args)
    return 0.0 if pair is None else Levenshtein.normalized_similarity(*pair)


def jaro(*args: Any) -> float:
    """The Jaro similarity (rapidfuzz): ``jaro('martha', 'marhta')`` = 0.9444."""
    pair = _strings("jaro", args)
    return 0.0 if pair is None else Jaro.similarity(*pair)


def jaro_winkler(*args: Any) -> float:
    """Jaro-Winkler (prefix weight 0.1, rapidfuzz): ``jaroWinkler('martha', 'marhta')`` = 0.9611."""
    pair = _strings("jaroWinkler", args)
    return 0.0 if pair is None else JaroWinkler.similarity(*pair)


def hamming(*args: Any) -> float:
    """1 - differing positions / length of the longer string (the length difference counts as differing)."""
    pair = _strings("hamming", args)
    return 0.0 if pair is None else Hamming.normalized_similarity(*pair, pad=True)


def tokens(value: Any) -> set[str]:
    """The lower-cased tokens of a value: whitespace-separated words of text, string forms of array items."""
    if isinstance(value, list):
        return {as_text(v).lower() for v in value if not _absent(v)}
    return set(as_text(value).lower().split())


def jaccard(*args: Any) -> float:
    """|A & B| / |A | B| over the token sets; two empty sets are equal (1.0)."""
    pair = _strings("jaccard", args)
    if pair is None:
        return 0.0
    a, b = tokens(args[0]), tokens(args[1])
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def dice(*args: Any) -> float:
    """2 |A & B| / (|A| + |B|) over the token sets; two empty sets are equal (1.0)."""
    pair = _strings("dice", args)
    if pair is None:
        return 0.0
    a, b = tokens(args[0]), tokens(args[1])
    return 1.0 if not a and not b else 2 * len(a & b) / (len(a) + len(b))


def monge_elkan(*args: Any) -> float:
    """Mean over the tokens of the first value of the best Jaro-Winkler match among the second's tokens."""
    pair = _strings("mongeElkan", args)
    if pair is None:
        return 0.0
    a, b = pair[0].lower().split(), pair[1].lower().split()
    if not a or not b:
        return 1.0 if not a and not b else 0.0
    return sum(max(JaroWinkler.similarity(x, y) for y in b) for x in a) / len(a)


_SOUNDEX = {c: d for d, letters in enumerate(("aeiouyhw", "bfpv", "cgjkqsxz", "dt", "l", "mn", "r")) for c in letters}


def soundex_code(text: str) -> str:
    """The four-character American Soundex code (``Robert`` -> ``R163``); '' for text without letters."""
    letters = [c for c in text.lower() if c.isascii() and c.isalpha()]
    if not letters:
        return ""
    code, last = letters[0].upper(), _SOUNDEX[letters[0]]
    for c in letters[1:]:
        digit = _SOUNDEX[c]
        if digit and digit != last:
            code += str(digit)
        if c not in "hw":
            last = digit
    return (code + "000")[:4]


def soundex(*args: Any) -> Any:
    """One argument: its Soundex code; two: 1.0 when both have the same code, else 0.0."""
    if len(args) == 1:
        return args[0] if _absent(args[0]) else soundex_code(as_text(args[0]))
    pair = _strings("soundex", args)
    if pair is None:
        return 0.0
    a, b = soundex_code(pair[0]), soundex_code(pair[1])
    return 1.0 if a and a == b else 0.0


def as_date(value: Any) -> datetime.date:
    return _parse_date(as_text(value).strip())


@functools.lru_cache(maxsize=1 << 16)
def _parse_date(text: str) -> datetime.date:
    match = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if not match:
        raise OperatorError(f"dateSim() needs ISO dates such as '1970-01-31', got {text[:40]!r}")
    return datetime.date(*(int(g) for g in match.groups()))


def date_sim(*args: Any) -> float:
    """``dateSim(a, b[, days=365])``: 1 - |a - b| in days / ``days``, at least 0 (ISO dates ``YYYY-MM-DD``)."""
    if len(args) == 1:
        raise OperatorError(ONE_ARGUMENT.format("dateSim"))
    a, b, *rest = args
    if _absent(a) or _absent(b):
        return 0.0
    days = rest[0] if rest else 365
    return max(0.0, 1.0 - abs((as_date(a) - as_date(b)).days) / days)


def numeric_sim(*args: Any) -> float:
    """``numericSim(a, b[, maxDiff])``: 1 - |a - b| / maxDiff (at least 0); default maxDiff = max(|a|, |b|)."""
    if len(args) == 1:
        raise OperatorError(ONE_ARGUMENT.format("numericSim"))
    a, b, *rest = args
    if _absent(a) or _absent(b):
        return 0.0
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
        raise OperatorError(f"numericSim() needs numbers, got {string_form(a)[:20]!r} and {string_form(b)[:20]!r}")
    scale = rest[0] if rest else max(abs(a), abs(b))
    return 1.0 if a == b else max(0.0, 1.0 - abs(a - b) / scale) if scale else 0.0


def _numbers(values: list, name: str) -> list:
    out = [v for v in values if not _absent(v)]
    for v in out:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise OperatorError(f"{name}() combines numbers, got {string_form(v)[:40]!r}")
    return out


def average(*args: Any) -> Any:
    """``average(s1, s2, ...)`` the mean; ``average([s...], [w...])`` the weighted mean; ``average(array)``."""
    if len(args) == 2 and all(isinstance(a, list) for a in args) and len(args[0]) == len(args[1]):
        values, weights = _numbers(args[0], "average"), _numbers(args[1], "average")
        total = sum(weights)
        return sum(v * w for v, w in zip(values, weights)) / total if total else MISSING
    values = _numbers(args[0] if len(args) == 1 and isinstance(args[0], list) else list(args), "average")
    return sum(values) / len(values) if values else MISSING


def _extreme(base: SopremoFunction, pick: Any) -> SopremoFunction:
    def impl(*args: Any) -> Any:
        if len(args) == 1:
            return base.impl(args[0])
        values = [v for v in args if not _absent(v)]
        return pick(values, key=sort_key) if values else None

    return SopremoFunction(base.name, impl, 1, None, aggregation=base.aggregation,
                           doc=f"{base.name}(array) aggregation as in base; {base.name}(a, b, ...) of its arguments")


def similarity_functions() -> dict[str, SopremoFunction]:
    """The similarity functions and combinators by Meteor name."""
    base = aggregation_functions()
    table = {"levenshtein": levenshtein, "jaro": jaro, "jaroWinkler": jaro_winkler, "hamming": hamming,
             "jaccard": jaccard, "dice": dice, "mongeElkan": monge_elkan}
    functions = {name: SopremoFunction(name, f, 1, 2, doc=(f.__doc__ or "").split("\n")[0])
                 for name, f in table.items()}
    functions["soundex"] = SopremoFunction("soundex", soundex, 1, 2, doc=soundex.__doc__.split("\n")[0])
    functions["dateSim"] = SopremoFunction("dateSim", date_sim, 1, 3, doc=date_sim.__doc__.split("\n")[0])
    functions["numericSim"] = SopremoFunction("numericSim", numeric_sim, 1, 3, doc=numeric_sim.__doc__.split("\n")[0])
    functions["average"] = SopremoFunction("average", average, 1, None, doc=average.__doc__.split("\n")[0])
    functions["min"] = _extreme(base["min"], min)
    functions["max"] = _extreme(base["max"], max)
    return functions


# names whose one-argument call inside a duplicate condition means "that field of both records"
PAIRWISE = ("levenshtein", "jaro", "jaroWinkler", "hamming", "jaccard", "dice", "mongeElkan", "soundex", "dateSim",
            "numericSim")
