"""A labelled near-duplicate video set, and the detector's precision and recall on it.

Families: every real clip in ../shared/realdata/videos (or $MMFOUNDRY_REALDATA/videos) that lasts
at least MIN_CLIP_S and decodes to at least one usable still (5 of the 10 files: the rest are under
5 s); two montages of those clips (COMPILATIONS: multi-shot videos like FineVideo's, which the
one-shot clips are not); and two synthetic slide decks in one template (`corpus.videos`: same
colours, layout and timing, other words; the hard case for a perceptual hash, as lecture uploads in
one channel's template are). Each family is the source and EDITS of it made with imageio-ffmpeg's
binary: re-encoded, half size, letterboxed or pillarboxed to the other aspect, 10% cropped off every
edge, the first quarter trimmed, and combinations. Every pair inside a family is a duplicate (the
same video re-uploaded).

Distinct pairs: every pair across families that show no common footage; each source of at least
2 * MIN_CLIP_S split in two, its first half against its second half ("other half": one source, other
footage, as a channel cutting a long recording into parts publishes different videos); and each
half against the full-length copies of its own video ("excerpt": half of a video is another video,
though every one of its stills is in the copy: the duration rule's business). Left unlabelled, so
counted nowhere: a half against a trim (two thirds as long, half of it or all of it shown) and a
montage against the clips it shows.

The source files are only read; edits and the `still_hashes` `analyse` returns for every video are
cached under the cache folder (bench/out/dedup/videos by default; a few minutes to build on 2
cores, seconds to evaluate from the cache), each under the fingerprint of the code that measured it
(dynamism.py and what it imports, the hashing included), so a stale entry is measured again; delete
the folder after changing an edit. `python -m bench.dedup_videos_set [--cache DIR] [--max-distance N
...]` prints precision and recall per edit kind and per family, with the misses and false alarms,
for the rules given on the command line (defaults: the module's). What it measured is in
assets/hygiene/video_fingerprints.py.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.hygiene.video_fingerprints import (
    DEFAULT_RULES,
    StillHash,
    VideoDedupRules,
    item_row,
    items_frame,
    near_duplicates,
    signature,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / "bench" / "out" / "dedup" / "videos"
MIN_CLIP_S = 5.0
SOURCE = "source"
# Montages of real clips (when all are there): multi-shot videos, with no clip in both.
COMPILATIONS = {
    "montage_a": ("datajuicer_video4", "decord_flipping_a_pancake", "transitiondetect_demo"),
    "montage_b": ("moviepy_big_buck_bunny_0_30", "decord_corrupted"),
}


@dataclass(frozen=True)
class Edit:
    """One ffmpeg re-encode: `vf` is a filter chain, `trim_share` the share of the start cut off."""

    vf: str | None = None
    crf: int = 23
    trim_share: float = 0.0


HALF = "trunc(iw/4)*2:trunc(ih/4)*2"
CROP = "crop=trunc(iw*0.4)*2:trunc(ih*0.4)*2"  # 80% of each side, centred: 10% off every edge
EDITS: dict[str, Edit] = {
    "reencode": Edit(crf=36),
    "resize": Edit(vf=f"scale={HALF}"),
    "letterbox": Edit(vf="{box}"),
    "crop": Edit(vf=CROP),
    "trim": Edit(trim_share=0.25),
    "resize+letterbox": Edit(vf=f"scale={HALF},{{box}}", crf=32),
    "crop+resize": Edit(vf=f"{CROP},scale={HALF}"),
    "trim+crop": Edit(vf=CROP, trim_share=0.25),
}
TRIMMED = {k for k, e in EDITS.items() if e.trim_share}  # a half lasts two thirds of these: unlabelled


@dataclass(frozen=True)
class Video:
    name: str
    family: str
    edit: str  # SOURCE, an EDITS key, "half1" or "half2"
    duration_s: float
    still_hashes: list[StillHash]  # as the dynamism screen stores them: every still, flat ones too
    footage: frozenset[str]  # the real clips it shows: a compilation shares footage with its clips


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    duplicate: bool
    kind: str  # the edit against its source, "edit~edit", "other video", "other half" or "excerpt"


@dataclass(frozen=True)
class LabelledSet:
    videos: dict[str, Video]
    pairs: list[Pair]


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: Path) -> tuple[float, int, int]:
    """(duration_s, width, height) of the first video stream."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return container.duration / 1e6, stream.width, stream.height


