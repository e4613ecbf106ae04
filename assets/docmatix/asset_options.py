"""The `@dg.asset` options every docmatix asset shares: per document shard, or across all shards.
Each asset states its own `code_version`, which changes with that asset's logic alone."""

from assets.kit.partitions import document_shards

ACROSS_SHARDS = {"group_name": "docmatix", "owners": ["team:data"]}
PER_SHARD = {**ACROSS_SHARDS, "partitions_def": document_shards}
