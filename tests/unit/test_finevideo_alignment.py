from assets.finevideo.alignment import align, snap
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
