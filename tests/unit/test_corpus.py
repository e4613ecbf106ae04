"""The sample corpus is what the rest of the tests trust, so its stated outcomes are checked here
against the real tools: ffmpeg's freezedetect, PySceneDetect, PyAV, pypdfium2."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus import expect
from corpus.build import MANIFEST, build_corpus, plan
from corpus.shards import CARD, YTDLP, duration_string, shard_table
from corpus.topics import TOPICS
from corpus.transcripts import Cue, read_vtt, write_vtt
from corpus.videos import Segment, VideoSpec, ffmpeg_exe, render


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("landing")
    manifest = build_corpus(root, seed=0, size="tiny")
    return root, manifest


def videos(manifest, case=None):
    return [i for i in manifest["items"] if i["kind"] == "video" and (case is None or i["case"] == case)]


def docs(manifest, case=None):
    return [i for i in manifest["items"] if i["kind"] == "document" and (case is None or i["case"] == case)]


def rows(root: Path) -> dict[str, dict]:
    out = {}
    for f in sorted((root / "youtube_commons").glob("*.parquet")):
        for r in pq.read_table(f).to_pylist():
            out[r["video_id"]] = r
    return out


def freezes(path: Path) -> list[list[float | None]]:
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-an", "-vf", "freezedetect=n=0.05:d=50"]
        + ["-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    out: list[list[float | None]] = []
    for key, value in re.findall(r"freezedetect\.(freeze_start|freeze_end): ([\d.]+)", err):
        if key == "freeze_start":
            out.append([float(value), None])
        else:
            out[-1][1] = float(value)
    return out


def test_layout_and_manifest(corpus):
    root, m = corpus
    assert json.loads((root / MANIFEST).read_text())["items"] == m["items"]
    assert (m["version"], m["seed"], m["size"]) == ("5", 0, "tiny")
    assert {s["shard"] for s in m["shards"]["youtube_commons"]} == {"shard-001", "shard-002"}
    assert len(m["shards"]["pdfa"]) >= 2
    for it in m["items"]:
        f = it.get("file") or {}
        for rel in (f.get("path"), f.get("vtt"), it.get("path"), it.get("sidecar")):
            if rel:
                assert (root / rel).is_file(), rel
    cases = {i["case"] for i in videos(m)}
    assert {"dynamic_cuts", "still", "partly_frozen", "short_last_segment", "speech_light"} <= cases
    assert {"non_english", "few_words", "truncated", "missing_file"} <= cases
    (missing,) = videos(m, "missing_file")
    assert not (root / "videos" / f"{missing['id']}.mp4").exists()
    assert set(rows(root)) == {i["id"] for i in videos(m)}


def test_shards_have_different_columns(corpus):
    root, _ = corpus
    s1 = pq.read_schema(root / "youtube_commons/shard-001.parquet")
    s2 = pq.read_schema(root / "youtube_commons/shard-002.parquet")
    assert s1.names == list(CARD)
    assert set(YTDLP) <= set(s2.names) and "view_count" not in s1.names
    # the third flavour (small only) is checked without rendering anything
    t3 = shard_table(plan(0, "small").rows["shard-003"], "ytdlp_langid")
    assert "language_id_method" in t3.column_names and "source_language" not in t3.column_names
    assert str(t3.schema.field("word_count").type) == "string"
    assert str(t3.schema.field("view_count").type) == "string"
    paths = [p for p in t3.column("video_path").to_pylist() if p]
    assert paths and all(p.startswith("videos/") for p in paths)


def test_vtt_is_the_transcript(corpus):
    root, m = corpus
    meta = rows(root)
    checked = 0
    for it in videos(m):
        row = meta[it["id"]]
        assert row["word_count"] == len(row["text"].split()) == it["word_count"]
        assert row["character_count"] == len(row["text"])
        if it["file"] and it["file"]["vtt"]:
            cues = read_vtt(root / it["file"]["vtt"])
            assert " ".join(c.text for c in cues) == row["text"]
            assert all(a.end <= b.start for a, b in zip(cues, cues[1:], strict=False))
            if it["video"]:  # a file may run past the end, as real ones do; the pipeline clips it
                assert cues[-1].end <= it["video"]["duration_s"] + it["subtitle_overrun_s"]
            checked += 1
    assert checked >= 6
    (over,) = [it for it in videos(m) if it["subtitle_overrun_s"]]
    assert read_vtt(root / over["file"]["vtt"])[-1].end > over["video"]["duration_s"]
    (light,) = videos(m, "speech_light")
    assert light["word_count"] > 50 and light["expected"]["word_density"]["value"] < 0.5


def test_expected_outcomes_cover_every_screen(corpus):
    _, m = corpus
    by_case = {i["case"]: i["expected"] for i in videos(m)}
    assert by_case["non_english"]["first_rejection"] == "language"
    assert by_case["few_words"]["language"]["reasons"] == ["word_count"]
    assert by_case["missing_file"]["video_file"]["reason"] == "missing"
    assert by_case["truncated"]["video_file"]["reason"] == "truncated"
    assert by_case["speech_light"]["first_rejection"] == "word_density"
    assert by_case["still"]["first_rejection"] == "dynamism"
    partly = by_case["partly_frozen"]["dynamism"]
    assert partly["finevideo"] == {"static_segments": 1, "static": False} and partly["frozen_fraction"] > 0.5
    short = by_case["short_last_segment"]["dynamism"]
    assert not short["finevideo"]["static"] and short["fixed"]["static"]
    assert any(i["expected"]["selectable"] for i in videos(m))


def test_freezedetect_agrees_with_manifest(corpus):
    root, m = corpus
    for case in ("still", "partly_frozen", "dynamic_cuts"):
        it = videos(m, case)[0]
        found = freezes(root / it["file"]["path"])
        for f in found:  # a freeze lasting to the end has no freeze_end
            f[1] = it["video"]["duration_s"] if f[1] is None else f[1]
        want = it["expected"]["dynamism"]["freezes_d50_s"]
        assert len(found) == len(want), (case, found, want)
        for (a, b), (c, d) in zip(found, want, strict=True):
            assert abs(a - c) < 0.5 and abs(b - d) < 0.5, (case, found, want)


def test_scene_cuts_are_found_where_stated(corpus):
    from scenedetect import ContentDetector, SceneManager, open_video

    root, m = corpus
    it = videos(m, "partly_frozen")[0]
    sm = SceneManager()
    sm.add_detector(ContentDetector(threshold=15))
    sm.detect_scenes(open_video(str(root / it["file"]["path"])))
    cuts = [s[0].seconds for s in sm.get_scene_list()][1:]
    want = it["video"]["scene_cuts_s"]
    assert len(cuts) == len(want) and all(abs(a - b) <= 0.2 for a, b in zip(cuts, want, strict=True))


def test_videos_decode_and_damaged_ones_do_not(corpus):
    import av

    root, m = corpus
    it = videos(m, "dynamic_cuts")[0]
    with av.open(str(root / it["file"]["path"])) as c:
        assert c.streams.video[0].codec_context.name == "h264" and c.streams.audio
        v = c.streams.video[0]
        assert (v.width, v.height) == (it["video"]["width"], it["video"]["height"])
        n = sum(1 for _ in c.decode(video=0))
    assert n == round(it["video"]["duration_s"] * it["video"]["fps"])

    (bad,) = videos(m, "truncated")
    frames, failed = 0, False
    try:
        with av.open(str(root / bad["file"]["path"])) as c:
            assert c.duration / 1e6 == pytest.approx(bad["video"]["duration_s"], abs=0.5)  # header intact
            for _ in c.decode(video=0):
                frames += 1
    except av.error.FFmpegError:
        failed = True
    assert failed or frames < 0.7 * bad["video"]["duration_s"] * bad["video"]["fps"]


def test_pdf_text_layers(corpus):
    import pypdfium2 as pdfium

    root, m = corpus

    def text(item):
        pdf = pdfium.PdfDocument(str(root / item["path"]))
        try:
            return len(pdf), "".join(p.get_textpage().get_text_range() for p in pdf)
        finally:
            pdf.close()

    (inv,) = docs(m, "invoice")
    pages, body = text(inv)
    assert pages == 1 and inv["facts"]["total_due"] in body and inv["facts"]["email"] in body
    (scan,) = docs(m, "no_text_layer")
    # no text layer, but OCR (documents' text gate) reads it: kept
    assert text(scan)[1].strip() == "" and not scan["has_text_layer"] and scan["expected"]["reasons"] == []
    koreans = docs(m, "korean_invoice")  # one with a sidecar, one read from its text layer alone
    assert sorted(k["sidecar"] is not None for k in koreans) == [False, True]
    for korean in koreans:
        assert korean["language"] == "ko" and korean["facts"]["total_due"] in text(korean)[1]
    (long_doc,) = docs(m, "long_document")
    assert text(long_doc)[0] == long_doc["pages"] > 4
    assert long_doc["expected"]["reasons"] == ["too_many_pages"]
    assert any(d["sidecar"] for d in docs(m)) and any(not d["sidecar"] for d in docs(m))


def test_sidecars_match_pdfa_layout(corpus):
    root, m = corpus
    for d in docs(m):
        if not d["sidecar"]:
            continue
        pages = json.loads((root / d["sidecar"]).read_text())["pages"]
        assert len(pages) == d["pages"]
        for page in pages:
            lines, words = page["lines"], page["words"]
            assert len(lines["text"]) == len(lines["bbox"]) == len(lines["score"]) == len(lines["word_slice"])
            assert len(words["text"]) == len(words["bbox"]) == len(words["line_pos"])
            for x, y, w, h in lines["bbox"] + words["bbox"] + page["images_bbox"]:
                assert 0 <= x <= 1 and 0 <= y <= 1 and w > 0 and h > 0 and x + w <= 1 and y + h <= 1
            for text, (a, b) in zip(lines["text"], lines["word_slice"], strict=True):
                assert " ".join(words["text"][a:b]) == " ".join(text.split())


def test_deterministic_for_a_seed(corpus):
    root, _ = corpus
    again = plan(0, "tiny")
    for shard, shard_rows in again.rows.items():
        if shard_rows:
            built = pq.read_table(root / f"youtube_commons/{shard}.parquet")
            assert built.equals(shard_table(shard_rows, built_flavour(root, shard)))
    ids = [r["video_id"] for r in again.rows["shard-001"]]
    assert [r["video_id"] for r in plan(1, "tiny").rows["shard-001"]] != ids


def built_flavour(root: Path, shard: str) -> str:
    m = json.loads((root / MANIFEST).read_text())
    return next(s["flavour"] for s in m["shards"]["youtube_commons"] if s["shard"] == shard)


def test_rebuild_is_a_no_op(corpus):
    root, m = corpus
    again = build_corpus(root, seed=0, size="tiny")
    assert again["items"] == m["items"] and again["build_seconds"] is None


def test_topics_are_real_taxonomy_leaves():
    path = Path(__file__).resolve().parents[2] / "assets" / "finevideo" / "finevideo_taxonomy.json"
    node = json.loads(path.read_text())
    for t in TOPICS:
        cur = node
        for name in t.leaf:
            cur = cur[name]
        assert cur == {}, t.leaf_path
    assert len({t.leaf[0] for t in TOPICS}) == 9


def test_rules_on_hand_computed_cases():
    # RECIPES' example: 122 s, frozen 0-70 s -> 1 static segment of 3, kept; 57% frozen by time
    d = expect.dynamism(122, [(0, 70)])
    assert d["finevideo"] == {"static_segments": 1, "static": False}
    assert d["frozen_fraction"] == pytest.approx(70 / 122, abs=1e-4)
    # a 45 s frozen last segment is invisible to the 50 s rule, not to the fixed one
    d = expect.dynamism(105, [(52, 105)])
    assert d["longest_still_per_segment_s"] == [8, 45] and d["fixed"]["static_segments"] == 1
    # a quiet 3.5 s tail is not half of a 64 s video: the last window is the last 60 s, not the tail
    d = expect.dynamism(64, [(60.5, 64)])
    assert d["longest_still_last_window_s"] == 3.5 and not d["fixed"]["static"]
    # under 60 s the whole video is the window, needing 50 * 45 / 60 = 37.5 s of stillness
    assert expect.dynamism(45, [(0, 40)])["fixed"]["static"] and not expect.dynamism(45, [(0, 35)])["fixed"]["static"]
    # 70 s slides put a 50 s still run in the second segment: a frame decides; refused
    assert expect.fragile(210, [(0, 70), (70, 140), (140, 210)])
    assert expect.language("en", "en", 51)["kept"] and not expect.language("en", "en", 50)["kept"]
    assert duration_string(245) == "4:05" and duration_string(3723) == "1:02:03"


def test_the_rotated_clip_is_coded_landscape_and_shown_portrait(corpus):
    from resources.video import probe

    root, m = corpus
    (it,) = [it for it in videos(m) if it["video"] and it["video"]["rotation_deg"]]
    v, p = it["video"], probe(root / it["file"]["path"])
    assert (p.rotation_deg, p.width, p.height) == (90, v["width"], v["height"]) == (90, 144, 256)
    assert (p.coded_width, p.coded_height, p.frame_count, p.vfr) == (v["coded_width"], v["coded_height"],
                                                                     v["frame_count"], False)


def test_a_vfr_render_keeps_its_cuts_and_frame_times(tmp_path):
    from resources.frames import frame_times
    from resources.video import probe

    spec = VideoSpec((Segment("testsrc", 6), Segment("mandelbrot", 5)), vfr=True, audio=False)
    path = render(spec, tmp_path / "vfr.mp4")
    p, times = probe(path), frame_times(path)
    assert p.vfr and p.fps == 10 and p.frame_count == len(times) == spec.frame_count == 90
    assert 6.0 in [round(t, 3) for t in times] and 5.9 in [round(t, 3) for t in times]  # the cut keeps its frames
    assert round(times[11] - times[10], 3) == 0.2  # a dropped frame leaves a 0.2 s gap


@pytest.mark.parametrize(("style", "marked", "speakers"), [
    ("label", "Maria: Knead it well.", ["Maria"]),
    ("voice", "<v Maria>Knead it well.", ["Maria"]),
    ("dash", "- Knead it well.", [None]),
])
def test_speaker_styles_are_read_back_as_turns(tmp_path, style, marked, speakers):
    from assets.finevideo.subtitles import parse_subtitles

    write_vtt([Cue(1.0, 2.5, "Maria: Knead it well.")], tmp_path / "t.vtt", speaker_style=style)
    assert marked in (tmp_path / "t.vtt").read_text()
    cues = parse_subtitles((tmp_path / "t.vtt").read_bytes())
    assert [c.speaker for c in cues] == speakers and cues[0].text.endswith("Knead it well.")
