-- description: Licences of what landed, what was selected and what was released (videos and hours), so a release never carries a licence nobody checked.
-- chart: license landed_videos
WITH landed AS (
    SELECT coalesce(license, '(none)') AS license, count(*) AS landed_videos FROM raw_video_metadata GROUP BY ALL
),
selected AS (
    SELECT coalesce(license, '(none)') AS license, count(*) AS selected_videos, sum(duration_s) / 3600 AS selected_hours
    FROM curated_selection WHERE kept GROUP BY ALL
),
released AS (
    SELECT coalesce(license, '(none)') AS license, count(*) AS released_videos,
           sum(duration_seconds) / 3600 AS released_hours
    FROM finevideo_dataset GROUP BY ALL
)
SELECT license, landed_videos, coalesce(selected_videos, 0) AS selected_videos,
       round(coalesce(selected_hours, 0), 4) AS selected_hours, coalesce(released_videos, 0) AS released_videos,
       round(coalesce(released_hours, 0), 4) AS released_hours
FROM landed LEFT JOIN selected USING (license) LEFT JOIN released USING (license)
ORDER BY landed_videos DESC, license
