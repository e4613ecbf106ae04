"""Shards over their life (issue 17): landing order decides duplicates, a shard without output never
jams the release, and a withdrawn shard takes its records out of it, as the audit then says.

Three PDFA shards land in the order `z_first`, `a_later`, `m_killed` (so name order and landing order
disagree). `a_later` carries a byte-identical copy of one of `z_first`'s documents under another key.
The docmatix chain is materialized to `docmatix_dataset`; then `m_killed` loses its page images (what
a run killed before writing leaves) and `a_later` is deleted from the landing zone."""

from __future__ import annotations

import random
import shutil

import dagster as dg
import polars as pl
import pytest

from assets.docmatix.definitions import ASSETS, CHECKS
from assets.kit.partitions import document_shards
from assets.kit.shard_coverage import withdrawal
from corpus import documents as corpus_docs
from resources.deployment import build_resources
from scripts.materialize import materialize_graph
from sensors.landing import SHARD_SOURCES, build_landing_sensor
from tests.fakes.deployment import local_deployment

CHAIN = [dg.AssetKey(k) for k in ("documents", "page_images", "raw_qa", "filtered_qa", "qa_duplicates",
                                              "document_duplicates", "docmatix_dataset")]
RELEASE = dg.AssetKey("docmatix_dataset")
ORDER = ("z_first", "a_later", "m_killed")


def _release_meta(instance) -> dict:
    return instance.fetch_materializations(RELEASE, limit=1).records[0].asset_materialization.metadata


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory):
    root = tmp_path_factory.mktemp("lifecycle")
    landing = root / "landing" / "pdfa"
    rng = random.Random(3)
    for shard in ORDER:
        (landing / shard).mkdir(parents=True)
    corpus_docs.invoice(rng, landing / "z_first" / "0000001.pdf", None)
    corpus_docs.invoice(rng, landing / "z_first" / "0000002.pdf", None)
    shutil.copy(landing / "z_first" / "0000001.pdf", landing / "a_later" / "0000101.pdf")  # same bytes
    corpus_docs.invoice(rng, landing / "a_later" / "0000102.pdf", None)
    corpus_docs.invoice(rng, landing / "m_killed" / "0000201.pdf", None)
    with pytest.MonkeyPatch.context() as mp:
        local_deployment(mp, root / "data", root / "landing")
        defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS, resources=build_resources())
        with dg.instance_for_test() as instance:
            for shard in ORDER:  # one sensor tick each: the order they landed in
                instance.add_dynamic_partitions(document_shards.name, [shard])
            run = materialize_graph(defs, instance, selection=CHAIN)
            assert run.success, [r.error for r in run.runs if not r.success]
            yield root, defs, instance


def test_a_document_landed_twice_is_released_from_its_first_landing_not_the_first_name(lifecycle):
    root, _, _ = lifecycle
    release = pl.read_parquet(root / "data" / "docmatix_dataset.parquet")
    twin = pl.read_parquet(root / "data" / "documents" / "z_first.parquet").filter(pl.col("doc_key") == "0000001")
    released = release.filter(pl.col("source_key") == twin["source_key"][0])
    assert released["shard"].to_list() == ["z_first"]  # `a_later` sorts first by name but landed later
    assert set(release["shard"]) == set(ORDER)


def test_a_shard_without_output_is_left_out_and_named_and_the_rest_released(lifecycle):
    root, defs, instance = lifecycle
    (root / "data" / "page_images" / "m_killed.parquet").unlink()  # a run killed before it wrote
    run = materialize_graph(defs, instance, selection=[RELEASE])
    assert run.success, run.runs[-1].error
    release = pl.read_parquet(root / "data" / "docmatix_dataset.parquet")
    assert set(release["shard"]) == {"z_first", "a_later"}
    meta = _release_meta(instance)
    assert meta["shards_excluded"].value == 1
    assert meta["excluded_shards"].value["m_killed"].startswith("no_output: no output of page_images")


def test_a_withdrawn_shard_leaves_the_release_and_the_audit_says_so(lifecycle):
    root, defs, instance = lifecycle
    before = pl.read_parquet(root / "data" / "documents" / "a_later.parquet")
    gone_id = before.filter(pl.col("doc_key") == "0000102")["record_id"][0]
    landing = defs.resources["landing"]
    sensor = build_landing_sensor(SHARD_SOURCES[1], dg.AssetSelection.assets(*CHAIN[:4]))

    def tick(cursor):
        return sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": landing}))

    before = tick(None)  # the sensor's view before the deletion
    shutil.rmtree(root / "landing" / "pdfa" / "a_later")
    once = tick(before.cursor)
    assert not once.run_requests  # absent on one tick only: a listing hiccup withdraws nothing
    twice = tick(once.cursor)
    assert [(r.partition_key, r.tags.get("mmfoundry/withdrawn")) for r in twice.run_requests] == [("a_later", "1")]
    assert not tick(twice.cursor).run_requests  # withdrawn once, not on every tick

    job = defs.resolve_implicit_global_asset_job_def()
    res = job.execute_in_process(instance=instance, asset_selection=CHAIN[:4], partition_key="a_later")
    assert res.success  # no ConfigError: the shard's root materializes empty and says why
    assert pl.read_parquet(root / "data" / "documents" / "a_later.parquet").height == 0
    assert materialize_graph(defs, instance, selection=[RELEASE]).success
    release = pl.read_parquet(root / "data" / "docmatix_dataset.parquet")
    assert "a_later" not in set(release["shard"]) and gone_id not in set(release["document_id"])
    assert _release_meta(instance)["excluded_shards"].value["a_later"].startswith("withdrawn: pdfa shard 'a_later'")
    said = withdrawal(instance, gone_id)
    assert said and "'a_later', withdrawn since" in said
    assert withdrawal(instance, release["document_id"][0]) is None  # a released record's shard is fine
