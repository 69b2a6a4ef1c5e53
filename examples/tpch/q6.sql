-- DuckDB equivalent of q6.meteor (TPC-H Q6; BETWEEN 0.06 - 0.01 AND 0.06 + 0.01 written as 0.05 .. 0.07).
SELECT sum(l_extendedprice * l_discount) AS revenue
FROM lineitem
WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01'
  AND l_discount >= 0.05 AND l_discount <= 0.07
  AND l_quantity < 24;
