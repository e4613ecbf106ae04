"""Content selection over all shards (RECIPES section 1, "Content selection")."""

from typing import Literal

import dagster as dg
import polars as pl
from pydantic import Field

from assets.finevideo.candidate_store import cached_candidates
from assets.finevideo.content_selection import (
    DUPLICATE,
    DYNAMISM_COLUMNS,
    FILE_COLUMNS,
    RAW_COLUMNS,
    balance,
    curate,
    hours_per_category,
)
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import bar_chart, markdown_table, preview, screen_counts
from assets.kit.partitions import video_shards
from assets.kit.provenance import declare
from assets.kit.screening import kept
from assets.kit.shard_coverage import coverage, coverage_metadata, landing_order
from assets.kit.shard_frames import shard_columns
from resources.settings import load_settings
from resources.warehouse import Warehouse, partition_segment

PROD_BUDGET_HOURS = 4000.0


class CurationConfig(dg.Config):
    budget_hours: float | None = Field(
        default=None,
        description=f"Hours to select. Default: {PROD_BUDGET_HOURS:g} in prod; locally `local_budget_share` "
                    "of the candidates' hours, so the sample's budget binds.",
    )
    local_budget_share: float = Field(default=0.6, gt=0, le=1)
    seed: int = 42
    final_fill: Literal["ranked", "shortest_first"] = Field(
        default="ranked", description="Order of the final pass: FineVideo's shortest_first favours short videos.")


def budget_seconds(cfg: CurationConfig, candidates: pl.DataFrame) -> tuple[float, str]:
    if cfg.budget_hours is not None:
        return cfg.budget_hours * 3600, "configured"
    if load_settings().deployment == "prod":
        return PROD_BUDGET_HOURS * 3600, "prod default"
    videos = candidates.unique("source_key", keep="first") if candidates.height else candidates
    total = float(videos["duration_s"].sum() or 0.0) if videos.height else 0.0
    return round(total * cfg.local_budget_share, 1), f"{cfg.local_budget_share:.0%} of the candidates' hours"


@kit_asset(
    group="finevideo",
    screen=True,
    check_specs=(provenance_spec,),
    ins={"taxonomy_labels": dg.AssetIn(), "video_duplicates": dg.AssetIn(), "raw_video_metadata": dg.AssetIn(),
         "video_files": dg.AssetIn(), "dynamism_screen": dg.AssetIn()},
    description=(
        "FineVideo's oracle over all shards: engagement-ranked, equal hours per category, a seeded "
        "channel penalty, an hour budget (4,000 h in prod; locally a share of the sample), and a final "
        "pass that does not favour short videos (FineVideo's shortest-first rule is computed beside "
        "it for comparison). Every labelled video that `video_duplicates` kept is a row; kept = selected. A video landed in "
        "several shards is selected at most once: its later landings (in the order the shards landed) "
        "are rejected as duplicate_source, naming the record that went on. A shard without output "
        "(failed, killed) or whose file was unreadable or withdrawn is left out and named in "
        "`excluded_shards`. The ranking reads a few columns of every candidate, kept per shard in "
        "`curated_selection_candidates/` beside the tables and read again from the stage files only "
        "for shards whose files changed (`candidate_shards_read`); the rest (transcript, file and "
        "decode facts) is read for the selected videos only and is null on the other rows."
    ),
)
def curated_selection(context: dg.AssetExecutionContext, config: CurationConfig, duckdb: Warehouse,
                      taxonomy_labels: dict[str, pl.LazyFrame], video_duplicates: pl.DataFrame,
                      raw_video_metadata: dict[str, pl.LazyFrame], video_files: dict[str, pl.LazyFrame],
                      dynamism_screen: dict[str, pl.LazyFrame]):
    # every labelled video's ranking columns, from the per-shard store where its files are unchanged
    fs, root = duckdb.store()
    labelled, store, unstored = cached_candidates(
        fs, root, {"taxonomy_labels": taxonomy_labels, "raw_video_metadata": raw_video_metadata,
                   "dynamism_screen": dynamism_screen}, partition_segment)
    judged = video_duplicates["record_id"] if video_duplicates.height else pl.Series([], dtype=pl.String)
    awaiting = labelled.filter(~pl.col("record_id").is_in(judged.implode())).height
    candidates = labelled.join(kept(video_duplicates).select("record_id"), on="record_id", how="semi") \
        if video_duplicates.height else labelled.clear()
    stages = (("raw_video_metadata", raw_video_metadata, RAW_COLUMNS), ("video_files", video_files, FILE_COLUMNS),
              ("dynamism_screen", dynamism_screen, DYNAMISM_COLUMNS))
    shards = coverage(context, {"taxonomy_labels": taxonomy_labels, "raw_video_metadata": raw_video_metadata,
                                "video_files": video_files, "dynamism_screen": dynamism_screen},
                      dg.AssetKey("raw_video_metadata"), video_shards)
    budget_s, how = budget_seconds(config, candidates)
    by_rule = curate(candidates, budget_s, config.seed, landing_order(context.instance, video_shards))
    picked = by_rule[config.final_fill]
    selected = kept(picked)["record_id"]
    for name, value, columns in stages:
        rest = [c for c in columns if c not in picked.columns]
        picked = picked.join(shard_columns(value, ["record_id", *rest], name, ids=selected), on="record_id",
                             how="left")
    # the same video records as the labels: no parents; `models` (the labeller) carried with them
    out = declare(picked, models=["models"])
    chosen = kept(out)
    sides = {rule: balance(kept(df)) for rule, df in by_rule.items()}
    side_by_side = pl.DataFrame([{"final_fill": r, **s} for r, s in sides.items()])
    per_category = hours_per_category(chosen)
    context.log.info(f"selected {chosen.height} videos, {sides[config.final_fill]['hours']:.3f} h of "
                     f"{budget_s / 3600:.3f} h; both final-fill rules:\n{markdown_table(side_by_side)}")
    yield versioned(
        out,
        {
            **screen_counts(out),
            **coverage_metadata(shards),
            "budget_hours": round(budget_s / 3600, 4),
            "budget_from": how,
            "selected_hours": sides[config.final_fill]["hours"],
            "final_fill": config.final_fill,
            "seed": config.seed,
            "duplicate_sources": out.filter(pl.col("reason") == DUPLICATE).height,
            # the candidate store: shards whose ranking columns were read from their files this run
            "candidate_shards_read": len(store.rebuilt) + len(unstored),
            "candidate_shards_reused": len(store.reused),
            # labelled videos the duplicate screen has not judged yet: candidates once it has
            "awaiting_duplicate_screen": awaiting,
            "max_channel_share": sides[config.final_fill]["max_channel_share"],
            "channel_hhi": sides[config.final_fill]["channel_hhi"],
            "mean_engagement": sides[config.final_fill]["mean_engagement"],
            "final_fill_balance": dg.MetadataValue.md(markdown_table(side_by_side)),
            "hours_per_category": dg.MetadataValue.json(per_category),
            "category_histogram": bar_chart(per_category, "selected hours per category", "hours")
            if per_category else "none",
            "preview": preview(out, ["record_id", "category_path", "channel", "duration_s", "engagement",
                                     "category_rank", "kept", "reason", "detail"]),
        },
    )
    yield from screen_check_results(out, n_inputs=kept(video_duplicates).height if video_duplicates.height else 0)
    yield provenance_result(out)
