"""A record's whole chain, read from the provenance index and the stages' own rows.

For each stage a record passed through, the audit shows the verdict, what that stage measured or
added (the columns whose values first appear there), each screening rule re-evaluated on the
stored row with the parameters that materialization recorded (`rule_params`), stopping at the
deciding rule as the screen did, the models behind model-derived fields (the row's `models`), and
the Dagster run, code version and data version. Parents (`parent_ids` of the record's first stage)
are audited in turn, and the records built from this one (a release row listing it, a question from
its video) are listed, so both "where did this come from" and "where did it go" are answered.

Record ids are unique per landed row, so one id is one record. If the index still holds an id twice
in one asset (two shards minting the same id), the audit says so and lists the rows apart rather
than merging two records into one chain.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from assets.kit.links import audit_launchpad_url, markdown_link
from assets.kit.screening import NOT_EVALUATED, RuleSet, evaluate

MAX_SHOWN_CHARS = 100
MAX_RULE_CHARS = 200
MAX_DEPTH = 3
UNWALKED = f"parents not expanded here (shown above, or deeper than {MAX_DEPTH} generations)"
DESCENDANT_DEPTH = 4  # how many generations "released via" follows records built from a record
DESCENDANTS_MAX = 5000
CHILDREN_SHOWN = 3
# the verdict and the contract are shown on their own lines, not among a stage's values
NOT_VALUES = {"record_id", "kept", "reason", "reasons", "detail", "shard", "parent_ids", "models"}

# the RuleSet each screening asset runs (`kit_asset(rules=...)`), imported only when audited
RULESETS: dict[str, str] = {
    "video_duplicates": "assets.finevideo.video_duplicates:VideoDuplicateRules",
    "document_duplicates": "assets.docmatix.duplicate_assets:DocumentDuplicateRules",
    "qa_duplicates": "assets.docmatix.duplicate_assets:QADuplicateRules",
    "question_duplicates": "assets.cinepile.duplicate_assets:QuestionDuplicateRules",
    "language_screen": "assets.finevideo.metadata_rules:LanguageRules",
    "video_files": "assets.finevideo.video_files:VideoFileRules",
    "word_density_screen": "assets.finevideo.metadata_rules:WordDensityRules",
    "dynamism_screen": "assets.finevideo.freezes:DynamismRules",
    "taxonomy_labels": "assets.finevideo.labelling:LabelRules",
    "video_annotations": "assets.finevideo.annotation_rules:AnnotationRules",
    "documents": "assets.docmatix.reading:DocumentRules",
    "filtered_qa": "assets.docmatix.qa_filters:QAFilterRules",
    "page_images": "assets.docmatix.rendering:RenderRules",
    "question_bank": "assets.cinepile.bank:BankRules",
}


@dataclass
class StageAudit:
    asset: str
    group: str
    stage_order: int
    shard: str | None
    kept: bool
    reason: str | None
    detail: str | None
    run_id: str | None
    code_version: str | None
    models: list[dict[str, Any]]
    data_version: str | None = None
    materialized_at: float | None = None
    new_values: dict[str, Any] = field(default_factory=dict)
    rules: list[tuple[str, str, str]] = field(default_factory=list)  # (rule, pass|FAIL|not evaluated, text)
    notes: list[str] = field(default_factory=list)


@dataclass
class RecordAudit:
    record_id: str
    stages: list[StageAudit]
    parents: list[RecordAudit]
    children: list[tuple[str, str]]  # (asset, record_id) built from this record
    held_twice: dict[str, list[str | None]] = field(default_factory=dict)  # asset -> shards holding the id
    # release assets holding records built from this one (directly or through later records), with how many
    derived_releases: dict[str, int] = field(default_factory=dict)
    # parents that are no record of the index (an external source such as a dataset's item id)
    unindexed_parents: list[str] = field(default_factory=list)
    parent_ids: list[str] = field(default_factory=list)  # every parent of its first stage, walked or not

    @property
    def releases(self) -> list[str]:
        """Release assets (`*_dataset`) holding this record itself."""
        return sorted({s.asset for s in self.stages if is_release(s.asset)})

    @property
    def verdict(self) -> str:
        rejected = [s for s in self.stages if not s.kept]
        if rejected:
            s = rejected[0]
            return f"rejected at {s.asset}: {s.reason} ({s.detail})"
        return f"kept through {len(self.stages)} stage(s), last {self.stages[-1].asset}" if self.stages else "unknown"

    @property
    def warnings(self) -> list[str]:
        return [f"record id {self.record_id} is held by {len(shards)} rows of {asset} (shards "
                f"{', '.join(str(s) for s in shards)}): two records share one id; their rows are listed "
                "apart, not merged" for asset, shards in self.held_twice.items()]


def is_release(asset: str) -> bool:
    return asset.endswith("_dataset")


def shown(value: Any) -> Any:
    """A value as an audit line can show it: long text and lists cut, binary left out."""
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, list):
        return [shown(v) for v in value[:8]] + ([f"... {len(value) - 8} more"] if len(value) > 8 else [])
    if isinstance(value, dict):
        value = str(value)
    if isinstance(value, str):
        flat = " ".join(value.split())
        return flat[:MAX_SHOWN_CHARS] + f"... ({len(value)} chars)" if len(flat) > MAX_SHOWN_CHARS else flat
    return value


def _cut(text: str, n: int = MAX_RULE_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def ruleset_class(asset: str, rulesets: Mapping[str, str | type[RuleSet]]) -> type[RuleSet] | str | None:
    """The RuleSet class of a screening asset, None for an asset with no rules, or why it failed."""
    ref = rulesets.get(asset)
    if ref is None or isinstance(ref, type):
        return ref
    module, _, name = ref.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        return f"the rules of {asset} ({ref}) cannot be loaded: {type(e).__name__}: {e}"
    return cls if isinstance(cls, type) and issubclass(cls, RuleSet) else f"{ref} is not a RuleSet"


def stage_rules(asset: str, row: dict[str, Any] | None, rule_params: str | None,
                rulesets: Mapping[str, str | type[RuleSet]], stored_reason: str | None,
                kept: bool) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The stage's rules re-run on its stored row with the recorded parameters, and notes on
    anything that keeps the re-evaluation from being the screen's own (never silent)."""
    cls = ruleset_class(asset, rulesets)
    params = json.loads(rule_params) if rule_params else None
    if cls is None:
        return [], ([f"rule parameters recorded ({rule_params}) but no RuleSet is known for {asset}: "
                     "rules not re-evaluated"] if params is not None else [])
    if isinstance(cls, str):
        return [], [cls]
    if row is None:
        return [], [f"the stored row of {asset} was not found: rules not re-evaluated"]
    notes = []
    if params is None:
        notes.append("this materialization recorded no rule parameters: re-evaluated with the current defaults")
        params = {}
    try:
        rules = cls(**params).rules()
    except (ValueError, TypeError) as e:
        return [], [f"the recorded rule parameters no longer fit {cls.__name__} ({_cut(str(e), 160)}): "
                    "rules not re-evaluated"]
    results = [(r, status, _cut(text)) for r, status, text in evaluate(row, rules)]
    failed = [r for r, status, _ in results if status == "FAIL"]
    if (failed[0] if failed else None) != (None if kept else stored_reason):
        notes.append(f"re-evaluation disagrees with the stored verdict ({'kept' if kept else stored_reason}); "
                     "the row was judged by other rules or other data")
    return results, notes


