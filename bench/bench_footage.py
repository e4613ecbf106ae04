"""Real footage: the FineVideo chain's one decode against FineVideo's method plus a shot pass.

The set (`footage_set`, built once under bench/out/footage/, about 8 minutes):
- every video in ../shared/realdata/videos/ (or $MMFOUNDRY_REALDATA/videos) that probes as a video (as published: film, cartoon,
  phone and screen recordings; tiny and corrupt ones included, so the per-file table shows them);
- YouTube-like lengths made from them without changing what they show: the real clips, each scaled
  to the size and brought to 25 fps, concatenated in turn until 20 min at 360p, 8 min at 720p (2 s
  GOPs, as adaptive streaming cuts them) and 4 min at 1080p, encoded once with libx264 (veryfast:
  B-frames, scene-cut keyframes). Their cuts are known: every clip boundary plus each clip's own
  published or judged cuts (tests/realdata/shots.py);
- beside it, the sample corpus (`corpus.build.plan(0, "small")`, rendered as the demo renders it).

For each video, back to back so machine load hits every method alike:
- the fair baseline, what the chain needs done the usual way: FineVideo's freezedetect calls
  (`bench.finevideo_method.check_static`: one ffmpeg call per 60 s segment; CPU = the children's;
  as published, with ffmpeg's default threads, and again pinned to one thread, whose thread
  overhead is lower) plus a separate shot pass (`scenedetect.detect` with ContentDetector, its
  default backend). The old chain also decoded stills for the annotation step; not counted here;
- ours: `assets.finevideo.dynamism.analyse` (verdict, freezes, shots, motion, the stills the
  annotation step shows a model, thumbnail), given the packet-covered duration video_files has
  already measured; CPU = this process's user+sys (process_time, all threads);
- the decisions: ours (`finevideo_static`, static segments) against FineVideo's;
- the shots: the calibrated detector on every frame (`analyse(skim=False)`) and in our sweep, each
  against the known cuts (within 1 frame and within `shots.SWEEP_TOLERANCE` frames), and the sweep
  against every frame;
- decodes per video along the chain: our sweep is the one sequential decode (its skims visit
  keyframes only; their share of the decoded frames is printed); then the annotation step's item
  (a VLM backend, so it needs pictures) and the alignment step's frame times run with every
  container they open counting the frames they decode (none, if the chain holds).
Then the whole set through the screen's process pool on 2 workers: wall-clock video seconds per
second beside the CPU figures. Timing figures depend on the machine and its load; run it quietly.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.realdata.rowtable import REALDATA as _REALDATA

OUT = Path(__file__).resolve().parent / "out" / "footage"
REALDATA = _REALDATA / "videos"
FPS = 25
LONG = (  # name, width, height, minutes, x264 options
    ("360p, 20 min", 640, 360, 20, []),
    ("720p, 8 min, 2 s GOP", 1280, 720, 8, ["-g", str(2 * FPS)]),
    ("1080p, 4 min", 1920, 1080, 4, []),
)


@dataclass
class Video:
    name: str
    group: str
    path: Path
    cuts_s: list[float] | None = None  # known cuts (None: not known)
    fps: float = FPS
    judged: list[tuple[float, float]] | None = None  # where the known cuts are all the cuts (None: everywhere)
    result: dict = field(default_factory=dict)


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _real_clips() -> list[tuple[Path, list[float] | None]]:
    """The realdata videos long enough to concatenate (a second or more), with their known cuts
    (seconds; None where no cut list is published or stated)."""
    from resources.frames import frame_times
    from resources.video import VideoError, probe
    from tests.realdata.shots import expected_cuts

    out = []
    for path in sorted(REALDATA.glob("*")):
        if path.name.endswith(".json"):
            continue
        try:
            if probe(path).duration_s < 1.0:
                continue
        except VideoError:
            continue
        known = expected_cuts(json.loads(path.with_name(path.name + ".expect.json").read_text()))
        times = frame_times(path)
        out.append((path, None if known is None else [times[k] for k in known[0] if k < len(times)]))
    return out


def _normalised(clip: Path, width: int, height: int) -> Path:
    """The clip scaled into width x height (letterboxed, aspect kept), upright, at 25 fps."""
    target = OUT / "clips" / f"{width}x{height}" / f"{clip.stem}.mp4"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp.mp4")
        vf = (f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
              f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={FPS}")
        subprocess.run([_ffmpeg(), "-v", "error", "-y", "-i", str(clip), "-vf", vf, "-an", "-c:v", "libx264",
                        "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", str(tmp)], check=True)
        os.replace(tmp, target)
    return target


def _long(name: str, width: int, height: int, minutes: int, options: list[str],
          clips: list[tuple[Path, list[float] | None]]) -> Video:
    """The real clips in turn up to `minutes`, encoded once. Cuts are judged where they are known:
    inside each clip with a known cut list (its own cuts and the boundaries on either side)."""
    from resources.frames import frame_times

    path = OUT / f"{width}x{height}_{minutes}min.mp4"
    parts, cuts, judged, t = [], [], [], 0.0
    if not clips:
        raise RuntimeError(f"no real clip to concatenate in {REALDATA}")
    while t < 60 * minutes:
        for clip, own in clips:
            part = _normalised(clip, width, height)
            length = len(frame_times(part)) / FPS
            if own is not None:
                judged.append((t - 0.2, t + length + 0.2))
                cuts += [round(t, 6)] if parts else []
                cuts += [round(t + c, 6) for c in own] + [round(t + length, 6)]
            parts.append(part)
            t += length
            if t >= 60 * minutes:
                break
    cuts = sorted({c for c in cuts if 0 < c < t})
    if not path.exists():
        print(f"encoding {path.name} ({t / 60:.1f} min) ...", flush=True)
        with tempfile.TemporaryDirectory() as d:
            listing = Path(d) / "list.txt"
            listing.write_text("".join(f"file '{p}'\n" for p in parts))
            tmp = path.with_name(f".{path.name}.tmp.mp4")
            subprocess.run([_ffmpeg(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", *options, "-threads", "2",
                            str(tmp)], check=True)
            os.replace(tmp, path)
    return Video(name, "real footage, YouTube-like lengths", path, cuts, judged=judged)


def _corpus() -> list[Video]:
    """The sample corpus's video recipes (every one that downloads fine), rendered once."""
    from corpus.build import plan
    from corpus.videos import render

    out = []
    for spec, rel, state in plan(0, "small").renders:
        if state != "ok":
            continue
        path = OUT / "corpus" / Path(rel).name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            render(spec, path)
        out.append(Video(path.name, "sample corpus", path, list(spec.cut_times_s), spec.fps))
    return out


