"""Near-duplicate videos across every shard: the same footage landed under another id.

Each video's signature is the perceptual hashes the dynamism screen stored of every still its one
decode took, a second apart (no video is decoded or even read again; hygiene/video_fingerprints.py
says how re-encodes, resizes, crops, letterboxes and trims are matched). The screen is a fan-in, since a copy may land in any shard, but incremental: a
run signs and queries only the shards that are new or changed since the last one
(hygiene/incremental.py) and reuses the rest from its stored state, so a new shard costs its own
size. Landings of one source (the same YouTube id in two shards) are one video here: the curated
selection already keeps their first landing (`duplicate_source`). Of a group of different sources
that are one video, the longest copy is kept, then the most pixels, then the freest licence, then
the first landed; the others are rejected naming it (`duplicate_of`): `duplicate_file` when the
bytes are the same, `near_duplicate_video` otherwise."""


import dagster as dg
import polars as pl

from assets.finevideo.contract import STILL_HASH
from assets.hygiene.incremental import split
from assets.hygiene.video_fingerprints import (
    DEFAULT_RULES,
    ITEM_SCHEMA,
    PAIR_SCHEMA,
    VideoDedupRules,
    band_frame,
    item_row,
    kept_copy,
    near_duplicates,
)
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.fan_in_state import previous_state, save_state, shard_digest
from assets.kit.metadata import preview, screen_counts
from assets.kit.partitions import video_shards
from assets.kit.provenance import declare
from assets.kit.screening import Rule, RuleSet, kept, screen
from assets.kit.shard_coverage import landing_order
from assets.kit.shard_frames import shard_columns
from resources.storage import MediaStore

STATE_ITEMS = {"item": pl.String, "shard": pl.String, "digest": pl.String, **{k: v for k, v in ITEM_SCHEMA.items()
                                                                              if k != "item"}}
NEEDED = {"still_hashes": pl.List(STILL_HASH), "duration_s": pl.Float64, "sha256": pl.String, "width": pl.Int64,
          "height": pl.Int64, "source_key": pl.String, "license": pl.String}
SIGNED = ["record_id", "still_hashes", "duration_s"]  # what a signature is made of


class VideoDuplicateRules(RuleSet):
    match: VideoDedupRules = DEFAULT_RULES

    def rules(self) -> list[Rule]:
        return [Rule(reason="duplicate_file", column="same_file_as", op="is_null"),
                Rule(reason="near_duplicate_video", column="duplicate_of", op="is_null")]

    def describe(self) -> str:
        return (f"{super().describe()}; {self.match.describe()}; a group keeps the longest copy, then the most "
                f"pixels, then the freest licence, then the first landed")


RULES = VideoDuplicateRules()


def sign(rows: pl.DataFrame, digests: dict[str, str]) -> pl.DataFrame:
    """STATE_ITEMS rows for `rows` (one per record), from the hashes of every still its decode took."""
    out = [(rid, shard, digests[shard], *item_row(rid, duration, hashes)[1:])
           for rid, shard, duration, hashes in rows.select("record_id", "shard", "duration_s", "still_hashes").rows()]
    return pl.DataFrame(out, schema=STATE_ITEMS, orient="row")


def records(labels: pl.DataFrame, dyn: pl.DataFrame, files: pl.DataFrame, raw: pl.DataFrame,
            landed: dict[str, int]) -> pl.DataFrame:
    """The screen's inputs (kept labels) with what signing and choosing a copy need."""
    base = kept(labels).select("record_id", "shard", "video_id") if labels.height else pl.DataFrame(
        schema={"record_id": pl.String, "shard": pl.String, "video_id": pl.String})
    for frame, cols in ((dyn, ["still_hashes", "duration_s"]), (files, ["sha256", "width", "height"]),
                        (raw, ["source_key", "license"])):
        present = [c for c in cols if c in frame.columns]
        if "record_id" in frame.columns and present:
            base = base.join(frame.select("record_id", *present), on="record_id", how="left")
    base = base.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in NEEDED.items() if c not in base.columns)
    rank = pl.col("shard").replace_strict(landed, default=len(landed), return_dtype=pl.Int64)
    return base.with_columns(rank.alias("landed_at"), pl.coalesce("source_key", "record_id").alias("source"))


