"""Stand-in partitions of the four FineVideo screens (built in parallel), from the corpus manifest.

The curation assets read `language_screen`, `video_files`, `word_density_screen` and
`dynamism_screen` by their column contract. Until those assets exist, tests write their partitions
where the Parquet IO manager reads them: verdicts from the manifest's expected outcomes, media facts
from real probes of the corpus files, motion per second measured by decoding, scene cuts from the
manifest.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

from assets.kit.identity import record_id
from resources.storage import MediaStore
from resources.video import probe


def finevideo_definitions():
    """The FineVideo group alone with the deployment's resources (built from the environment), so
    the group's integration tests do not depend on every other group of the code location."""
    import dagster as dg

    from assets.finevideo.definitions import ASSETS, CHECKS
    from resources.deployment import build_resources

    return dg.Definitions(assets=ASSETS, asset_checks=CHECKS, resources=build_resources())


def _write(data_root: str, asset: str, shard: str, df: pl.DataFrame) -> None:
    path = Path(data_root) / asset / f"{shard}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(path)


def record_ids(data_root: str, shard: str, items: list[dict]) -> list[str]:
    """The raw rows' record ids (`yt:<shard>:<id>:<row>`): read from the materialized
    raw_video_metadata partition when there is one, else minted from the items' order in the shard."""
    path = Path(data_root) / "raw_video_metadata" / f"{shard}.parquet"
    if path.exists():
        raw = pl.read_parquet(path, columns=["video_id", "record_id"]).unique("video_id", keep="first",
                                                                             maintain_order=True)
        ids = dict(raw.iter_rows())
        return [ids[it["id"]] for it in items]
    return [record_id("yt", shard, it["id"], row) for row, it in enumerate(items)]


def _verdict(exp: dict | None) -> tuple[bool, str | None]:
    if exp is None:
        return False, "missing"
    if exp["kept"]:
        return True, None
    return False, (exp.get("reasons") or [exp.get("reason") or "rejected"])[0]


def motion_per_second(path: Path) -> list[float]:
    """Mean absolute luma change between consecutive frames (0-1), averaged per second."""
    import av
    import numpy as np

    per: dict[int, list[float]] = {}
    prev = None
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            y = f.to_ndarray(format="gray", width=64, height=36).astype(np.float32)
            if prev is not None:
                per.setdefault(int(f.time), []).append(float(np.abs(y - prev).mean() / 255))
            prev = y
    return [round(float(np.mean(per.get(s, [0.0]))), 5) for s in range(max(per, default=-1) + 1)]


def fabricate(manifest: dict, landing: Path, data_root: str) -> dict[str, int]:
    """Write the four screens' partitions for every shard of the manifest; returns kept counts."""
    media = MediaStore(root=str(Path(data_root) / "media"), cache_dir=str(Path(data_root) / "cache" / "media"))
    counts = {"language_screen": 0, "video_files": 0, "word_density_screen": 0, "dynamism_screen": 0}
    by_shard: dict[str, list[dict]] = {}
    for it in manifest["items"]:
        if it["kind"] == "video":
            by_shard.setdefault(it["shard"], []).append(it)
    for shard, items in sorted(by_shard.items()):
        base = [{"record_id": rid, "video_id": it["id"], "shard": shard}
                for rid, it in zip(record_ids(data_root, shard, items), items, strict=True)]
        lang, files, density, dyn = [], [], [], []
        for row, it in zip(base, items, strict=True):
            exp = it["expected"]
            ok, reason = _verdict(exp["language"])
            lang.append({**row, "kept": ok, "reason": reason, "original_language": it["language"]["original"],
                         "transcription_language": it["language"]["transcription"], "word_count": it["word_count"]})
            if not ok:
                continue
            ok, reason = _verdict(exp.get("video_file"))
            f = {**row, "kept": ok, "reason": reason}
            if ok:
                video = landing / it["file"]["path"]
                p = probe(video)
                ref = media.put_file(video)
                sub = media.put_file(landing / it["file"]["vtt"], suffix=".vtt")
                f |= {"source_uri": str(video), "media_uri": ref.uri, "sha256": ref.sha256, "size_bytes": ref.size,
                      "container": p.container, "duration_s": p.duration_s, "declared_duration_s": p.declared_duration_s,
                      "fps": p.fps, "width": p.width, "height": p.height, "vcodec": p.vcodec, "acodec": p.acodec,
                      "keyframes": p.keyframes, "subtitle_uri": sub.uri}
            files.append(f)
            if not ok:
                continue
            wd = exp["word_density"]
            density.append({**row, "kept": bool(wd["kept"]), "reason": None if wd["kept"] else "word_density",
                            "word_count": it["word_count"], "duration_s": f["duration_s"],
                            "words_per_second": wd["value"]})
            if not wd["kept"]:
                continue
            d = exp["dynamism"]
            duration = f["duration_s"]
            dyn.append({
                **row, "kept": d["kept"], "reason": None if d["kept"] else "static",
                "media_uri": f["media_uri"], "duration_s": duration, "fps": f["fps"], "segments": d["segments"],
                "static_segments": d["fixed"]["static_segments"], "finevideo_static": d["finevideo"]["static"],
                "fixed_static": d["fixed"]["static"], "static_fraction_segments": d["fixed"]["static_segments"] / d["segments"],
                "fixed_static_fraction": d["fixed"]["static_segments"] / d["segments"],
                "static_fraction_time": d["frozen_fraction"],
                "longest_freeze_s": max((e - s for s, e in d["freezes_d50_s"]), default=0.0),
                "freeze_intervals": [{"start_s": s, "end_s": e} for s, e in d["freezes_d50_s"]],
                "decode_mode": "full", "scene_cuts_s": it["video"]["scene_cuts_s"],
                "motion_per_second": motion_per_second(landing / it["file"]["path"])[: math.ceil(duration)],
            })
        frames = {"language_screen": lang, "video_files": files, "word_density_screen": density, "dynamism_screen": dyn}
        for asset, rows in frames.items():
            df = pl.DataFrame(rows, infer_schema_length=None).with_columns(
                pl.when(pl.col("reason").is_null()).then(pl.lit([], dtype=pl.List(pl.String)))
                .otherwise(pl.concat_list(pl.col("reason").cast(pl.String))).alias("reasons"),
                pl.col("reason").cast(pl.String).alias("detail"),
            ) if rows else pl.DataFrame(schema={"record_id": pl.String, "video_id": pl.String, "shard": pl.String,
                                                "kept": pl.Boolean, "reason": pl.String})
            _write(data_root, asset, shard, df)
            counts[asset] += int(df["kept"].sum()) if df.height else 0
    return counts
