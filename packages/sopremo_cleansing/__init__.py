"""The ``cleansing`` Sopremo package (``using cleansing;``): scrub, detect/remove duplicates, link, cluster, fuse.

The paper's third domain (VLDB J. 2014, Table 1 bottom, Fig. 3). Importing this module registers the operators
(scrub, detect duplicates, link records, cluster transitively, cluster, fuse, remove duplicates, global match,
transform records / map entities with its entity values) and the
functions: similarities (levenshtein, jaro, jaroWinkler, hamming, jaccard, dice, mongeElkan, soundex, dateSim,
numericSim), combinators (average, min, max), scrub rules and fixes, fuse resolutions, and the original's
string and number functions (concat_strings, remove_all_characters, remove_all_strings, abs, diff, absDiff,
generateId; docs/cleansing.md).
"""

from sopremo.api import SopremoPackage

package = SopremoPackage("cleansing", doc="data cleansing: scrub, detect/remove duplicates, link records, "
                                          "cluster, fuse, global match; similarity functions")


def _register_functions() -> None:
    """Similarities and combinators, scrub rules/fixes and fuse resolutions (functions and bare constants)."""
    from .similarity import similarity_functions
    from .udfs import udf_functions
    from .vocabulary import vocabulary_constants, vocabulary_functions

    package.functions.update(similarity_functions())
    package.functions.update(vocabulary_functions())
    package.functions.update(udf_functions())
    package.constants.update(vocabulary_constants())


_register_functions()

from .cluster import Cluster, ClusterTransitively, GlobalMatch  # noqa: E402
from .detect import DetectDuplicates, LinkRecords  # noqa: E402
from .fuse import Fuse  # noqa: E402
from .remove import RemoveDuplicates  # noqa: E402
from .scrub import Scrub  # noqa: E402
from .transform import Entity, MapEntities, TransformRecords  # noqa: E402

__all__ = ["package", "Cluster", "ClusterTransitively", "DetectDuplicates", "Fuse", "GlobalMatch", "LinkRecords",
           "RemoveDuplicates", "Scrub",
           "Entity", "MapEntities", "TransformRecords"]
