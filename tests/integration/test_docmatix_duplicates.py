"""Duplicate documents landed in a later shard under other keys are found against the earlier shards'
stored signatures (the earlier shards are not signed again), and the release and its card leave them out."""

import shutil

import dagster as dg
import polars as pl
import pytest

from corpus.build import build_corpus
from resources.settings import load_settings
from resources.warehouse import query
from scripts.materialize import materialize_graph
from scripts.shards import register_landed_shards
from tests.integration.test_docmatix import build_definitions, env, group_keys

UPSTREAM = {"documents", "raw_qa", "filtered_qa", "qa_duplicates", "page_images", "document_duplicates"}
RELEASE = {"docmatix_dataset", "docmatix_dataset_card"}


def _pdf(path, lines: list[str]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for i, line in enumerate(lines):
        c.drawString(60, 780 - 16 * i, line)
    c.save()


@pytest.mark.slow
def test_a_later_shard_s_copies_are_found_against_the_stored_index(tmp_path, monkeypatch):
    env(monkeypatch, tmp_path)
    landing = tmp_path / "landing"
    build_corpus(landing, seed=0, size="tiny")
    shutil.rmtree(landing / "youtube_commons")
    text = ("quarterly maintenance report for the north plant covering pumps valves boilers and the cooling "
            "circuit with inspection dates findings and the repairs scheduled for the next quarter")
    words = text.split(" ")
    first = landing / "pdfa" / "shard-001"
    _pdf(first / "7000001.pdf", [" ".join(words[i:i + 8]) for i in range(0, len(words), 8)] * 3)
    defs = build_definitions()
    with dg.instance_for_test() as instance:
        register_landed_shards(defs, instance)
        assert materialize_graph(defs, instance, selection=group_keys(defs, UPSTREAM)).success
        before = query(load_settings().warehouse_path, "SELECT * FROM document_duplicates")
        assert before.height and before["kept"].all()  # the corpus holds no copies of different sources

        later = landing / "pdfa" / "shard-009"
        later.mkdir()
        resaved = (first / "7000001.pdf").read_bytes() + b"\n% saved again\n"  # other bytes, same pages
        (later / "9000001.pdf").write_bytes(resaved)
        edited = [" ".join(words[i:i + 8]) for i in range(0, len(words), 8)] * 3
        edited[1] = edited[1].replace("boilers", "heaters")  # one word of 81 changed, so other pages
        _pdf(later / "9000002.pdf", edited)
        register_landed_shards(defs, instance)
        assert materialize_graph(defs, instance, selection=group_keys(defs, UPSTREAM | RELEASE)).success
        record = instance.fetch_materializations(dg.AssetKey("document_duplicates"), limit=1).records[0]
        meta = record.asset_materialization.metadata
        wh = load_settings().warehouse_path
        after = query(wh, "SELECT record_id, reason, same_pages_as, duplicate_of, jaccard FROM document_duplicates")
        released = set(query(wh, "SELECT document_id FROM docmatix_dataset")["document_id"])
        card = query(wh, "SELECT markdown FROM docmatix_dataset_card")["markdown"][0]
    assert meta["shards_signed_now"].value == ["shard-009"]  # the earlier shards came from the stored state
    assert meta["reused_signatures"].value == before.height and meta["signed_now"].value == 2
    rows = {r["record_id"]: r for r in after.iter_rows(named=True)}
    assert rows["pdf:shard-009:9000001"]["reason"] == "duplicate_pages"
    assert rows["pdf:shard-009:9000001"]["same_pages_as"] == "pdf:shard-001:7000001"
    near = rows["pdf:shard-009:9000002"]
    assert near["reason"] == "near_duplicate_document" and near["duplicate_of"] == "pdf:shard-001:7000001"
    assert 0.5 <= near["jaccard"] < 1.0
    assert rows["pdf:shard-001:7000001"]["reason"] is None  # the first landed is the copy kept
    assert meta["pairs"].value == 3  # each copy with the original, and with each other
    assert set(after.filter(pl.col("reason").is_not_null())["record_id"]) == {
        "pdf:shard-009:9000001", "pdf:shard-009:9000002"}
    assert not released & {"pdf:shard-009:9000001", "pdf:shard-009:9000002"}
    assert "| document_duplicates | duplicate_pages | 9 | 1 |" in card
    assert "| document_duplicates | near_duplicate_document | 9 | 1 |" in card
