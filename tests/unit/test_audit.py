"""The audit on hand-built warehouses: ids held twice are reported apart, rule re-evaluation is
never silent about what it could not do, and every screening asset's RuleSet is known to it."""

import duckdb
import polars as pl
import pytest
from pydantic import Field

from assets.kit.provenance import MODELS, PARENTS
from assets.kit.screening import Rule, RuleSet
from assets.quality.audit import RULESETS, audit, render, render_markdown, ruleset_class, stage_rules
from assets.quality.provenance import (
    INDEX_SCHEMA,
    RUN_SCHEMA,
    Stage,
    content_version,
    duplicated_ids,
    index_sql,
    with_runs_sql,
)


class WordRules(RuleSet):
    min_words: int = Field(default=50, description="words a row needs: strictly more")

    def rules(self) -> list[Rule]:
        return [Rule(reason="empty", column="has_text", op="is_true"),
                Rule(reason="word_count", column="word_count", op="gt", threshold=self.min_words)]


def _warehouse(rows: list[dict], index_rows: list[dict]):
    con = duckdb.connect()
    stage = pl.DataFrame(rows)  # noqa: F841 (read by DuckDB's replacement scan)
    con.execute("CREATE TABLE screen AS SELECT * FROM stage")
    index = pl.DataFrame(index_rows, schema={**INDEX_SCHEMA, **RUN_SCHEMA})  # noqa: F841
    con.execute("CREATE TABLE provenance_index AS SELECT * FROM index")
    return con


def _index_row(rid, shard, kept, reason=None, params='{"min_words":50}'):
    return {"record_id": rid, "asset": "screen", "group": "g", "stage_order": 1, "shard": shard, "kept": kept,
            "reason": reason, "detail": None, "parent_ids": [], "models": [], "run_id": f"run-{shard}",
            "code_version": "c", "data_version": "d", "rule_params": params, "materialized_at": 0.0}


def test_an_id_held_by_two_shards_is_reported_not_merged():
    con = _warehouse(
        [{"record_id": "doc:a", "shard": "s1", "has_text": True, "word_count": 80, "title": "first"},
         {"record_id": "doc:a", "shard": "s2", "has_text": True, "word_count": 10, "title": "second"}],
        [_index_row("doc:a", "s1", True), _index_row("doc:a", "s2", False, "word_count")])
    a = audit(con, "doc:a", {"screen": WordRules})
    assert a.held_twice == {"screen": ["s1", "s2"]}
    assert [(s.shard, s.kept) for s in a.stages] == [("s1", True), ("s2", False)]
    # each row shown whole: the second row's title is not hidden as "already seen"
    assert a.stages[0].new_values["title"] == "first" and a.stages[1].new_values["word_count"] == 10
    assert a.stages[1].rules[-1] == ("word_count", "FAIL", "10 (keep if word_count > 50)")
    text = "\n".join(render(a))
    assert "WARNING: record id doc:a is held by 2 rows of screen (shards s1, s2)" in text
    assert "**Warning:**" in render_markdown(a)
    held = duckdb.connect()
    held.register("held", pl.DataFrame([_index_row("doc:a", "s2", True), _index_row("doc:a", "s1", True),
                                        _index_row("doc:b", "s1", True)], schema={**INDEX_SCHEMA, **RUN_SCHEMA}))
    assert duplicated_ids(held, "held").rows() == [("screen", "doc:a", ["s1", "s2"])]


def test_rule_reevaluation_says_what_it_could_not_do():
    row = {"has_text": True, "word_count": 80}
    # no RuleSet known, but parameters recorded: said, not skipped silently
    rules, notes = stage_rules("other", row, '{"x":1}', {}, None, True)
    assert rules == [] and "no RuleSet is known for other" in notes[0]
    # an asset with neither rules nor parameters: nothing to say
    assert stage_rules("other", row, None, {}, None, True) == ([], [])
    # parameters that no longer fit the class
    rules, notes = stage_rules("screen", row, '{"min_words":50,"gone":1}', {"screen": WordRules}, None, True)
    assert rules == [] and "no longer fit WordRules" in notes[0]
    # no parameters recorded: today's defaults, and the audit says so
    rules, notes = stage_rules("screen", row, None, {"screen": WordRules}, None, True)
    assert [s for _, s, _ in rules] == ["pass", "pass"] and "current defaults" in notes[0]
    # a verdict the recorded rules do not reproduce is flagged
    _, notes = stage_rules("screen", row, '{"min_words":100}', {"screen": WordRules}, None, True)
    assert "disagrees with the stored verdict (kept)" in notes[0]
    # a class that cannot be imported
    rules, notes = stage_rules("screen", row, None, {"screen": "assets.nowhere:Rules"}, None, True)
    assert rules == [] and "cannot be loaded" in notes[0]


