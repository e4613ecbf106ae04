"""A landing zone sent by a hostile or careless provider (issue 17): every case ends with a reason
on its own row, and the good rows of the same shard are kept.

One youtube_commons shard holds good videos beside links out of the landing zone (a symlinked video,
a symlinked sibling subtitle file, a hard link, a symlinked folder, a dangling link) and files that
are not videos (a PNG and a JPEG renamed .mp4, a 1x1 px clip, a 0.4 s clip); it is materialized
from raw_video_metadata to video_files. The PDFA paths and tar members are checked where they are
read (the landing zone and the webdataset reader)."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from datetime import timedelta
from pathlib import Path

import dagster as dg
import imageio_ffmpeg
import polars as pl
import pytest

from assets.docmatix.document_assets import document_rows, shard_sources
from assets.docmatix.pdfa import webdataset_samples
from resources.containment import OUTSIDE, OutsideLandingZone
from resources.landing import LandingZone, safe_id
from resources.storage import MediaStore
from scripts.materialize import materialize_graph
from scripts.shards import register_landed_shards
from tests.fakes.deployment import local_deployment
from tests.fakes.finevideo_screens import finevideo_definitions

PLANTED = "PLANTED-OUTSIDE-TEXT-4b1d"
SELECTION = [dg.AssetKey(k) for k in ("raw_video_metadata", "language_screen", "video_files")]


def _ffmpeg(*args) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True)


def _clip(path: Path, size: str = "64x36", seconds: float = 2, codec: str = "libx264") -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"testsrc=s={size}:r=5:d={seconds}", "-c:v", codec,
            *(["-preset", "ultrafast"] if codec == "libx264" else []), path)
    return path


def _image(path: Path) -> Path:
    _ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x36", "-frames:v", "1", path)
    return path


VTT = "WEBVTT\n\n00:00.000 --> 00:01.500\nhello there\n"
HUGE = 2**64 - 1  # a UInt64 word count no Int64 holds
# the shard's rows in order: (video id as landed, the reason its row must end with; None: kept)
ROWS = [
    ("good", None), ("inside_link", None), ("mjpeg_mov", None),
    ("sym_video", OUTSIDE), ("sym_vtt", OUTSIDE), ("hard_link", OUTSIDE), ("sym_folder", OUTSIDE),
    ("dangling", OUTSIDE),
    ("png", "not_a_video_container"), ("jpeg", "not_a_video_container"), ("tiny", "too_narrow"),
    ("blink", "too_short"),
    ("dupB", None), ("dupB ", "duplicate_video_id"), ("x", None), ("x", "duplicate_video_id"), ("x#row2", None),
    ("huge_count", None),
]


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    landing, outside = base / "landing", base / "outside"
    videos = landing / "videos"
    for d in (videos, outside, landing / "store", landing / "youtube_commons"):
        d.mkdir(parents=True)
    _clip(videos / "good.mp4")
    (videos / "good.en.vtt").write_text(VTT)
    _clip(outside / "planted.mp4", size="80x48")
    (outside / "planted.en.vtt").write_text(f"WEBVTT\n\n00:00.000 --> 00:01.000\n{PLANTED}\n")
    (videos / "sym_video.mp4").symlink_to(outside / "planted.mp4")
    _clip(videos / "sym_vtt.mp4", size="64x40")
    (videos / "sym_vtt.en.vtt").symlink_to(outside / "planted.en.vtt")
    os.link(outside / "planted.mp4", videos / "hard_link.mp4")
    (landing / "extra").symlink_to(outside, target_is_directory=True)
    (videos / "dangling.mp4").symlink_to(outside / "gone.mp4")
    _clip(landing / "store" / "alias.mp4", size="64x44")
    (videos / "inside_link.mp4").symlink_to(Path("..") / "store" / "alias.mp4")
    _clip(videos / "mjpeg_mov.mov", codec="mjpeg")
    (videos / "png.mp4").write_bytes(_image(base / "frame.png").read_bytes())
    (videos / "jpeg.mp4").write_bytes(_image(base / "frame.jpg").read_bytes())
    _clip(videos / "tiny.mp4", size="1x1", codec="mpeg4")
    _clip(videos / "blink.mp4", seconds=0.4)
    for i, vid in enumerate(("dupB", "x", safe_id("x#row2"), "huge_count")):
        _clip(videos / f"{vid}.mp4", size=f"64x{50 + 2 * i}")
    ids = [vid for vid, _ in ROWS]
    n = len(ids)
    pl.DataFrame({
        "video_id": ids, "title": ids, "license": ["CC-BY"] * n,
        "original_language": ["en"] * n, "transcription_language": ["en"] * n,
        "text": [" ".join(["word"] * 80)] * n,
        "word_count": pl.Series([HUGE if i == "huge_count" else 80 for i in ids], dtype=pl.UInt64),
        "view_count": pl.Series([timedelta(seconds=5)] * n),  # a duration where a count belongs
        "channel": [[1, 2]] * n,  # a list where one name belongs
        "video_path": ["extra/planted.mp4" if i == "sym_folder" else None for i in ids],
    }).write_parquet(landing / "youtube_commons" / "hostile.parquet")
    return landing, outside


@pytest.fixture(scope="module")
def materialized(zone, tmp_path_factory):
    landing, _ = zone
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        local_deployment(mp, data, landing)
        defs = finevideo_definitions()
        with dg.instance_for_test() as instance:
            register_landed_shards(defs, instance)
            run = materialize_graph(defs, instance, selection=SELECTION)
    assert run.success, [r.error for r in run.runs if not r.success]  # blocking checks passed
    return data, pl.read_parquet(data / "video_files" / "hostile.parquet")


def test_every_hostile_row_ends_with_its_reason_and_the_good_ones_are_kept(materialized):
    data, files = materialized
    raw = pl.read_parquet(data / "raw_video_metadata" / "hostile.parquet")
    language = pl.read_parquet(data / "language_screen" / "hostile.parquet")
    assert raw["record_id"].n_unique() == raw.height == len(ROWS)
    final = language.join(files.select("record_id", kept_file="kept", reason_file="reason"), on="record_id",
                           how="left").join(raw.select("record_id", "source_row"), on="record_id").sort("source_row")
    got = [None if r["kept"] and r["kept_file"] else r["reason_file"] if r["kept"] else r["reason"]
           for r in final.iter_rows(named=True)]
    assert got == [reason for _, reason in ROWS]
    assert files.filter(~pl.col("kept"))["detail"].null_count() == 0


def test_unrepresentable_values_are_null_with_an_issue_on_their_row(materialized):
    data, _ = materialized
    raw = pl.read_parquet(data / "raw_video_metadata" / "hostile.parquet").sort("source_row")
    huge = raw.row(len(ROWS) - 1, named=True)
    assert huge["word_count"] == 80  # derived from the transcript, and said so
    assert {f"word_count: '{HUGE}' is not Int64", "view_count: '0:00:05' is not Int64",
            "word_count: derived from text"} <= set(huge["normalization_issues"])
    assert raw["view_count"].null_count() == raw["channel"].null_count() == raw.height
    assert all(any(i.startswith("channel: '[1, 2]'") for i in issues) for issues in raw["normalization_issues"])
    spaced = raw.filter(pl.col("source_row") == 13).row(0, named=True)
    assert spaced["video_id"] == "dupB" and "video_id: 'dupB ' normalised to 'dupB'" in spaced["normalization_issues"]


def test_links_out_of_the_zone_say_where_they_lead(materialized, zone):
    _, outside = zone
    files = materialized[1].filter(pl.col("reason") == OUTSIDE)
    details = dict(zip(files["video_id"], files["fetch_detail"], strict=True))
    assert str(outside.resolve()) in details["sym_video"] and "planted.en.vtt" in details["sym_vtt"]
    assert "hard link" in details["hard_link"]


def test_no_planted_byte_reaches_a_stored_table_or_the_media_store(materialized):
    data, _ = materialized
    planted = PLANTED.encode()
    for table in (data / "video_files", data / "raw_video_metadata", data / "language_screen"):
        df = pl.read_parquet(table / "*.parquet")
        assert not any(planted in repr(row).encode() for row in df.iter_rows())
    media = [p for p in (data / "media").rglob("*") if p.is_file()]
    assert media and not any(planted in p.read_bytes() for p in media)


def test_image_files_are_measured_for_what_they_are(materialized):
    files = materialized[1].filter(pl.col("video_id").is_in(["png", "jpeg", "tiny"]))
    assert files.height == 3
    rows = {r["video_id"]: r for r in files.iter_rows(named=True)}
    assert rows["png"]["container"] == "png_pipe" and rows["png"]["duration_s"] < 0.1
    assert rows["jpeg"]["vcodec"] == "mjpeg"
    assert (rows["tiny"]["width"], rows["tiny"]["height"]) == (1, 1)


def test_a_shard_file_linked_from_outside_is_refused_by_name(zone, tmp_path):
    landing, outside = zone
    pl.DataFrame({"video_id": ["x"]}).write_parquet(outside / "foreign.parquet")
    root = tmp_path / "zone"
    (root / "youtube_commons").mkdir(parents=True)
    (root / "youtube_commons" / "foreign.parquet").symlink_to(outside / "foreign.parquet")
    lz = LandingZone(root=str(root))
    shard = lz.video_shard("foreign")
    with pytest.raises(OutsideLandingZone, match="foreign.parquet resolves to .*outside the landing zone"):
        lz.fetch(shard.uri)


def test_pdfa_files_and_sidecars_linked_from_outside_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"pages": []}')
    (outside / "secret.pdf").write_bytes(b"%PDF-1.4 planted")
    shard = tmp_path / "zone" / "pdfa" / "s1"
    shard.mkdir(parents=True)
    (shard / "ok.pdf").write_bytes(b"%PDF-1.4 ok")
    (shard / "ok.json").symlink_to(outside / "secret.json")
    (shard / "linked.pdf").symlink_to(outside / "secret.pdf")
    lz = LandingZone(root=str(tmp_path / "zone"))
    uri = lz.document_shard("s1").uri
    assert lz.fetch(f"{uri}/ok.pdf").read_bytes() == b"%PDF-1.4 ok"
    for name in ("ok.json", "linked.pdf"):
        with pytest.raises(OutsideLandingZone) as e:
            lz.fetch(f"{uri}/{name}")
        assert e.value.reason == OUTSIDE
    # the documents screen turns both into rows rejected with the reason, never read, the shard goes on
    (shard / "fine.pdf").write_bytes(_pdf())
    stray: list[str] = []
    rows = document_rows(shard_sources(lz, uri, stray), "s1", MediaStore(root=str(tmp_path / "media")))
    verdict = {r["doc_key"]: (r["kept"], r["reason"]) for r in rows.iter_rows(named=True)}
    assert verdict == {"fine": (True, None), "linked": (False, OUTSIDE), "ok": (False, OUTSIDE)}
    assert not any(b"planted" in p.read_bytes() for p in (tmp_path / "media").rglob("*") if p.is_file())


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Invoice number: 1234")
    c.save()
    return buf.getvalue()


def test_tar_members_that_are_links_or_leave_the_tar_are_rejected_with_a_reason():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, target: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, target, len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
        add("good.pdf", b"%PDF good")
        add("good.json", b'{"pages": []}')
        add("evil.pdf", kind=tarfile.SYMTYPE, target="/etc/passwd")
        add("hard.pdf", kind=tarfile.LNKTYPE, target="good.pdf")
        add("../../escape.pdf", b"%PDF escape")
        add("/abs/root.pdf", b"%PDF abs")
    buf.seek(0)
    rejected: list[tuple[str, str, str]] = []
    samples = dict(webdataset_samples(buf, rejected))
    assert samples == {"good": {"pdf": b"%PDF good", "json": b'{"pages": []}'}}
    assert [(name, reason) for name, reason, _ in rejected] == [
        ("evil.pdf", OUTSIDE), ("hard.pdf", OUTSIDE), ("../../escape.pdf", OUTSIDE), ("/abs/root.pdf", OUTSIDE)]
    assert "/etc/passwd" in rejected[0][2]


def test_a_tar_that_is_corrupt_or_linked_from_outside_is_a_row_and_the_shard_goes_on(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shard = tmp_path / "zone" / "pdfa" / "s1"
    shard.mkdir(parents=True)
    (shard / "fine.pdf").write_bytes(_pdf())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("0000005.pdf")
        data = _pdf()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (shard / "cut.tar").write_bytes(buf.getvalue()[:700])  # the member's data stops short
    (outside / "planted.tar").write_bytes(buf.getvalue())
    (shard / "linked.tar").symlink_to(outside / "planted.tar")
    lz = LandingZone(root=str(tmp_path / "zone"))
    rows = document_rows(shard_sources(lz, lz.document_shard("s1").uri, []), "s1",
                         MediaStore(root=str(tmp_path / "media")))
    verdict = {r["doc_key"]: (r["kept"], r["reason"]) for r in rows.iter_rows(named=True)}
    assert verdict == {"fine": (True, None), "cut": (False, "unreadable"), "linked": (False, OUTSIDE)}
