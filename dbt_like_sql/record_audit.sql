-- description: The audit of `make audit ID=...` as SQL: for every record (root_record_id), itself and its ancestors up to 4 steps back (depth), each stage they passed with its verdict, parents, model provenance, run id and code version. Query it with `WHERE root_record_id = '<id>' ORDER BY depth, stage_order`. Release rows list what they bundle, so their lists are not followed as origins.
-- materialized: view
WITH RECURSIVE origins AS (
    SELECT DISTINCT record_id, unnest(parent_ids) AS parent_id
    FROM provenance_index
    WHERE NOT ends_with(asset, '_dataset')
),
chain AS (
    SELECT DISTINCT record_id AS root_record_id, 0 AS depth, record_id, [record_id] AS path
    FROM provenance_index
    UNION ALL
    SELECT c.root_record_id, c.depth + 1, o.parent_id, list_append(c.path, o.parent_id)
    FROM chain c
    JOIN origins o ON o.record_id = c.record_id
    WHERE c.depth < 4 AND NOT list_contains(c.path, o.parent_id)
)
SELECT c.root_record_id, c.depth, i.record_id, i."group", i.asset, i.stage_order, i.shard, i.kept, i.reason,
       i.detail, i.parent_ids, i.models, i.run_id, i.code_version
FROM chain c
JOIN provenance_index i ON i.record_id = c.record_id
