"""The one-pass dynamism measurement against FineVideo's method run for real (one ffmpeg
freezedetect call per 60 s segment), on small rendered clips built to hit the rule's edges."""

import subprocess

import imageio_ffmpeg
import pytest

from assets.finevideo.dynamism import analyse, measure_all
from assets.finevideo.scene_cuts import detect_shots
from bench.finevideo_method import check_static
from corpus.videos import Segment, VideoSpec, render
from resources.video import probe

CLIPS = {
    # still 40-100 s: 20 s in segment one, 40 s in segment two -> FineVideo sees nothing; one 60 s freeze
    "straddling": (Segment("testsrc", 40), Segment("picture", 60, lines=("slide",)), Segment("mandelbrot", 25)),
    # still 50-108 s: 48 s in the short last segment, 58 s in the last 60 s
    "short_last": (Segment("gradients", 50), Segment("testsrc", 58, frozen=True)),
    # still 0-65 s, then moving: segment one static
    "frozen_start": (Segment("picture", 65, lines=("title",), style="poster"), Segment("cellauto", 60)),
    "moving": (Segment("testsrc", 20), Segment("mandelbrot", 25), Segment("bars", 25)),
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    out = {}
    for name, segments in CLIPS.items():
        spec = VideoSpec(segments, width=160, height=90, fps=5, gop_s=4.0, audio=False)
        out[name] = (render(spec, d / f"{name}.mp4"), spec)
    return out


def _against_ffmpeg(path):
    """The screen's measurement (skims and sweep) and the every-frame one, both checked against
    FineVideo's calls run for real and against each other on everything the verdict rests on."""
    theirs = check_static(path, imageio_ffmpeg.get_ffmpeg_exe())
    duration = probe(path).duration_s
    skimmed, decoded = analyse(path, duration), analyse(path, duration, skim=False)
    for ours in (skimmed, decoded):
        assert (ours.static_segments, ours.segments) == (theirs.static_segments, theirs.segments)
        assert ours.finevideo_static == theirs.static
    assert decoded.fixed_static == skimmed.fixed_static
    assert (decoded.fixed_static_segments, decoded.freeze_intervals) == (
        skimmed.fixed_static_segments, skimmed.freeze_intervals)
    return skimmed, decoded


@pytest.mark.parametrize("name", list(CLIPS))
def test_finevideo_verdicts_match_the_per_segment_ffmpeg_calls(clips, name):
    path, spec = clips[name]
    _, decoded = _against_ffmpeg(path)
    assert decoded.scene_cuts_s == detect_shots(path).cut_times
    assert decoded.scene_cuts_s == pytest.approx(spec.cut_times_s, abs=0.21)


def test_edges_of_the_rule(clips):
    results = {}
    for name, (path, _) in clips.items():
        results[name] = analyse(path, probe(path).duration_s)
    straddling = results["straddling"]
    assert straddling.static_segments == 0 and straddling.freeze_intervals == [(40.0, 100.0)]
    assert straddling.static_fraction_time == pytest.approx(60 / 125, abs=1e-3)
    short = results["short_last"]
    assert (short.static_segments, short.fixed_static_segments, short.fixed_static) == (0, 1, True)
    assert short.freeze_intervals == [(50.0, 108.0)]  # open at the end of the stream, closed there
    assert results["frozen_start"].static_segments == 1
    assert results["frozen_start"].decode_mode == "partial"  # 0-66 s decoded, the moving rest settled
    assert results["frozen_start"].freeze_intervals == [(0.0, 65.0)]
    moving = results["moving"]
    assert moving.decode_mode == "keyframes"  # settled by keyframes; the shots come from the same decode
    assert moving.scene_cuts_s == pytest.approx(clips["moving"][1].cut_times_s, abs=0.21)


def test_a_video_that_cannot_be_measured_is_an_error_row_not_a_lost_shard(clips, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    good, _ = clips["moving"]
    rows = measure_all([("bad", str(bad), 10.0), ("good", str(good), probe(good).duration_s)], workers=2)
    assert [r["record_id"] for r in rows] == ["bad", "good"]
    assert rows[0]["error"] and rows[1]["error"] is None and rows[1]["decode_mode"] == "keyframes"


@pytest.fixture(scope="module")
def b_frame_clips(clips, tmp_path_factory):
    """The same clips re-encoded as web video is: 25 fps (each picture shown five times), B-frames
    (3, adaptive, pyramid), so the sweep's skipping decoder really skips frames outside the freeze
    stretches."""
    d = tmp_path_factory.mktemp("bframes")
    out = {}
    for name, (path, spec) in clips.items():
        target = d / f"{name}.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-r", "25", "-c:v", "libx264",
                        "-preset", "veryfast", "-bf", "3", "-g", str(5 * spec.gop), "-threads", "1", str(target)],
                       check=True)
        out[name] = (target, spec)
    return out


@pytest.mark.parametrize("name", list(CLIPS))
def test_with_frames_skipped_outside_the_stretches_the_verdicts_and_freezes_are_still_exact(b_frame_clips, name):
    path, _ = b_frame_clips[name]
    skimmed, decoded = _against_ffmpeg(path)
    # the shots of the skipping decode are the every-frame decode's, within three frames
    assert skimmed.scene_cuts_s == pytest.approx(decoded.scene_cuts_s, abs=0.13)
    if skimmed.decode_mode != "full":
        assert skimmed.frames_decoded < decoded.frames_decoded  # non-reference frames outside the stretches


def test_a_lone_video_gets_the_spare_cores_as_decoder_threads_with_the_same_result(b_frame_clips):
    path, _ = b_frame_clips["frozen_start"]
    duration = probe(path).duration_s
    (threaded,) = measure_all([("only", str(path), duration)], workers=2)  # one video, two cores: 2 threads
    alone = analyse(path, duration)
    for key in ("static_segments", "fixed_static_segments", "freeze_intervals", "scene_cuts_s"):
        assert threaded[key] == getattr(alone, key), key
    # threads output frames a little later, so a stretch may end a frame or two later: decoded in full
    assert 0 <= threaded["frames_decoded"] - alone.frames_decoded <= 4
