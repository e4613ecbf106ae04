import subprocess

import numpy as np
import pytest

from resources.frames import Orientation, frame_times, orientation_of, upright_picture
from resources.video import VideoError, VideoTools, probe


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


# ---- orientation: the display matrix and the legacy rotate tag; frames come out upright ----

ROTATIONS = (0, 90, 180, 270)  # ffmpeg's -display_rotation: counter-clockwise degrees


def _ffmpeg(*args):
    subprocess.run([VideoTools().ffmpeg(), "-v", "error", "-y", *map(str, args)], check=True)


def _raw_rgb(path, *vf) -> bytes:
    """ffmpeg's own first frame (autorotate applied, as a player shows it), as RGB bytes."""
    return subprocess.run([VideoTools().ffmpeg(), "-v", "error", "-i", str(path), *vf, "-frames:v", "1",
                           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def turned(tmp_path_factory):
    """A 64x36 clip (not symmetric in any direction) re-muxed with every display matrix ffmpeg writes."""
    d = tmp_path_factory.mktemp("turned")
    base = d / "base.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x36:r=10:d=0.5", "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", base)
    out = {}
    for ccw in ROTATIONS:
        for flip in ("", "hflip", "vflip"):
            path = d / f"r{ccw}{flip}.mp4"
            _ffmpeg("-display_rotation", ccw, *([f"-display_{flip}"] if flip else []), "-i", base, "-c", "copy", path)
            out[(ccw, flip)] = path
    tagged = d / "tagged.mkv"  # Matroska keeps a stream `rotate` tag and writes no display matrix
    _ffmpeg("-i", base, "-c", "copy", "-metadata:s:v:0", "rotate=90", tagged)
    out["tag"] = tagged
    out["base"] = base
    return out


def _first_upright(path, width=None) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        return upright_picture(frame, orientation_of(frame, dict(stream.metadata or {})), width)


@pytest.mark.parametrize("ccw", ROTATIONS)
@pytest.mark.parametrize("flip", ["", "hflip", "vflip"])
def test_frames_come_out_as_ffmpeg_autorotate_shows_them(turned, ccw, flip):
    path = turned[(ccw, flip)]
    picture = _first_upright(path)
    reference = _raw_rgb(path)
    assert len(reference) == picture.size
    assert (np.frombuffer(reference, np.uint8).reshape(picture.shape) == picture).all()
    p = probe(path)
    assert (p.coded_width, p.coded_height) == (64, 36)
    assert (p.width, p.height) == ((36, 64) if ccw in (90, 270) else (64, 36)) == picture.shape[1::-1]
    if not flip:  # a counter-clockwise display rotation is a clockwise turn of the other way round
        assert (p.rotation_deg, p.mirrored) == ((-ccw) % 360, False)
    else:
        assert p.mirrored


def test_the_legacy_rotate_tag_turns_the_frames_clockwise(turned):
    path = turned["tag"]
    p = probe(path)
    assert (p.rotation_deg, p.width, p.height, p.coded_width, p.coded_height) == (90, 36, 64, 64, 36)
    picture = _first_upright(path)
    clockwise = _raw_rgb(turned["base"], "-vf", "transpose=clock")
    assert (np.frombuffer(clockwise, np.uint8).reshape(picture.shape) == picture).all()


@pytest.mark.parametrize("matrix, expected", [
    ((65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30), Orientation(0, False)),
    ((0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30), Orientation(270, False)),  # 90 counter-clockwise
    ((0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30), Orientation(90, False)),  # decord's video_90.mov
    ((-65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30), Orientation(180, False)),
    ((-65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30), Orientation(0, True)),  # mirrored left-right
    ((65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30), Orientation(180, True)),  # upside-down mirror
    ((46341, 46341, 0, -46341, 46341, 0, 0, 0, 1 << 30), Orientation(0, False)),  # 45 degrees: the nearest
])
def test_display_matrices_read_as_a_turn_and_a_mirror(matrix, expected):
    assert Orientation.from_matrix(matrix) == expected


@pytest.mark.parametrize("tag, degrees", [("90", 90), ("-90", 270), ("270.0", 270), ("180", 180), ("0", 0),
                                          ("360", 0), ("junk", 0)])
def test_rotate_tags_are_clockwise_degrees(tag, degrees):
    assert Orientation.from_tag(tag).rotation_deg == degrees


def test_upright_turns_a_labelled_grid():
    grid = np.arange(6).reshape(2, 3)  # [[0 1 2] [3 4 5]]
    assert Orientation(90).upright(grid).tolist() == [[3, 0], [4, 1], [5, 2]]  # clockwise
    assert Orientation(270).upright(grid).tolist() == [[2, 5], [1, 4], [0, 3]]
    assert Orientation(180).upright(grid).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert Orientation(0, mirrored=True).upright(grid).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert Orientation(90).display_size(1280, 720) == (720, 1280)


# ---- time: frame timestamps, the frame count and the vfr flag come from the packets ----

VFR_MS = [40 * n for n in range(5)] + [200 + 100 * (n - 5) for n in range(5, 20)]  # 25 fps, then 10 fps


@pytest.fixture(scope="module")
def vfr(tmp_path_factory):
    d = tmp_path_factory.mktemp("vfr")
    path = d / "vfr.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=0.8",
            "-vf", "settb=1/1000,setpts='if(lt(N,5),N*40,200+(N-5)*100)'", "-fps_mode", "passthrough",
            "-enc_time_base:v", "1:1000", "-video_track_timescale", "1000", "-c:v", "libx264", "-preset",
            "ultrafast", "-bf", "2", path)
    return path


