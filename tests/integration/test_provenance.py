"""The provenance index, the audit and the `audit` job on a tiny graph, materialized for real.

A partitioned screen (declarative rules, run with different parameters per shard), a model-built
fan-in whose rows declare their parents and models, a release, and a stage without the contract.
The same source landed in two shards is two records with a clean audit each; the audit of a
rejected row stops at the deciding rule; the audit re-evaluates rules with the parameters the
materialization recorded; the job renders the audit as Markdown in the run and in the media store.
"""

from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from pydantic import Field

from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import screen_check_results
from assets.kit.identity import record_id, record_id_expr, source_key_expr
from assets.kit.links import audit_run_config
from assets.kit.provenance import declare, model_entry, models_series
from assets.kit.screening import Rule, RuleSet, screen
from assets.quality import audit as audit_module
from assets.quality.audit import audit, render, render_markdown
from assets.quality.audit_job import audit_job, index_freshness
from assets.quality.provenance_assets import build_provenance_index, stages_of
from resources.deployment import build_resources

shards = dg.StaticPartitionsDefinition(["s1", "s2"])
# (video id, language, words, has title); v1 lands in both shards
SOURCE = {
    "s1": [("v1", "en", 120, True), ("v2", "fr", 300, True)],
    "s2": [("v1", "en", 120, True), ("v3", "en", 12, True)],
}


class ShardRules(RuleSet):
    language: str = Field(default="en", description="language a video needs")
    min_words: int = Field(default=50, description="transcript words a video needs: strictly more")

    def rules(self) -> list[Rule]:
        return [Rule(reason="language", column="language", op="eq", threshold=self.language),
                Rule(reason="word_count", column="word_count", op="gt", threshold=self.min_words),
                Rule(reason="title", column="has_title", op="is_true")]


ScreenConfig = rule_config(ShardRules, "ScreenConfig")


@kit_asset(group="finevideo", partitions_def=shards, rules=ShardRules(), screen=True, description="a screen")
def screen_stage(context: dg.AssetExecutionContext, config: ScreenConfig):
    rules = rules_from(config, ShardRules)
    shard = context.partition_key
    raw = pl.DataFrame([{"video_id": v, "shard": shard, "language": lang, "word_count": w, "has_title": t,
                         "source_row": i} for i, (v, lang, w, t) in enumerate(SOURCE[shard])])
    df = raw.with_columns(record_id_expr("video", "shard", "video_id").alias("record_id"),
                          source_key_expr("yt", "video_id").alias("source_key"))
    df = declare(screen(df, rules.rules()))
    yield versioned(df, {"dagster/row_count": df.height}, rules=rules)
    yield from screen_check_results(df, raw.height)


@kit_asset(group="cinepile", description="questions", ins={"screen_stage": dg.AssetIn()})
def questions(screen_stage: dict[str, pl.DataFrame]) -> dg.Output:
    kept = pl.concat(screen_stage.values()).filter(pl.col("kept")).sort("record_id")
    df = kept.select(record_id_expr("question", "record_id", pl.lit(0)).alias("record_id"),
                     pl.col("record_id").alias("video_record_id"), pl.lit("what is shown?").alias("question"))
    entries = [[model_entry("question", "offline", "rules", "question@2", "abc123", "fp01")]] * df.height
    return versioned(declare(df, parents=["video_record_id"], models=[models_series(entries)]))


@kit_asset(group="cinepile", description="the release")
def cinepile_dataset(questions: pl.DataFrame) -> dg.Output:
    return versioned(declare(questions.select("record_id", "question")))


@kit_asset(group="cinepile", description="rows with ids but no provenance contract")
def legacy_table() -> dg.Output:
    return versioned(pl.DataFrame({"record_id": ["legacy:1"], "value": [1]}))


GRAPH = [screen_stage, questions, cinepile_dataset, legacy_table]
RULESETS = {"screen_stage": ShardRules}


