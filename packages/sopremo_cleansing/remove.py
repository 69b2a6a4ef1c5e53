"""``remove duplicates``: the composite of the paper's Fig. 3 (detect -> cluster -> fuse -> union all with the rest).

``remove duplicates $p in $in where <cond> [partition on ... | sort on ... [with window N]] [with weights {...}]
with resolutions {...}`` or the paper's ``... retain longest($p.name)``. The expansion only wires operators:
detect duplicates (pairs) -> cluster transitively (clusters) -> fuse (one record per cluster), and the records
in no pair (an anti join of the input with the pairs' members) -> union all of both. Records equal as JSON
values are one record: they appear once in the output.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sopremo.api import CoGroup, CompositeOperator, JsonStream, Map

from . import package
from .cluster import ClusterTransitively, as_pair
from .detect import DetectDuplicates, detection_properties
from .detect_internal import Internal, UnionPairs, contract_args, internal
from .fuse import FUSE_PROPERTIES, Fuse, validate_fusion
from .pairs import canonical


class PairMembers(Internal):
    """Map: each pair ``[r1, r2]`` -> the canonical texts of its two records."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        def members(pairs: Iterator[Any]) -> Iterable[bytes]:
            for pair in pairs:
                for record in as_pair(pair):
                    yield canonical(record)

        return Map(udf=members, **contract_args(self, inputs))


class Unpaired(Internal):
    """CoGroup of the records (by canonical text) with the pair members: one record of each canonical text
    that is in no pair."""

    min_inputs = max_inputs = 2

    def to_contract(self, inputs: list[Any], ctx: Any) -> CoGroup:
        def unpaired(_key: Any, records: list[Any], members: list[bytes]) -> Iterable[Any]:
            if records and not members:
                yield records[0]

        return CoGroup(keys=(canonical, lambda member: member), udf=unpaired, sequence_groups=True,
                       **contract_args(self, inputs))


@package.operator
class RemoveDuplicates(CompositeOperator):
    """Duplicates merged into one record each; out: the fused clusters and the records in no duplicate pair.

    Properties as detect duplicates plus fuse's ``with weights``, ``with resolutions`` or ``retain``. Raises
    PropertyError as those two do.
    """

    bare_names_are_fields = True  # the paper's levenshtein(name), retain longest(name)
    verb = "remove duplicates"
    doc = ("remove duplicates $p in $in where <cond> [partition on <key> | sort on <key> [with window N]] "
           "[with weights {...}] with resolutions {...} | retain longest(<path>)")
    properties = detection_properties("blocking key, or [keys] for multi-pass blocking",
                                      "sorted-neighbourhood key, or [keys] for multi-pass") + FUSE_PROPERTIES

    def _detect(self) -> DetectDuplicates:
        return internal(DetectDuplicates, self.inputs, self, "detect", condition=self.condition,
                        partition=self.partition, sort=self.sort, window=self.window, key=self.key,
                        implementation=self.implementation)

    def validate(self) -> None:
        super().validate()
        self._detect().validate()
        validate_fusion(self)

    def expand(self) -> list[JsonStream]:
        pairs = self._detect().output()
        clusters = internal(ClusterTransitively, [pairs], self, "cluster").output()
        fused = internal(Fuse, [clusters], self, "fuse", weights=self.weights, resolutions=self.resolutions,
                         retain=self.retain).output()
        members = internal(PairMembers, [pairs], self, "members").output()
        rest = internal(Unpaired, [self.inputs[0], members], self, "unpaired").output()
        return [internal(UnionPairs, [fused, rest], self, "union all").output()]
