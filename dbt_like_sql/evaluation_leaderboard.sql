-- description: Every evaluation's leaderboard in one long table (benchmark, adapter, slice, metric, value, n): DocVQA-style scores of the Docmatix test split (ANLS, exact match, BLEU, CIDEr-D, LAVE or its offline proxy) and CinePile accuracy overall, per category and per hard split (fractions, not percent).
WITH docvqa AS (
    SELECT 'docvqa' AS benchmark, adapter, 'overall' AS slice, metric, value, n
    FROM (
        UNPIVOT (SELECT adapter, n, anls, exact_match, bleu, cider_d, lave, lave_proxy FROM docvqa_evaluation)
        ON anls, exact_match, bleu, cider_d, lave, lave_proxy INTO NAME metric VALUE value
    )
),
cinepile AS (
    SELECT 'cinepile' AS benchmark, adapter,
           CASE WHEN slice = 'overall' THEN 'overall' ELSE slice || '=' || replace(value, chr(10), ' ') END AS slice,
           'accuracy' AS metric, accuracy / 100 AS value, questions AS n
    FROM cinepile_leaderboard
    WHERE questions > 0
)
SELECT benchmark, adapter, slice, metric, round(value, 4) AS value, n
FROM (SELECT * FROM docvqa UNION ALL SELECT * FROM cinepile)
ORDER BY benchmark, slice <> 'overall', slice, metric, value DESC
