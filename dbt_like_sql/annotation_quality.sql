-- description: Annotation validity and alignment per shard: annotated videos, schema-valid share, the annotating backend/model, and how far scene boundaries had to move to meet detected cuts (FineVideo warns above 25 frames and drops above 125).
SELECT a.shard, a.backend, a.model,
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
FROM video_annotations a
LEFT JOIN aligned_annotations al USING (record_id, shard)
GROUP BY ALL
ORDER BY a.shard
