-- description: How each release spreads over the group its training mix balances (FineVideo top-level category, Docmatix language, CinePile question category): records and share in the release, and in the balanced mix (kept rows, weighted by sample_weight), per group.
WITH mixes AS (
    SELECT 'finevideo' AS dataset, category AS grp, kept, sample_weight FROM finevideo_balance
    UNION ALL
    SELECT 'docmatix', language, kept, sample_weight FROM docmatix_balance
    UNION ALL
    SELECT 'cinepile', category, kept, sample_weight FROM cinepile_balance
)
SELECT dataset, grp AS "group",
       count(*) AS records,
       round(count(*) / sum(count(*)) OVER (PARTITION BY dataset), 4) AS release_share,
       count(*) FILTER (WHERE kept) AS in_mix,
       round(sum(CASE WHEN kept THEN sample_weight ELSE 0 END)
             / sum(sum(CASE WHEN kept THEN sample_weight ELSE 0 END)) OVER (PARTITION BY dataset), 4) AS mix_share
FROM mixes
GROUP BY 1, 2
ORDER BY dataset, "group"