def _stage_row(con, asset: str, record_id: str, shard: str | None) -> dict[str, Any] | None:
    """The record's row of one stage: from its shard's own file where the stage is stored per shard
    (the view over every shard's file cost 4 s an audit at 2,000 shards), else from the view."""
    import duckdb

    # here, not at the top: the warehouse resource imports Dagster, and this module stays pure
    from resources.warehouse import partition_file

    cols = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [asset]).fetchall()}
    by_shard = shard is not None and "shard" in cols
    where = "record_id = ?" + (" AND shard = ?" if by_shard else "")
    params = [record_id, *([shard] if by_shard else [])]
    own = partition_file(con, asset, shard) if shard is not None else None
    if own is not None:
        try:
            rows = con.sql(f"SELECT * FROM read_parquet(?) WHERE {where} LIMIT 1", params=[own, *params]).pl()
            if rows.height:
                return rows.to_dicts()[0]
        except duckdb.IOException:  # no such file (an unpartitioned stage's rows name their shard too)
            pass
    rows = con.sql(f'SELECT * FROM "{asset}" WHERE {where} LIMIT 1', params=params).pl().to_dicts()
    return rows[0] if rows else None


def audit(con, record_id: str, rulesets: Mapping[str, str | type[RuleSet]] | None = None, depth: int = 0,
          seen: set[str] | None = None) -> RecordAudit | None:
    """The audit of one record (None when the index does not know it)."""
    rulesets = RULESETS if rulesets is None else rulesets
    seen = set() if seen is None else seen
    seen.add(record_id)
    index = con.sql(f"SELECT * FROM {_store(con, 'provenance_index', [record_id])} WHERE record_id = ? "
                    "ORDER BY stage_order, asset, shard NULLS FIRST", params=[record_id]).pl()
    if index.height == 0:
        return None
    counts = index.group_by("asset").agg(pl.col("shard"), pl.len()).filter(pl.col("len") > 1)
    held_twice = {a: list(s) for a, s, _ in counts.sort("asset").iter_rows()}
    stages, known, parent_ids = [], {}, []
    first_asset = index["asset"][0]
    for r in index.to_dicts():
        row = _stage_row(con, r["asset"], record_id, r["shard"])
        values = {k: v for k, v in (row or {}).items() if k not in NOT_VALUES}
        if held_twice:  # two records under one id: every row shown whole, nothing diffed across them
            new = {k: shown(v) for k, v in values.items() if v is not None}
        else:
            new = {k: shown(v) for k, v in values.items() if v is not None and known.get(k) != v}
            known.update(values)
        rules, notes = stage_rules(r["asset"], row, r.get("rule_params"), rulesets, r["reason"], r["kept"])
        stages.append(StageAudit(
            r["asset"], r["group"], r["stage_order"], r["shard"], r["kept"], r["reason"], r["detail"],
            r.get("run_id"), r.get("code_version"), r["models"] or [], r.get("data_version"),
            r.get("materialized_at"), new, rules, notes))
        if r["asset"] == first_asset:  # a record comes from the parents of its first stage; a later stage
            parent_ids += [p for p in r["parent_ids"] or [] if p not in parent_ids]  # (a release) names members
    parents, unindexed = [], []
    if depth < MAX_DEPTH:
        for pid in parent_ids:
            if pid not in seen:
                p = audit(con, pid, rulesets, depth + 1, seen)
                if p is not None:
                    parents.append(p)
                else:
                    unindexed.append(pid)
    children = con.execute(
        f"SELECT DISTINCT asset, record_id FROM {_children_of(con, '?', [record_id])} ORDER BY asset, record_id "
        "LIMIT 50",
        [record_id]).fetchall()
    return RecordAudit(record_id, stages, parents, [(a, c) for a, c in children], held_twice,
                       derived_releases(con, record_id), unindexed, parent_ids)


