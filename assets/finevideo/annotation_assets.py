"""Video annotations and their fine alignment (RECIPES section 1, "Annotation", "Fine alignment").

Rows are the selected video records, judged again (no parents); `models` names the description
model ("description") and the structuring model ("annotation"), and the aligned rows carry them on."""

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dagster as dg
import polars as pl
from pydantic import ValidationError

from assets.finevideo.alignment import REJECT_FRAMES, WARN_FRAMES, Alignment, align
from assets.finevideo.annotation_rules import AnnotationRules, annotation_problem
from assets.finevideo.annotation_schema import Schema
from assets.finevideo.annotation_tasks import VideoAnnotationTask, VideoDescriptionTask
from assets.finevideo.subtitles import (
    SubtitleFile,
    clip_cues,
    cue_row,
    estimated_cues,
    read_subtitles,
    speech_cues,
    subtitle_measures,
)
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, screen_check_results
from assets.kit.errors import describe_validation
from assets.kit.metadata import bar_chart, preview, screen_counts
from assets.kit.provenance import MODELS, declare, models_series
from assets.kit.screening import kept
from assets.kit.task import TaskResult, TaskRun
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource
from resources.storage import MediaStore

PREPARE_THREADS = 2
_SCREEN = {"record_id": pl.String, "video_id": pl.String, "shard": pl.String, "kept": pl.Boolean,
           "reason": pl.String, "reasons": pl.List(pl.String), "detail": pl.String, "duration_s": pl.Float64,
           "fps": pl.Float64}
ANNOTATION_SCHEMA = {
    **_SCREEN, "media_uri": pl.String, "scene_cuts_s": pl.List(pl.Float64), "cuts_source": pl.String,
    "cues_source": pl.String, "description_text": pl.String, "content_metadata": pl.String,
    "schema_valid": pl.Boolean, "scenes": pl.Int64, "qa_pairs": pl.Int64,
    # the subtitle file against the video: cues read, skipped as malformed, run past the end (clipped),
    # and the share of cue time after the end (judged by AnnotationRules; 0 without a subtitle file)
    "subtitle_cues": pl.Int64, "cues_malformed": pl.Int64, "cues_clipped": pl.Int64,
    "subtitle_beyond_end": pl.Float64,
}
AnnotationConfig = rule_config(AnnotationRules, "AnnotationConfig")
ALIGNED_SCHEMA = {
    **_SCREEN, "content_metadata": pl.String, "max_shift_frames": pl.Int64, "shifts_frames": pl.List(pl.Int64),
    "snapped_boundaries": pl.Int64, "clamped_timestamps": pl.Int64, "last_end_shift_frames": pl.Int64,
    "warnings": pl.List(pl.String), "timeline": pl.String,  # frame times: "timestamps" | "constant_rate"
}
RETRY_CONCISE = ("ValidationError", "IncompleteOutputException", "JSONDecodeError")


def schema_check(df: pl.DataFrame) -> dg.AssetCheckResult:
    """Every kept row's content_metadata validates against the schema for its video's duration."""
    bad: list[str] = []
    for rid, content, duration in kept(df).select("record_id", "content_metadata", "duration_s").rows():
        try:
            Schema.model_validate_json(content, context={"duration_s": duration})
        except ValidationError as e:
            bad.append(f"{rid}: {describe_validation(e)}")
        except TypeError as e:
            bad.append(f"{rid}: {type(e).__name__}: {e}")
    return dg.AssetCheckResult(check_name="schema_valid", passed=not bad,
                               metadata={"checked": kept(df).height, "invalid": len(bad),
                                         "examples": dg.MetadataValue.json(bad[:5])})


schema_spec = named_check("schema_valid", "kept annotations validate against FineVideo's schema")


def _subtitle_file(row: dict[str, Any], media: MediaStore) -> SubtitleFile | None:
    if not row.get("subtitle_uri"):
        return None
    try:
        return read_subtitles(media.local_path(row["subtitle_uri"]).read_bytes())
    except OSError:
        return None


def _cues(row: dict[str, Any], media: MediaStore) -> tuple[list, str]:
    """The video's speech turns, inside the video (cues past its end clipped), and their source."""
    sub = _subtitle_file(row, media)
    cues = clip_cues(speech_cues(sub), float(row["duration_s"])) if sub is not None else []
    if cues:
        return cues, "subtitles"
    return estimated_cues(row.get("text") or "", float(row["duration_s"])), "transcript_estimate"


