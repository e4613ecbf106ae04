-- description: How much of the curated selection and of the release one channel can take: channels, the largest channel's share of hours, and the Herfindahl-Hirschman index (sum of squared hour shares; 1 = one channel, 1/n = perfectly even).
WITH per_channel AS (
    SELECT 'curated_selection' AS population, channel_id, sum(duration_s) AS seconds
    FROM curated_selection WHERE kept GROUP BY ALL
    UNION ALL
    SELECT 'finevideo_dataset', youtube_channel_id, sum(duration_seconds)
    FROM finevideo_dataset GROUP BY ALL
),
shares AS (
    SELECT population, channel_id, seconds / sum(seconds) OVER (PARTITION BY population) AS share
    FROM per_channel
)
SELECT population, count(*) AS channels, round(max(share), 4) AS max_channel_share,
       round(sum(share * share), 4) AS hhi, arg_max(channel_id, share) AS largest_channel
FROM shares
GROUP BY population
ORDER BY population