def verdicts(recs: pl.DataFrame, items: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Each record with `duplicate_of` / `same_file_as` (the kept copy's id), `group_size` and, for a
    copy paired with it directly, the measured `share` and `matched` stills. One source is one
    video: its first landing stands for it and its other landings share its verdict."""
    first = recs.sort("landed_at", "shard", "record_id").unique("source", keep="first", maintain_order=True)
    reps = first.select("source", item="record_id", duration_s="duration_s", width="width", height="height",
                        landed_at="landed_at", licence="license", sha256="sha256")
    rep_ids = reps["item"]
    links = pairs.filter(pl.col("a").is_in(rep_ids) & pl.col("b").is_in(rep_ids))
    groups = kept_copy(reps.drop("source"), links).select("item", "kept", "group_size")
    both = pl.concat([links, links.rename({"a": "b", "b": "a"}).select(links.columns)])
    measured = both.select(item="a", kept="b", share="share", matched="matched")
    sha = reps.select("item", "sha256")
    per_source = (groups.join(measured, on=["item", "kept"], how="left")
                  .join(sha, on="item").join(sha.rename({"item": "kept", "sha256": "kept_sha"}), on="kept")
                  .join(reps.select("item", "source"), on="item"))
    copy = pl.col("kept") != pl.col("item")
    same = copy & (pl.col("sha256") == pl.col("kept_sha")).fill_null(False)
    per_source = per_source.select(
        "source", pl.when(same).then("kept").alias("same_file_as"),
        pl.when(copy & ~same).then("kept").alias("duplicate_of"), "group_size", "share", "matched")
    signed = items.select(pl.col("item").alias("record_id"), pl.col("hashes").list.len().alias("usable_stills"))
    return (recs.join(per_source, on="source", how="left").join(signed, on="record_id", how="left")
            .with_columns(pl.col("usable_stills").fill_null(0)))


@kit_asset(
    group="finevideo",
    screen=True,
    rules=RULES,
    check_specs=(provenance_spec,),
    ins={"taxonomy_labels": dg.AssetIn(), "dynamism_screen": dg.AssetIn(), "video_files": dg.AssetIn(),
         "raw_video_metadata": dg.AssetIn()},
    description=(
        "Exact and near-duplicate videos across all shards, from the perceptual hashes of a still a second "
        "that the dynamism screen stored (letterbox bars cut off; candidates by LSH bands, each verified on "
        "all its stills), "
        "and the file's sha256. Every labelled video is a row; a copy of a video kept elsewhere is rejected "
        "naming it (`duplicate_of`, `same_file_as`). Incremental: only new or changed shards are signed and "
        "queried against the stored signatures of the others (`state_*` metadata)."
    ),
)
def video_duplicates(context: dg.AssetExecutionContext, taxonomy_labels: dict[str, pl.LazyFrame],
                     dynamism_screen: dict[str, pl.LazyFrame], video_files: dict[str, pl.LazyFrame],
                     raw_video_metadata: dict[str, pl.LazyFrame], media: MediaStore):
    labels = shard_columns(taxonomy_labels, ["record_id", "shard", "video_id", "kept"], "taxonomy_labels")
    recs = records(labels, *(shard_columns(value, ["record_id", *cols], name) for name, value, cols in (
        ("dynamism_screen", dynamism_screen, ["still_hashes", "duration_s"]),
        ("video_files", video_files, ["sha256", "width", "height"]),
        ("raw_video_metadata", raw_video_metadata, ["source_key", "license"]))),
        landing_order(context.instance, video_shards))
    digests = {s: shard_digest(g, SIGNED) for (s,), g in recs.group_by("shard")} if recs.height else {}
    version = f"{context.assets_def.code_versions_by_key[context.asset_key]}"
    state = previous_state(context, media, version, ["items", "pairs", "bands"])
    parts = split(digests, state, STATE_ITEMS, PAIR_SCHEMA)
    fresh = sign(recs.filter(pl.col("shard").is_in(parts.fresh_shards)), digests)
    reused_bands = (state["bands"].filter(pl.col("item").is_in(parts.reused_items["item"].implode())) if state
                    else band_frame(parts.reused_items, with_hash=True))  # the index's keys, as stored
    new_pairs = near_duplicates(fresh.select(ITEM_SCHEMA.keys()), parts.reused_items.select(ITEM_SCHEMA.keys()),
                                RULES.match, index_bands=reused_bands)
    bands = pl.concat([reused_bands, band_frame(fresh, with_hash=True)])
    items = pl.concat([parts.reused_items, fresh])
    pairs = pl.concat([parts.reused_pairs, new_pairs]).unique(["a", "b"]).sort("a", "b")
    # the same video records as the labels, judged again: no parents, no model
    out = declare(screen(verdicts(recs, items, pairs), RULES.rules()))
    out = out.select("record_id", "shard", "video_id", "source_key", "duration_s", "width", "height", "license",
                     "usable_stills", "group_size", "share", "matched", "duplicate_of", "same_file_as",
                     "kept", "reason", "reasons", "detail", "parent_ids", "models")
    context.log.info(f"signed {fresh.height} videos of {len(parts.fresh_shards)} new or changed shards; reused "
                     f"{parts.reused_items.height}; {pairs.height} near-duplicate pairs")
    yield versioned(out, {
        **screen_counts(out),
        **save_state(media, version, {"items": items, "pairs": pairs, "bands": bands}),
        "signed_now": fresh.height,
        "reused_signatures": parts.reused_items.height,
        "shards_signed_now": dg.MetadataValue.json(parts.fresh_shards),
        "pairs": pairs.height,
        "preview": preview(out.filter(~pl.col("kept")) if out.height else out,
                           ["record_id", "reason", "duplicate_of", "same_file_as", "share", "matched", "group_size"]),
    }, rules=RULES)
    yield from screen_check_results(out, n_inputs=kept(labels).height if labels.height else 0)
    yield provenance_result(out)
