"""Real videos: what this project measures (probe, frame timestamps, upright frames, time -> frame)
beside what each file's upstream project publishes (`../shared/realdata/videos/*.expect.json`).

Expected values are read from each sidecar's `published` values (and `derived_from_published`),
never written here; a check exists only where the sidecar publishes its fact. The checks are keyed
on the published value's name (decord's `vr[0].shape`, androidx/media's `sample_time_us`, moviepy's
`reader_fps`, ...), so a new file whose upstream publishes the same kind of fact is checked the same
way. Two rows need no published value: every file is probed without crashing (a bad file is a
`VideoError` with its reason), and a rotated file's first upright frame equals what ffmpeg's
autorotate shows (a reference tool, not an upstream publication; it fixes the direction of the turn,
which a published frame shape cannot). Nor does the dynamism screen's row: its verdict equals
FineVideo's method run for real on the file, and its stills for the annotation step are upright.

The probe decodes every frame (`decode_all`), as the pipeline's video_files step does with
`VideoTools(decode_all=True)`, so a file that breaks part-way is an error row, not a crash.
"""

from __future__ import annotations

import ast
import json
import operator
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.realdata.rowtable import Row, checked_rows, sidecar_rows

KIND = "videos"


@dataclass
class Measured:
    """What this project says about one video, computed once and on demand."""

    path: Path

    @cached_property
    def probed(self):
        """(VideoProbe, None) or (None, VideoError); any other exception is a crash and propagates."""
        from resources.video import VideoError, probe

        try:
            return probe(self.path, decode_all=True), None
        except VideoError as e:
            return None, e

    @property
    def probe(self):
        return self.probed[0]

    @cached_property
    def times(self) -> list[float]:
        from resources.frames import frame_times

        return frame_times(self.path)

    @cached_property
    def timeline(self):
        from assets.finevideo.timeline import Timeline

        p = self.probe
        return Timeline.from_times(self.times, end_s=p.duration_s if p else None)

    def frame_shapes(self, limit: int | None = None) -> tuple[int, set[tuple[int, ...]]]:
        """(frames decoded, the distinct upright shapes) over the first `limit` frames (all: None)."""
        n, shapes = 0, set()
        for picture in self.upright(limit):
            shapes.add(picture.shape)
            n += 1
        return n, shapes

    def upright(self, limit: int | None = None):
        """The decoded frames as displayed (RGB), the first `limit` of them (all: None)."""
        import av

        from resources.frames import orientation_of, upright_picture

        with av.open(str(self.path)) as c:
            stream = c.streams.video[0]
            metadata = dict(stream.metadata or {})
            for n, frame in enumerate(c.decode(stream), start=1):
                yield upright_picture(frame, orientation_of(frame, metadata))
                if limit is not None and n >= limit:
                    break

    @cached_property
    def screened(self):
        """What the dynamism screen measures (`analyse`, as its workers call it), or its error."""
        from assets.finevideo.dynamism import analyse

        try:
            return analyse(self.path, self.probe.duration_s), None
        except Exception as e:  # the screen records it as the row's dynamism_error
            return None, f"{type(e).__name__}: {e}"


def _file(sidecar: Path) -> Path:
    return sidecar.with_name(sidecar.name.removesuffix(".expect.json"))


def _published(meta: dict[str, Any]) -> dict[str, Any]:
    """Every published value of a sidecar by name (later entries do not override earlier ones)."""
    values: dict[str, Any] = {}
    for entry in meta.get("published") or []:
        for k, v in (entry.get("values") or {}).items():
            values.setdefault(k, v)
    return values


def _decimals(values) -> int:
    """Decimal places a published number is given to (the most among `values`)."""
    out = 0
    for v in values if isinstance(values, list) else [values]:
        text = repr(float(v)) if not isinstance(v, str) else v
        if "e-" in text:
            out = max(out, int(text.split("e-")[1]) + 1)
        elif "." in text:
            out = max(out, len(text.split(".")[1].rstrip("0")))
    return out


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol + 1e-9


def _fmt(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _number(text: Any) -> float | None:
    """The leading number of a published value ("30 (ffmpeg >= 7); ..." -> 30)."""
    if isinstance(text, int | float):
        return float(text)
    m = re.match(r"\s*(-?\d+(?:\.\d+)?)", str(text))
    return float(m.group(1)) if m else None


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv}