def _box(width: int, height: int) -> str:
    """Pad to the other common aspect: wide footage gets bars above and below (4:3), narrow footage
    bars left and right (16:9)."""
    if width / height > 1.5:
        return "pad=iw:trunc(iw*3/8)*2:0:(oh-ih)/2:black"
    return "pad=trunc(ih*8/9)*2:ih:(ow-iw)/2:0:black"


def encode(src: Path, dst: Path, vf: str | None = None, crf: int = 23, start_s: float = 0.0,
           length_s: float | None = None) -> Path:
    """One libx264 encode without audio, written beside `dst` and renamed, so a cut-off run never
    leaves a file the cache would trust."""
    if dst.exists():
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.stem + ".part" + dst.suffix)
    cmd = [ffmpeg(), "-v", "error", "-y", *(["-ss", f"{start_s:.3f}"] if start_s else []), "-i", str(src)]
    cmd += [*(["-t", f"{length_s:.3f}"] if length_s else []), *(["-vf", vf] if vf else [])]
    cmd += ["-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-threads", "1", str(part)]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or not part.exists():
        part.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed on {src.name}: {proc.stderr.decode(errors='replace')[-500:]}")
    part.rename(dst)
    return dst


def make_edit(src: Path, dst: Path, edit: Edit) -> Path:
    duration_s, width, height = probe(src)
    vf = edit.vf.replace("{box}", _box(width, height)) if edit.vf else None
    return encode(src, dst, vf, edit.crf, start_s=duration_s * edit.trim_share)


def measured_version() -> str:
    """What the stored hashes depend on: the source of dynamism.py and everything it imports (the
    stills' timing, the hashing in video_fingerprints), so an edit there rebuilds the cache."""
    from assets.kit.fingerprint import source_fingerprint

    return source_fingerprint(["assets.finevideo.dynamism"])


def still_hashes(path: Path, cache: Path | None = None) -> tuple[float, list[StillHash]]:
    """(duration_s, `still_hashes`) as the dynamism screen stores them, cached beside the edits
    under the version of the code that measured them (a stale entry is measured again)."""
    from assets.finevideo.dynamism import analyse

    version = measured_version()
    cached = cache / "hashes" / f"{path.name}.pkl" if cache is not None else None
    if cached is not None and cached.exists():
        stored = pickle.loads(cached.read_bytes())
        if stored.get("version") == version:
            return stored["duration_s"], stored["still_hashes"]
    duration_s = probe(path)[0]
    result = analyse(path, duration_s)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": version, "duration_s": duration_s, "still_hashes": result.still_hashes}
        cached.with_suffix(".part").write_bytes(pickle.dumps(payload))
        cached.with_suffix(".part").rename(cached)
    return duration_s, result.still_hashes


def _usable_source(path: Path, cache: Path) -> tuple[float, list[StillHash]] | None:
    try:
        duration_s, hashes = still_hashes(path, cache)
    except Exception:  # a file that does not open or decode is no family
        return None
    return (duration_s, hashes) if duration_s >= MIN_CLIP_S and signature(hashes)[0] else None


def real_sources(folder: Path | None = None) -> list[Path]:
    from tests.realdata.rowtable import REALDATA

    folder = folder or REALDATA / "videos"
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".json")) if folder.is_dir() \
        else []


def synthetic_sources(cache: Path) -> list[Path]:
    """Two four-slide decks in one template (same seed: colours, layout, title bar), other words."""
    from corpus.videos import Segment, VideoSpec, render

    decks = {
        "deck_a": [("Linear models", "least squares", "ridge penalty"), ("Gradient descent", "step size", "momentum"),
                   ("Overfitting", "validation split", "early stopping"), ("Summary", "fit", "check")],
        "deck_b": [("Graph search", "breadth first", "depth first"), ("Shortest paths", "Dijkstra", "A star"),
                   ("Spanning trees", "Kruskal", "Prim"), ("Questions", "office hours", "email")],
    }
    out = []
    for name, slides in decks.items():
        path = cache / "sources" / f"{name}.mp4"
        if not path.exists():
            spec = VideoSpec(tuple(Segment("picture", 3.0, seed=0, lines=s) for s in slides), width=640, height=360,
                             audio=False)
            part = path.with_name(f"{name}.part.mp4")
            render(spec, part)
            part.rename(path)
        out.append(path)
    return out


