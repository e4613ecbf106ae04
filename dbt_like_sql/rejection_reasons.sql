-- description: Why records were rejected, per dataset and stage (the first failing rule of each row), with an example record to audit (the asset's metadata links each example to its audit in the launchpad).
-- chart: reason rejected
WITH rejected AS (
    SELECT 'finevideo' AS dataset, 1 AS stage_order, 'language_screen' AS stage, reason, record_id FROM language_screen WHERE NOT kept
    UNION ALL SELECT 'finevideo', 2, 'video_files', reason, record_id FROM video_files WHERE NOT kept
    UNION ALL SELECT 'finevideo', 3, 'word_density_screen', reason, record_id FROM word_density_screen WHERE NOT kept
    UNION ALL SELECT 'finevideo', 4, 'dynamism_screen', reason, record_id FROM dynamism_screen WHERE NOT kept
    UNION ALL SELECT 'finevideo', 5, 'taxonomy_labels', reason, record_id FROM taxonomy_labels WHERE NOT kept
    UNION ALL SELECT 'finevideo', 6, 'curated_selection', reason, record_id FROM curated_selection WHERE NOT kept
    UNION ALL SELECT 'finevideo', 7, 'video_annotations', reason, record_id FROM video_annotations WHERE NOT kept
    UNION ALL SELECT 'finevideo', 8, 'aligned_annotations', reason, record_id FROM aligned_annotations WHERE NOT kept
    UNION ALL SELECT 'docmatix', 1, 'documents', reason, record_id FROM documents WHERE NOT kept
    UNION ALL SELECT 'docmatix', 2, 'filtered_qa', reason, record_id FROM filtered_qa WHERE NOT kept
    UNION ALL SELECT 'docmatix', 3, 'page_images', reason, record_id FROM page_images WHERE NOT kept
    UNION ALL SELECT 'cinepile', 0, 'question_bank', reason, record_id FROM question_bank WHERE NOT kept
    UNION ALL SELECT 'cinepile', 1, 'cinepile_scenes', reason, record_id FROM cinepile_scenes WHERE NOT kept
    UNION ALL SELECT 'cinepile', 2, 'scene_questions', reason, record_id FROM scene_questions WHERE NOT kept
    UNION ALL SELECT 'cinepile', 3, 'refined_questions', reason, record_id FROM refined_questions WHERE NOT kept
)
SELECT dataset, stage_order, stage, reason, count(*) AS rejected, min(record_id) AS example_record_id
FROM rejected
GROUP BY ALL
ORDER BY dataset, stage_order, rejected DESC