@pytest.fixture
def built(mmf_env, monkeypatch):
    """The graph materialized (shard s2 with min_words=10), then the index; yields (instance, resources)."""
    monkeypatch.setitem(audit_module.RULESETS, "screen_stage", ShardRules)
    index_asset = build_provenance_index(GRAPH)
    resources = build_resources(mmf_env)
    with dg.instance_for_test() as instance:
        for key, params in (("s1", {}), ("s2", {"min_words": 10})):
            dg.materialize([screen_stage], partition_key=key, instance=instance, resources=resources,
                           run_config={"ops": {"screen_stage": {"config": params}}})
        result = dg.materialize([*GRAPH, index_asset], selection=["questions", "cinepile_dataset", "legacy_table",
                                                                  "provenance_index"],
                                instance=instance, resources=resources)
        yield instance, resources, mmf_env, result


def test_stages_in_dependency_order():
    assert [s.asset for s in stages_of([cinepile_dataset, legacy_table, questions, screen_stage])][-2:] == [
        "questions", "cinepile_dataset"]


def test_index_reads_the_contract_and_each_materialization(built):
    instance, _, env, result = built
    mat = result.asset_materializations_for_node("provenance_index")[0]
    assert mat.metadata["stages_skipped"].value == {
        "legacy_table": "no provenance contract: missing parent_ids, models"}
    assert mat.metadata["ids_held_twice"].value == 0
    assert "screen_stage" in mat.metadata["covered_assets"].value
    assert mat.metadata["example_audit"].value.startswith("/locations/__repository__@mmfoundry/jobs/audit/")
    runs = {r.run_id for r in instance.get_runs()}
    with duckdb.connect(env.warehouse_path, read_only=True) as con:
        index = con.sql("SELECT * FROM provenance_index").pl()
    # 4 screened rows, 3 questions (v1 from each shard, v3 kept under s2's min_words=10), 3 released
    assert index.group_by("asset").len().sort("asset").rows() == [
        ("cinepile_dataset", 3), ("questions", 3), ("screen_stage", 4)]
    assert set(index["run_id"]) <= runs and index["run_id"].null_count() == 0
    assert index["data_version"].null_count() == 0 and index["materialized_at"].null_count() == 0
    params = dict(index.filter(pl.col("asset") == "screen_stage").select("shard", "rule_params").unique().rows())
    assert params == {"s1": '{"language":"en","min_words":50}', "s2": '{"language":"en","min_words":10}'}
    q1 = record_id("question", record_id("video", "s1", "v1"), 0)
    q = index.filter((pl.col("record_id") == q1) & (pl.col("asset") == "questions")).row(0, named=True)
    assert q["parent_ids"] == ["video:s1:v1"]
    assert q["models"] == [{"role": "question", "backend": "offline", "model": "rules", "task_version": "question@2",
                            "prompt_sha": "abc123", "fingerprint": "fp01"}]


def test_same_source_in_two_shards_is_two_records_with_clean_audits(built):
    _, _, env, _ = built
    with duckdb.connect(env.warehouse_path, read_only=True) as con:
        assert con.sql("SELECT count(DISTINCT record_id), count(DISTINCT source_key) FROM screen_stage "
                       "WHERE video_id = 'v1'").fetchall() == [(2, 1)]
        for shard in ("s1", "s2"):
            a = audit(con, record_id("video", shard, "v1"))
            assert a.held_twice == {} and a.warnings == []
            assert [(s.asset, s.shard) for s in a.stages] == [("screen_stage", shard)]
            assert a.derived_releases == {"cinepile_dataset": 1}
            assert [st for _, st, _ in a.stages[0].rules] == ["pass", "pass", "pass"]
            assert a.stages[0].notes == []
            assert "WARNING" not in "\n".join(render(a))
        released = audit(con, record_id("question", "video:s2:v1", 0))
        assert released.releases == ["cinepile_dataset"]
        assert [p.record_id for p in released.parents] == ["video:s2:v1"]
        assert released.parents[0].stages[0].new_values["source_row"] == 0
        text = "\n".join(render(released))
        assert "model (question): backend=offline model=rules task_version=question@2 prompt_sha=abc123" in text
        assert f"code_version {screen_stage.code_versions_by_key[dg.AssetKey('screen_stage')]}" in text


