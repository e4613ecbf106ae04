-- description: Docmatix Q/A removal per rule and per profile: `compat` is Docmatix's regexes alone, `default` adds grounding, per-document dedup and length bounds without rejecting decimals and URLs by accident. A pair can fail several rules, so rule counts can sum above the profile's.
-- chart: rule removed
WITH totals AS (SELECT count(*) AS pairs FROM filtered_qa),
rules AS (
    SELECT 'compat' AS profile, unnest(compat_reasons) AS rule FROM filtered_qa
    UNION ALL
    SELECT 'default', unnest(reasons) FROM filtered_qa
),
profiles AS (
    SELECT 'compat' AS profile, '(any rule)' AS rule, count(*) FILTER (WHERE NOT compat_kept) AS removed FROM filtered_qa
    UNION ALL
    SELECT 'default', '(any rule)', count(*) FILTER (WHERE NOT kept) FROM filtered_qa
)
SELECT profile, rule, removed, (SELECT pairs FROM totals) AS pairs,
       round(removed / nullif((SELECT pairs FROM totals), 0), 4) AS removal_rate
FROM (
    SELECT profile, rule, count(*) AS removed FROM rules GROUP BY ALL
    UNION ALL SELECT * FROM profiles
)
ORDER BY profile, rule = '(any rule)' DESC, removed DESC
