"""Caption review: the prose of every aligned annotation flagged and, where fixable, rewritten.

The prose fields are the video's description and its storyline's (and climax's) description: the
captions a model trains on. Labels, names and timestamps are not prose and are checked by the
annotation schema. A field with an unfixable problem (another language, nothing left but a
fragment) rejects the annotation; fixable ones (personal data, profanity, promotion, repeats, a
cut-off last sentence) are rewritten, and the release carries the originals beside the rewrite."""


import json
from typing import Any

import dagster as dg
import polars as pl

from assets.hygiene.caption_tasks import CaptionFlagTask, CaptionRewriteTask
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import bar_chart, preview, screen_counts
from assets.kit.provenance import MODELS, declare, models_series
from assets.kit.screening import kept
from resources.llm import LLMResource

PROSE = (("description",), ("storylines", "description"), ("storylines", "climax", "description"))
REVIEW_FAILED = "caption_review_failed"
# the problems no rewrite fixes, as rejections (a fixable one that leaves nothing usable names itself)
REJECTIONS = (*(f"caption_{r}" for r in ("non_english", "empty_or_short", "truncated")), REVIEW_FAILED)


def prose_fields(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """(dotted path, text) of each non-empty prose field."""
    out = []
    for path in PROSE:
        value: Any = metadata
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value.strip():
            out.append((".".join(path), value))
    return out


def with_fields(metadata: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    out = json.loads(json.dumps(metadata))
    for dotted, text in texts.items():
        *parents, last = dotted.split(".")
        node = out
        for key in parents:
            node = node[key]
        node[last] = text
    return out


def _first_per_role(entries: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for e in entries:
        seen.setdefault(e["role"], e)
    return list(seen.values())


def review(rows: pl.DataFrame, llm: LLMResource, log=None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Every row with its verdict, the rewritten `content_metadata`, `caption_original` (JSON of the
    fields as written, null when none was rewritten) and the flagger's and rewriter's `models`."""
    metas = [json.loads(m) for m in rows["content_metadata"].to_list()]
    items = [{"record": i, "field": f, "text": t} for i, m in enumerate(metas) for f, t in prose_fields(m)]
    flagged = llm.run(CaptionFlagTask(), items, log=log)
    fix = [i for i, r in enumerate(flagged.results) if r.ok and r.value.flags and r.value.fixable]
    rewrites = llm.run(CaptionRewriteTask(), [{**items[i], "flags": flagged.results[i].value.flags} for i in fix],
                       log=log)
    rewritten = dict(zip(fix, rewrites.results, strict=True))
    flag_entries, rewrite_entries = flagged.model_entries("caption_flags"), rewrites.model_entries("caption_rewrite")
    per_row: list[dict[str, Any]] = [{"flags": [], "stop": None, "new": {}, "old": {}, "models": []} for _ in metas]
    for i, (item, result) in enumerate(zip(items, flagged.results, strict=True)):
        row = per_row[item["record"]]
        row["models"] += flag_entries[i]
        if not result.ok:
            row["stop"] = row["stop"] or (REVIEW_FAILED, f"{item['field']}: {result.error}")
            continue
        row["flags"] += [f for f in result.value.flags if f not in row["flags"]]
        if result.value.flags and not result.value.fixable:
            row["stop"] = row["stop"] or (f"caption_{result.value.flags[0]}", f"{item['field']}: "
                                          f"{', '.join(result.value.flags)}")
        elif i in rewritten:
            done = rewritten[i]
            row["models"] += rewrite_entries[fix.index(i)]
            if done.ok:
                row["new"][item["field"]], row["old"][item["field"]] = done.value.text, item["text"]
            else:
                row["stop"] = row["stop"] or (REVIEW_FAILED, f"{item['field']}: {done.error}")
    out = rows.select("record_id", "video_id", "shard").with_columns(
        pl.Series("caption_flags", [r["flags"] for r in per_row], dtype=pl.List(pl.String)),
        pl.Series("fields_rewritten", [sorted(r["new"]) for r in per_row], dtype=pl.List(pl.String)),
        pl.Series("kept", [r["stop"] is None for r in per_row], dtype=pl.Boolean),
        pl.Series("reason", [r["stop"][0] if r["stop"] else None for r in per_row], dtype=pl.String),
        pl.Series("detail", [r["stop"][1] if r["stop"] else None for r in per_row], dtype=pl.String),
        pl.Series("content_metadata", [json.dumps(with_fields(m, r["new"]), ensure_ascii=False) if r["new"]
                                       else rows["content_metadata"][i] for i, (m, r) in
                                       enumerate(zip(metas, per_row, strict=True))], dtype=pl.String),
        pl.Series("caption_original", [json.dumps(r["old"], ensure_ascii=False) if r["old"] else None
                                       for r in per_row], dtype=pl.String),
    ).with_columns(pl.when(pl.col("reason").is_null()).then(pl.lit([], pl.List(pl.String)))
                   .otherwise(pl.concat_list(pl.col("reason"))).alias("reasons"))
    # the same annotation record, reviewed: no parents; the flagger and the rewriter in `models`, once each
    # (a row's fields are asked one by one: the first field's prompt stands for them)
    once = [_first_per_role(r["models"]) for r in per_row]
    out = declare(out.with_columns(models_series(once, "_m")), models=["_m"]).drop("_m")
    return out, {**flagged.metadata(), "fields_reviewed": len(items), "fields_rewritten": len(fix)}


@kit_asset(
    group="finevideo",
    screen=True,
    tasks=(CaptionFlagTask, CaptionRewriteTask),
    check_specs=(provenance_spec,),
    ins={"aligned_annotations": dg.AssetIn()},
    description=(
        "Caption hygiene before release: the prose of each kept aligned annotation (the video's, the "
        "storyline's and the climax's description) flagged for personal data, profanity, channel "
        "promotion, other languages, truncation, repeats and emptiness (`caption_flags`), fixable ones "
        "rewritten (offline: deterministic masking and cleanup; a model backend rewrites) with the "
        "originals kept in `caption_original`, and an annotation with an unfixable caption rejected as "
        "caption_<problem>. The release reads the rewritten `content_metadata`."
    ),
)
def caption_review(context: dg.AssetExecutionContext, aligned_annotations: pl.DataFrame, llm: LLMResource):
    rows = kept(aligned_annotations) if aligned_annotations.height else aligned_annotations
    if not rows.height:
        out = pl.DataFrame(schema={"record_id": pl.String, "video_id": pl.String, "shard": pl.String,
                                   "caption_flags": pl.List(pl.String), "fields_rewritten": pl.List(pl.String),
                                   "kept": pl.Boolean, "reason": pl.String, "detail": pl.String,
                                   "content_metadata": pl.String, "caption_original": pl.String,
                                   "reasons": pl.List(pl.String), "parent_ids": pl.List(pl.String),
                                   "models": MODELS})
        run_meta: dict[str, Any] = {}
    else:
        out, run_meta = review(rows, llm, log=context.log)
    flags = {str(f): int(n) for f, n in out.select(pl.col("caption_flags").explode()).drop_nulls()
             .group_by("caption_flags").len().sort("len").iter_rows()} if out.height else {}
    yield versioned(out, {
        **screen_counts(out),
        **run_meta,
        "rewritten": int(out.filter(pl.col("kept") & pl.col("caption_original").is_not_null()).height)
        if out.height else 0,
        "flags": dg.MetadataValue.json(flags),
        "flag_chart": bar_chart(flags, "annotations per caption problem") if flags else "none",
        "preview": preview(out, ["record_id", "caption_flags", "fields_rewritten", "kept", "reason", "detail"]),
    })
    yield from screen_check_results(out, n_inputs=rows.height)
    yield provenance_result(out)