def test_a_variable_frame_rate_clip_keeps_its_real_timestamps(vfr):
    assert frame_times(vfr) == pytest.approx([ms / 1000 for ms in VFR_MS], abs=1e-9)
    p = probe(vfr, decode_all=True)
    assert p.vfr is True and p.frame_count == p.decoded_frames == len(VFR_MS)
    # the muxer decides how long the last frame lasts; the average is frames over the time they cover
    assert VFR_MS[-1] / 1000 < p.duration_s <= VFR_MS[-1] / 1000 + 0.1
    assert p.avg_fps == pytest.approx(len(VFR_MS) / p.duration_s, abs=1e-3)
    assert p.avg_fps < 15 < p.fps  # the nominal rate is not the average


def test_a_constant_rate_clip_is_not_vfr(clips):
    p = probe(clips / "ok.mp4")
    assert p.vfr is False and p.frame_count == 120 and p.fps == 10.0 and p.avg_fps == pytest.approx(10.0, abs=0.01)
    assert frame_times(clips / "ok.mp4")[:3] == pytest.approx([0.0, 0.1, 0.2])


def test_the_vision_model_gets_upright_stills(turned):
    import io

    from PIL import Image

    from assets.finevideo.dynamism import analyse

    path = turned[(90, "")]
    still = analyse(path, probe(path).duration_s).frames[0][1]  # what the annotation step shows a model
    img = Image.open(io.BytesIO(still))
    assert img.size == (36, 64)  # portrait, as displayed (narrower than the annotation width: not enlarged)
    upright = _first_upright(path).astype(float)
    got = np.asarray(img, float)
    assert np.abs(got - upright).mean() < np.abs(got - np.rot90(upright, 2)).mean() / 3  # the upright picture
    assert _first_upright(path, width=18).shape == (32, 18, 3)  # scaled as displayed, sides even


# ---- what is a video: images renamed .mp4 probe as what they are, and the file rules reject them ----


@pytest.fixture(scope="module")
def stills(tmp_path_factory):
    d = tmp_path_factory.mktemp("stills")
    for ext in ("png", "jpg", "gif", "bmp", "webp", "tiff"):
        _ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x36", "-frames:v", "1", d / f"frame.{ext}")
        (d / f"{ext}.mp4").write_bytes((d / f"frame.{ext}").read_bytes())
    _ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x36:r=5:d=2", "-c:v", "libsvtav1", d / "av1.mp4")
    return d


@pytest.mark.parametrize("ext, container, codec", [
    ("png", "png_pipe", "png"), ("jpg", "jpeg_pipe", "mjpeg"), ("gif", "gif", "gif"), ("bmp", "bmp_pipe", "bmp"),
    ("webp", "webp_pipe", "webp"), ("tiff", "tiff_pipe", "tiff"),
])
def test_an_image_renamed_mp4_is_measured_and_rejected_as_not_a_video(stills, ext, container, codec):
    import polars as pl

    from assets.finevideo.video_files import VideoFileRules
    from assets.kit.screening import screen

    p = probe(stills / f"{ext}.mp4")
    assert (p.container, p.vcodec, p.duration_s < 0.1) == (container, codec, True)
    row = pl.DataFrame([{"fetch_status": "ok", "fetch_detail": None, **p.model_dump(include={"container", "vcodec", "duration_s",
                                                                       "width", "height"})}])
    out = screen(row, VideoFileRules().rules()).row(0, named=True)
    assert out["reason"] == "not_a_video_container" and "too_short" in out["reasons"]


def test_the_codec_is_named_not_its_decoder(stills):
    assert probe(stills / "av1.mp4").vcodec == "av1"  # PyAV decodes it with libdav1d
