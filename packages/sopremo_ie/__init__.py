"""The ``ie`` Sopremo package: information extraction operators (VLDB J. 2014, Table 1 middle, Listing 3).

Importing this module registers annotate/split sentences, annotate tokens/pos/parse, remove stopwords,
annotate/split ngrams, annotate/extract entities and relations, and merge, plus the constants ``type``
(``type.person`` ...) and ``characters``. Resources load lazily on first use (sopremo_ie.resources).
"""

from sopremo.api import SopremoPackage

package = SopremoPackage("ie", doc="information extraction: sentences, tokens, POS, chunks, entities, relations")

from .ops_text import (AnnotateNgrams, AnnotateParse, AnnotatePos, AnnotateSentences,  # noqa: E402
                       AnnotateTokens, RemoveStopwords, SplitNgrams, SplitSentences)
from .ops_entities import (AnnotateEntities, AnnotateRelations, ExtractEntities,  # noqa: E402
                           ExtractRelations, Merge)

__all__ = ["package", "AnnotateEntities", "AnnotateNgrams", "AnnotateParse", "AnnotatePos", "AnnotateRelations",
           "AnnotateSentences", "AnnotateTokens", "ExtractEntities", "ExtractRelations", "Merge", "RemoveStopwords",
           "SplitNgrams", "SplitSentences"]
