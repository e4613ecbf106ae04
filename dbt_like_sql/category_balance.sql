-- description: Hours and videos per taxonomy category in the curated selection and in the FineVideo release, with each category's share of released hours.
-- chart: content_parent_category released_hours
WITH selected AS (
    SELECT content_parent_category, content_fine_category,
           count(*) AS selected_videos, sum(duration_s) / 3600 AS selected_hours
    FROM curated_selection WHERE kept GROUP BY ALL
),
released AS (
    SELECT content_parent_category, content_fine_category,
           count(*) AS released_videos, sum(duration_seconds) / 3600 AS released_hours
    FROM finevideo_dataset GROUP BY ALL
)
SELECT content_parent_category, content_fine_category,
       coalesce(selected_videos, 0) AS selected_videos, round(coalesce(selected_hours, 0), 4) AS selected_hours,
       coalesce(released_videos, 0) AS released_videos, round(coalesce(released_hours, 0), 4) AS released_hours,
       round(coalesce(released_hours, 0) / nullif(sum(released_hours) OVER (), 0), 4) AS released_share
FROM selected FULL OUTER JOIN released USING (content_parent_category, content_fine_category)
ORDER BY released_hours DESC NULLS LAST, content_parent_category, content_fine_category
