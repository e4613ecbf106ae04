"""The refresh benchmark in a reduced form (tiny corpus, no from-scratch build), so it cannot rot
silently: the README's `python -m bench.run_all incremental` runs the same `measure`."""

from __future__ import annotations

import pytest

from bench.bench_incremental import GROUPS, measure

pytestmark = pytest.mark.slow


def test_a_landed_shard_flows_through_every_group_and_reaches_the_audit(tmp_path):
    m = measure(tmp_path, scratch=False)
    assert {"finevideo", "cinepile", "docmatix", "quality", "training"} == set(GROUPS)
    assert m.log[-1] == "automation: nothing more requested", m.log
    assert m.refresh.old_partition_steps == 0  # no old shard is recomputed
    assert not any(a.startswith(("mllm_", "scm_", "dpo_")) for a in m.refresh.ran)  # data never retrains
    ran = set(m.refresh.ran)
    assert {"raw_video_metadata", "documents", "curated_selection", "scene_questions", "docmatix_dataset",
            "cinepile_dataset", "provenance_index", "rejection_reasons"} <= ran, sorted(ran)
    assert m.refresh.calls > 0 and m.refresh.calls < m.full.calls
    # the sensors and automation alone brought the new shards' records to `make audit`
    assert m.indexed_new > 0
    assert m.index_warning is None
