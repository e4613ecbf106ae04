-- description: The audit of `make audit ID=...` as SQL: for every record (root_record_id), itself and its ancestors up to 3 steps back (depth), each stage they passed with its verdict, parents (`parent_ids`), models (`models`), and the materialization that produced it (run id, code version, data version, time). Query it with `WHERE root_record_id = '<id>' ORDER BY depth, stage_order`. A record's origins are the parents of its first stage (a later release row lists what it bundles, not where the record came from). The depth is unrolled (no recursive CTE) so a filter on root_record_id reaches every scan and one audit stays fast on a large index.
-- materialized: view
WITH first_stage AS (
    SELECT record_id, parent_ids
    FROM provenance_index
    QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY stage_order, asset) = 1
),
origins AS (
    SELECT DISTINCT record_id, unnest(parent_ids) AS parent_id FROM first_stage
),
chain AS (
    SELECT DISTINCT record_id AS root_record_id, 0 AS depth, record_id FROM provenance_index
    UNION ALL
    SELECT o1.record_id, 1, o1.parent_id FROM origins o1
    UNION ALL
    SELECT o1.record_id, 2, o2.parent_id
    FROM origins o1 JOIN origins o2 ON o2.record_id = o1.parent_id
    UNION ALL
    SELECT o1.record_id, 3, o3.parent_id
    FROM origins o1 JOIN origins o2 ON o2.record_id = o1.parent_id JOIN origins o3 ON o3.record_id = o2.parent_id
)
SELECT c.root_record_id, c.depth, i.record_id, i."group", i.asset, i.stage_order, i.shard, i.kept, i.reason,
       i.detail, i.parent_ids, i.models, i.run_id, i.code_version, i.data_version, i.materialized_at
FROM chain c
JOIN provenance_index i ON i.record_id = c.record_id
