"""Per-record features and cut-off similarities of the similarity functions, for fused pair tests.

``kind(name, extra)`` gives, for a similarity by its Meteor name (sopremo_cleansing.similarity), its cost rank
(cheap ones are evaluated first), the feature a record's value becomes once (text, token set, day number,
Soundex code) and ``sim(feature_a, feature_b, cut)``: the similarity of two features, equal to the function's
value on the original values, or any value below ``cut`` when the true one is below it (rapidfuzz's
``score_cutoff``, a length bound for levenshtein). Used by sopremo_cleansing.fused.
"""

from __future__ import annotations

from typing import Any, Callable

from rapidfuzz.distance import Hamming, Jaro, JaroWinkler, Levenshtein

from sopremo.api import MISSING, OperatorError

from .similarity import as_date, as_text, monge_elkan, numeric_sim, soundex_code, tokens


def _absent(value: Any) -> bool:
    return value is None or value is MISSING


def _cutoff(cut: float) -> float | None:
    return cut if cut > 0 else None


def _jaro(a: Any, b: Any, cut: float) -> float:
    return 0.0 if a is None or b is None else Jaro.similarity(a, b, score_cutoff=_cutoff(cut))


def _jaro_winkler(a: Any, b: Any, cut: float) -> float:
    return 0.0 if a is None or b is None else JaroWinkler.similarity(a, b, score_cutoff=_cutoff(cut))


def _hamming(a: Any, b: Any, cut: float) -> float:
    return 0.0 if a is None or b is None else Hamming.normalized_similarity(a, b, pad=True,
                                                                             score_cutoff=_cutoff(cut))


def _levenshtein(a: Any, b: Any, cut: float) -> float:
    if a is None or b is None:
        return 0.0
    if cut > 0:
        shorter, longer = sorted((len(a), len(b)))
        if longer and shorter / longer < cut:  # 1 - distance / longer <= shorter / longer
            return 0.0
        return Levenshtein.normalized_similarity(a, b, score_cutoff=cut)
    return Levenshtein.normalized_similarity(a, b)


def _text_feature(value: Any) -> Any:
    return None if _absent(value) else as_text(value)


def _date_feature(value: Any) -> Any:
    """The day number of an ISO date; an unparsable date keeps its OperatorError, raised when compared."""
    if _absent(value):
        return None
    try:
        return as_date(value).toordinal()
    except OperatorError as error:
        return error


def _date_sim(days: float) -> Callable[[Any, Any, float], float]:
    def sim(a: Any, b: Any, cut: float) -> float:
        if a is None or b is None:
            return 0.0
        if type(a) is not int or type(b) is not int:
            raise a if isinstance(a, OperatorError) else b
        v = 1.0 - abs(a - b) / days
        return v if v > 0.0 else 0.0  # max(0.0, v) as dateSim, without the call
    return sim


def _jaccard(a: Any, b: Any, cut: float) -> float:
    if a is None or b is None:
        return 0.0
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def _dice(a: Any, b: Any, cut: float) -> float:
    if a is None or b is None:
        return 0.0
    return 1.0 if not a and not b else 2 * len(a & b) / (len(a) + len(b))


def _generic(function: Callable[..., float], *extra: Any) -> Callable[[Any, Any, float], float]:
    return lambda a, b, cut: function(a, b, *extra)


def kind(name: str, extra: tuple) -> tuple[int, Callable[[Any], Any], Callable[[Any, Any, float], float]] | None:
    """(cost rank, feature of a value, similarity of two features with a cut-off) of a similarity by name."""
    if name == "levenshtein":
        return 2, _text_feature, _levenshtein
    strings = {"jaro": _jaro, "jaroWinkler": _jaro_winkler, "hamming": _hamming}
    if name in strings:
        return 2, _text_feature, strings[name]
    if name in ("jaccard", "dice"):
        return 1, lambda v: None if _absent(v) else frozenset(tokens(v)), _jaccard if name == "jaccard" else _dice
    if name == "soundex":
        return 0, lambda v: None if _absent(v) else soundex_code(as_text(v)), \
            lambda a, b, cut: 0.0 if a is None or b is None else (1.0 if a and a == b else 0.0)
    if name == "mongeElkan":
        return 3, lambda v: None if _absent(v) else v, _generic(monge_elkan)
    if name == "dateSim":
        days = extra[0] if extra else 365
        if not isinstance(days, (int, float)) or isinstance(days, bool) or days <= 0:
            return None
        return 0, _date_feature, _date_sim(days)
    if name == "numericSim":
        return 0, lambda v: None if _absent(v) else v, _generic(numeric_sim, *extra)
    return None
