"""YouTube-Commons metadata shards, deliberately heterogeneous.

Real YouTube-Commons files do not share one schema: some carry only the dataset card's columns,
some add yt-dlp fields, some say `language_id_method` instead of `source_language` and store counts
as strings. A reader that assumes one schema breaks on the second file; these three flavours make
sure it is tested against all of them.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CARD = {
    "video_id": pa.string(),
    "video_link": pa.string(),
    "title": pa.string(),
    "text": pa.string(),
    "channel": pa.string(),
    "channel_id": pa.string(),
    "date": pa.string(),
    "license": pa.string(),
    "original_language": pa.string(),
    "source_language": pa.string(),
    "transcription_language": pa.string(),
    "word_count": pa.int64(),
    "character_count": pa.int64(),
}
YTDLP = {
    "view_count": pa.int64(),
    "like_count": pa.int64(),
    "comment_count": pa.int64(),
    "channel_follower_count": pa.int64(),
    "duration_string": pa.string(),
    "upload_date": pa.string(),
    "tags": pa.list_(pa.string()),
    "categories": pa.list_(pa.string()),
    "description": pa.string(),
    "resolution": pa.string(),
    "acodec": pa.string(),
    "vcodec": pa.string(),
    "age_limit": pa.int64(),
}


def _langid_schema() -> dict:
    cols = {("language_id_method" if k == "source_language" else k): v for k, v in CARD.items()}
    cols["language_id_method"] = pa.string()
    cols["word_count"] = pa.string()
    cols["character_count"] = pa.string()
    cols |= YTDLP
    cols["view_count"] = pa.string()
    cols["like_count"] = pa.string()
    cols["channel_follower_count"] = pa.float64()
    cols["video_path"] = pa.string()
    return cols


FLAVOURS: dict[str, dict] = {
    "card": dict(CARD),  # the dataset card, nothing else; no engagement, no duration
    "ytdlp": CARD | YTDLP,  # card + yt-dlp info fields
    "ytdlp_langid": _langid_schema(),  # renamed column, counts as strings, a video_path column
}

_ID_CHARS = string.ascii_letters + string.digits + "-_"


def video_id(rng: random.Random) -> str:
    return "".join(rng.choice(_ID_CHARS) for _ in range(11))


def channel_id(name: str) -> str:
    """Stable per channel name, whatever the seed, so a channel keeps its id across shards."""
    r = random.Random(name)
    return "UC" + "".join(r.choice(_ID_CHARS) for _ in range(22))


def duration_string(seconds: float) -> str:
    """yt-dlp's format: "4:05", "1:02:03"."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _cast(value, typ: pa.DataType):
    if value is None:
        return None
    if pa.types.is_string(typ) and isinstance(value, int | float):
        return str(int(value))
    if pa.types.is_floating(typ):
        return float(value)
    return value


def shard_table(rows: list[dict], flavour: str) -> pa.Table:
    """Rows are flat dicts with every field any flavour may need; the flavour picks and types."""
    schema = FLAVOURS[flavour]
    cols = {}
    for name, typ in schema.items():
        cols[name] = pa.array([_cast(r.get(name), typ) for r in rows], type=typ)
    return pa.table(cols)


def write_shard(rows: list[dict], flavour: str, path: Path) -> pa.Table:
    table = shard_table(rows, flavour)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return table