def test_audit_of_a_rejected_row_stops_at_the_deciding_rule(built):
    _, _, env, _ = built
    with duckdb.connect(env.warehouse_path, read_only=True) as con:
        rejected = audit(con, "video:s1:v2")
        assert rejected.verdict == "rejected at screen_stage: language (fr (keep if language == en))"
        assert rejected.stages[0].rules == [
            ("language", "FAIL", "fr (keep if language == en)"),
            ("word_count", "not evaluated", "keep if word_count > 50"),
            ("title", "not evaluated", "keep if has_title is True"),
        ]
        text = "\n".join(render(rejected))
        assert "rule language: fr (keep if language == en) -> FAIL" in text
        assert "rule word_count: keep if word_count > 50 -> not evaluated" in text
        assert rejected.releases == [] and rejected.children == []
        # s2 ran with min_words=10: its verdicts are re-checked against that, not today's default
        kept_low = audit(con, "video:s2:v3").stages[0]
        assert kept_low.kept and ("word_count", "pass", "12 (keep if word_count > 10)") in kept_low.rules
        assert kept_low.notes == []
        assert audit(con, "nope") is None
        md = render_markdown(rejected)
        assert "**FAIL**" in md and "_not evaluated_" in md


def test_record_audit_sql_view_walks_the_chain(built):
    _, _, env, _ = built
    from assets.quality.sql_parse import parse_model

    view = parse_model("dbt_like_sql/record_audit.sql").sql
    q1 = record_id("question", "video:s1:v1", 0)
    with duckdb.connect(env.warehouse_path, read_only=True) as con:
        chain = con.sql(f"SELECT depth, record_id, asset FROM ({view}) WHERE root_record_id = ? "
                        "ORDER BY depth, stage_order", params=[q1]).fetchall()
    assert chain == [(0, q1, "questions"), (0, q1, "cinepile_dataset"), (1, "video:s1:v1", "screen_stage")]


def test_audit_job_renders_markdown_into_the_run_and_the_media_store(built):
    instance, resources, _, _ = built
    result = audit_job.execute_in_process(run_config=audit_run_config("video:s1:v2"), instance=instance,
                                             resources={"duckdb": resources["duckdb"], "media": resources["media"]})
    assert result.success
    (output,) = [e for e in result.all_node_events if e.is_successful_output]
    meta = output.step_output_data.metadata
    md = meta["audit"].value
    assert md.startswith("# Audit of `video:s1:v2`")
    assert "rule `language`: `fr (keep if language == en)` → **FAIL**" in md
    assert "rule `title`: `keep if has_title is True` → _not evaluated_" in md
    assert meta["index_is_current"].value is True
    path = Path(meta["audit_uri"].value)
    assert isinstance(meta["audit_uri"], dg.PathMetadataValue) and path.read_text() == md
    import hashlib

    assert meta["audit_sha256"].value == hashlib.sha256(md.encode()).hexdigest()
    assert meta["audit_url"].value.startswith("file://")

    missing = audit_job.execute_in_process(run_config=audit_run_config("video:s9"), instance=instance,
                                              resources={"duckdb": resources["duckdb"], "media": resources["media"]},
                                              raise_on_error=False)
    assert not missing.success


def test_index_older_than_a_covered_asset_is_reported(built):
    instance, resources, _, _ = built
    assert index_freshness(instance).warning() is None
    dg.materialize([screen_stage], partition_key="s1", instance=instance, resources=resources)
    fresh = index_freshness(instance)
    assert [a for a, _ in fresh.newer] == ["screen_stage"]
    assert "older than the newest materialization of 1 asset(s) it covers: screen_stage" in fresh.warning()
    with dg.instance_for_test() as empty:
        assert "no materialization of provenance_index" in index_freshness(empty).warning()


