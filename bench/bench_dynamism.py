"""Dynamism screen: our one-pass measurement against FineVideo's per-segment ffmpeg calls.

The set is the sample corpus's video recipes (`corpus.build.plan(0, "small")`, every file that
downloads fine: 21 videos, 5 of them still or partly still), rendered again at 1280x720 and
640x360 and cached under bench/out/dynamism/ (the first run renders them: about 15 minutes).
For each video both methods run back to back (so machine load hits both alike):
- FineVideo: `bench.finevideo_method.check_static`, one full-decode ffmpeg call per 60 s segment;
  CPU = the ffmpeg children's user+sys time (plus our own for reading the duration);
- ours: `assets.finevideo.dynamism.analyse`, given the packet-covered duration that the pipeline's
  video_files stage has already measured (as FineVideo's script is given its file); CPU = this
  process's user+sys time.
Printed: video seconds per CPU second for both, the ratio, how often the keep/drop decisions are
identical (our `finevideo_static` against FineVideo's verdict), how many videos needed a full
decode, and the same figures per decode mode (keyframes only / partial / full). Then what the shot
detector costs inside the full decodes (the only mode that runs it): for every fully decoded video,
one more decode feeds each frame to the shot detector (`scene_cuts.CutDetector`: AdaptiveDetector
and the fade/dissolve test) and to the detector the screen used before (ContentDetector(15) and the
grey image of the motion profile), timed frame by frame around each, beside the CPU of our whole
full-decode measurement. Timing figures depend on the machine and its load; run it on a quiet one.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "dynamism"
SIZES = {"720p": (1280, 720), "360p": (640, 360)}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def render_set() -> dict[str, list[Path]]:
    """Render (once) every usable corpus recipe at each size; returns the files per size."""
    from corpus.build import plan
    from corpus.videos import render

    todo, out = [], {name: [] for name in SIZES}
    for spec, rel, state in plan(0, "small").renders:
        if state != "ok":
            continue
        for name, (w, h) in SIZES.items():
            path = OUT / name / Path(rel).name
            out[name].append(path)
            if not path.exists():
                todo.append((dataclasses.replace(spec, width=w, height=h), path))

    def one(job) -> None:
        spec, path = job
        tmp = path.with_name(f".{path.name}.tmp.mp4")
        render(spec, tmp)
        os.replace(tmp, path)

    if todo:
        print(f"rendering {len(todo)} videos into {OUT} (once) ...", flush=True)
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:  # each render is one single-threaded ffmpeg
            list(pool.map(one, todo))
        print(f"rendered in {time.perf_counter() - started:.0f} s", flush=True)
    return out


def measure(path: Path, ffmpeg: str) -> dict:
    from assets.finevideo.dynamism import analyse
    from bench.finevideo_method import check_static
    from resources.video import probe

    duration = probe(path).duration_s
    kids, own = _children_cpu(), time.process_time()
    theirs = check_static(path, ffmpeg)
    fv_cpu = _children_cpu() - kids + time.process_time() - own
    own = time.process_time()
    ours = analyse(path, duration)
    return {
        "duration_s": duration,
        "fv_cpu": fv_cpu,
        "our_cpu": time.process_time() - own,
        "same": ours.finevideo_static == theirs.static and ours.static_segments == theirs.static_segments,
        "mode": ours.decode_mode,
        "fixed_differs": ours.fixed_static != theirs.static,
    }


def shot_cost(path: Path) -> tuple[float, float, int]:
    """CPU seconds of (the detector as the screen ran it before, the shot detector) over every frame
    of `path`, each timed around its own work on the same decoded frame, each first half the time."""
    from fractions import Fraction

    import av
    import cv2
    import numpy as np
    from scenedetect.common import FrameTimecode, Timecode

    from assets.finevideo.scene_cuts import CutDetector, DetectionImages, content_detector, detection_size

    old_s = new_s = 0.0
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        new = CutDetector(stream)
        old, images = content_detector(15.0), DetectionImages()
        rate, tb = Fraction(stream.guessed_rate or stream.average_rate or 25), Fraction(stream.time_base)

        def sampled(frame):  # the detection image as it was made before (a new array per plane)
            w, h = detection_size(frame.width, frame.height)
            if frame.format.name not in ("yuv420p", "yuvj420p") or w % 2 or h % 2:
                return images.bgr(frame)
            small = []
            for plane, size in zip(frame.planes, ((w, h), (w // 2, h // 2), (w // 2, h // 2)), strict=True):
                full = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: plane.height, : plane.width]
                small.append(cv2.resize(full, size, interpolation=cv2.INTER_NEAREST).ravel())
            return cv2.cvtColor(np.concatenate(small).reshape(-1, w), cv2.COLOR_YUV2BGR_I420)

        def before(frame) -> None:
            image = sampled(frame)
            old.process_frame(FrameTimecode(timecode=Timecode(pts=frame.pts, time_base=tb), fps=rate), image)
            cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)  # the motion profile's grey, now the detector's

        for frame in container.decode(stream):
            frames += 1
            first, second = (before, new.feed) if frames % 2 else (new.feed, before)
            t0 = time.process_time()
            first(frame)
            t1 = time.process_time()
            second(frame)
            t2 = time.process_time()
            old_s += t1 - t0 if first is before else t2 - t1
            new_s += t2 - t1 if first is before else t1 - t0
        t1 = time.process_time()
        new.shots()
        new_s += time.process_time() - t1
    return old_s, new_s, frames


def _row(name: str, rows: list[dict]) -> tuple:
    seconds = sum(r["duration_s"] for r in rows)
    fv, ours = sum(r["fv_cpu"] for r in rows), sum(r["our_cpu"] for r in rows)
    return (name, len(rows), f"{seconds:.0f}", f"{fv:.1f}", f"{ours:.1f}", f"{seconds / fv:.0f}",
            f"{seconds / ours:.0f}", f"{fv / ours:.1f}x", f"{sum(r['same'] for r in rows) / len(rows):.0%}",
            sum(r["mode"] == "full" for r in rows), sum(r["fixed_differs"] for r in rows))


def main() -> None:
    import cv2
    import imageio_ffmpeg

    cv2.setNumThreads(1)  # as in the screen's worker processes
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    files = render_set()
    results: dict[str, list[dict]] = {}
    for name, paths in files.items():
        results[name] = [measure(p, ffmpeg) for p in paths]
    header = ("set", "videos", "video s", "FineVideo CPU s", "ours CPU s", "FineVideo vs/cpu-s",
              "ours vs/cpu-s", "throughput", "identical decisions", "full decodes", "fixed rule differs")
    everything = [r for rs in results.values() for r in rs]
    rows = [_row(name, r) for name, r in results.items()]
    rows.append(_row("all", everything))
    for mode in ("keyframes", "partial", "full"):  # where the time goes
        if any(r["mode"] == mode for r in everything):
            rows.append(_row(f"all, {mode}", [r for r in everything if r["mode"] == mode]))
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    print("vs/cpu-s: video seconds per CPU second; throughput: ours over FineVideo's; "
          "fixed rule differs: videos whose fixed-rule verdict is not FineVideo's (by design)")
    full = [(r, p) for name, paths in files.items() for r, p in zip(results[name], paths, strict=True)
            if r["mode"] == "full"]
    if full:
        costs = [shot_cost(p) for _, p in full]
        old_s, new_s = sum(c[0] for c in costs), sum(c[1] for c in costs)
        frames, ours = sum(c[2] for c in costs), sum(r["our_cpu"] for r, _ in full)
        print(f"shot detection in the {len(full)} full decodes ({frames} frames; our full-decode CPU {ours:.1f} s): "
              f"ContentDetector(15) as before {old_s:.2f} s ({old_s / frames * 1e6:.0f} us/frame), "
              f"shot detector {new_s:.2f} s ({new_s / frames * 1e6:.0f} us/frame): "
              f"{(new_s - old_s) / ours:+.1%} of the full-decode CPU")


if __name__ == "__main__":
    main()
