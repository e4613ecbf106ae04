"""Video files: every kept row's video fetched, probed, checksummed and stored by content.

FineVideo's download job wrote an error file for a failed id and moved on; nothing downstream knew
which ids had no video or why. Here each failure is the row's recorded rejection: `missing` (no file
anywhere), `empty`, `corrupt`, `truncated` (packets stop short of the declared duration),
`no_video_stream`, `unsupported_codec`, `undecodable`, `unreachable` (network or credentials),
`outside_landing_zone` (the video or its subtitle file is a link out of the landing zone),
`too_large` (the file or its subtitles over the video source's caps), or
`fetch_failed` (anything else, with the exception in `detail`). The shard always completes. The
outcome is stored (`fetch_status`: "ok" or the failure, `fetch_detail`) and the rules compare it.
A file that opens is not yet a video: a PNG renamed .mp4 probes fine as one 0.04 s frame, so the
container and codec must be on an allow-list and the duration and picture size above a minimum
(`not_a_video_container`, `not_a_video_codec`, `too_short`, `too_narrow`, `too_low`), and below a
maximum every later decode can afford (`too_wide`, `too_tall`: checked from the header, before any
frame is decoded).

What the probe records is what a viewer sees: `width` x `height` after the display matrix's rotation
(`rotation_deg`, clockwise; `coded_width` x `coded_height` as stored), `fps` the nominal rate beside
`avg_fps` (a variable-frame-rate phone clip's average is not its rate) and `vfr`, and `frame_count`
from the packets' timestamps. Later steps take frame times from the timestamps, never from an fps.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from assets.finevideo.contract import SCHEMA_CHECK, VIDEO_FILES, conform, schema_check
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import bar_chart, preview, screen_counts
from assets.kit.partitions import video_shards
from assets.kit.provenance import declare
from assets.kit.screening import Rule, RuleSet, kept, screen
from resources.containment import OUTSIDE
from resources.limits import TOO_LARGE
from resources.storage import MediaStore, sha256_file
from resources.video import VideoError, VideoTools
from resources.video_source import UNREACHABLE, VideoSource

FAILED = "fetch_failed"
VIDEO_CONTAINERS = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi")  # the landing zone's .mp4 .mov .m4v .webm .mkv .avi
VIDEO_CODECS = ("av1", "h263", "h264", "hevc", "mjpeg", "mpeg1video", "mpeg2video", "mpeg4", "prores", "theora",
                "vp8", "vp9")
OK = "ok"
FAILURES = (OUTSIDE, TOO_LARGE, VideoError.MISSING, VideoError.EMPTY, VideoError.CORRUPT, VideoError.TRUNCATED,
            VideoError.NO_VIDEO, VideoError.UNSUPPORTED, VideoError.UNDECODABLE, UNREACHABLE, FAILED)


def fetch_one(row: dict[str, Any], source: VideoSource, tools: VideoTools, media: MediaStore) -> dict[str, Any]:
    """The measured columns of one row, or its failure and why."""
    out: dict[str, Any] = {"record_id": row["record_id"], "failure": None, "failure_detail": None}
    try:
        got = source.fetch(row["video_id"], row.get("video_path"), row.get("video_link"))
        out["source_uri"] = got.source_uri
        if got.path.exists():
            out["size_bytes"] = got.path.stat().st_size
            out["sha256"] = sha256_file(got.path) if out["size_bytes"] else None
        p = tools.probe(got.path)
        ref = media.put_file(got.path)
        out.update(p.model_dump(exclude={"video_packets", "decoded_frames"}), media_uri=ref.uri, sha256=ref.sha256)
        if got.subtitle is not None:
            out["subtitle_uri"] = media.put_file(got.subtitle, ".vtt").uri
    except VideoError as e:
        out.update(failure=e.reason, failure_detail=str(e))
    except Exception as e:  # a bug or an environment problem: this id fails, the shard goes on
        out.update(failure=FAILED, failure_detail=f"{type(e).__name__}: {e}")
    return out


def stored_outcome(measured: dict[str, Any]) -> dict[str, Any]:
    """A fetch's outcome as the row stores it: `fetch_status` ("ok" or the failure), `fetch_detail`."""
    return {**measured, "fetch_status": measured.get("failure") or OK, "fetch_detail": measured.get("failure_detail")}


