import dagster as dg
import polars as pl

from assets.finevideo.youtube_commons import (
    ShardError,
    extra_columns,
    file_sha256,
    missing_columns,
    normalise,
    read_shard,
)
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.metadata import preview
from assets.kit.partitions import video_shards
from assets.kit.shard_coverage import (
    OK,
    UNREADABLE,
    WITHDRAWN,
    shard_metadata,
    shard_readable,
    shard_readable_spec,
)
from resources.containment import OutsideLandingZone
from resources.landing import LandingZone


@kit_asset(
    group="finevideo",
    partitions_def=video_shards,
    check_specs=(unique_ids_spec, provenance_spec, shard_readable_spec),
    description=(
        "YouTube-Commons metadata of one landed shard, normalised to one schema. Each file is read "
        "on its own (real shards differ in columns); every source row is kept with its file, row and "
        "licence for provenance. A shard that cannot be read, leaves the landing zone or was withdrawn "
        "gives an empty table with the reason (`shard_status`, check `shard_readable`), so fan-ins "
        "go on over the other shards. A row is identified by where it landed (record_id names the shard "
        "and row), so a video landed twice is two records sharing one source_key."
    ),
)
def raw_video_metadata(context: dg.AssetExecutionContext, landing: LandingZone):
    shard = landing.video_shard(context.partition_key)
    raw, status, error, sha = pl.DataFrame(), OK, None, ""
    if shard is None:
        status, error = WITHDRAWN, f"youtube_commons shard {context.partition_key!r} is no longer in {landing.root}"
    else:
        try:
            path = landing.fetch(shard.uri)
            if not path.is_file():  # a fifo would block the read, a folder cannot be one
                raise ShardError(f"unreadable shard {path.name}: not a regular file")
            sha = file_sha256(path)
            raw = read_shard(path)
        except (ShardError, OSError) as e:
            status, error = UNREADABLE, str(e) if isinstance(e, ShardError) else f"{type(e).__name__}: {e}"
        except OutsideLandingZone as e:
            status, error = e.reason, str(e)
    if status != OK:  # the shard still materializes, empty: fan-ins go on over the good shards
        context.log.warning(f"shard {context.partition_key} {status}: {error}")
        raw = pl.DataFrame()
    source = shard.uri if shard else None
    try:
        df = normalise(raw, shard=context.partition_key, source_file=source, source_sha256=sha)
    except pl.exceptions.PolarsError as e:  # a value normalise has no rule for: name the file, not just the cast
        raise dg.Failure(description=f"cannot normalise {source}: {type(e).__name__}: {e}",
                         allow_retries=False) from e
    coerced = df.filter(pl.col("normalization_issues").list.len() > 0).height
    yield versioned(
        df,
        {
            "dagster/row_count": df.height,
            **shard_metadata(status, error),
            "source_file": source or "withdrawn",
            "extra_columns": ", ".join(extra_columns(raw)) or "none",
            "missing_columns": ", ".join(missing_columns(raw)) or "none",
            "rows_with_coerced_values": coerced,
            "licences": dg.MetadataValue.json(
                {str(k): int(v) for k, v in df.group_by("license").len().iter_rows()}
            ),
            "preview": preview(df, ["record_id", "source_key", "title", "channel", "license", "original_language",
                                    "transcription_language", "word_count"]),
        },
    )
    yield unique_ids(df)
    yield provenance_result(df)
    yield shard_readable(status, error)