def _store(con, view: str, ids: list[str]) -> str:
    """The segments of `view` that can hold `ids` (assets/quality/index_store.py), or the view."""
    from assets.quality.index_store import routed_relation
    from resources.warehouse import view_folder  # here: the warehouse resource imports Dagster

    return routed_relation(con, view, view_folder(con, view), ids)


def _children_of(con, param: str, ids: list[str], many: bool = False) -> str:
    """The FROM/WHERE that finds records naming `param` (one id, or a list with `many`; their
    values are `ids`) as a parent: a range lookup in `provenance_edges` (parent-id order) where the
    warehouse has it, else a scan of every `parent_ids` list of the index."""
    edges = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'provenance_edges'")
    if edges.fetchall()[0][0]:
        test = f"parent_id IN (SELECT unnest({param}))" if many else f"parent_id = {param}"
        return f"{_store(con, 'provenance_edges', ids)} WHERE {test}"
    test = f"list_has_any(parent_ids, {param})" if many else f"list_contains(parent_ids, {param})"
    return f"provenance_index WHERE {test}"


def derived_releases(con, record_id: str) -> dict[str, int]:
    """Release assets holding records built from `record_id`, following `parent_ids` forward a few
    generations (a video's scene's question is released in the CinePile dataset)."""
    seen: set[str] = set()
    frontier = [record_id]
    for _ in range(DESCENDANT_DEPTH):
        if not frontier or len(seen) >= DESCENDANTS_MAX:
            break
        rows = con.execute(f"SELECT DISTINCT record_id FROM {_children_of(con, '?', frontier, many=True)} "
                           f"LIMIT {DESCENDANTS_MAX}", [frontier]).fetchall()
        frontier = [r[0] for r in rows if r[0] not in seen and r[0] != record_id]
        seen.update(frontier)
    if not seen:
        return {}
    ids = sorted(seen)
    rows = con.execute(f"SELECT asset, count(DISTINCT record_id) FROM {_store(con, 'provenance_index', ids)} "
                       "WHERE record_id IN (SELECT unnest(?)) AND ends_with(asset, '_dataset') GROUP BY asset "
                       "ORDER BY asset", [ids]).fetchall()
    return {a: int(n) for a, n in rows}