def compilation(parts: list[Path], dst: Path) -> Path:
    """The clips one after another at 640x360 and 25 fps (narrower ones pillarboxed), as a channel
    uploads a montage: a multi-shot video like FineVideo's, whose trims keep most shot middles."""
    if dst.exists():
        return dst
    chains = [f"[{i}:v]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2:black,"
              f"setsar=1,fps=25,format=yuv420p[v{i}]" for i in range(len(parts))]
    graph = ";".join(chains) + ";" + "".join(f"[v{i}]" for i in range(len(parts))) + f"concat=n={len(parts)}:v=1:a=0[v]"
    part = dst.with_name(dst.stem + ".part" + dst.suffix)
    cmd = [ffmpeg(), "-v", "error", "-y", *[a for p in parts for a in ("-i", str(p))], "-filter_complex", graph,
           "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-threads", "1", str(part)]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or not part.exists():
        part.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed on {dst.name}: {proc.stderr.decode(errors='replace')[-500:]}")
    part.rename(dst)
    return dst


def _family(src: Path, footage: frozenset[str], cache: Path, edits: dict[str, Edit]) -> dict[str, Video]:
    """The source, its edits and (when long enough) its two halves, or nothing when it is unusable."""
    usable = _usable_source(src, cache)
    if usable is None:
        return {}
    family = src.stem
    videos = {family: Video(family, family, SOURCE, *usable, footage)}
    for kind, edit in edits.items():
        name = f"{family}.{kind}"
        path = make_edit(src, cache / f"{name}.mp4", edit)
        videos[name] = Video(name, family, kind, *still_hashes(path, cache), footage)
    if usable[0] >= 2 * MIN_CLIP_S:
        half = usable[0] / 2
        for kind, start in (("half1", 0.0), ("half2", half)):
            path = encode(src, cache / f"{family}.{kind}.mp4", start_s=start, length_s=half)
            videos[f"{family}.{kind}"] = Video(f"{family}.{kind}", family, kind, *still_hashes(path, cache), footage)
    return videos


def build(cache: Path = DEFAULT_CACHE, sources: list[Path] | None = None, synthetic: bool = True,
          edits: dict[str, Edit] | None = None) -> LabelledSet:
    """Every family's edits and halves (made once, cached) with their stills, and the labelled pairs."""
    edits = EDITS if edits is None else edits
    cache.mkdir(parents=True, exist_ok=True)
    videos: dict[str, Video] = {}
    real = list(real_sources() if sources is None else sources)
    for src in real:
        videos |= _family(src, frozenset([src.stem]), cache, edits)
    for src in synthetic_sources(cache) if synthetic else []:
        videos |= _family(src, frozenset([src.stem]), cache, edits)
    by_name = {p.stem: p for p in real if p.stem in videos}
    for name, parts in COMPILATIONS.items():
        if all(p in by_name for p in parts):
            src = compilation([by_name[p] for p in parts], cache / "sources" / f"{name}.mp4")
            videos |= _family(src, frozenset(parts), cache, edits)
    return LabelledSet(videos, label(videos))


def label(videos: dict[str, Video]) -> list[Pair]:
    pairs = []
    for x, y in itertools.combinations(sorted(videos.values(), key=lambda v: v.name), 2):
        halves = {x.edit, y.edit} & {"half1", "half2"}
        if x.family != y.family:
            if not x.footage & y.footage:  # a compilation against one of its clips is left unlabelled
                pairs.append(Pair(x.name, y.name, False, "other video"))
        elif halves == {"half1", "half2"} and x.edit != y.edit:
            pairs.append(Pair(x.name, y.name, False, "other half"))
        elif halves and not {x.edit, y.edit} & TRIMMED:  # half of a full-length copy: an excerpt
            pairs.append(Pair(x.name, y.name, False, "excerpt"))
        elif not halves:
            kind = y.edit if x.edit == SOURCE else x.edit if y.edit == SOURCE else "edit~edit"
            pairs.append(Pair(x.name, y.name, True, kind))
    return pairs


def items(labelled: LabelledSet) -> pl.DataFrame:
    return items_frame(item_row(v.name, v.duration_s, v.still_hashes) for v in labelled.videos.values())