class NotMeasured(ValueError):
    """The dynamism screen's row lacks what this step reads (a partition written before it kept it)."""


def _cuts(row: dict[str, Any]) -> tuple[list[float], str]:
    """The shots the dynamism screen measured in its one decode of the video (this step decodes none)."""
    if row.get("scene_cuts_s") is None:
        raise NotMeasured("dynamism_screen holds no shots for this video; materialize its shard again")
    return list(row["scene_cuts_s"]), "dynamism_screen"


def _stills(row: dict[str, Any], media: MediaStore) -> list[str]:
    """JPEG data URLs of the stills the dynamism screen kept (every shot's middle)."""
    if row.get("frames") is None:
        raise NotMeasured("dynamism_screen holds no stills for this video; materialize its shard again")
    return ["data:image/jpeg;base64," + base64.b64encode(media.local_path(f["uri"]).read_bytes()).decode()
            for f in row["frames"]]


def _item(row: dict[str, Any], media: MediaStore, backend: str) -> tuple[dict[str, Any], tuple[str, str]]:
    """The Tasks' item for a selected video, and where its cuts and cues came from."""
    cues, cues_source = _cues(row, media)
    cuts, cuts_source = _cuts(row)
    item = {
        "record_id": row["record_id"], "title": row.get("title") or "", "channel": row.get("channel") or "",
        "duration_s": float(row["duration_s"]), "category": row.get("category_path") or "",
        "transcript": row.get("text") or "", "cues": [cue_row(c) for c in cues],
        "cuts": cuts, "motion": list(row.get("motion_per_second") or []),
        "freezes": [[f["start_s"], f["end_s"]] for f in row.get("freeze_intervals") or []],
    }
    if backend == "gemini":
        item["video_path"] = str(media.local_path(row["media_uri"]))
    elif backend != "offline":
        item["frames"] = _stills(row, media)
    return item, (cuts_source, cues_source)


def _frame_times(row: dict[str, Any], media: MediaStore) -> list[float] | None:
    """Every frame's presentation timestamp, from the video's packets; None when the file cannot be
    read (alignment then counts frames at the nominal rate)."""
    from resources.frames import frame_times as presentation_times  # not annotation_tasks.frame_times

    try:
        return presentation_times(media.local_path(row["media_uri"])) if row.get("media_uri") else None
    except Exception:  # a missing or unreadable file: the constant-rate fallback, named in `timeline`
        return None


@dataclass
class Annotated:
    item: dict[str, Any]  # what was structured: the Task item with its description
    description: TaskResult
    annotation: TaskResult | None  # None when there was no description to structure


def _structure(vlm: LLMResource, structure: VideoAnnotationTask, describe: VideoDescriptionTask,
               items: list[dict[str, Any]], log) -> tuple[list[Annotated], list[TaskRun]]:
    described = vlm.run(describe, items, log=log)
    ok = [i for i, r in enumerate(described.results) if r.ok]
    todo = [{**items[i], "description": described.results[i].value.text} for i in ok]
    structured = vlm.run(structure, todo, log=log)
    out = [Annotated({**it, "description": None}, r, None) for it, r in zip(items, described.results, strict=True)]
    for i, it, r in zip(ok, todo, structured.results, strict=True):
        out[i] = Annotated(it, described.results[i], r)
    return out, [described, structured]


def describe_and_structure(vlm: LLMResource, encode, items: list[dict[str, Any]], log=None, encoder: str = ""
                           ) -> tuple[list[Annotated], list[TaskRun]]:
    """FineVideo's two steps, then, on a remote backend, a second round for the items whose
    structuring failed validation or was cut off: described again with "be concise", structured again.
    `encoder` names the embedding model `encode` runs. Returns one `Annotated` per item and every
    TaskRun (for the UI's call counts)."""
    describe = VideoDescriptionTask(mode="video" if vlm.backend == "gemini" else "frames")
    structure = VideoAnnotationTask(encode, encoder=encoder)
    out, runs = _structure(vlm, structure, describe, items, log)
    retry = [i for i, a in enumerate(out) if vlm.backend != "offline" and a.annotation is not None
             and not a.annotation.ok and a.annotation.error.startswith(RETRY_CONCISE)]
    if retry:
        again, more = _structure(vlm, structure, describe, [{**items[i], "concise": True} for i in retry], log)
        for i, a in zip(retry, again, strict=True):
            out[i] = a
        runs += more
    return out, runs