class VideoFileRules(RuleSet):
    """One rule per way a fetch can fail, in order; then what makes a file a video: a video container
    and codec (an image renamed .mp4 probes as a 0.04 s one-frame "video" in `png_pipe`, `jpeg_pipe`,
    `image2`, ...), a duration and a picture size that something can be seen in."""

    containers: tuple[str, ...] = Field(default=VIDEO_CONTAINERS, description=(
        "demuxers (PyAV's format name) whose files are videos; image demuxers (png_pipe, jpeg_pipe, "
        "image2, gif, webp_pipe, ...) are not"))
    codecs: tuple[str, ...] = Field(default=VIDEO_CODECS, description=(
        "video codecs accepted (ffmpeg's codec name, whatever decoder reads it); still-image codecs (png, "
        "bmp, gif, webp, tiff) are not, mjpeg is (cameras record it in .avi/.mov)"))
    min_duration_s: float = Field(default=1.0, ge=0, description="seconds the packets must cover, at least")
    min_width: int = Field(default=32, ge=1, description="displayed width in pixels, at least")
    min_height: int = Field(default=32, ge=1, description="displayed height in pixels, at least")
    max_width: int = Field(default=4096, ge=1, description=(
        "displayed width in pixels, at most: every later step decodes frames, and an 8192x8192 or "
        "16000x16000 picture costs gigabytes per worker"))
    max_height: int = Field(default=4096, ge=1, description="displayed height in pixels, at most")

    def rules(self) -> list[Rule]:
        return [
            *(Rule(reason=r, column="fetch_status", op="ne", threshold=r, shown="fetch_detail") for r in FAILURES),
            Rule(reason="not_a_video_container", column="container", op="in", threshold=self.containers),
            Rule(reason="not_a_video_codec", column="vcodec", op="in", threshold=self.codecs),
            Rule(reason="too_short", column="duration_s", op="ge", threshold=self.min_duration_s),
            Rule(reason="too_narrow", column="width", op="ge", threshold=self.min_width),
            Rule(reason="too_low", column="height", op="ge", threshold=self.min_height),
            Rule(reason="too_wide", column="width", op="le", threshold=self.max_width),
            Rule(reason="too_tall", column="height", op="le", threshold=self.max_height),
        ]


@kit_asset(
    group="finevideo",
    partitions_def=video_shards,
    kinds=("polars", "parquet", "video"),
    rules=VideoFileRules(),
    screen=True,
    check_specs=(provenance_spec, named_check(*SCHEMA_CHECK)),
    description=(
        "Each language-kept video fetched by the video_source resource (the row's video_path, the "
        "landing zone's videos/<id>.<ext>, an http(s)/s3/gs URI, or yt-dlp when enabled), probed "
        "(duration covered by packets, exact frame count, nominal and average fps and a vfr flag from "
        "the packet timestamps, rotation from the display matrix, displayed and coded size, codecs), stored in the content-addressed media "
        "store with its English subtitles. A missing, empty, truncated or undecodable file is that "
        "row's rejection with its reason; the shard goes on."
    ),
)
def video_files(context: dg.AssetExecutionContext, language_screen: pl.DataFrame,
                raw_video_metadata: pl.DataFrame, video_source: VideoSource, video: VideoTools,
                media: MediaStore):
    todo = kept(language_screen).join(
        raw_video_metadata.select("record_id", "video_path", "video_link"), on="record_id", how="left")
    with ThreadPoolExecutor(max(1, video_source.workers)) as pool:
        measured = list(pool.map(lambda r: fetch_one(r, video_source, video, media), todo.iter_rows(named=True)))
    skip = ("video_id", "shard", "kept", "reason", "reasons", "detail", "parent_ids", "models")
    schema = {c: t for c, t in VIDEO_FILES.items() if c not in skip}
    found = pl.DataFrame([{c: row.get(c) for c in schema} for row in map(stored_outcome, measured)], schema=schema)
    rows = todo.select("record_id", "video_id", "shard").join(found, on="record_id", how="left")
    rules = VideoFileRules()
    df = conform(declare(screen(rows, rules.rules())), VIDEO_FILES)
    reasons = {str(r): int(n) for r, n in df.filter(~pl.col("kept")).group_by("reason").len().iter_rows()}
    metadata = {
        **screen_counts(df),
        "stored_bytes": int(df.filter(pl.col("kept"))["size_bytes"].sum() or 0),
        "video_seconds": round(float(df.filter(pl.col("kept"))["duration_s"].sum() or 0.0), 1),
        "rotated": int(df.filter(pl.col("kept") & (pl.col("rotation_deg") != 0)).height),
        "variable_frame_rate": int(df.filter(pl.col("kept") & pl.col("vfr")).height),
        "preview": preview(df, ["record_id", "duration_s", "fps", "avg_fps", "width", "height", "rotation_deg",
                                "vfr", "vcodec", "kept", "reason", "detail"]),
    }
    if reasons:
        metadata["rejections"] = bar_chart(reasons, "video files rejected by reason")
    context.log.info(f"{kept(df).height}/{df.height} videos stored")
    yield versioned(df, metadata, rules=rules)
    yield from screen_check_results(df, todo.height)
    yield provenance_result(df)
    yield dg.AssetCheckResult(**schema_check(df, VIDEO_FILES))
