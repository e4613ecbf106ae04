"""Seeded sample corpus: a landing zone whose every item has a known, stated outcome.

`build_corpus` writes YouTube-Commons shards, videos with subtitles, and PDFA-shaped documents, and
a `corpus_manifest.json` that says, per item, what it is and what each screen must decide. Tests
and the demo read outcomes from the manifest instead of re-deriving them, so a screen that drifts
from the recipe shows up as a disagreement with data built to be unambiguous.

Layout under `out`:
    youtube_commons/<shard>.parquet        metadata rows (three column flavours, see shards.py)
    videos/<video_id>.mp4, .en.vtt         media and subtitles (only for rows a download would fetch)
    pdfa/<shard>/<doc_key>.pdf, .json      documents and PDFA sidecars (about half have one)
    corpus_manifest.json                   written last: its presence means the build finished

Manifest: {builder, version, seed, size, rules (thresholds the expectations use), layout, shards
{youtube_commons: [{shard, path, flavour, rows, columns}], pdfa: [{shard, path, documents}]}, counts,
items}. A video item (one per metadata row) has id, case, shard, title, channel, channel_id, topic
(taxonomy leaf path joined with " > "), language, word_count, speakers, speaker_style (how the
subtitles mark turns: label, voice or dash), subtitle_overrun_s (cues past the video's end), file
{state: ok | truncated | empty | corrupt | missing, path, vtt, bytes, sha256} or null when no
download happens, video {duration_s, width, height (as displayed), coded_width, coded_height,
rotation_deg, fps (nominal), vfr, frame_count, gop_frames, has_audio, scene_cuts_s,
still_intervals_s, slow_drift, segments} or null, and expected {language, video_file, word_density, dynamism, annotation,
first_rejection, selectable}, each screen present only if the row reaches it. A document item has id
(the PDFA key), case, shard, path, sidecar, pages, has_text_layer, encrypted, password, title, facts
(what a question writer should find) and expected {kept, reasons}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus import documents, expect
from corpus.shards import channel_id, duration_string, video_id, write_shard
from corpus.topics import FOREIGN, TOPIC_BY_KEY, Topic
from corpus.transcripts import Cue, compose, compose_foreign, join, layout_cues, word_count, write_vtt
from corpus.videos import MOVING_SOURCES, Segment, VideoSpec, render, truncate

VERSION = "5"
MANIFEST = "corpus_manifest.json"
SIZES = ("tiny", "small")

# flavour of each metadata shard
VIDEO_SHARDS = {"shard-001": "card", "shard-002": "ytdlp", "shard-003": "ytdlp_langid"}


@dataclass(frozen=True)
class Case:
    case: str
    shard: str
    topic: str
    duration_s: float
    sizes: tuple[str, ...] = ("tiny", "small")
    channel: int = 0
    language: tuple[str, str] = ("en", "en")  # original, transcription
    words: int | None = None  # exact word count; else ~rate * duration
    rate: float = 2.4
    small_video: bool = False  # 160x90 at 5 fps: the > 10 min ones
    stats: bool = True  # False: yt-dlp returned no engagement numbers for this row
    rotation: int = 0  # a phone's display matrix: coded landscape, shown rotated (clockwise degrees)
    vfr: bool = False  # variable frame rate (frames of 0.1 and 0.2 s)
    speaker_style: str = "label"  # how the subtitles mark speakers: "label" (Name:), "voice" (<v Name>), "dash"
    overrun_s: float = 0.0  # subtitle cues that run this far past the video's end (clipped by the pipeline)


S = ("small",)
CASES: tuple[Case, ...] = (
    # shard-001: dataset-card columns only (no engagement, no duration_string)
    Case("dynamic_cuts", "shard-001", "bread", 90),
    Case("still", "shard-001", "astronomy", 75),
    Case("partly_frozen", "shard-001", "aqueducts", 122, overrun_s=6.0),
    Case("speech_light", "shard-001", "hiking", 120, words=54),
    Case("non_english", "shard-001", "bread", 300, language=("fr", "fr")),
    Case("few_words", "shard-001", "python", 45, words=23),
    Case("truncated", "shard-001", "lantern_walkthrough", 80),
    Case("missing_file", "shard-001", "astronomy", 95),
    # shard-002: card + yt-dlp fields
    Case("short_last_segment", "shard-002", "tomatoes", 105),
    Case("dynamic_cuts", "shard-002", "python", 64, stats=False, rotation=90),
    Case("few_words", "shard-002", "ev_review", 40, words=50),
    Case("dynamic_cuts", "shard-002", "bread", 80, S, speaker_style="voice"),
    Case("dynamic_cuts", "shard-002", "ev_review", 75, S, speaker_style="dash"),
    Case("slideshow_slow", "shard-002", "gradient_descent", 180, S, rate=2.0),
    Case("slow_drift", "shard-002", "astronomy", 100, S),
    Case("non_english", "shard-002", "tomatoes", 240, S, language=("de", "en")),
    Case("empty_file", "shard-002", "sprint", 70, S),
    Case("dynamic_cuts", "shard-002", "watercolour", 70, S),
    # shard-003: language_id_method, counts as strings, video_path
    Case("long", "shard-003", "heat_interview", 660, S, rate=1.1, small_video=True),
    Case("long", "shard-003", "lantern_walkthrough", 615, S, rate=1.0, small_video=True),
    Case("slideshow_fast", "shard-003", "python", 120, S, rate=2.2),
    Case("dynamic_cuts", "shard-003", "ev_review", 85, S, vfr=True),
    Case("dynamic_cuts", "shard-003", "ev_review", 70, S),
    Case("dynamic_cuts", "shard-003", "bread", 95, S),
    Case("dynamic_cuts", "shard-003", "bread", 66, S, channel=1),
    Case("garbage_file", "shard-003", "tomatoes", 90, S),
    Case("non_english", "shard-003", "astronomy", 180, S, language=("en", "es")),
    Case("few_words", "shard-003", "sprint", 30, S, words=12),
    Case("dynamic_cuts", "shard-003", "sprint", 72, S, stats=False),
    Case("dynamic_cuts", "shard-003", "lantern_walkthrough", 88, S),
    Case("dynamic_cuts", "shard-003", "gradient_descent", 75, S),
)
NO_FILE = {"non_english", "few_words", "missing_file"}  # no download happens, or it failed
BROKEN = {"truncated": "truncated", "empty_file": "empty", "garbage_file": "corrupt"}  # VideoError reasons

# (case, shard, sidecar, sizes); a PDFA key is a 7-digit string
DOC_CASES: tuple[tuple[str, str, bool, tuple[str, ...]], ...] = (
    ("invoice", "shard-001", True, ("tiny", "small")),
    ("no_text_layer", "shard-001", True, ("tiny", "small")),
    ("report_table", "shard-002", False, ("tiny", "small")),
    ("long_document", "shard-002", True, ("tiny", "small")),
    ("invoice", "shard-001", False, S),
    ("form", "shard-001", True, S),
    ("report_table", "shard-001", True, S),
    ("multi_page", "shard-001", False, S),
    ("garbage", "shard-001", False, S),
    ("invoice", "shard-002", False, S),
    ("form", "shard-002", False, S),
    ("multi_page", "shard-002", True, S),
    ("encrypted", "shard-002", False, S),
    ("encrypted_owner_only", "shard-002", True, S),
    ("korean_invoice", "shard-002", True, ("tiny", "small")),
    ("korean_scanned", "shard-001", False, ("tiny", "small")),
    # a second Korean invoice, read from its text layer (no sidecar), in the other shard
    ("korean_invoice", "shard-001", False, ("tiny", "small")),
)


@dataclass
class Plan:
    seed: int
    size: str
    rows: dict[str, list[dict]] = field(default_factory=dict)
    renders: list[tuple[VideoSpec, str, str]] = field(default_factory=list)  # spec, rel path, state
    vtts: list[tuple[list[Cue], str, str]] = field(default_factory=list)  # cues, rel path, speaker style
    docs: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)


def _dynamic_segments(rng: random.Random, duration: float, lo: float, hi: float) -> list[Segment]:
    segs: list[Segment] = []
    left, last = duration, None
    while left > 0:
        d = float(rng.randint(int(lo), int(hi)))
        if left - d < lo:
            d = left
        src = rng.choice([s for s in MOVING_SOURCES if s != last])
        segs.append(Segment(src, d, seed=rng.randrange(100)))
        left -= d
        last = src
    return segs


def _segments(case: Case, topic: Topic, rng: random.Random) -> list[Segment]:
    d = case.duration_s
    pic = topic.slide_lines
    if case.case == "still":
        return [Segment("picture", d, style="poster", lines=(pic[0],))]
    if case.case == "partly_frozen":  # RECIPES' example: 122 s, frozen 0-70 s
        return [Segment("picture", 70, lines=pic, seed=1), *_dynamic_segments(rng, d - 70, 20, 30)]
    if case.case == "short_last_segment":  # moving 0-52 s, frozen 52-105 s (see expect.dynamism)
        moving = _dynamic_segments(rng, 52, 24, 28)
        held = next(s for s in ("testsrc", "bars") if s != moving[-1].source)
        return [*moving, Segment(held, d - 52, frozen=True)]
    if case.case == "slideshow_slow":  # two 90 s slides: 2 of 3 segments static
        return [Segment("picture", d / 2, lines=pic, seed=i) for i in range(2)]
    if case.case == "slideshow_fast":  # a slide every 20 s: never a 50 s freeze
        n = round(d / 20)
        return [
            Segment("picture", d / n, lines=(f"{pic[0]} ({i + 1}/{n})", *pic[1:]), seed=i) for i in range(n)
        ]
    if case.case == "slow_drift":
        return [Segment("picture", d, drift=True, style="poster", lines=(pic[0],))]
    if case.case == "long":
        return _dynamic_segments(rng, d, 40, 80)
    return _dynamic_segments(rng, d, 14, 30)


_SPEAKER = re.compile(r"^((?:[A-Z][\w.]*)(?: [A-Z][\w.]*){0,2}):")


def _speakers(sentences: list[str]) -> list[str]:
    names: list[str] = []
    for s in sentences:
        m = _SPEAKER.match(s)
        if m and m[1] not in names:
            names.append(m[1])
    return names


def _date(rng: random.Random) -> tuple[str, str]:
    y, m, d = rng.randint(2019, 2024), rng.randint(1, 12), rng.randint(1, 28)
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z", f"{y}{m:02d}{d:02d}"


def plan(seed: int = 0, size: str = "small") -> Plan:
    """Everything the build will write, decided without writing anything (deterministic in seed)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")
    rng = random.Random(f"corpus:{seed}:videos")
    p = Plan(seed, size, rows={k: [] for k in VIDEO_SHARDS})
    per_channel: dict[str, int] = {}
    for case in CASES:
        if size not in case.sizes:
            continue
        topic = TOPIC_BY_KEY[case.topic]
        channel = topic.channels[case.channel]
        n_video = per_channel.get(channel.name, 0)
        per_channel[channel.name] = n_video + 1
        vid = video_id(rng)
        original, transcription = case.language
        if transcription != "en":
            foreign = FOREIGN[transcription]
            sentences = compose_foreign(foreign, case.words or int(case.rate * case.duration_s))
            title = foreign.title
        else:
            n_words = case.words or int(case.rate * case.duration_s * rng.uniform(0.9, 1.1))
            sentences = compose(topic, channel.name, rng, n_words, exact=case.words is not None)
            title = FOREIGN[original].title if original != "en" else topic.titles[n_video % len(topic.titles)]
        text = join(sentences)
        words = word_count(text)

        has_file = case.case not in NO_FILE
        spec = None
        if case.case not in NO_FILE | {"empty_file", "garbage_file"}:
            small = case.small_video
            spec = VideoSpec(
                tuple(_segments(case, topic, rng)),
                width=160 if small else 256,
                height=90 if small else 144,
                fps=5 if small else 10,
                gop_s=rng.choice((2.0, 3.0, 4.0, 5.0)),
                faststart=case.case == "truncated",
                rotation=case.rotation,
                vfr=case.vfr,
            )
            if spec.duration_s != case.duration_s:
                raise AssertionError(f"{case}: segments add up to {spec.duration_s}")
            problems = expect.fragile(spec.duration_s, spec.still_intervals_s)
            if problems:
                raise AssertionError(f"{case.case} {vid}: outcome would hinge on a frame: {problems}")
        duration = case.duration_s if case.case not in {"non_english", "few_words"} else None
        cues = layout_cues(sentences, case.duration_s + case.overrun_s) if has_file else []
        if spec is not None:  # the audio speaks the cues the video has room for
            spec = replace(spec, tones=tuple((c.start, min(c.end, case.duration_s)) for c in cues
                                             if c.start < case.duration_s))

        date, upload = _date(rng)
        views = int(channel.followers * rng.lognormvariate(-0.7, 0.9)) + rng.randint(40, 400)
        row = {
            "video_id": vid,
            "video_link": f"https://www.youtube.com/watch?v={vid}",
            "title": title,
            "text": text,
            "channel": channel.name,
            "channel_id": channel_id(channel.name),
            "date": date,
            "license": "CC-BY",
            "original_language": original,
            "source_language": original,
            "language_id_method": rng.choice(("youtube_metadata", "youtube_metadata", "fasttext")),
            "transcription_language": transcription,
            "word_count": words,
            "character_count": len(text),
            "view_count": views,
            "like_count": int(views * rng.uniform(0.01, 0.06)),
            "comment_count": int(views * rng.uniform(0.0005, 0.004)),
            "channel_follower_count": channel.followers,
            "duration_string": duration_string(case.duration_s),
            "upload_date": upload,
            "tags": list(rng.sample(topic.tags, rng.randint(2, len(topic.tags)))),
            "categories": [topic.youtube_category],
            "description": f"{title}. {sentences[0]}",
            "resolution": "x".join(map(str, spec.display_size)) if spec else "256x144",
            "acodec": "mp4a.40.2",
            "vcodec": "avc1.42c00d",
            "age_limit": 0,
            "video_path": f"videos/{vid}.mp4" if has_file else None,
        }
        if not case.stats:
            row.update(view_count=None, like_count=None, comment_count=None)
        p.rows[case.shard].append(row)

        rel = f"videos/{vid}.mp4"
        state = (
            BROKEN.get(case.case, "ok") if has_file else "missing" if case.case == "missing_file" else None
        )
        if spec is not None:
            p.renders.append((spec, rel, state))
        if has_file:
            p.vtts.append((cues, f"videos/{vid}.en.vtt", case.speaker_style))
        p.items.append(_video_item(case, vid, row, topic, spec, state, sentences, duration))

    drng = random.Random(f"corpus:{seed}:documents")
    keys: set[str] = set()
    for kind, shard, sidecar, sizes in DOC_CASES:
        if size not in sizes:
            continue
        key = f"{drng.randrange(10**7):07d}"
        while key in keys:
            key = f"{drng.randrange(10**7):07d}"
        keys.add(key)
        p.docs.append(
            {"kind": kind, "shard": shard, "key": key, "sidecar": sidecar, "seed": drng.randrange(2**31)}
        )
    return p


