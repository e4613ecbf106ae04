import pytest

from assets.finevideo.alignment import align, snap
from assets.finevideo.timeline import Timeline, ceil_ms, floor_ms
from assets.finevideo.timestamps import parse_timestamp

FPS = 10.0


def scene(i, start, end, inner=None):
    inner = inner or start
    return {"sceneId": i, "timestamps": {"start_timestamp": start, "end_timestamp": end},
            "activities": [{"description": "x", "timestamp": {"start_timestamp": inner, "end_timestamp": "end"}}],
            "props": [{"name": "p", "timestamp": {"start_timestamp": "n/a", "end_timestamp": inner}}],
            "videoEditingDetails": [], "mood": {"description": "Calm", "keyMoments": [{"timestamp": inner,
                                                                                         "changeDescription": "y"}]},
            "narrativeProgression": [{"description": "z", "timestamp": inner}]}


def content(*scenes, climax="00:10", trims=()):
    return {"title": "t", "scenes": list(scenes),
            "storylines": {"description": "", "scenes": [s["sceneId"] for s in scenes],
                           "climax": {"description": "", "timestamp": climax}},
            "trimmingSuggestions": [{"timestamps": {"start_timestamp": a, "end_timestamp": b}, "description": ""}
                                    for a, b in trims]}


def times(result):
    return [(parse_timestamp(s["timestamps"]["start_timestamp"]), parse_timestamp(s["timestamps"]["end_timestamp"]))
            for s in result.content["scenes"]]


def test_snap_takes_the_nearest_cut_within_two_seconds_only():
    assert snap(20.0, [18.0, 21.5, 40.0]) == (21.5, True)
    assert snap(20.0, [18.5, 21.5]) == (18.5, True)  # a tie goes to the earlier cut
    assert snap(20.0, [17.9, 22.1]) == (20.0, False)
    assert snap(20.0, [18.0]) == (18.0, True)  # the window is inclusive


def test_boundaries_snap_to_cuts_and_scenes_tile_the_video():
    a = align(content(scene(1, "00:00", "00:19"), scene(2, "00:19", "00:41"), scene(3, "00:41", "end")),
              cuts_s=[20.0, 40.0], fps=FPS, duration_s=60.0)
    assert a.rejection is None and a.content["fps"] == FPS
    # a cut at 20 s is the first frame of scene 2; scene 1 ends one frame before
    assert times(a) == [(0.0, 19.9), (20.0, 39.9), (40.0, 59.9)]
    assert a.snapped == 4 and a.shifts_frames == [0, 0, 0] and not a.warnings


def test_a_boundary_far_from_any_cut_stays_and_the_next_scene_follows_one_frame_later():
    a = align(content(scene(1, "00:00", "00:25"), scene(2, "00:27", "end")), cuts_s=[40.0], fps=FPS, duration_s=60.0)
    assert times(a) == [(0.0, 24.9), (25.0, 59.9)]
    assert a.shifts_frames == [0, 20] and not a.warnings  # 2 s gap closed: 20 frames, under the warning


def test_first_scene_starts_at_zero_and_last_ends_on_the_last_frame():
    a = align(content(scene(1, "00:01", "00:30"), scene(2, "00:30", "00:50")), cuts_s=[], fps=FPS, duration_s=60.0)
    assert times(a) == [(0.0, 29.9), (30.0, 59.9)]
    assert a.shifts_frames[0] == 10 and a.last_end_shift_frames == 100


def test_warn_above_25_frames_reject_above_125():
    ok = align(content(scene(1, "00:00", "00:20"), scene(2, "00:22.5", "end")), [], FPS, 60.0)
    assert ok.shifts_frames == [0, 25] and not ok.warnings and ok.rejection is None
    warned = align(content(scene(1, "00:00", "00:20"), scene(2, "00:22.6", "end")), [], FPS, 60.0)
    assert warned.shifts_frames == [0, 26] and warned.warnings == ["scene 2 start moved 26 frames"]
    assert warned.rejection is None
    edge = align(content(scene(1, "00:00", "00:20"), scene(2, "00:32.5", "end")), [], FPS, 60.0)
    assert edge.max_shift_frames == 125 and edge.rejection is None
    rejected = align(content(scene(1, "00:00", "00:20"), scene(2, "00:32.6", "end")), [], FPS, 60.0)
    assert rejected.rejection == "misaligned" and rejected.content is None
    assert "scene 2 start moved 126 frames" in rejected.detail


