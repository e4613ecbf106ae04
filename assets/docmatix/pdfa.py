"""PDFA's page layout, its JSON sidecars and its webdataset tars.

A page is kept in PDFA's own shape (`lines{text, bbox, score, word_slice}`, `words{text, bbox, score,
line_pos}`, `images_bbox`, boxes `[x, y, w, h]` in 0-1 from the top left), whether it came from a
PDFA JSON or from the PDF's text layer, so everything downstream reads one format and a released
sample can be compared with the PDFA record it came from.
"""

from __future__ import annotations

import json
import math
import tarfile
from collections.abc import Iterator
from typing import IO, Any

from resources.containment import OUTSIDE
from resources.limits import TOO_LARGE

Box = list[float]
Page = dict[str, Any]


class LayoutError(ValueError):
    """A PDFA JSON that does not describe pages in PDFA's layout; the message says where."""


def clip_box(box: Any) -> Box:
    """A box clipped to the page: x, y in [0, 1], w, h >= 0 and x + w, y + h <= 1."""
    if not isinstance(box, list | tuple) or len(box) != 4:
        raise LayoutError(f"a bbox must be [x, y, w, h], got {box!r}")
    x, y, w, h = (float(v) for v in box)
    x0, y0 = min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)
    x1, y1 = min(max(x + w, x0), 1.0), min(max(y + h, y0), 1.0)
    return [round(x0, 6), round(y0, 6), round(x1 - x0, 6), round(y1 - y0, 6)]


SIDECAR_SLACK = 0.01  # rounding a sidecar's writer may leave past the page edge


def sidecar_box(box: Any) -> Box:
    """A box a data provider's JSON states: four finite numbers inside the page (within
    `SIDECAR_SLACK`), else `LayoutError`, so a bad sidecar falls back to the text layer instead of
    being clipped into a box that points at the wrong place."""
    if not isinstance(box, list | tuple) or len(box) != 4:
        raise LayoutError(f"a bbox must be [x, y, w, h], got {box!r}"[:200])
    try:
        x, y, w, h = (float(v) for v in box)
    except (TypeError, ValueError):
        raise LayoutError(f"a bbox must hold numbers, got {box!r}"[:200]) from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise LayoutError(f"a bbox holds a non-finite number: {box!r}")
    lo, hi = -SIDECAR_SLACK, 1 + SIDECAR_SLACK
    if w < lo or h < lo or not (lo <= x <= hi and lo <= y <= hi and x + w <= hi and y + h <= hi):
        raise LayoutError(f"a bbox lies outside the page (0-1): {box!r}")
    return clip_box([x, y, w, h])


