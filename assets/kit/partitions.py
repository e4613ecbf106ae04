"""Partitions by shard, not by item (DESIGN principle 6): one key per landed source file/folder."""

import dagster as dg

FINGERPRINT_EXEMPT = "partition definitions name shards; they do not change rows"

video_shards = dg.DynamicPartitionsDefinition(name="video_shards")
document_shards = dg.DynamicPartitionsDefinition(name="document_shards")
