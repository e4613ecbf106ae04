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
decode, and the same figures per decode mode (keyframes only / partial / full). Timing figures
depend on the machine and its load; run it on a quiet one.
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


if __name__ == "__main__":
    main()