def union_box(boxes: list[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return clip_box([x0, y0, x1 - x0, y1 - y0])


def page_from_lines(lines: list[list[tuple[str, Box]]], images: list[Box] | None = None) -> Page:
    """A PDFA page from lines given as their words with boxes (a line's box is its words' union)."""
    page: Page = {
        "lines": {"text": [], "bbox": [], "score": [], "word_slice": []},
        "words": {"text": [], "bbox": [], "score": [], "line_pos": []},
        "images_bbox": [clip_box(b) for b in images or []],
    }
    for words in lines:
        if not words:
            continue
        line_no, first = len(page["lines"]["text"]), len(page["words"]["text"])
        for pos, (text, box) in enumerate(words):
            page["words"]["text"].append(text)
            page["words"]["bbox"].append(clip_box(box))
            page["words"]["score"].append(1.0)
            page["words"]["line_pos"].append([line_no, pos])
        page["lines"]["text"].append(" ".join(t for t, _ in words))
        page["lines"]["bbox"].append(union_box([clip_box(b) for _, b in words]))
        page["lines"]["score"].append(1.0)
        page["lines"]["word_slice"].append([first, first + len(words)])
    return page


def _column(block: dict, name: str, where: str) -> list:
    value = block.get(name, [])
    if not isinstance(value, list):
        raise LayoutError(f"{where}.{name} must be a list")
    return value


def parse_pdfa_json(data: bytes | str) -> list[Page]:
    """The pages of a PDFA JSON, checked: boxes must be finite and on the page (`sidecar_box`)."""
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise LayoutError(f"not JSON: {e}") from None
    except RecursionError:
        raise LayoutError("JSON nested too deeply to be PDFA's layout") from None
    pages = doc.get("pages") if isinstance(doc, dict) else None
    if not isinstance(pages, list):
        raise LayoutError("no `pages` list")
    out = []
    for i, page in enumerate(pages):
        where = f"pages[{i}]"
        if not isinstance(page, dict):
            raise LayoutError(f"{where} is not an object")
        lines, words = page.get("lines") or {}, page.get("words") or {}
        lt, lb = _column(lines, "text", where + ".lines"), _column(lines, "bbox", where + ".lines")
        wt, wb = _column(words, "text", where + ".words"), _column(words, "bbox", where + ".words")
        if len(lt) != len(lb) or len(wt) != len(wb):
            raise LayoutError(f"{where}: text and bbox lists differ in length")
        n_words = len(wt)
        slices = _column(lines, "word_slice", where + ".lines") or [[0, 0]] * len(lt)
        if len(slices) != len(lt) or any(not (0 <= a <= b <= n_words) for a, b in slices):
            raise LayoutError(f"{where}: word_slice does not index the words")
        out.append({
            "lines": {
                "text": [str(t) for t in lt],
                "bbox": [sidecar_box(b) for b in lb],
                "score": [float(s) for s in _column(lines, "score", where) or [1.0] * len(lt)],
                "word_slice": [[int(a), int(b)] for a, b in slices],
            },
            "words": {
                "text": [str(t) for t in wt],
                "bbox": [sidecar_box(b) for b in wb],
                "score": [float(s) for s in _column(words, "score", where) or [1.0] * n_words],
                "line_pos": [[int(a), int(b)] for a, b in _column(words, "line_pos", where) or []],
            },
            "images_bbox": [sidecar_box(b) for b in _column(page, "images_bbox", where)],
        })
    return out


def page_text(page: Page) -> str:
    """Docmatix's page text: the page's lines joined by newlines."""
    return "\n".join(page["lines"]["text"])


def text_chars(pages: list[Page]) -> int:
    return sum(len(t.strip()) for p in pages for t in p["lines"]["text"])


def webdataset_key(member_name: str) -> tuple[str, str]:
    """(key, extension) of a tar member: webdataset's key is the path up to the basename's first dot."""
    folder, _, base = member_name.rpartition("/")
    stem, dot, ext = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), (ext.lower() if dot else "")


def member_problem(member: tarfile.TarInfo) -> str | None:
    """Why a tar member is not a landed file (`outside_landing_zone`: a symlink or hard link, whose
    content is elsewhere, or a name that climbs out of the tar: absolute or with `..`), else None."""
    name = member.name.replace("\\", "/")
    if member.issym() or member.islnk():
        return f"a {'symlink' if member.issym() else 'hard link'} to {member.linkname!r}"
    if name.startswith("/") or ".." in name.split("/"):
        return f"the name {member.name!r} leaves the tar"
    return None


def webdataset_samples(fileobj: IO[bytes], rejected: list[tuple[str, str, str]] | None = None,
                       max_member_bytes: int | None = None) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {extension: bytes}) per sample of a webdataset tar, streamed: members of one sample are
    consecutive, so memory holds one sample at a time however large the tar. Members that are links
    or leave the tar, and members over `max_member_bytes` (the size their header declares, which is
    what the stream would inflate), are never read: each is appended to `rejected` as
    (name, reason, detail)."""
    key: str | None = None
    sample: dict[str, bytes] = {}
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for member in tar:
            problem = member_problem(member)
            if problem is None and max_member_bytes is not None and member.size > max_member_bytes:
                problem = (TOO_LARGE, f"{member.name}: {member.size} bytes > {max_member_bytes}")
            elif problem is not None:
                problem = (OUTSIDE, problem)
            if problem is not None:
                if rejected is not None:
                    rejected.append((member.name, *problem))
                continue
            if not member.isfile():
                continue
            k, ext = webdataset_key(member.name)
            if k != key and sample:
                yield key, sample  # type: ignore[misc]
                sample = {}
            key = k
            f = tar.extractfile(member)
            sample[ext] = f.read() if f is not None else b""
    if sample and key is not None:
        yield key, sample
