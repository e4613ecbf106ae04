"""Resource limits on what lands (issue 17): bombs, endless or silent downloads, giant pictures and
oversized subtitles each end as a row rejected with its reason, beside the good rows, and the
process that read them stays under a stated memory ceiling, measured in that process.

Each reader runs in a fresh Python process that prints what it decided and its peak resident memory
(VmHWM: `ru_maxrss` would report the parent's peak, which Linux carries across fork and exec); before the limits, the Flate bomb took 7.8 GB, the tar bomb 3 GB (and 1.5 GB of
disk), the endless stream 1.5 GB of cache and the silent server 300 s."""

from __future__ import annotations

import http.server
import json
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import imageio_ffmpeg
import pytest

from corpus import documents as corpus_docs
from tests.fakes.bombs import flate_bomb, tar_bomb

ROOT = Path(__file__).resolve().parents[2]
CEILING_MB = 700  # a Python process with polars, pypdfium2 and PyAV loaded is about 250 MB


def run_measured(code: str, timeout: float = 180) -> tuple[dict, float]:
    """Run `code` in a fresh interpreter; it sets `result` (JSON-able). Returns it and the peak MB."""
    wrapped = (f"import json\n{code}\n"
               "from tests.fakes.bombs import peak_rss_mb\n"
               "print(json.dumps({'result': result, 'peak_mb': peak_rss_mb()}))")
    proc = subprocess.run([sys.executable, "-c", wrapped], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
                                                "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["result"], out["peak_mb"]


@pytest.fixture(scope="module")
def bomb_shard(tmp_path_factory):
    root = tmp_path_factory.mktemp("bombs")
    shard = root / "zone" / "pdfa" / "bombs"
    shard.mkdir(parents=True)
    corpus_docs.invoice(random.Random(1), shard / "0000001.pdf", None)
    flate_bomb(shard / "0000002.pdf")
    corpus_docs.invoice(random.Random(2), root / "good.pdf", None)
    tar_bomb(shard / "part-0.tar", (root / "good.pdf").read_bytes())
    return root


@pytest.mark.slow
def test_pdf_and_tar_bombs_are_rows_rejected_as_too_large_under_the_ceiling(bomb_shard):
    size_on_disk = sum(p.stat().st_size for p in (bomb_shard / "zone" / "pdfa" / "bombs").iterdir())
    result, peak = run_measured(f"""
from assets.docmatix.document_assets import document_rows, shard_sources
from resources.landing import LandingZone
from resources.storage import MediaStore
lz = LandingZone(root={str(bomb_shard / "zone")!r})
stray = []
rows = document_rows(shard_sources(lz, lz.document_shard("bombs").uri, stray), "bombs",
                     MediaStore(root={str(bomb_shard / "media")!r}))
result = {{r["doc_key"]: [r["kept"], r["reason"], r["open_detail"]] for r in rows.iter_rows(named=True)}}
""")
    assert size_on_disk < 20 << 20  # two bombs worth 2 GB, in a few MB
    verdict = {k: (kept, reason) for k, (kept, reason, _) in result.items()}
    assert verdict == {"0000001": (True, None), "0000002": (False, "too_large"),
                       "0000010": (True, None), "0000011": (False, "too_large")}
    assert "decompression bomb" in result["0000002"][2] and "1073741824 bytes" in result["0000011"][2]
    assert peak < CEILING_MB, f"peak {peak:.0f} MB"
    stored = sum(p.stat().st_size for p in (bomb_shard / "media").rglob("*") if p.is_file())
    assert stored < 20 << 20  # the 1 GB member never reached the media store


@pytest.mark.slow
def test_a_giant_picture_is_probed_from_its_header_and_rejected_before_any_decode(tmp_path):
    video = tmp_path / "giant.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "color=c=gray:s=8192x8192:r=1:d=2", "-c:v", "libx264", "-preset", "ultrafast",
                    str(video)], check=True)
    result, peak = run_measured(f"""
from assets.finevideo.video_files import VideoFileRules
from assets.kit.screening import evaluate
from resources.video import VideoTools
p = VideoTools().probe({str(video)!r})
row = {{**p.model_dump(), "fetch_status": "ok"}}
result = [[r, s] for r, s, _ in evaluate(row, VideoFileRules().rules()) if s == "FAIL"]
""")
    assert result == [["too_wide", "FAIL"]]
    assert peak < 400, f"peak {peak:.0f} MB"  # one decoded 8192x8192 frame alone is ~100 MB, a worker 0.8 GB