def test_make_audit_says_when_the_index_is_stale(built, tmp_path, capsys):
    from scripts.audit import freshness_warning, main

    instance, resources, env, _ = built
    with duckdb.connect(env.warehouse_path, read_only=True) as con:
        assert "DAGSTER_HOME is not set" in freshness_warning(con, {})
        assert "no Dagster instance" in freshness_warning(con, {"DAGSTER_HOME": str(tmp_path / "absent")})
    home = tmp_path / "home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as persistent:
        index_asset = build_provenance_index(GRAPH)
        for key in ("s1", "s2"):
            dg.materialize([screen_stage], partition_key=key, instance=persistent, resources=resources)
        dg.materialize([*GRAPH, index_asset], selection=["questions", "cinepile_dataset", "legacy_table",
                                                         "provenance_index"], instance=persistent, resources=resources)
        dg.materialize([screen_stage], partition_key="s2", instance=persistent, resources=resources)
    with duckdb.connect(env.warehouse_path, read_only=True) as con:
        line = freshness_warning(con, {"DAGSTER_HOME": str(home)})
    assert line.startswith("audit: WARNING: the provenance index") and "screen_stage" in line
    assert main(["video:s1:v1", "--warehouse", env.warehouse_path]) == 0
    assert "record video:s1:v1: kept" in capsys.readouterr().out


def test_latest_runs_are_the_latest_per_shard_in_two_queries_per_asset():
    """Batched lookups (issue 22) give what one query per (asset, shard) gave: each shard's latest
    materialization, and for rows of an unpartitioned asset (or a shard never materialized on its
    own) the asset's latest."""
    from assets.quality.provenance_assets import latest_runs

    with dg.instance_for_test() as instance:
        for version in ("v1", "v2"):
            for shard in ("s1", "s2", "s3"):
                instance.report_runless_asset_event(dg.AssetMaterialization(
                    "per_shard", partition=shard, tags={"dagster/data_version": f"{shard}-{version}"}))
            instance.report_runless_asset_event(dg.AssetMaterialization(
                "fan_in", tags={"dagster/data_version": f"all-{version}"}))
        index = pl.DataFrame({"asset": ["per_shard"] * 3 + ["fan_in"] * 2,
                              "shard": ["s1", "s2", "s3", "s1", None]})
        runs = latest_runs(instance, index).sort("asset", "shard", nulls_last=True)
    assert runs.select("asset", "shard", "data_version").rows() == [
        ("fan_in", None, "all-v2"), ("per_shard", "s1", "s1-v2"), ("per_shard", "s2", "s2-v2"),
        ("per_shard", "s3", "s3-v2")]


def test_children_and_releases_read_from_the_edge_table_as_from_the_scan(built):
    """`provenance_edges` (parent-id order) answers the audit's children and derived releases as
    the scan of every `parent_ids` list did; without it the audit still scans."""
    from assets.quality.provenance_assets import provenance_edges

    instance, resources, env, _ = built
    ids = [record_id("video", "s1", "v1"), record_id("video", "s2", "v1"), "video:s1:v2"]

    def children_and_releases() -> list:
        with duckdb.connect(env.warehouse_path, read_only=True) as con:
            return [(a.children, a.derived_releases) for a in (audit(con, rid) for rid in ids)]

    scanned = children_and_releases()
    index_asset = build_provenance_index(GRAPH)
    dg.materialize([*GRAPH, index_asset, provenance_edges], selection=["provenance_edges"], instance=instance,
                   resources=resources)
    with duckdb.connect(env.warehouse_path, read_only=True) as con:
        edges = con.sql("SELECT parent_id, record_id FROM provenance_edges").fetchall()
    assert ("video:s1:v1", record_id("question", "video:s1:v1", 0)) in edges
    assert [p for p, _ in edges] == sorted(p for p, _ in edges)  # stored in parent-id order
    assert children_and_releases() == scanned and scanned[0][0]  # the same answers, and not empty


def _index_rows(env) -> list[tuple]:
    with duckdb.connect(env.warehouse_path, read_only=True) as con:
        return sorted(con.sql("SELECT * EXCLUDE (materialized_at) FROM provenance_index").fetchall(), key=str)