def test_index_skips_views_without_the_contract_and_says_why():
    con = duckdb.connect()
    con.execute("CREATE TABLE ok AS SELECT 'x:1' AS record_id, 's1' AS shard, [] :: VARCHAR[] AS parent_ids, "
                "[{'role': 'r', 'backend': 'b', 'model': 'm', 'task_version': 't', 'prompt_sha': 'p', "
                "'fingerprint': 'f'}] AS models")
    con.execute("CREATE TABLE no_models AS SELECT 'x:1' AS record_id, ['a'] AS parent_ids")
    con.execute("CREATE TABLE no_ids AS SELECT 1 AS n")
    con.execute("CREATE TABLE part AS SELECT * FROM (VALUES ('p:2', 's2'), ('p:1', 's1'), ('p:3', 's3')) t(record_id, shard)")
    con.execute("ALTER TABLE part ADD COLUMN parent_ids VARCHAR[] DEFAULT []")
    con.execute("ALTER TABLE part ADD COLUMN models VARCHAR[] DEFAULT NULL")
    sql, skipped = index_sql(con, [Stage("ok", "g", 1), Stage("no_models", "g", 2), Stage("no_ids", "g", 3),
                                   Stage("absent", "g", 4), Stage("part", "g", 5)])
    assert {s.asset: s.reason for s in skipped} == {
        "no_models": "no provenance contract: missing models",
        "no_ids": "no record_id column (not a dataset of records)",
        "absent": "no warehouse view (not materialized yet)",
    }
    con.register("runs", pl.DataFrame([
        {"asset": "ok", "shard": None, "run_id": "r1", "code_version": "c", "data_version": "d", "rule_params": None,
         "materialized_at": 1.0},
        {"asset": "part", "shard": "s1", "run_id": "r-s1", "code_version": "c", "data_version": "d1",
         "rule_params": '{"x":1}', "materialized_at": 2.0},
        {"asset": "part", "shard": None, "run_id": "r-whole", "code_version": "c", "data_version": "dw",
         "rule_params": None, "materialized_at": 3.0}]))
    index = con.sql(with_runs_sql(sql, "runs")).pl()
    assert index.schema["parent_ids"] == PARENTS and index.schema["models"] == MODELS
    assert index.row(3, named=True)["models"][0]["fingerprint"] == "f" and index["kept"].to_list() == [True] * 4
    # in record-id order; a shard with its own run takes it whole, the others the asset's run
    assert index.select("record_id", "run_id", "data_version", "rule_params").rows() == [
        ("p:1", "r-s1", "d1", '{"x":1}'), ("p:2", "r-whole", "dw", None), ("p:3", "r-whole", "dw", None),
        ("x:1", "r1", "d", None)]
    before = content_version(con, f"({with_runs_sql(sql, 'runs')})")
    assert before == content_version(con, f"({with_runs_sql(sql, 'runs')})")
    con.execute("UPDATE ok SET shard = 's9'")
    assert content_version(con, f"({with_runs_sql(sql, 'runs')})") != before


@pytest.mark.parametrize("asset", sorted(RULESETS))
def test_every_mapped_ruleset_imports(asset):
    cls = ruleset_class(asset, RULESETS)
    assert isinstance(cls, type) and issubclass(cls, RuleSet), cls
    cls().rules()  # the defaults build


def test_every_asset_with_rules_is_mapped_to_its_ruleset():
    """An asset declared with `kit_asset(rules=...)` says so in its description; the audit must
    know its RuleSet, or its verdicts could not be re-checked."""
    import importlib

    unmapped, wrong = [], []
    for group in ("finevideo", "cinepile", "docmatix", "training"):
        for a in importlib.import_module(f"assets.{group}.definitions").ASSETS:
            for key in a.keys:
                name, text = key.to_user_string(), a.specs_by_key[key].description or ""
                if "Rules (defaults):" not in text:
                    continue
                cls = ruleset_class(name, RULESETS)
                if cls is None:
                    unmapped.append(name)
                elif f"Rules (defaults): {cls().describe()}." not in text:
                    wrong.append(name)
    assert unmapped == [] and wrong == []


def test_a_parent_outside_the_index_is_named_not_dropped():
    row = _index_row("doc:b", "s1", True)
    row["parent_ids"] = ["sklearn_digits:7"]
    con = _warehouse([{"record_id": "doc:b", "shard": "s1", "has_text": True, "word_count": 80}], [row])
    a = audit(con, "doc:b", {"screen": WordRules})
    assert a.parents == [] and a.unindexed_parents == ["sklearn_digits:7"]
    assert "built from (not records of the index): sklearn_digits:7" in "\n".join(render(a))


def test_a_stage_row_is_read_from_its_shards_own_file(tmp_path):
    from assets.quality.audit import _stage_row
    from resources.warehouse import partition_file, view_sql

    folder = tmp_path / "screen"
    folder.mkdir()
    for shard, words in (("s1", 80), ("s'2", 10)):
        pl.DataFrame({"record_id": ["doc:a"], "shard": [shard], "word_count": [words]}).write_parquet(
            folder / f"{shard}.parquet")
    pl.DataFrame({"record_id": ["doc:a"], "shard": ["s1"], "n": [1]}).write_parquet(tmp_path / "fan_in.parquet")
    con = duckdb.connect()
    con.execute(view_sql("screen", f"{folder}/*.parquet"))
    con.execute(view_sql("fan_in", str(tmp_path / "fan_in.parquet")))
    assert partition_file(con, "screen", "s'2") == f"{folder}/s'2.parquet"
    assert partition_file(con, "fan_in", "s1") is None and partition_file(con, "absent", "s1") is None
    assert _stage_row(con, "screen", "doc:a", "s'2")["word_count"] == 10
    assert _stage_row(con, "screen", "doc:a", "s1")["word_count"] == 80
    (folder / "s1.parquet").rename(folder / "moved.parquet")  # no file of its own: the view still answers
    assert _stage_row(con, "screen", "doc:a", "s1")["word_count"] == 80
    assert _stage_row(con, "fan_in", "doc:a", "s1")["n"] == 1
