-- description: Annotation validity and alignment per shard: annotated videos, schema-valid share, the annotating backend/model (the row's `models` entry with role `annotation`), and how far scene boundaries had to move to meet detected cuts (FineVideo warns above 25 frames and drops above 125).
WITH annotated AS (
    SELECT *, list_filter(models, lambda m: m.role = 'annotation')[1] AS annotator FROM video_annotations
)
SELECT a.shard, a.annotator.backend AS backend, a.annotator.model AS model,
       count(*) AS annotated,
       count(*) FILTER (WHERE a.schema_valid) AS schema_valid,
       count(*) FILTER (WHERE NOT a.kept) AS annotation_rejected,
       count(al.record_id) AS aligned,
       count(*) FILTER (WHERE al.kept) AS aligned_kept,
       max(al.max_shift_frames) AS max_shift_frames,
       round(avg(al.max_shift_frames), 2) AS mean_max_shift_frames,
       count(*) FILTER (WHERE al.max_shift_frames > 25) AS warned_over_25_frames,
       count(*) FILTER (WHERE al.max_shift_frames > 125) AS over_125_frames,
       sum(al.clamped_timestamps)::BIGINT AS clamped_timestamps
FROM annotated a
LEFT JOIN aligned_annotations al USING (record_id, shard)
GROUP BY ALL
ORDER BY a.shard
