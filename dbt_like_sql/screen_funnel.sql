-- description: Every screening stage per dataset and shard: inputs, kept and rejected, and whether the stage saw exactly what the stage before it kept (nothing lost, nothing invented). A stage that received no rows still has its line, with zeros.
-- chart: stage kept
WITH stage_rows AS (
    SELECT 'finevideo' AS dataset, 1 AS stage_order, 'language_screen' AS stage, shard, kept FROM language_screen
    UNION ALL SELECT 'finevideo', 2, 'video_files', shard, kept FROM video_files
    UNION ALL SELECT 'finevideo', 3, 'word_density_screen', shard, kept FROM word_density_screen
    UNION ALL SELECT 'finevideo', 4, 'dynamism_screen', shard, kept FROM dynamism_screen
    UNION ALL SELECT 'finevideo', 5, 'taxonomy_labels', shard, kept FROM taxonomy_labels
    UNION ALL SELECT 'finevideo', 6, 'curated_selection', shard, kept FROM curated_selection
    UNION ALL SELECT 'finevideo', 7, 'video_annotations', shard, kept FROM video_annotations
    UNION ALL SELECT 'finevideo', 8, 'aligned_annotations', shard, kept FROM aligned_annotations
    UNION ALL SELECT 'docmatix', 1, 'documents', shard, kept FROM documents
    UNION ALL SELECT 'docmatix', 2, 'filtered_qa', shard, kept FROM filtered_qa
    -- CinePile is built over all videos at once: one line per stage under shard 'all'
    UNION ALL SELECT 'cinepile', 1, 'cinepile_scenes', 'all', kept FROM cinepile_scenes
    UNION ALL SELECT 'cinepile', 2, 'scene_questions', 'all', kept FROM scene_questions
    UNION ALL SELECT 'cinepile', 3, 'refined_questions', 'all', kept FROM refined_questions
),
sources AS (
    -- what each dataset's first stage must see, per shard
    SELECT 'finevideo' AS dataset, shard, count(*) AS landed FROM raw_video_metadata GROUP BY ALL
    UNION ALL
    SELECT 'docmatix', shard, count(DISTINCT record_id) FROM documents GROUP BY ALL
    UNION ALL
    SELECT 'cinepile', 'all', count(*) FROM cinepile_scenes
),
generated AS (
    SELECT 'docmatix' AS dataset, 'filtered_qa' AS stage, shard, count(*) AS n FROM raw_qa GROUP BY ALL
    UNION ALL
    SELECT 'cinepile', 'scene_questions', 'all', count(*) FROM scene_questions
),
grid AS (
    SELECT DISTINCT r.dataset, r.stage_order, r.stage, s.shard
    FROM stage_rows r JOIN sources s ON s.dataset = r.dataset
),
counts AS (
    SELECT g.dataset, g.stage_order, g.stage, g.shard,
           count(r.kept) AS inputs,
           count(*) FILTER (WHERE r.kept) AS kept,
           count(*) FILTER (WHERE NOT r.kept) AS rejected
    FROM grid g
    LEFT JOIN stage_rows r USING (dataset, stage_order, stage, shard)
    GROUP BY ALL
),
expected AS (
    SELECT c.*,
           CASE
               WHEN c.stage_order = 1 THEN s.landed
               WHEN gen.n IS NOT NULL THEN gen.n
               ELSE lag(c.kept) OVER (PARTITION BY c.dataset, c.shard ORDER BY c.stage_order)
           END AS expected_inputs
    FROM counts c
    JOIN sources s USING (dataset, shard)
    LEFT JOIN generated gen USING (dataset, stage, shard)
)
SELECT dataset, stage_order, stage, shard, inputs, kept, rejected, expected_inputs,
       inputs = kept + rejected AND inputs = expected_inputs AS accounted
FROM expected
ORDER BY dataset, shard, stage_order
