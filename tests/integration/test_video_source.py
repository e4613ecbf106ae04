"""VideoSource resolves a row to a local file from the landing zone or a URI, and every failure is a
typed reason; video_files' per-row step stores what it fetched by content."""

import functools
import http.server
import shutil
import subprocess
import threading

import pytest

from assets.finevideo.video_files import fetch_one
from resources.landing import LandingZone
from resources.storage import MediaStore
from resources.video import VideoError, VideoTools
from resources.video_source import VideoSource


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run([VideoTools().ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=s=64x36:r=5:d=4",
                    "-c:v", "libx264", "-preset", "ultrafast", str(path)], check=True)
    return path


@pytest.fixture
def served(tmp_path, clip):
    root = tmp_path / "www"
    root.mkdir()
    shutil.copy(clip, root / "v.mp4")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def source(tmp_path, clip):
    landing = tmp_path / "landing"
    (landing / "videos").mkdir(parents=True)
    (landing / "extra").mkdir()
    shutil.copy(clip, landing / "videos" / "abc.mp4")
    (landing / "videos" / "abc.en.vtt").write_text("WEBVTT\n")
    shutil.copy(clip, landing / "extra" / "moved.mp4")
    return VideoSource(landing=LandingZone(root=str(landing)), cache_dir=str(tmp_path / "cache"))


def test_landing_zone_and_relative_video_path(source):
    got = source.fetch("abc")
    assert got.source_uri.endswith("videos/abc.mp4") and got.subtitle.name == "abc.en.vtt"
    got = source.fetch("zzz", video_path="extra/moved.mp4")
    assert got.path.name == "moved.mp4" and got.subtitle is None
    assert source.fetch("abc", video_path="extra/gone.mp4").source_uri.endswith("abc.mp4")  # next place


def test_http_uri_is_downloaded_once_into_the_cache(source, served, tmp_path):
    got = source.fetch("x", video_path=f"{served}/v.mp4")
    assert got.source_uri == f"{served}/v.mp4" and tmp_path / "cache" in got.path.parents
    assert got.path.read_bytes() == (tmp_path / "www" / "v.mp4").read_bytes()


@pytest.mark.parametrize("video_path, reason", [
    (None, "missing"),
    ("../outside.mp4", "missing"),
    ("http://127.0.0.1:9/nothing-listens.mp4", "unreachable"),
])
def test_failures_are_typed(source, video_path, reason):
    with pytest.raises(VideoError) as err:
        source.fetch("nope", video_path=video_path)
    assert err.value.reason == reason


def test_http_404_is_missing(source, served):
    with pytest.raises(VideoError) as err:
        source.fetch("nope", video_path=f"{served}/absent.mp4")
    assert err.value.reason == "missing"


def test_fetch_one_probes_and_stores_by_content(source, tmp_path, served):
    media = MediaStore(root=str(tmp_path / "media"))
    row = fetch_one({"record_id": "yt:abc", "video_id": "abc", "video_path": None, "video_link": None},
                    source, VideoTools(), media)
    assert row["failure"] is None and row["media_uri"].endswith(f"{row['sha256']}.mp4")
    assert row["duration_s"] == pytest.approx(4.0, abs=0.3) and row["subtitle_uri"].endswith(".vtt")
    empty = tmp_path / "landing" / "videos" / "empty.mp4"
    empty.write_bytes(b"")
    row = fetch_one({"record_id": "yt:empty", "video_id": "empty"}, source, VideoTools(), media)
    assert (row["failure"], row["size_bytes"], row.get("media_uri")) == ("empty", 0, None)
