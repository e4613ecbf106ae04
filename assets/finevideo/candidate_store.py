"""What selection ranks on, kept per shard between runs, so one new shard costs its own reads.

FineVideo's oracle ranks every candidate, so every run needs a few columns of all of them: at 2,000
shards (1.9M candidates) that was three stage files per shard read and joined over every id, about
12 s of one core before the oracle started (bench/bench_scale.py). Here each shard's kept labels,
joined with their ranking columns within the shard, are stored once as a segment of
`<data>/curated_selection_candidates/`, keyed by the fingerprints of the shard's three stage files
(the provenance index's segment store, assets/quality/index_store.py). A run rebuilds the segments
of new or rewritten shards, drops those of shards no longer in its inputs, and reads the rest back
as they are. A shard whose stored files are not exactly its inputs (some under another root or IO
manager) is read from its inputs, uncached; the rows are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from assets.finevideo.content_selection import (
    DYNAMISM_COLUMNS,
    LABEL_COLUMNS,
    RANKING_COLUMNS,
    RAW_COLUMNS,
    candidate_frame,
)
from assets.kit.shard_frames import Frame, scan_file, shard_columns
from assets.quality.index_store import Built, plan_sources, segment_key, sync_segments
from assets.quality.provenance import Stage

FOLDER = "curated_selection_candidates"
STAGES = ("taxonomy_labels", "raw_video_metadata", "dynamism_screen")
LABEL_READ = ["record_id", "shard", "video_id", "kept", *LABEL_COLUMNS]
# a candidate's columns, in the order candidate_frame gives them
COLUMNS = ["record_id", "shard", "video_id", *LABEL_COLUMNS,
           *(c for c in RAW_COLUMNS if c in RANKING_COLUMNS["raw_video_metadata"]),
           *(c for c in DYNAMISM_COLUMNS if c in RANKING_COLUMNS["dynamism_screen"])]
# a change of columns rebuilds every segment; bump the number when what a segment holds changes
# otherwise (shard_candidates, candidate_frame)
LAYOUT = "candidates-1|" + ",".join(COLUMNS)


def shard_candidates(labels: Frame, raw: Frame | None, dyn: Frame | None) -> pl.DataFrame:
    """One shard's kept labels with the ranking columns of their raw metadata and dynamism rows."""
    def ranking(frame: Frame | None, stage: str) -> pl.DataFrame:
        return pl.DataFrame() if frame is None else shard_columns(frame, ["record_id", *RANKING_COLUMNS[stage]])

    return candidate_frame(shard_columns(labels, LABEL_READ), ranking(raw, "raw_video_metadata"),
                           ranking(dyn, "dynamism_screen"))


def cached_candidates(fs, root: str, inputs: Mapping[str, Mapping[str, Frame]], stem: Callable[[str], str]
                      ) -> tuple[pl.DataFrame, Built, list[str]]:
    """Every shard's candidates (the kept labels of `inputs["taxonomy_labels"]` with their ranking
    columns), from the store where the shard's files are unchanged; also the shards read from
    outside the store. `stem` gives the file name stem a shard is stored under. No shard output of
    a stage at all is the same error as a fan-in's."""
    for stage in STAGES:
        if not inputs.get(stage):
            raise ValueError(f"no shard of {stage} has output: every shard's step failed or none has run")
    labels, raw, dyn = (inputs[s] for s in STAGES)
    plan = plan_sources(fs, root, [Stage(asset, "finevideo", i) for i, asset in enumerate(STAGES)])
    shard_of = {stem(k): k for k in labels}
    wanted = {}
    for name, sources in plan.segments.items():
        shard = shard_of.get(plan.shards.get(name, ""))
        # stored only when its key covers exactly the files the segment is made from
        if shard is not None and {s.stage.asset for s in sources} == {st for st in STAGES if shard in inputs[st]}:
            wanted[name] = (segment_key(LAYOUT, sources), {"shard": shard})
    folder = f"{root.rstrip('/')}/{FOLDER}"

    def build(name: str, uri: str) -> dict[str, int]:
        shard = wanted[name][1]["shard"]
        df = shard_candidates(labels[shard], raw.get(shard), dyn.get(shard))
        with fs.open(uri, "wb") as f:
            df.write_parquet(f)
        return {"rows": df.height}

    built = sync_segments(fs, folder, wanted, build, LAYOUT)
    frames: dict[str, Frame] = {s["shard"]: scan_file(fs, f"{folder}/{s['file']}") for s in built.manifest["segments"].values()}
    unstored = [shard for shard in labels if shard not in frames]
    for shard in unstored:
        frames[shard] = shard_candidates(labels[shard], raw.get(shard), dyn.get(shard))
    out = shard_columns(frames, COLUMNS, "taxonomy_labels")
    if "source_key" not in out.columns:  # as candidate_frame gives it when no shard has one
        out = out.with_columns(pl.lit(None, dtype=pl.String).alias("source_key"))
    return out, built, unstored