def _video_item(case, vid, row, topic, spec, state, sentences, duration) -> dict:
    lang = expect.language(row["original_language"], row["transcription_language"], row["word_count"])
    item = {
        "id": vid,
        "kind": "video",
        "case": case.case,
        "shard": case.shard,
        "title": row["title"],
        "channel": row["channel"],
        "channel_id": row["channel_id"],
        "topic": topic.leaf_path,
        "language": {"original": row["original_language"], "transcription": row["transcription_language"]},
        "word_count": row["word_count"],
        "speakers": _speakers(sentences),
        "speaker_style": case.speaker_style,
        "subtitle_overrun_s": case.overrun_s,
        "file": None,
        "video": None,
    }
    if state is not None:
        item["file"] = {
            "state": state,
            "path": None if state == "missing" else f"videos/{vid}.mp4",
            "vtt": None if state == "missing" else f"videos/{vid}.en.vtt",
        }
    if spec is not None:
        item["video"] = {
            "duration_s": spec.duration_s,
            "width": spec.display_size[0],  # as shown: coded size turned by the rotation
            "height": spec.display_size[1],
            "coded_width": spec.width,
            "coded_height": spec.height,
            "rotation_deg": spec.rotation,
            "fps": spec.fps,  # nominal
            "vfr": spec.vfr,
            "frame_count": spec.frame_count,
            "gop_frames": spec.gop,
            "has_audio": spec.audio,
            "scene_cuts_s": spec.cut_times_s,
            "still_intervals_s": [list(x) for x in spec.still_intervals_s],
            "slow_drift": any(s.drift for s in spec.segments),
            "segments": [
                {"source": s.source, "start_s": a, "end_s": a + s.duration_s, "still": s.still}
                for s, a in zip(spec.segments, spec.boundaries(), strict=True)
            ],
        }
    exp: dict = {"language": lang}
    if lang["kept"]:
        ok = state == "ok"
        exp["video_file"] = {"kept": ok, "reason": None if ok else state}
        if ok:
            exp["word_density"] = expect.word_density(row["word_count"], duration)
            dyn = expect.dynamism(spec.duration_s, spec.still_intervals_s)
            dyn["kept"] = not dyn["fixed"]["static"]  # the screen's verdict: the fixed rule
            exp["dynamism"] = dyn
            exp["annotation"] = expect.annotation(duration)
    stages = ("language", "video_file", "word_density", "dynamism")
    exp["first_rejection"] = next((s for s in stages if s in exp and not exp[s]["kept"]), None)
    exp["selectable"] = exp["first_rejection"] is None
    item["expected"] = exp
    return item


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_doc(out: Path, d: dict) -> dict:
    rng = random.Random(d["seed"])
    rel = f"pdfa/{d['shard']}/{d['key']}.pdf"
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    side_rel = f"pdfa/{d['shard']}/{d['key']}.json" if d["sidecar"] else None
    side = out / side_rel if side_rel else None
    kind = d["kind"]
    readable, encrypted, has_text = True, False, True
    if kind == "invoice":
        meta = documents.invoice(rng, path, side)
    elif kind == "form":
        meta = documents.form(rng, path, side)
    elif kind == "report_table":
        meta = documents.report(rng, path, side)
    elif kind == "multi_page":
        meta = documents.handbook(rng, path, side, pages=rng.choice((2, 3)))
    elif kind == "long_document":
        meta = documents.handbook(rng, path, side, pages=6)
    elif kind == "no_text_layer":
        meta, has_text = documents.scanned(rng, path, side), False
    elif kind in ("encrypted", "encrypted_owner_only"):
        user = "user-secret" if kind == "encrypted" else ""
        meta, encrypted, readable = documents.encrypted(rng, path, side, user), True, not user
    elif kind == "korean_invoice":
        meta = documents.korean_invoice(rng, path, side)
    elif kind == "korean_scanned":
        meta, has_text = documents.korean_scanned(rng, path, side), False
    elif kind == "garbage":
        meta, readable, has_text, side_rel = documents.garbage(rng, path), False, False, None
    else:
        raise ValueError(kind)
    return {
        "id": d["key"],
        "kind": "document",
        "case": kind,
        "shard": d["shard"],
        "path": rel,
        "sidecar": side_rel,
        "pages": meta["pages"],
        "has_text_layer": has_text,
        "language": meta.get("language", "en"),
        "encrypted": encrypted,
        "password": "user-secret" if kind == "encrypted" else None,
        "title": meta["title"],
        "facts": meta["facts"],
        "bytes": path.stat().st_size,
        # a page without a text layer is read by OCR (documents' text gate): text-less only if unreadable
        "expected": expect.document(readable, encrypted, meta["pages"], has_text=readable),
    }