def footage_set() -> list[Video]:
    from resources.video import VideoError, probe

    clips = _real_clips()
    known = {path.name: cuts for path, cuts in clips}
    videos = []
    for path in sorted(REALDATA.glob("*")):
        if path.name.endswith(".json"):
            continue
        try:
            fps = probe(path).fps
        except VideoError as e:
            print(f"left out {path.name}: {e}")
            continue
        videos.append(Video(path.name, "real clips, as published", path, known.get(path.name), fps or FPS))
    videos += [_long(*spec, clips) for spec in LONG]
    return videos + _corpus()


class _Counting:
    """A container that counts the frames decoded through it (later stages must decode none)."""

    decoded = 0

    def __init__(self, container):
        self._c = container

    def __getattr__(self, name):
        return getattr(self._c, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._c.close()

    def decode(self, *args, **kwargs):
        for frame in self._c.decode(*args, **kwargs):
            _Counting.decoded += 1
            yield frame


def later_decodes(path: Path, duration_s: float, ours) -> int:
    """Frames the annotation step (VLM backend: it needs pictures) and the alignment step decode for
    this video, given what the screen stored: frames decoded through any PyAV container they open,
    plus any ffmpeg process or OpenCV capture they start (each counted as one)."""
    import subprocess as sp
    from unittest import mock

    import av
    import cv2

    from assets.finevideo.annotation_assets import _frame_times, _item
    from resources.storage import MediaStore

    with tempfile.TemporaryDirectory() as d:
        media = MediaStore(root=str(Path(d) / "media"))
        frames = [{"time_s": t, "uri": media.put_bytes(jpeg, "jpg").uri} for t, jpeg in ours.frames]
        row = {"record_id": "r", "duration_s": duration_s, "media_uri": Path(path).resolve().as_uri(),
               "scene_cuts_s": ours.scene_cuts_s, "frames": frames, "fps": FPS}
        real_open, real_popen, real_capture = av.open, sp.Popen, cv2.VideoCapture
        started = []
        _Counting.decoded = 0
        with mock.patch.object(av, "open", lambda *a, **k: _Counting(real_open(*a, **k))), \
                mock.patch.object(sp, "Popen", lambda *a, **k: started.append(a) or real_popen(*a, **k)), \
                mock.patch.object(cv2, "VideoCapture", lambda *a, **k: started.append(a) or real_capture(*a, **k)):
            item, _ = _item(row, media, "openai")
            times = _frame_times(row, media)
        if len(item["frames"]) != len(frames) or not times:
            raise RuntimeError("the annotation or alignment step did not read what the screen stored")
    return _Counting.decoded + len(started)


def measure(video: Video, ffmpeg: str) -> dict:
    from scenedetect import ContentDetector, detect

    from assets.finevideo.dynamism import analyse
    from bench.finevideo_method import check_static
    from resources.video import probe

    duration = probe(video.path).duration_s
    kids, own = _children_cpu(), time.process_time()
    theirs = check_static(video.path, ffmpeg)
    fv_cpu = _children_cpu() - kids + time.process_time() - own
    kids = _children_cpu()
    check_static(video.path, ffmpeg, threads=1)
    fv_one = _children_cpu() - kids
    own = time.process_time()
    scenes = detect(str(video.path), ContentDetector())
    shots_cpu = time.process_time() - own
    own = time.process_time()
    ours = analyse(video.path, duration)
    our_cpu = time.process_time() - own
    every = analyse(video.path, duration, skim=False)
    return {
        "duration_s": duration, "fv_cpu": fv_cpu, "fv_one_thread": fv_one, "shots_cpu": shots_cpu, "our_cpu": our_cpu,
        "same": ours.finevideo_static == theirs.static and ours.static_segments == theirs.static_segments,
        "mode": ours.decode_mode, "cuts": ours.scene_cuts_s, "every_cuts": every.scene_cuts_s,
        "pyscenedetect_cuts": len(scenes[1:]), "decoded": ours.frames_decoded, "frames": ours.video_frames,
        "later_decodes": later_decodes(video.path, duration, ours), "stills": len(ours.frames),
    }


def _matched(expected: list[float], found: list[float], fps: float, tolerance: int,
             judged: list[tuple[float, float]] | None = None) -> tuple[int, int, int]:
    from tests.realdata.shots import match

    if judged is not None:
        found = [t for t in found if any(a <= t < b for a, b in judged)]
    m = match([round(t * fps) for t in expected], [round(t * fps) for t in found], tolerance)
    return m.hits, len(m.found), len(m.expected)


def _table(header: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def _row(name: str, videos: list[Video]) -> tuple:
    rs = [v.result for v in videos]
    seconds = sum(r["duration_s"] for r in rs)
    fv, one, shots, ours = (sum(r[k] for r in rs) for k in ("fv_cpu", "fv_one_thread", "shots_cpu", "our_cpu"))
    base = fv + shots
    return (name, len(rs), f"{seconds:.0f}", f"{fv:.1f}", f"{shots:.1f}", f"{ours:.1f}", f"{seconds / base:.0f}",
            f"{seconds / ours:.0f}", f"{base / ours:.1f}x", f"{(one + shots) / ours:.1f}x", f"{fv / ours:.1f}x",
            f"{sum(r['same'] for r in rs)}/{len(rs)}",
            f"{sum(r['decoded'] for r in rs) / sum(r['frames'] for r in rs):.2f}", max(r["later_decodes"] for r in rs))


def _cuts_row(name: str, videos: list[Video]) -> tuple:
    from tests.realdata.shots import SWEEP_TOLERANCE, TOLERANCE

    known = [v for v in videos if v.cuts_s is not None]
    agree = [_matched(v.result["every_cuts"], v.result["cuts"], v.fps, SWEEP_TOLERANCE) for v in videos]
    every = [_matched(v.cuts_s, v.result["every_cuts"], v.fps, TOLERANCE, v.judged) for v in known]
    ours = [_matched(v.cuts_s, v.result["cuts"], v.fps, SWEEP_TOLERANCE, v.judged) for v in known]

    def pr(ms) -> str:
        if not ms:
            return "-"
        hits, found, expected = (sum(m[i] for m in ms) for i in range(3))
        return f"P {hits / found if found else 1:.3f} R {hits / expected if expected else 1:.3f} ({expected})"

    return (name, len(known), pr(every), pr(ours), pr(agree))


def wall_clock(videos: list[Video]) -> tuple[float, float, float]:
    """The set through the screen's process pool on 2 workers: (video s, wall s, CPU s of the worker
    processes, start-up and imports included)."""
    from assets.finevideo.dynamism import measure_all

    jobs = [(v.name, str(v.path), v.result["duration_s"]) for v in videos]
    kids, started = _children_cpu(), time.perf_counter()
    measure_all(jobs, workers=2)
    wall = time.perf_counter() - started
    return sum(v.result["duration_s"] for v in videos), wall, _children_cpu() - kids


def main() -> None:
    import cv2

    from assets.finevideo.dynamism import analyse
    from tests.realdata.shots import SWEEP_TOLERANCE, TOLERANCE

    cv2.setNumThreads(1)  # as in the screen's worker processes
    ffmpeg = _ffmpeg()
    videos = footage_set()
    analyse(videos[0].path, 1.0)  # imports and first-use costs out of the timed runs
    for v in videos:
        try:
            v.result = measure(v, ffmpeg)
        except Exception as e:  # a file one of the methods cannot read: named, left out of the figures
            print(f"left out {v.name}: {type(e).__name__}: {str(e)[:200]}")
    videos = [v for v in videos if v.result]
    groups: dict[str, list[Video]] = {}
    for v in videos:
        groups.setdefault(v.group, []).append(v)
    real = [v for v in videos if v.group != "sample corpus"]
    header = ("set", "videos", "video s", "FineVideo CPU s", "shot pass CPU s", "ours CPU s", "baseline vs/cpu-s",
              "ours vs/cpu-s", "vs baseline", "vs baseline, ffmpeg 1 thread", "vs FineVideo alone",
              "identical decisions", "decoded/frames", "later-stage decodes")
    rows = [_row("all real footage", real)]
    for mode in ("keyframes", "partial", "full"):
        if any(v.result["mode"] == mode for v in real):
            rows.append(_row(f"  real, verdict from {mode}", [v for v in real if v.result["mode"] == mode]))
    rows += [_row(name, vs) for name, vs in groups.items()]
    print("Throughput (vs/cpu-s: video seconds per CPU second; baseline: FineVideo's freezedetect calls as published, "
          "ffmpeg's default threads, plus PySceneDetect's ContentDetector pass; '1 thread': the same calls with "
          "-threads 1)")
    _table(header, rows)
    print("\nPer video")
    _table(("video", "set", "s", "mode", "baseline CPU s", "ours CPU s", "vs baseline", "same", "decoded/frames",
            "stills", "later decodes"),
           [(v.name, v.group.split(",")[0], f"{v.result['duration_s']:.1f}", v.result["mode"],
             f"{v.result['fv_cpu'] + v.result['shots_cpu']:.2f}", f"{v.result['our_cpu']:.2f}",
             f"{(v.result['fv_cpu'] + v.result['shots_cpu']) / v.result['our_cpu']:.1f}x", v.result["same"],
             f"{v.result['decoded']}/{v.result['frames']}", v.result["stills"], v.result["later_decodes"])
            for v in videos])
    print(f"\nShots: the calibrated detector on every frame and in our sweep against the known cuts (every "
          f"frame within {TOLERANCE}, the sweep within {SWEEP_TOLERANCE} frames: it may look at a cut's next "
          f"decoded frame), and the sweep against every frame (all videos)")
    _table(("set", "videos with known cuts", "every frame vs known", "our sweep vs known", "sweep vs every frame"),
           [_cuts_row(name, vs) for name, vs in groups.items()])
    seconds, wall, cpu = wall_clock(real)
    print(f"\nWall clock, all real footage through the screen's pool on 2 workers: {seconds:.0f} video s in "
          f"{wall:.1f} s = {seconds / wall:.0f} video s per second ({cpu:.1f} CPU s in the worker processes, start-up "
          f"included: {seconds / cpu:.0f} video s per CPU second; {os.cpu_count()} cores here)")
    print("decodes per video along the chain (probe excluded): 1 sequential decode in the dynamism screen "
          f"(its skims decode keyframes only); {max(v.result['later_decodes'] for v in videos)} frames decoded or "
          "decoders started by the annotation and alignment steps for any video")


if __name__ == "__main__":
    main()