def near_ids(con, text: str, limit: int = 5) -> list[str]:
    """Record ids containing `text`, for a "did you mean" when an id is not indexed."""
    rows = con.execute("SELECT DISTINCT record_id FROM provenance_index WHERE record_id ILIKE ? ORDER BY 1 LIMIT ?",
                       [f"%{text}%", limit]).fetchall()
    return [r[0] for r in rows]


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "?"


def _model_text(m: dict[str, Any]) -> str:
    return (f"model ({m.get('role')}): backend={m.get('backend')} model={m.get('model')} "
            f"task_version={m.get('task_version')} prompt_sha={(m.get('prompt_sha') or '')[:16]} "
            f"fingerprint={(m.get('fingerprint') or '')[:16]}")


def _run_text(s: StageAudit) -> str:
    return (f"run {s.run_id or '?'}  code_version {s.code_version or '?'}  data_version {s.data_version or '?'}  "
            f"materialized {_when(s.materialized_at)}")


def _released(a: RecordAudit) -> str:
    released = a.releases + [f"{asset} (via {n} record(s) built from it)" for asset, n in a.derived_releases.items()]
    return ", ".join(released) if released else "no release"


def _unwalked(a: RecordAudit) -> list[str]:
    walked = {p.record_id for p in a.parents} | set(a.unindexed_parents)
    return [p for p in a.parent_ids if p not in walked]


def _children_by_asset(a: RecordAudit) -> dict[str, list[str]]:
    by_asset: dict[str, list[str]] = {}
    for asset, rid in a.children:
        by_asset.setdefault(asset, []).append(rid)
    return by_asset


