"""The provenance index and the audit on a tiny three-stage graph, materialized for real.

A partitioned screen (the language screen's real rules), a model-labelled fan-in whose rows name
their parents, and a release: the audit of a released record must reach its source row, show each
rule's measured value and threshold, the model provenance, and the run id and code version; the
audit of a rejected record must say where and why.
"""

import dagster as dg
import duckdb
import polars as pl

from assets.finevideo.metadata_rules import language_rules
from assets.kit.screening import screen
from assets.quality.audit import audit, render
from assets.quality.provenance_assets import build_provenance_index, stages_of
from resources.deployment import build_resources

shards = dg.StaticPartitionsDefinition(["s1", "s2"])
SOURCE = {
    "s1": [("v1", "en", "en", 120), ("v2", "fr", "en", 300)],
    "s2": [("v3", "en", "en", 12), ("v4", "en", "en", 80)],
}


@dg.asset(partitions_def=shards, group_name="finevideo", code_version="7")
def language_screen(context: dg.AssetExecutionContext) -> pl.DataFrame:
    rows = SOURCE[context.partition_key]
    df = pl.DataFrame(
        [{"record_id": f"yt:{v}", "video_id": v, "shard": context.partition_key, "original_language": o,
          "transcription_language": t, "word_count": w, "source_file": f"{context.partition_key}.parquet",
          "source_row": i, "license": "CC-BY"} for i, (v, o, t, w) in enumerate(rows)])
    return screen(df, language_rules())


@dg.asset(group_name="cinepile", code_version="3", ins={"language_screen": dg.AssetIn()})
def questions(language_screen: dict[str, pl.DataFrame]) -> pl.DataFrame:
    kept = pl.concat(language_screen.values()).filter(pl.col("kept"))
    return pl.DataFrame([{"record_id": f"q:{r['video_id']}", "video_record_id": r["record_id"], "kept": True,
                          "reason": None, "backend": "offline", "model": "rules", "task_version": "2",
                          "prompt_sha": "abc123"} for r in kept.to_dicts()])


@dg.asset(group_name="cinepile", code_version="1")
def cinepile_dataset(questions: pl.DataFrame) -> pl.DataFrame:
    return questions.select("record_id", pl.col("video_record_id").alias("parent_id"))


def test_index_and_audit_of_a_released_and_a_rejected_record(mmf_env):
    index_asset = build_provenance_index([language_screen, questions, cinepile_dataset])
    assert [s.asset for s in stages_of([cinepile_dataset, questions, language_screen])] == [
        "language_screen", "questions", "cinepile_dataset"]
    resources = build_resources(mmf_env)
    with dg.instance_for_test() as instance:
        for key in shards.get_partition_keys():
            dg.materialize([language_screen], partition_key=key, instance=instance, resources=resources)
        dg.materialize([language_screen, questions, cinepile_dataset, index_asset],
                       selection=["questions", "cinepile_dataset", "provenance_index"],
                       instance=instance, resources=resources)
        runs = {r.run_id for r in instance.get_runs()}

    with duckdb.connect(mmf_env.warehouse_path, read_only=True) as con:
        index = con.sql("SELECT * FROM provenance_index").pl()
        # 4 screened rows + 2 questions (v1, v4 pass) + 2 release rows
        assert index.group_by("asset").len().sort("asset").rows() == [
            ("cinepile_dataset", 2), ("language_screen", 4), ("questions", 2)]
        assert set(index["run_id"]) <= runs and index["run_id"].null_count() == 0
        assert dict(index.select("asset", "code_version").unique().rows()) == {
            "language_screen": "7", "questions": "3", "cinepile_dataset": "1"}
        q = index.filter(pl.col("asset") == "questions").sort("record_id").row(0, named=True)
        assert q["parent_ids"] == ["yt:v1"]
        assert q["models"] == [{"role": "model", "backend": "offline", "model": "rules", "task_version": "2",
                                "prompt_sha": "abc123"}]

        released = audit(con, "q:v1")
        text = "\n".join(render(released))
        assert released.releases == ["cinepile_dataset"]
        assert [s.asset for s in released.stages] == ["questions", "cinepile_dataset"]
        source = released.parents[0]
        assert source.record_id == "yt:v1" and source.stages[0].new_values["source_row"] == 0
        assert source.derived_releases == {"cinepile_dataset": 1} and source.releases == []
        assert ("word_count", True, "120 (keep if > 50)") in source.stages[0].rules
        assert "backend=offline model=rules task_version=2 prompt_sha=abc123" in text
        assert "code_version 7" in text and "released in: cinepile_dataset" in text

        rejected = audit(con, "yt:v3")
        assert rejected.verdict == "rejected at language_screen: word_count (12 (keep if > 50))"
        assert rejected.releases == [] and rejected.children == []
        assert ("original_language", False, "fr (keep if == 'en')") in audit(con, "yt:v2").stages[0].rules
        assert audit(con, "nope") is None

        from assets.quality.sql_parse import parse_model

        view = parse_model("dbt_like_sql/record_audit.sql").sql
        chain = con.sql(f"SELECT depth, record_id, asset FROM ({view}) WHERE root_record_id = 'q:v1' "
                        "ORDER BY depth, stage_order").fetchall()
        assert chain == [(0, "q:v1", "questions"), (0, "q:v1", "cinepile_dataset"), (1, "yt:v1", "language_screen")]
