"""A record's whole chain, read from the provenance index and the stages' own rows.

For each stage a record passed through, the audit shows the verdict, what that stage measured or
added (the columns whose values first appear there), each screening rule re-evaluated on the
stored row (measured value, threshold, pass/fail), the model provenance of model-derived fields,
and the Dagster run id and code version. Parents (`parent_ids`, `document_id`, ...) are audited in
turn, and the records built from this one (a release row listing it, a question from its video)
are listed, so both "where did this come from" and "where did it go" are answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

MAX_SHOWN_CHARS = 100
MAX_DEPTH = 3
CHILDREN_SHOWN = 3
HIDDEN = {"record_id", "kept", "reason", "reasons", "detail", "shard", "cached", "attempts", "task_name"}
# model provenance columns are shown once, on the stage's `model` lines
HIDDEN |= {f"{role}{f}" for role in ("", "label_", "annotation_", "description_", "judge_")
           for f in ("backend", "model", "task_version", "prompt_sha", "task_name")}


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
    new_values: dict[str, Any] = field(default_factory=dict)
    rules: list[tuple[str, bool, str]] = field(default_factory=list)


@dataclass
class RecordAudit:
    record_id: str
    stages: list[StageAudit]
    parents: list[RecordAudit]
    children: list[tuple[str, str]]  # (asset, record_id) built from this record

    @property
    def releases(self) -> list[str]:
        """Release assets (`*_dataset`) holding this record itself."""
        return sorted({s.asset for s in self.stages if is_release(s.asset)})

    @property
    def derived_releases(self) -> dict[str, int]:
        """Release assets holding records built from this one, with how many."""
        counts: dict[str, int] = {}
        for asset, _ in self.children:
            if is_release(asset):
                counts[asset] = counts.get(asset, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def verdict(self) -> str:
        rejected = [s for s in self.stages if not s.kept]
        if rejected:
            s = rejected[0]
            return f"rejected at {s.asset}: {s.reason} ({s.detail})"
        return f"kept through {len(self.stages)} stage(s), last {self.stages[-1].asset}" if self.stages else "unknown"


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


def evaluate_rules(row: pl.DataFrame, rules: list) -> list[tuple[str, bool, str]]:
    """Each rule on the stored row: (rule, passed, measured value and threshold); rules whose inputs
    the stored row does not keep are left out rather than guessed."""
    out = []
    for rule in rules:
        try:
            res = row.select(rule.keep.fill_null(False).alias("keep"), rule.detail().alias("detail"))
        except pl.exceptions.PolarsError:
            continue
        out.append((rule.reason, bool(res["keep"][0]), str(res["detail"][0])))
    return out


def screen_rules() -> dict[str, Callable[[], list]]:
    """The screens whose rules can be re-evaluated on their stored rows."""
    from assets.docmatix.reading import document_rules
    from assets.finevideo.dynamism_screen import dynamism_rules
    from assets.finevideo.metadata_rules import language_rules, word_density_rules

    return {"language_screen": language_rules, "word_density_screen": word_density_rules,
            "dynamism_screen": dynamism_rules, "documents": document_rules}


def _stage_row(con, asset: str, record_id: str, shard: str | None) -> pl.DataFrame:
    cols = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [asset]).fetchall()}
    where = 'record_id = ?' + (' AND shard = ?' if shard is not None and "shard" in cols else "")
    params = [record_id] + ([shard] if shard is not None and "shard" in cols else [])
    return con.sql(f'SELECT * FROM "{asset}" WHERE {where} LIMIT 1', params=params).pl()


def audit(con, record_id: str, rules: dict[str, Callable[[], list]] | None = None, depth: int = 0,
          seen: set[str] | None = None) -> RecordAudit | None:
    """The audit of one record (None when the index does not know it)."""
    rules = screen_rules() if rules is None else rules
    seen = set() if seen is None else seen
    seen.add(record_id)
    index = con.sql("SELECT * FROM provenance_index WHERE record_id = ? ORDER BY stage_order, asset, shard",
                    params=[record_id]).pl()
    if index.height == 0:
        return None
    stages, known, parents_ids = [], {}, []
    for r in index.to_dicts():
        row = _stage_row(con, r["asset"], record_id, r["shard"])
        values = {k: v for k, v in (row.to_dicts()[0] if row.height else {}).items() if k not in HIDDEN}
        new = {k: shown(v) for k, v in values.items() if v is not None and known.get(k) != v}
        known.update(values)
        stage = StageAudit(r["asset"], r["group"], r["stage_order"], r["shard"], r["kept"], r["reason"], r["detail"],
                           r["run_id"], r["code_version"], r["models"] or [], new,
                           evaluate_rules(row, rules[r["asset"]]()) if r["asset"] in rules and row.height else [])
        stages.append(stage)
        if len(stages) == 1:  # a record comes from the parents of its first stage; a later stage (a release
            parents_ids = list(r["parent_ids"] or [])  # listing what it bundles) names members, not origins
    parents = []
    if depth < MAX_DEPTH:
        for pid in parents_ids:
            if pid not in seen:
                p = audit(con, pid, rules, depth + 1, seen)
                if p is not None:
                    parents.append(p)
    children = con.execute(
        "SELECT DISTINCT asset, record_id FROM provenance_index WHERE list_contains(parent_ids, ?) "
        "ORDER BY asset, record_id LIMIT 50", [record_id]).fetchall()
    return RecordAudit(record_id, stages, parents, [(a, c) for a, c in children])


def render(a: RecordAudit, indent: str = "") -> list[str]:
    released = a.releases + [f"{asset} (via {n} record(s) built from it)" for asset, n in a.derived_releases.items()]
    lines = [f"{indent}record {a.record_id}: {a.verdict}",
             f"{indent}  released in: {', '.join(released) if released else 'no release'}"]
    for s in a.stages:
        verdict = "kept" if s.kept else f"REJECTED {s.reason}: {s.detail}"
        lines.append(f"{indent}  [{s.stage_order:>2}] {s.group}/{s.asset}"
                     + (f" [{s.shard}]" if s.shard else "") + f"  {verdict}")
        lines.append(f"{indent}       run {s.run_id or '?'}  code_version {s.code_version or '?'}")
        for rule, passed, detail in s.rules:
            lines.append(f"{indent}       rule {rule}: {detail} -> {'pass' if passed else 'FAIL'}")
        for m in s.models:
            lines.append(f"{indent}       model ({m['role']}): backend={m['backend']} model={m['model']} "
                         f"task_version={m['task_version']} prompt_sha={(m['prompt_sha'] or '')[:16]}")
        for k, v in s.new_values.items():
            lines.append(f"{indent}       {k} = {v}")
    by_asset: dict[str, list[str]] = {}
    for asset, rid in a.children:
        by_asset.setdefault(asset, []).append(rid)
    for asset, ids in by_asset.items():
        more = f" (+{len(ids) - CHILDREN_SHOWN} more)" if len(ids) > CHILDREN_SHOWN else ""
        lines.append(f"{indent}  used by {asset}: {', '.join(ids[:CHILDREN_SHOWN])}{more}")
    for p in a.parents:
        lines.append(f"{indent}  parent:")
        lines += render(p, indent + "    ")
    return lines