def _arith(expr: str) -> float:
    """A published call argument such as `240//24` or `719/24` (numbers and + - * / // only)."""
    def ev(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(f"not plain arithmetic: {expr!r}")
    return float(ev(ast.parse(expr, mode="eval").body))


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text))


# ---- checks: each takes (name, measured, published values, derived values) and returns rows ----


def _probe_row(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    raising = {k: v for k, v in pub.items() if isinstance(v, str) and "raises" in v.lower()}
    p, err = m.probed
    measured = (f"VideoError {err.reason}: {err.detail}" if err else
                f"{p.width}x{p.height} {p.vcodec}, {p.frame_count} frames, all {p.decoded_frames} decode")
    if raising:
        call, what = next(iter(raising.items()))
        return [Row(name, "decoding fails cleanly", f"{call} {what}", measured, err is not None)]
    return [Row(name, "probe (decode every frame)", "a usable video", measured, err is None)]


FRAME_COUNT_KEYS = ("sample_count", "len", "video_n_frames", "n_frames", "nb_frames", "num_frames", "nframes",
                    "frame_count")


def _frame_count_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    keys = [(k, pub[k]) for k in FRAME_COUNT_KEYS if isinstance(pub.get(k), int) and not isinstance(pub[k], bool)]
    if isinstance(derived.get("total_frames_implied"), int):
        keys.append(("total_frames_implied (derived)", derived["total_frames_implied"]))
    p = m.probe
    out = []
    for key, n in keys:
        got = "no probe" if p is None else f"{p.frame_count} ({p.decoded_frames} decoded)"
        out.append(Row(name, f"frame count [{key}]", str(n), got,
                       p is not None and p.frame_count == n and p.decoded_frames == n))
    return out


def _timestamp_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    out = []
    if isinstance(pub.get("sample_time_us"), list):
        exp = [float(x) / 1e6 for x in pub["sample_time_us"]]
        tol = 1e-6  # published in whole microseconds
        out.append(("frame timestamps [sample_time_us]", exp, tol, m.times, "us"))
    for key, value in pub.items():
        if isinstance(value, list) and value and all(isinstance(x, int | float) for x in value) and (
                "timestamp" in key.lower()) and key != "sample_time_us":
            exp = [float(x) for x in value]
            tol = 0.5 * 10 ** -_decimals(value)  # half the last published decimal
            out.append((f"frame timestamps [{key}]", exp, tol, m.times[: len(exp)], "s"))
    rows = []
    for check, exp, tol, got, unit in out:
        ok = len(got) == len(exp) and all(_close(a, b, tol) for a, b in zip(got, exp, strict=True))
        rows.append(Row(name, check, _times(exp, unit), _times(got, unit), ok))
    return rows


def _times(xs: list[float], unit: str) -> str:
    if unit == "us":
        return "[" + ", ".join(f"{x * 1e6:.1f}".removesuffix(".0") for x in xs) + "]"
    return "[" + ", ".join(_fmt(x) for x in xs) + "]"


def _vfr_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    from resources.frames import is_vfr

    p = m.probe
    rows = []
    if isinstance(pub.get("sample_time_us"), list) and len(pub["sample_time_us"]) > 2:
        expected = is_vfr([int(x) for x in pub["sample_time_us"]], time_base=1)  # us ticks
        rows.append(Row(name, "vfr (from the published sample times)", str(expected).lower(),
                        "no probe" if p is None else str(p.vfr).lower(), p is not None and p.vfr == expected))
    tbr, fps = pub.get("fps_with_fps_source_tbr"), pub.get("fps_with_fps_source_fps")
    if isinstance(tbr, int | float) and isinstance(fps, int | float):
        expected = round(float(tbr), 2) != round(float(fps), 2)
        rows.append(Row(name, "vfr (published tbr != fps)", f"{str(expected).lower()} (tbr {tbr} vs fps {fps})",
                        "no probe" if p is None else str(p.vfr).lower(), p is not None and p.vfr == expected))
    return rows


# published frame-rate names by what they mean: ffmpeg's guessed (nominal) rate, the stream's
# r_frame_rate (tbr), the average (frames / duration); a bare "fps" is either of the first and last
# (moviepy's "fps" is ffmpeg's printed fps, the average; most readers mean the nominal rate)
NOMINAL_KEYS = ("nominal_fps", "guessed_rate")
TBR_KEYS = ("fps_with_fps_source_tbr", "r_frame_rate", "tbr", "base_rate")
AVERAGE_KEYS = ("frameRate", "fps_with_fps_source_fps", "avg_frame_rate", "average_rate")
EITHER_KEYS = ("reader_fps", "fps", "frame_rate", "framerate")


def _rate(value: Any) -> float | None:
    """A published rate: a number or "num/den"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(\d+(?:\.\d+)?))?\s*", str(value))
    if not m:
        return None
    return float(m.group(1)) / float(m.group(2)) if m.group(2) else float(m.group(1))


def _rate_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    p = m.probe
    found = [(k, pub[k]) for k in (*NOMINAL_KEYS, *TBR_KEYS, *AVERAGE_KEYS, *EITHER_KEYS) if k in pub]
    for s in pub.get("streams") or []:
        if isinstance(s, dict) and s.get("stream_type") == "video" and "fps" in s:
            found.append(("streams[video].fps", s["fps"]))
    rows = []
    for key, value in found:
        rate = _rate(value)
        if rate is None:
            continue
        # the published precision: half its last decimal (at least 2 decimals: 24 is 24.00)
        tol = 0.5 * 10 ** -max(2, _decimals(value) if not isinstance(value, str) else 2)
        ours = {"nominal": p.fps, "tbr": p.base_fps, "average": p.avg_fps}
        kinds = (("nominal",) if key in NOMINAL_KEYS else ("tbr",) if key in TBR_KEYS
                 else ("average",) if key in AVERAGE_KEYS else ("nominal", "average"))
        hit = [k for k in kinds if ours[k] is not None and _close(ours[k], rate, tol)]
        shown = ", ".join(f"{k} {_fmt(ours[k])}" for k in kinds if ours[k] is not None) or "none"
        rows.append(Row(name, f"fps {'/'.join(kinds)} [{key}]", str(value),
                        shown + (f" (matches {hit[0]})" if hit and len(kinds) > 1 else ""), bool(hit)))
    return rows


def _size_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    p = m.probe
    sizes = []
    if isinstance(pub.get("width"), int) and isinstance(pub.get("height"), int):
        sizes.append(("width x height", pub["width"], pub["height"]))
    for s in pub.get("streams") or []:
        if isinstance(s, dict) and s.get("stream_type") == "video" and isinstance(s.get("size"), list):
            sizes.append(("streams[video].size", *s["size"]))
    rows = [Row(name, f"display size [{key}]", f"{w}x{h}", "no probe" if p is None else f"{p.width}x{p.height}",
                p is not None and (p.width, p.height) == (w, h)) for key, w, h in sizes]
    one = pub.get("vr[0].shape")
    if isinstance(one, str):
        h, w, c = _shape(one)
        rows.append(Row(name, "display size [from vr[0].shape]", f"{w}x{h}",
                        "no probe" if p is None else f"{p.width}x{p.height}",
                        p is not None and (p.width, p.height) == (w, h)))
        first = next(m.upright(1), None)
        shape = None if first is None else first.shape
        rows.append(Row(name, "first frame, upright [vr[0].shape]", one, str(shape), shape == (h, w, c)))
    every = pub.get("vr[:].shape")
    if isinstance(every, str):
        n, h, w, c = _shape(every)
        count, shapes = m.frame_shapes()
        got = f"({count}, {', '.join(map(str, next(iter(shapes))))})" if len(shapes) == 1 else f"{count} frames, {shapes}"
        rows.append(Row(name, "every frame, upright [vr[:].shape]", every, got, count == n and shapes == {(h, w, c)}))
    return rows


def _rotation_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    value = pub.get("rotation")
    if not isinstance(value, int | float):
        return []
    p = m.probe
    expected = int(value) % 360
    return [Row(name, "rotation (degrees clockwise) [rotation]", str(value),
                "no probe" if p is None else str(p.rotation_deg), p is not None and p.rotation_deg == expected)]


def _duration_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    p = m.probe
    if p is None:
        return []
    found = []
    if isinstance(pub.get("duration_us"), int | float):
        found.append(("duration_us", pub["duration_us"] / 1e6, f"{pub['duration_us'] / 1e6:g} s"))
    if "duration_s" in pub and _number(pub["duration_s"]) is not None:
        found.append(("duration_s", _number(pub["duration_s"]), str(pub["duration_s"])))
    # tools disagree on whether the last frame's display time counts: half a frame either way
    half_frame = 0.5 / p.avg_fps if p.avg_fps else 0.0
    return [Row(name, f"duration (+-half a frame) [{key}]", shown, f"{p.duration_s:g} s",
                _close(p.duration_s, value, half_frame)) for key, value, shown in found]


_GET_FRAME = re.compile(r"^get_frame\(([^)]*)\)(.*)$")


def _time_to_frame_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    """moviepy's `get_frame(t) -> reader.pos`: the frame shown at t is frame pos - 1 (0-based); here
    the frame whose timestamp is nearest t, on the file's own timestamps."""
    rows = []
    for key, value in pub.items():
        hit = _GET_FRAME.match(key)
        if not hit:
            continue
        try:
            t = _arith(hit.group(1))
        except (ValueError, SyntaxError):
            continue
        got = m.timeline.frame_at(t)
        if isinstance(value, int):
            rows.append(Row(name, f"frame at t={t:g} s [{key}]", f"frame {value - 1} (pos {value})",
                            f"frame {got} (at {m.timeline.time(got):.3f} s)", got == value - 1))
        elif isinstance(value, str) and "last valid frame" in value:
            rows.append(Row(name, f"frame at t={t:g} s, past the end [{key}]",
                            f"the last frame ({m.timeline.last})", f"frame {got} of {m.timeline.frames}",
                            got == m.timeline.last))
    return rows


def _autorotate_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    """Not published: a rotated file's first upright frame beside ffmpeg's autorotated first frame."""
    p = m.probe
    if p is None or (p.rotation_deg == 0 and not p.mirrored):
        return []
    import imageio_ffmpeg
    import numpy as np

    mine = next(m.upright(1))
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(m.path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    same = len(raw) == mine.size and bool((np.frombuffer(raw, np.uint8).reshape(mine.shape) == mine).all())
    return [Row(name, "first frame = ffmpeg autorotate (reference tool, not published)",
                f"rotation {p.rotation_deg}: identical pixels", f"{mine.shape[1]}x{mine.shape[0]} "
                + ("identical pixels" if same else "DIFFERENT pixels"), same)]


def _screen_rows(name: str, m: Measured, pub: dict, derived: dict) -> list[Row]:
    """Not published: the dynamism screen's verdict beside FineVideo's method run for real (one
    ffmpeg freezedetect call per 60 s segment, which skips a packet its decoder refuses), and the
    stills it keeps for the annotation step shown the way the video is displayed."""
    import imageio_ffmpeg

    from bench.finevideo_method import check_static

    ours, error = m.screened
    theirs = check_static(m.path, imageio_ffmpeg.get_ffmpeg_exe())
    rows = [Row(name, "dynamism verdict = FineVideo's per-segment ffmpeg calls (method, not published)",
                f"static {theirs.static}, {theirs.static_segments}/{theirs.segments} segments",
                error or f"static {ours.finevideo_static}, {ours.static_segments}/{ours.segments} segments"
                + (f" ({ours.undecodable_packets} packet refused, skipped)" if ours.undecodable_packets else ""),
                ours is not None and (ours.finevideo_static, ours.static_segments) == (theirs.static, theirs.static_segments))]
    if ours is not None and ours.frames:
        import cv2
        import numpy as np

        h, w = cv2.imdecode(np.frombuffer(ours.frames[0][1], np.uint8), cv2.IMREAD_COLOR).shape[:2]
        p = m.probe
        rows.append(Row(name, "annotation stills as displayed (portrait or landscape)", f"{p.width}x{p.height}",
                        f"{w}x{h}", (w >= h) == (p.width >= p.height) and w <= max(p.width, 384)))
    return rows


CHECKS: tuple[Callable[[str, Measured, dict, dict], list[Row]], ...] = (
    _probe_row, _frame_count_rows, _timestamp_rows, _vfr_rows, _rate_rows, _size_rows, _rotation_rows,
    _duration_rows, _time_to_frame_rows, _autorotate_rows, _screen_rows,
)


def file_rows(sidecar: Path) -> list[Row]:
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    path = _file(sidecar)
    name = path.name
    m = Measured(path)
    pub, derived = _published(meta), meta.get("derived_from_published") or {}
    return checked_rows(name, CHECKS, lambda: m.probe is not None, m, pub, derived)


def rows() -> list[Row]:
    return sidecar_rows(KIND, file_rows)