def scored(labelled: LabelledSet, rules: VideoDedupRules = DEFAULT_RULES) -> pl.DataFrame:
    """Every labelled pair with the detector's answer (found among all items in one query)."""
    found = near_duplicates(items(labelled), rules=rules)
    hits = {frozenset(p) for p in found.select("a", "b").iter_rows()}
    measured = {frozenset((a, b)): (m, s) for a, b, m, s in found.select("a", "b", "matched", "share").iter_rows()}
    return pl.DataFrame([
        {"a": p.a, "b": p.b, "kind": p.kind, "duplicate": p.duplicate,
         "found": frozenset((p.a, p.b)) in hits,
         "matched": measured.get(frozenset((p.a, p.b)), (None, None))[0]}
        for p in labelled.pairs
    ])


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def table(answers: pl.DataFrame) -> pl.DataFrame:
    """Per kind: pairs, duplicates among them, found, right and wrong; precision and recall."""
    kinds = [*EDITS, "edit~edit", "other half", "excerpt", "other video"]
    order = {k: i for i, k in enumerate(kinds)}
    per_kind = (answers.group_by("kind").agg(
        pl.len().alias("pairs"), pl.col("duplicate").sum().alias("duplicates"), pl.col("found").sum().alias("found"),
        (pl.col("found") & pl.col("duplicate")).sum().alias("true_pos"),
        (pl.col("found") & ~pl.col("duplicate")).sum().alias("false_pos"))
        .sort(pl.col("kind").replace_strict(order, default=len(kinds))))
    total = per_kind.select(pl.lit("all").alias("kind"), pl.exclude("kind").sum())
    out = pl.concat([per_kind, total])
    return out.with_columns(
        pl.struct("true_pos", "found").map_elements(lambda r: _ratio(r["true_pos"], r["found"]),
                                                    return_dtype=pl.Float64).alias("precision"),
        pl.struct("true_pos", "duplicates").map_elements(lambda r: _ratio(r["true_pos"], r["duplicates"]),
                                                         return_dtype=pl.Float64).alias("recall"))


def per_family(answers: pl.DataFrame, labelled: LabelledSet) -> pl.DataFrame:
    """Recall inside each family, beside how many usable stills its source has (a one-shot clip has
    one, so a trim of it keeps nothing the source shows at the same moment)."""
    stills = {v.family: len(signature(v.still_hashes)[0]) for v in labelled.videos.values() if v.edit == SOURCE}
    trims = pl.col("a").str.contains(r"\.trim") | pl.col("b").str.contains(r"\.trim")
    return (answers.filter(pl.col("duplicate"))
            .with_columns(pl.col("a").map_elements(lambda n: labelled.videos[n].family, return_dtype=pl.String)
                          .alias("family"))
            .group_by("family").agg(pl.len().alias("pairs"), pl.col("found").sum().alias("found"),
                                    trims.sum().alias("trim_pairs"),
                                    (trims & pl.col("found")).sum().alias("trims_found"))
            .with_columns(pl.col("family").replace_strict(stills, return_dtype=pl.Int64).alias("source_stills"),
                          (pl.col("found") / pl.col("pairs")).round(3).alias("recall"))
            .sort("family"))


def evaluate(rules: VideoDedupRules = DEFAULT_RULES, cache: Path = DEFAULT_CACHE,
             labelled: LabelledSet | None = None, show: bool = True) -> dict:
    """Precision and recall of `rules` over the labelled pairs (others do not count), per kind and
    overall; printed as a table when `show`."""
    labelled = labelled or build(cache)
    answers = scored(labelled, rules)
    per_kind = table(answers)
    overall = per_kind.filter(pl.col("kind") == "all").row(0, named=True)
    if show:
        families = sorted({v.family for v in labelled.videos.values()})
        print(f"{len(labelled.videos)} videos in {len(families)} families: {', '.join(families)}")
        print(rules.describe())
        with pl.Config(tbl_rows=50, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
            print(per_kind)
            print(per_family(answers, labelled))
        for title, wrong in (("missed", pl.col("duplicate") & ~pl.col("found")),
                             ("false alarms", ~pl.col("duplicate") & pl.col("found"))):
            rows = answers.filter(wrong).select("a", "b", "kind").rows()
            print(f"{title}: {len(rows)}" + "".join(f"\n  {a} ~ {b} ({k})" for a, b, k in rows))
    return {"precision": overall["precision"], "recall": overall["recall"], "pairs": overall["pairs"],
            "duplicates": overall["duplicates"], "per_kind": per_kind.to_dicts()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    for name, field in VideoDedupRules.model_fields.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(field.default), default=field.default)
    args = parser.parse_args(argv)
    rules = VideoDedupRules(**{k: getattr(args, k) for k in VideoDedupRules.model_fields})
    evaluate(rules, args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
