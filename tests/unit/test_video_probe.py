import subprocess

import pytest

from resources.video import VideoError, VideoTools


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    ff = VideoTools().ffmpeg()
    ok = d / "ok.mp4"
    subprocess.run([ff, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=10:d=12",
                    "-f", "lavfi", "-i", "sine=d=12", "-c:v", "libx264", "-preset", "ultrafast", "-g", "20",
                    "-c:a", "aac", "-movflags", "+faststart", "-shortest", str(ok)], check=True)
    data = ok.read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 2])
    (d / "empty.mp4").write_bytes(b"")
    (d / "garbage.mp4").write_bytes(bytes(range(256)) * 40)
    audio_only = d / "audio.m4a"
    subprocess.run([ff, "-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=2", "-c:a", "aac", str(audio_only)], check=True)
    return d


def test_probe_measures_a_good_file(clips):
    p = VideoTools().probe(clips / "ok.mp4")
    assert abs(p.duration_s - 12.0) < 0.2 and p.fps == 10.0
    assert (p.width, p.height, p.vcodec, p.acodec) == (160, 90, "h264", "aac")
    assert p.video_packets == 120 and p.keyframes == 6


@pytest.mark.parametrize(
    "name, reason",
    [("missing.mp4", "missing"), ("empty.mp4", "empty"), ("garbage.mp4", "corrupt"),
     ("truncated.mp4", "truncated"), ("audio.m4a", "no_video_stream")],
)
def test_bad_files_raise_typed_errors(clips, name, reason):
    with pytest.raises(VideoError) as err:
        VideoTools().probe(clips / name)
    assert err.value.reason == reason
