"""Local runtime building blocks of the PACT layer: grouping, hash join, plan checks and run statistics."""