def run_metadata(runs: list[TaskRun]) -> dict[str, Any]:
    return {"model_calls": sum(r.calls for r in runs), "cache_hits": sum(r.cache_hits for r in runs),
            "model_seconds": round(sum(r.seconds for r in runs), 2)}


def model_entries(a: "Annotated | None") -> list[dict[str, str]]:
    """The models behind an annotation row: its description and, when it got that far, its structure."""
    if a is None:
        return []
    return [a.description.model_entry("description"),
            *([a.annotation.model_entry("annotation")] if a.annotation is not None else [])]


@kit_asset(
    group="finevideo",
    tasks=(VideoDescriptionTask, VideoAnnotationTask),
    rules=AnnotationRules(),
    screen=True,
    check_specs=(schema_spec, provenance_spec),
    ins={"curated_selection": dg.AssetIn()},
    description=(
        "FineVideo's annotation schema for every selected video short enough for the annotator (longer "
        "ones are rejected with a reason). Task `video_description` (Gemini with the video, or a VLM with "
        "frames + transcript) then Task `video_annotation` (structured output, retried with 'be "
        "concise'). Offline: scenes from the detected cuts, speech per scene from the subtitles, "
        "dynamism from measured motion, audio-visual correlation from speech/scene overlap, mood by "
        "embedding similarity, Q/A from the transcript; fields nothing grounds stay empty. Subtitle cues "
        "past the video's measured end are clipped (counted in `cues_clipped`); a subtitle file mostly "
        "after the end is another video's (`subtitle_mismatch`, judged on `subtitle_beyond_end`)."
    ),
)
def video_annotations(context: dg.AssetExecutionContext, config: AnnotationConfig, curated_selection: pl.DataFrame,
                      vlm: LLMResource,
                      embeddings: EmbeddingResource, media: MediaStore):
    selected = kept(curated_selection).sort("record_id")
    rules = rules_from(config, AnnotationRules)
    rows, items, problems = selected.to_dicts(), [], {}

    def prepare(i: int):
        try:
            return i, _item(rows[i], media, vlm.backend), None
        except ImportError:
            raise  # a missing module is the code's fault, not the video's
        except NotMeasured as e:
            return i, None, ("not_measured", str(e))
        except Exception as e:  # a video whose cuts or frames cannot be read is that row's rejection
            return i, None, ("unreadable_video", f"{type(e).__name__}: {str(e)[:200]}")

    subtitles = [subtitle_measures(_subtitle_file(row, media), float(row["duration_s"])) for row in rows]
    for i, row in enumerate(rows):  # judged before any model call
        if (problem := annotation_problem(subtitles[i], float(row["duration_s"]), rules)) is not None:
            problems[i] = problem
    # reading subtitles and stills: two threads overlap the storage reads
    with ThreadPoolExecutor(max_workers=PREPARE_THREADS) as pool:
        for i, prepared, problem in pool.map(prepare, [i for i in range(len(rows)) if i not in problems]):
            if problem:
                problems[i] = problem
            else:
                items.append((i, *prepared))
    annotated, runs = describe_and_structure(vlm, embeddings.encode, [it for _, it, _ in items], log=context.log,
                                             encoder=embeddings.model_name)
    results = {i: (it, src, a) for (i, it, src), a in zip(items, annotated, strict=True)}
    out_rows, models = [], []
    for i, row in enumerate(rows):
        it, sources, a = results.get(i, (None, (None, None), None))
        reason, detail = problems.get(i, (None, None))
        if a is not None and not a.description.ok:
            reason, detail = "description_failed", a.description.error
        elif a is not None and not a.annotation.ok:
            reason, detail = "annotation_failed", a.annotation.error
        value = a.annotation.value if reason is None and a is not None else None
        cuts_source, cues_source = sources
        models.append(model_entries(a))
        out_rows.append({
            "record_id": row["record_id"], "video_id": row["video_id"], "shard": row["shard"],
            "kept": reason is None, "reason": reason, "reasons": [reason] if reason else [], "detail": detail,
            "duration_s": row["duration_s"], "fps": row.get("fps"), "media_uri": row.get("media_uri"),
            "scene_cuts_s": it["cuts"] if it else row.get("scene_cuts_s"), "cuts_source": cuts_source,
            "cues_source": cues_source, "description_text": a.item["description"] if a is not None else None,
            "content_metadata": value.model_dump_json() if value is not None else None,
            # None: never structured (too long, unreadable, no description)
            "schema_valid": None if a is None or a.annotation is None else a.annotation.ok,
            "scenes": len(value.scenes) if value is not None else None,
            "qa_pairs": len(value.qAndA) if value is not None else None,
            **subtitles[i],
        })
    df = declare(pl.DataFrame(out_rows, schema=ANNOTATION_SCHEMA), models=[models_series(models)])
    yield versioned(df, {
        **screen_counts(df),
        **run_metadata(runs),
        "mean_scenes": round(float(kept(df)["scenes"].mean() or 0), 2) if kept(df).height else 0.0,
        "cues_clipped": int(df["cues_clipped"].sum() or 0) if df.height else 0,
        "cues_malformed": int(df["cues_malformed"].sum() or 0) if df.height else 0,
        "preview": preview(df, ["record_id", "duration_s", "scenes", "qa_pairs", "cuts_source", "cues_clipped",
                                "kept", "reason"]),
    }, rules=rules)
    yield from screen_check_results(df, n_inputs=selected.height)
    yield schema_check(df)
    yield provenance_result(df)