class _Endless(http.server.BaseHTTPRequestHandler):
    """A "video" that never ends, and a subtitle file larger than any real one."""

    def do_HEAD(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.end_headers()

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.end_headers()
        chunk = bytes(1 << 16)
        try:
            while True:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def servers():
    """(endless stream URL, silent server URL): the second accepts and never answers."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    yield (f"http://127.0.0.1:{httpd.server_port}/endless.mp4",
           f"http://127.0.0.1:{silent.getsockname()[1]}/never.mp4")
    httpd.shutdown()
    silent.close()


def _fetch_code(zone: Path, cache: Path, url: str) -> str:
    return f"""
from resources.landing import LandingZone
from resources.video import VideoError
from resources.video_source import VideoSource
src = VideoSource(landing=LandingZone(root={str(zone)!r}), cache_dir={str(cache)!r},
                  max_video_bytes=64 << 20, connect_timeout_s=2, read_timeout_s=2)
try:
    src.fetch("vid", {url!r})
    result = "fetched"
except VideoError as e:
    result = [e.reason, str(e)]
"""


@pytest.mark.slow
def test_an_endless_download_stops_at_the_cap_and_leaves_nothing_behind(tmp_path, servers):
    (tmp_path / "zone").mkdir()
    (reason, detail), peak = run_measured(_fetch_code(tmp_path / "zone", tmp_path / "cache", servers[0]))
    assert reason == "too_large" and "more than 67108864 bytes" in detail
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]  # the partial file is gone
    assert peak < 400, f"peak {peak:.0f} MB"


def test_a_server_that_never_answers_is_unreachable_within_the_timeouts(tmp_path, servers):
    (tmp_path / "zone").mkdir()
    start = time.perf_counter()
    (reason, _), _ = run_measured(_fetch_code(tmp_path / "zone", tmp_path / "cache", servers[1]))
    assert reason == "unreachable"
    assert time.perf_counter() - start < 30  # aiohttp's default read timeout was 300 s


def test_an_oversized_subtitle_file_rejects_its_video_without_being_read(tmp_path):
    zone = tmp_path / "zone"
    (zone / "videos").mkdir(parents=True)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=s=64x36:r=5:d=2",
                    "-c:v", "libx264", "-preset", "ultrafast", str(zone / "videos" / "vid.mp4")], check=True)
    (zone / "videos" / "vid.en.vtt").write_bytes(b"WEBVTT\n\n" + b"x" * 5000)
    from resources.landing import LandingZone
    from resources.video import VideoError
    from resources.video_source import VideoSource

    src = VideoSource(landing=LandingZone(root=str(zone)), cache_dir=str(tmp_path / "cache"), max_subtitle_bytes=4096)
    with pytest.raises(VideoError) as e:
        src.fetch("vid")
    assert e.value.reason == "too_large" and "vid.en.vtt" in str(e.value)
    assert src.model_copy(update={"max_subtitle_bytes": 1 << 20}).fetch("vid").subtitle is not None


def test_a_plain_http_server_without_range_requests_still_serves_a_video(tmp_path):
    """Downloads are one stream, not fsspec's ranged blocks (which Python's own server refuses)."""
    import functools

    served = tmp_path / "served"
    served.mkdir()
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=s=64x36:r=5:d=2",
                    "-c:v", "libx264", "-preset", "ultrafast", str(served / "clip.mp4")], check=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        from resources.landing import LandingZone
        from resources.video_source import VideoSource

        (tmp_path / "zone").mkdir()
        src = VideoSource(landing=LandingZone(root=str(tmp_path / "zone")), cache_dir=str(tmp_path / "cache"))
        got = src.fetch("clip", f"http://127.0.0.1:{httpd.server_port}/clip.mp4")
        assert got.path.read_bytes() == (served / "clip.mp4").read_bytes()
    finally:
        httpd.shutdown()