def test_a_refresh_rebuilds_only_the_segments_whose_inputs_changed(built):
    """Issue 22: one changed shard rebuilds that shard's segment; every other segment is kept as it
    was, and the store holds what a build from nothing holds (same rows, same data version)."""
    import shutil

    instance, resources, env, result = built
    index_asset = build_provenance_index(GRAPH)
    first = result.asset_materializations_for_node("provenance_index")[0].metadata
    assert (first["segments"].value, first["segments_rebuilt"].value) == (5, 5)  # s1, s2, three fan-ins
    dg.materialize([screen_stage], partition_key="s2", instance=instance, resources=resources,
                   run_config={"ops": {"screen_stage": {"config": {"min_words": 200}}}})

    def index() -> dict:
        run = dg.materialize([*GRAPH, index_asset], selection=["provenance_index"], instance=instance,
                             resources=resources)
        return run.asset_materializations_for_node("provenance_index")[0]

    again = index()
    assert (again.metadata["segments_rebuilt"].value, again.metadata["segments_reused"].value) == (1, 4)
    assert again.metadata["rows_rebuilt"].value == 2  # shard s2's two screened rows
    incremental = _index_rows(env)
    assert ("video:s2:v1", "screen_stage") in {(r[0], r[1]) for r in incremental}
    assert [r for r in incremental if r[0] == "video:s2:v1" and r[1] == "screen_stage"][0][6] == "word_count"
    assert len(list((Path(env.data) / "provenance_index").glob("*.parquet"))) == 5  # the old s2 file is gone
    shutil.rmtree(Path(env.data) / "provenance_index")
    fresh = index()
    assert fresh.metadata["segments_rebuilt"].value == 5
    assert _index_rows(env) == incremental
    assert fresh.tags["dagster/data_version"] == again.tags["dagster/data_version"]


def test_a_segment_whose_ids_do_not_name_its_shard_is_read_by_every_lookup(tmp_path):
    """Routing by the shard an id names is checked, never assumed: ids that do not name their shard
    mark the segment unroutable, and every lookup then reads it."""
    from fsspec.implementations.local import LocalFileSystem

    from assets.quality.index_store import build_index_segment, plan_sources, routed_files
    from assets.quality.provenance import RUN_SCHEMA, Stage

    for shard, ids in (("s1", ["video:s1:a", "video:s1:b"]), ("s2", ["other:x"])):
        (tmp_path / "screen").mkdir(exist_ok=True)
        declare(pl.DataFrame({"record_id": ids, "shard": [shard] * len(ids)})).write_parquet(
            tmp_path / "screen" / f"{shard}.parquet")
    plan = plan_sources(LocalFileSystem(), str(tmp_path), [Stage("screen", "g", 1), Stage("absent", "g", 2)])
    assert sorted(plan.segments) == ["shard=s1", "shard=s2"] and plan.unstored == {
        "absent": "no warehouse view (not materialized yet)"}
    manifest = {"segments": {}}
    with duckdb.connect() as con:
        for name, sources in plan.segments.items():
            uri = str(tmp_path / f"{name}.parquet")
            facts = build_index_segment(con, sources, plan.shards[name], uri, lambda p: pl.DataFrame(schema=RUN_SCHEMA))
            manifest["segments"][name] = {"file": f"{name}.parquet", "shard": plan.shards[name], **facts}
    assert manifest["segments"]["shard=s1"]["routable"] and not manifest["segments"]["shard=s2"]["routable"]
    assert manifest["segments"]["shard=s1"]["without_run"] == 2
    assert routed_files(manifest, "f", ["video:s1:b"]) == ["f/shard=s1.parquet", "f/shard=s2.parquet"]
    assert routed_files(manifest, "f", ["video:s9:b"]) == ["f/shard=s2.parquet"]
    assert routed_files(manifest, "f", ["scene:(video:s1:a):3"]) == ["f/shard=s1.parquet", "f/shard=s2.parquet"]