def test_overlapping_scenes_are_pushed_after_the_previous_end():
    a = align(content(scene(1, "00:00", "00:30"), scene(2, "00:29", "end")), [], FPS, 60.0)
    assert times(a) == [(0.0, 29.9), (30.0, 59.9)] and a.shifts_frames == [0, 10]


def test_inner_timestamps_are_clamped_into_their_scene():
    a = align(content(scene(1, "00:00", "00:20", inner="00:25"), scene(2, "00:20", "end", inner="00:05")),
              cuts_s=[20.0], fps=FPS, duration_s=60.0)
    s1, s2 = a.content["scenes"]
    assert s1["narrativeProgression"][0]["timestamp"] == "00:00:19.900"
    assert s1["mood"]["keyMoments"][0]["timestamp"] == "00:00:19.900"
    assert s2["activities"][0]["timestamp"]["start_timestamp"] == "00:00:20.000"
    assert s1["activities"][0]["timestamp"]["end_timestamp"] == "00:00:19.900"  # "end" = the scene's end
    assert s1["props"][0]["timestamp"]["start_timestamp"] == "n/a"  # no time stays as written
    assert a.clamped == 8  # four moved per scene; "end" and "n/a" need no clamping


def test_climax_and_trimming_suggestions_are_clamped_to_the_video():
    a = align(content(scene(1, "00:00", "end"), climax="01:30", trims=[("00:50", "01:10")]), [], FPS, 60.0)
    assert a.content["storylines"]["climax"]["timestamp"] == "00:00:59.900"
    trim = a.content["trimmingSuggestions"][0]["timestamps"]
    assert (trim["start_timestamp"], trim["end_timestamp"]) == ("00:00:50.000", "00:00:59.900")


def test_unreadable_or_missing_times_reject_with_the_text():
    a = align(content(scene(1, "00:00", "later")), [], FPS, 60.0)
    assert a.rejection == "unreadable_timestamp" and "'later'" in a.detail
    a = align(content(scene(1, "n/a", "00:10")), [], FPS, 60.0)
    assert a.rejection == "unreadable_timestamp"
    assert align({"scenes": []}, [], FPS, 60.0).rejection == "no_scenes"


def test_the_input_is_not_modified():
    c = content(scene(1, "00:00", "00:19"), scene(2, "00:19", "end"))
    before = repr(c)
    align(c, [20.0], FPS, 60.0)
    assert repr(c) == before


# ---- the video's own ends are not shifts; frames are counted on the real timestamps ----

def test_a_first_scene_at_zero_is_not_moved_by_a_cut_near_the_start():
    # the cut at 1.0 s is within the 2 s snap window of 00:00; the first scene still starts at frame 0
    a = align(content(scene(1, "00:00", "00:05"), scene(2, "00:05", "end")), cuts_s=[1.0, 5.0], fps=30.0,
              duration_s=10.0)
    assert a.shifts_frames == [0, 0] and a.max_shift_frames == 0 and not a.warnings
    assert times(a) == [(0.0, pytest.approx(4.967, abs=1e-3)), (5.0, pytest.approx(9.967, abs=1e-3))]


def test_a_last_scene_ending_with_the_video_is_not_snapped_to_a_cut_near_the_end():
    a = align(content(scene(1, "00:00", "00:05"), scene(2, "00:05", "00:10")), cuts_s=[5.0, 8.5], fps=10.0,
              duration_s=10.0)
    assert a.last_end_shift_frames == 0 and a.snapped == 2  # scene 1's end and scene 2's start
    assert times(a)[-1] == (5.0, 9.9)


