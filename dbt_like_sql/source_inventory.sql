-- description: What landed, per video shard: rows, channels, licences, and rows whose values had to be coerced on read.
-- owner: team:data
SELECT
    shard,
    any_value(source_file) AS source_file,
    count(*) AS rows,
    count(DISTINCT channel_id) AS channels,
    count(*) FILTER (WHERE len(normalization_issues) > 0) AS rows_with_coerced_values,
    count(*) FILTER (WHERE license IS NULL) AS rows_without_licence,
    string_agg(DISTINCT license, ', ' ORDER BY license) AS licences
FROM raw_video_metadata
GROUP BY shard
ORDER BY shard