@kit_asset(
    group="finevideo",
    screen=True,
    check_specs=(schema_spec, provenance_spec),
    ins={"video_annotations": dg.AssetIn()},
    description=(
        "Annotations whose scene boundaries are snapped to content-detector cuts within +-2 s and "
        "made contiguous on the video's frame timestamps (each scene starts one frame after the previous "
        f"ends, the last ends with the video); a start moved more than {WARN_FRAMES} frames is a warning, more than {REJECT_FRAMES} "
        "rejects the video; inner timestamps are clamped into their scene."
    ),
)
def aligned_annotations(video_annotations: pl.DataFrame, media: MediaStore):
    rows = kept(video_annotations).to_dicts()
    out_rows = []
    for row in rows:
        times = _frame_times(row, media)
        a = align(json.loads(row["content_metadata"]), row["scene_cuts_s"] or [], float(row["fps"] or 0.0),
                  float(row["duration_s"]), frame_times=times) if row.get("fps") or times else Alignment(
            content=None, fps=0.0, rejection="no_frame_rate", detail="the video's frame rate was not measured")
        out_rows.append({
            "record_id": row["record_id"], "video_id": row["video_id"], "shard": row["shard"],
            "kept": a.rejection is None, "reason": a.rejection, "reasons": [a.rejection] if a.rejection else [],
            "detail": a.detail, "duration_s": row["duration_s"], "fps": row["fps"],
            "content_metadata": json.dumps(a.content, ensure_ascii=False) if a.content else None,
            "max_shift_frames": a.max_shift_frames, "shifts_frames": a.shifts_frames,
            "snapped_boundaries": a.snapped, "clamped_timestamps": a.clamped,
            "last_end_shift_frames": a.last_end_shift_frames, "warnings": a.warnings, "timeline": a.timeline,
            "models": row.get("models") or [],
        })
    # the annotation's models carried on: the aligned content is the annotation, moved onto the cuts
    df = declare(pl.DataFrame(out_rows, schema={**ALIGNED_SCHEMA, "models": MODELS}), models=["models"])
    warned = int((df["warnings"].list.len() > 0).sum()) if df.height else 0
    shifts = {str(r): int(n) for r, n in df.group_by(
        pl.col("max_shift_frames").cut([0, WARN_FRAMES, REJECT_FRAMES],
                                       labels=["0", f"1-{WARN_FRAMES}", f"{WARN_FRAMES + 1}-{REJECT_FRAMES}",
                                               f">{REJECT_FRAMES}"]).cast(pl.String)
    ).len().iter_rows()} if df.height else {}
    yield versioned(df, {
        **screen_counts(df),
        "warned_videos": warned,
        "max_shift_frames": dg.MetadataValue.json(shifts),
        "shift_histogram": bar_chart(shifts, "videos by largest scene-start shift (frames)") if shifts else "none",
        "preview": preview(df, ["video_id", "max_shift_frames", "snapped_boundaries", "clamped_timestamps",
                                "kept", "reason", "detail"]),
    })
    yield from screen_check_results(df, n_inputs=len(rows))
    yield schema_check(df)
    yield provenance_result(df)