# a phone clip: nominal 30 fps with dropped frames (durations 33 or 67 ms), 16 s, cuts at real frames
DURATIONS = [0.033333 if k % 3 else 0.066667 for k in range(360)]
VFR_TIMES = [round(sum(DURATIONS[:k]), 6) for k in range(len(DURATIONS))]
VFR_END = round(sum(DURATIONS), 6)


def _vfr_align(scenes, cuts):
    return align(content(*scenes), cuts_s=cuts, fps=30.0, duration_s=VFR_END, frame_times=VFR_TIMES)


def test_on_a_variable_frame_rate_video_scenes_start_exactly_at_the_cut_frames():
    cuts = [VFR_TIMES[100], VFR_TIMES[250]]  # the detector reports cut frames' timestamps
    a = _vfr_align([scene(1, "00:00", "00:04"), scene(2, "00:04", "00:10"), scene(3, "00:10", "end")], cuts)
    assert a.rejection is None and a.timeline == "timestamps" and a.shifts_frames == [0, 0, 0]
    spans = times(a)
    for (lo, _), cut in zip(spans[1:], cuts, strict=True):
        assert lo <= cut < lo + 0.001  # the start is the cut frame's timestamp, rounded down to the ms
    # every frame, the ones at the cuts included, lies in exactly one scene
    for t in VFR_TIMES:
        assert sum(lo <= t <= hi for lo, hi in spans) == 1, t
    assert spans[-1][1] >= VFR_TIMES[-1] and spans[0][0] == 0.0


def test_shifts_are_counted_in_real_frames_not_seconds_times_fps():
    # scene 2 annotated 1.5 s after scene 1 ends, no cut near: the gap closed is the frames in it
    a = _vfr_align([scene(1, "00:00", "00:04"), scene(2, "00:05.5", "end")], cuts=[])
    def nearest(t):  # the frame whose timestamp is nearest t (a tie to the later frame)
        return min(range(len(VFR_TIMES)), key=lambda k: (abs(VFR_TIMES[k] - t), -k))

    assert a.shifts_frames == [0, nearest(5.5) - nearest(4.0)]
    assert a.shifts_frames[1] != round(1.5 * 30.0)  # 30 fps nominal would say 45 frames; the clip shows fewer


def test_without_timestamps_the_frames_are_counted_at_the_nominal_rate():
    a = align(content(scene(1, "00:00", "end")), cuts_s=[], fps=10.0, duration_s=60.0)
    assert a.timeline == "constant_rate" and times(a) == [(0.0, 59.9)]


def test_the_frame_at_a_time_is_the_nearest_timestamp():
    tl = Timeline.from_times([0.0, 0.325, 0.358, 0.392], end_s=0.425)
    assert [tl.frame_at(t) for t in (-1.0, 0.0, 0.16, 0.1625, 0.2, 0.34, 0.3415, 5.0)] == [0, 0, 0, 1, 1, 1, 2, 3]
    assert tl.time(2) == 0.358 and tl.last == 3 and tl.source == "timestamps"
    assert (floor_ms(0.3583), ceil_ms(0.3583), ceil_ms(0.358), floor_ms(0.1 + 0.2)) == (0.358, 0.359, 0.358, 0.3)


def test_frames_on_whole_milliseconds_stay_inside_their_written_scene():
    # 25 fps in a 1/12800 time base: frame 93 is at exactly 3.72 s, and "00:00:03.720" must read back as it
    from fractions import Fraction

    times_s = [float(Fraction(512 * k, 12800)) for k in range(630)]
    cuts = [times_s[94], times_s[186], times_s[265], times_s[388]]
    a = align(content(scene(1, "00:00", "00:03.76"), scene(2, "00:03.76", "00:07.44"),
                      scene(3, "00:07.44", "00:10.6"), scene(4, "00:10.6", "00:15.52"), scene(5, "00:15.52", "end")),
              cuts_s=cuts, fps=25.0, duration_s=25.2, frame_times=times_s)
    spans = times(a)
    assert a.shifts_frames == [0] * 5 and spans[0][1] == 3.72 and spans[1][0] == times_s[94]
    assert all(sum(lo <= t <= hi for lo, hi in spans) == 1 for t in times_s)