def _damage(path: Path, state: str, rng: random.Random) -> None:
    """Truncated keeps the first half of the bytes (header first, so it still probes with its full
    duration, then decoding fails part way); empty is 0 bytes; corrupt is noise (no container at all)."""
    if state == "truncated":
        truncate(path, 0.5)
    elif state == "empty":
        path.write_bytes(b"")
    elif state == "corrupt":
        path.write_bytes(rng.randbytes(48_000))


def _paths(manifest: dict) -> list[str]:
    out = [s["path"] for s in manifest["shards"]["youtube_commons"]]
    for it in manifest["items"]:
        f = it.get("file") or {}
        out += [x for x in (f.get("path"), f.get("vtt"), it.get("path"), it.get("sidecar")) if x]
    return out


def _current(out: Path, seed: int, size: str) -> dict | None:
    path = out / MANIFEST
    if not path.exists():
        return None
    try:
        m = json.loads(path.read_text())
    except ValueError:
        return None
    if (m.get("version"), m.get("seed"), m.get("size")) != (VERSION, seed, size):
        return m | {"_stale": True}
    if all((out / p).exists() for p in _paths(m)):
        return m
    return m | {"_stale": True}


def build_corpus(out: Path, seed: int = 0, size: str = "small", jobs: int | None = None) -> dict:
    """Build (or reuse) the sample corpus under `out`; returns the manifest.

    A manifest for the same version, seed and size whose files all exist means the work is done.
    Otherwise the files an older manifest lists are removed first, so switching seeds or sizes
    never leaves stray shards in the landing zone for a sensor to pick up.
    """
    out = Path(out)
    current = _current(out, seed, size)
    if current is not None and not current.get("_stale"):
        return current
    if current is not None:
        for rel in _paths(current):
            (out / rel).unlink(missing_ok=True)
        (out / MANIFEST).unlink()
    t0 = time.perf_counter()
    p = plan(seed, size)
    out.mkdir(parents=True, exist_ok=True)
    jobs = jobs or max(2, min(4, os.cpu_count() or 2))
    with ThreadPoolExecutor(jobs) as pool:  # ffmpeg runs in subprocesses: threads are enough
        # longest first, so the > 10 min renders do not finish last on a 2-core box
        order = sorted(p.renders, key=lambda r: -r[0].duration_s * r[0].width * r[0].height)
        futures = [pool.submit(render, spec, out / rel) for spec, rel, _ in order]
        shard_meta = []
        for shard, rows in p.rows.items():
            if rows:
                rel = f"youtube_commons/{shard}.parquet"
                table = write_shard(rows, VIDEO_SHARDS[shard], out / rel)
                shard_meta.append(
                    {
                        "shard": shard,
                        "path": rel,
                        "flavour": VIDEO_SHARDS[shard],
                        "rows": table.num_rows,
                        "columns": {f.name: str(f.type) for f in table.schema},
                    }
                )
        for cues, rel, style in p.vtts:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            write_vtt(cues, out / rel, speaker_style=style)
        doc_items = [_write_doc(out, d) for d in p.docs]
        for f in futures:
            f.result()
    drng = random.Random(f"corpus:{seed}:damage")
    full = {rel: (out / rel).stat().st_size for _, rel, _ in p.renders}
    for _, rel, state in p.renders:
        _damage(out / rel, state, drng)
    for it in p.items:
        f = it["file"]
        if f and f["state"] in ("empty", "corrupt"):
            _damage(out / f["path"], f["state"], drng)
        if f and f["state"] == "truncated":
            f["bytes_before_truncation"] = full[f["path"]]
        if f and f["path"]:
            f["bytes"] = (out / f["path"]).stat().st_size
            f["sha256"] = _sha256(out / f["path"])
    doc_shards: dict[str, int] = {}
    for d in doc_items:
        doc_shards[d["shard"]] = doc_shards.get(d["shard"], 0) + 1
    manifest = {
        "builder": "corpus.build",
        "version": VERSION,
        "seed": seed,
        "size": size,
        "rules": expect.RULES,
        "layout": {
            "metadata": "youtube_commons/<shard>.parquet",
            "video": "videos/<video_id>.mp4",
            "subtitles": "videos/<video_id>.en.vtt",
            "document": "pdfa/<shard>/<doc_key>.pdf",
            "sidecar": "pdfa/<shard>/<doc_key>.json",
        },
        "shards": {
            "youtube_commons": shard_meta,
            "pdfa": [
                {"shard": s, "path": f"pdfa/{s}", "documents": n} for s, n in sorted(doc_shards.items())
            ],
        },
        "counts": {
            "rows": sum(len(r) for r in p.rows.values()),
            "video_files": sum(1 for it in p.items if it["file"] and it["file"]["path"]),
            "documents": len(doc_items),
            "selectable_videos": sum(1 for it in p.items if it["expected"]["selectable"]),
        },
        "build_seconds": None,
        "items": p.items + doc_items,
    }
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    tmp.replace(out / MANIFEST)
    manifest["build_seconds"] = round(time.perf_counter() - t0, 2)  # returned, not stored: keeps file stable
    return manifest


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m corpus.build", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("MMFOUNDRY_LANDING", ".data/landing")))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", choices=SIZES, default="small")
    ap.add_argument("--jobs", type=int, default=None)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    m = build_corpus(a.out, a.seed, a.size, a.jobs)
    c = m["counts"]
    print(
        f"corpus {m['size']} seed={m['seed']} at {a.out}: {c['rows']} rows in "
        f"{len(m['shards']['youtube_commons'])} shards, {c['video_files']} video files, "
        f"{c['documents']} documents in {len(m['shards']['pdfa'])} shards "
        f"({'built' if m.get('build_seconds') is not None else 'already present'}, "
        f"{time.perf_counter() - t0:.1f} s)"
    )


if __name__ == "__main__":
    main()