def render(a: RecordAudit, indent: str = "") -> list[str]:
    """The audit as terminal lines (`make audit`)."""
    lines = [f"{indent}record {a.record_id}: {a.verdict}"]
    lines += [f"{indent}  WARNING: {w}" for w in a.warnings]
    lines.append(f"{indent}  released in: {_released(a)}")
    for s in a.stages:
        verdict = "kept" if s.kept else f"REJECTED {s.reason}: {s.detail}"
        lines.append(f"{indent}  [{s.stage_order:>2}] {s.group}/{s.asset}"
                     + (f" [{s.shard}]" if s.shard else "") + f"  {verdict}")
        lines.append(f"{indent}       {_run_text(s)}")
        for rule, status, text in s.rules:
            lines.append(f"{indent}       rule {rule}: {text} -> {status}")
        lines += [f"{indent}       note: {n}" for n in s.notes]
        lines += [f"{indent}       {_model_text(m)}" for m in s.models]
        for k, v in s.new_values.items():
            lines.append(f"{indent}       {k} = {v}")
    for asset, ids in _children_by_asset(a).items():
        more = f" (+{len(ids) - CHILDREN_SHOWN} more)" if len(ids) > CHILDREN_SHOWN else ""
        lines.append(f"{indent}  used by {asset}: {', '.join(ids[:CHILDREN_SHOWN])}{more}")
    unwalked = _unwalked(a)
    if unwalked:
        lines.append(f"{indent}  {UNWALKED}: {', '.join(unwalked)}")
    if a.unindexed_parents:
        lines.append(f"{indent}  built from (not records of the index): {', '.join(a.unindexed_parents)}")
    for p in a.parents:
        lines.append(f"{indent}  parent:")
        lines += render(p, indent + "    ")
    return lines


def _code(value: Any) -> str:
    text = str(value).replace("`", "'").replace("\n", " ")
    return f"`{text}`"


def _id_link(rid: str) -> str:
    return markdown_link(rid, audit_launchpad_url(rid))


def render_markdown(a: RecordAudit, level: int = 2, parent_of: str | None = None) -> str:
    """The audit as Markdown (the `audit` job's output): record ids link to their own audit."""
    h = "#" * min(level, 6)
    sub = "#" * min(level + 1, 6)
    title = f"Record {_code(a.record_id)}" if parent_of is None else \
        f"Parent {_id_link(a.record_id)} (of {_code(parent_of)})"
    out = [f"{h} {title}", "", f"**Verdict:** {a.verdict}  ", f"**Released in:** {_released(a)}", ""]
    out += [f"> **Warning:** {w}" for w in a.warnings] + ([""] if a.warnings else [])
    for s in a.stages:
        verdict = "kept" if s.kept else f"**REJECTED** {_code(s.reason)}: {_code(s.detail)}"
        shard = f" · shard {_code(s.shard)}" if s.shard else ""
        out += [f"{sub} [{s.stage_order}] {s.group} / {s.asset}{shard}", "", f"- verdict: {verdict}",
                f"- run {_code(s.run_id or '?')} · code version {_code(s.code_version or '?')} · data version "
                f"{_code(s.data_version or '?')} · materialized {_when(s.materialized_at)}"]
        for rule, status, text in s.rules:
            mark = f"**{status}**" if status == "FAIL" else (f"_{status}_" if status == NOT_EVALUATED else status)
            out.append(f"- rule {_code(rule)}: {_code(text)} → {mark}")
        out += [f"- note: {n}" for n in s.notes]
        out += [f"- {_model_text(m)}" for m in s.models]
        if s.new_values:
            out.append("- values:")
            out += [f"  - {_code(k)} = {_code(v)}" for k, v in s.new_values.items()]
        out.append("")
    children = _children_by_asset(a)
    if children:
        out += [f"{sub} Used by", ""]
        for asset, ids in children.items():
            more = f" (+{len(ids) - CHILDREN_SHOWN} more)" if len(ids) > CHILDREN_SHOWN else ""
            out.append(f"- {asset}: {', '.join(_id_link(i) for i in ids[:CHILDREN_SHOWN])}{more}")
        out.append("")
    unwalked = _unwalked(a)
    if unwalked:
        out += [f"**{UNWALKED.capitalize()}:** {', '.join(_id_link(p) for p in unwalked)}", ""]
    if a.unindexed_parents:
        out += [f"**Built from (not records of the index):** {', '.join(_code(p) for p in a.unindexed_parents)}", ""]
    for p in a.parents:
        out += [render_markdown(p, level + 1, parent_of=a.record_id), ""]
    return "\n".join(out).rstrip() + "\n"
