"""Shot cuts of real videos (and of the sample corpus) against the cut lists their makers know.

Expected cuts are read from each video sidecar's `derived_from_published.cut_frames_first_frame_of_new_scene`
(arithmetic on a published scene list) or derived here the same way from a published `scenes`
list ([start, end] frame ranges, inclusive: a cut is the first frame of every scene but the first).
A sidecar whose `exercises` state a "single continuous shot" expects no cut (the curator's
statement, not an upstream publication; the row says so). Measured cuts are
`assets.finevideo.scene_cuts.detect_shots`: 0-based positions of the first frame of each new shot
among the decoded frames, as the published lists count them. A cut is found when one measured cut
lies within `TOLERANCE` frames of it; every other measured cut is a false cut.

The sample corpus knows its cuts by construction (`corpus_manifest.json`, `video.scene_cuts_s`, in
seconds: each is mapped to the first decoded frame at or after it). `rows()` builds the demo's
(small) corpus in a temporary folder (about 10 s) and adds one row per corpus video with cuts, and
one row for the realdata and corpus cuts together (the issue's bar: precision and recall >= 0.9
within 1 frame); `rows("tiny")` does the same with the tiny corpus (4 s).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.realdata.rowtable import REALDATA, Row

KIND = "videos"  # the folder the videos are in
TOLERANCE = 1  # frames
SWEEP_TOLERANCE = 3  # frames: up to three B-frames in a row are skipped where no freeze is measured
BAR = 0.9  # precision and recall over every known cut list together


@dataclass(frozen=True)
class Match:
    expected: list[int]
    found: list[int]
    hits: int
    false: list[int]  # found, matching no expected cut
    missed: list[int]  # expected, matched by no found cut

    @property
    def precision(self) -> float:
        return self.hits / len(self.found) if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.hits / len(self.expected) if self.expected else 1.0


def match(expected: list[int], found: list[int], tolerance: int = TOLERANCE) -> Match:
    """One-to-one matching in time order: each expected cut takes the nearest unused found cut
    within `tolerance` frames."""
    used: set[int] = set()
    missed = []
    for e in expected:
        near = sorted((abs(f - e), f) for f in found if abs(f - e) <= tolerance and f not in used)
        if near:
            used.add(near[0][1])
        else:
            missed.append(e)
    return Match(list(expected), list(found), len(used), [f for f in found if f not in used], missed)


def expected_cuts(sidecar: dict) -> tuple[list[int], str] | None:
    """(cut frames, where they come from) for a sidecar that knows its cuts, else None."""
    derived = sidecar.get("derived_from_published") or {}
    if "cut_frames_first_frame_of_new_scene" in derived:
        return [int(f) for f in derived["cut_frames_first_frame_of_new_scene"]], "derived from published scenes"
    for entry in sidecar.get("published") or []:
        scenes = (entry.get("values") or {}).get("scenes")
        if scenes:
            return [int(s[0]) for s in scenes[1:]], "published scenes"
    if any("single continuous shot" in e for e in sidecar.get("exercises") or []):
        return [], "one shot per sidecar 'exercises', not published"
    return None


def _frames(found: list[int]) -> str:
    return "[" + ", ".join(map(str, found)) + "]" if found else "none"


def _shot_rows(name: str, m: Match, source: str, transitions: str) -> list[Row]:
    rows = [Row(name, f"cuts +-{TOLERANCE} frame ({source})", _frames(m.expected),
                _frames(m.found) + (f"; transitions {transitions}" if transitions else ""), not m.missed),
            Row(name, "false cuts", "none", _frames(m.false), not m.false)]
    if m.expected:
        rows.append(Row(name, f"precision / recall, +-{TOLERANCE}", "1.00 / 1.00",
                        f"{m.precision:.2f} / {m.recall:.2f}", not m.missed and not m.false))
    return rows


def _transitions(shots) -> str:
    return ", ".join(f"{t.kind} {t.start_frame}-{t.end_frame}" for t in shots.transitions)


def video_rows(folder: Path | None = None) -> tuple[list[Row], list[Match]]:
    from assets.finevideo.scene_cuts import detect_shots

    folder = folder or REALDATA / KIND
    rows, matches = [], []
    for path in sorted(folder.glob("*.expect.json")):
        known = expected_cuts(json.loads(path.read_text(encoding="utf-8")))
        if known is None:
            continue
        video = path.with_name(path.name.removesuffix(".expect.json"))
        shots = detect_shots(video)
        m = match(known[0], shots.cut_frames)
        matches.append(m)
        rows += _shot_rows(video.name, m, known[1], _transitions(shots))
        rows.append(_screen_row(video, known, shots.times))
    return rows, matches


def _screen_row(video: Path, known: tuple[list[int], str], times: list[float]) -> Row:
    """The shots the dynamism screen stores (its one decode, B-frames skipped outside freeze
    stretches: a cut is seen at the first decoded frame of the new shot, at most SWEEP_TOLERANCE
    frames late) against the same list."""
    from assets.finevideo.dynamism import analyse
    from resources.video import probe

    cuts = analyse(video, probe(video).duration_s).scene_cuts_s
    found = [next((k for k, t in enumerate(times) if t >= c - 1e-6), len(times)) for c in cuts]
    m = match(known[0], found, SWEEP_TOLERANCE)
    return Row(video.name, f"dynamism screen's cuts +-{SWEEP_TOLERANCE} frames ({known[1]})", _frames(m.expected),
               _frames(m.found), not m.missed and not m.false)


def corpus_rows(size: str = "small", root: Path | None = None) -> tuple[list[Row], list[Match]]:
    """Rows for the sample corpus of `size`, built in a temporary folder unless `root` holds one."""
    if root is None:
        with tempfile.TemporaryDirectory(prefix="shots-corpus-") as tmp:
            from corpus.build import build_corpus

            build_corpus(Path(tmp), size=size, jobs=2)
            return corpus_rows(size, Path(tmp))
    from assets.finevideo.scene_cuts import detect_shots

    manifest = json.loads((root / "corpus_manifest.json").read_text(encoding="utf-8"))
    rows, matches = [], []
    for it in manifest["items"]:
        video, file = it.get("video"), it.get("file")
        if not video or not file or file.get("state") != "ok" or video.get("scene_cuts_s") is None:
            continue
        shots = detect_shots(root / file["path"])
        times = shots.times
        expected = [next((k for k, t in enumerate(times) if t >= c - 1e-6), len(times)) for c in video["scene_cuts_s"]]
        m = match(expected, shots.cut_frames)
        matches.append(m)
        if expected or m.false:
            rows += _shot_rows(f"corpus {size}: {Path(file['path']).name}", m, f"manifest: {it['case']}",
                               _transitions(shots))
    return rows, matches


def total_row(label: str, matches: list[Match]) -> Row:
    hits = sum(m.hits for m in matches)
    found = sum(len(m.found) for m in matches)
    expected = sum(len(m.expected) for m in matches)
    precision = hits / found if found else 1.0
    recall = hits / expected if expected else 1.0
    return Row(label, f"precision / recall, +-{TOLERANCE}", f">= {BAR:.2f} / >= {BAR:.2f}",
               f"{precision:.2f} / {recall:.2f} ({hits} of {expected} cuts found, {found - hits} false, "
               f"{len(matches)} videos)", precision >= BAR and recall >= BAR)


def rows(corpus_size: str = "small") -> list[Row]:
    real, real_matches = video_rows()
    sample, sample_matches = corpus_rows(corpus_size)
    return [*real, *sample, total_row(f"realdata + corpus {corpus_size}", real_matches + sample_matches)]
