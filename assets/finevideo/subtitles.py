"""Timed speech for the annotators: subtitle files read by maintained parsers, cues split into
speaker turns, held to the video's measured length; or the transcript spread over the video.

Reading (`read_subtitles`). Bytes are decoded by their byte-order mark (UTF-8, UTF-16 LE/BE,
UTF-32), else as UTF-16 when every other byte is NUL, else as UTF-8, else as cp1252 (Windows
subtitle editors), else as latin-1; CRLF and bare CR become LF. A file whose first line starts
with `WEBVTT` is WebVTT and goes to webvtt-py; anything else is SubRip and goes to srt:

- webvtt-py (MIT, glut23/webvtt-py) implements WebVTT's block rules: the header, NOTE, STYLE and
  REGION blocks, cue identifiers, cue settings, MM:SS.mmm timings, and a cue timing line that
  arrives without a blank line before it starts a new cue instead of being swallowed into the
  previous cue's text (YouTube's auto-captions); a cue whose timing cannot be read is skipped.
- srt (MIT, cdown/srt) is the most lenient SubRip reader: numbering from 0 or none, fields of any
  width (`00:00:5,000`, `00:00:013,567`), `.` or `,` before the milliseconds, coordinates after
  the timing, missing blank lines between cues, blank lines inside a cue's text. It folds a block
  that has an index but no readable timing line into the previous cue's text, so such blocks (a
  cue without its timing line, `--> 02:00:10,901`, `02:00:12,901 -->`) are taken out before the
  text is handed over and counted as `malformed`, as androidx/media's SubRip parser skips them.
  pysrt was not chosen: it is GPL-3.0.

Each cue keeps its text as written (`raw`), its text without markup (`text`: WebVTT cue tags,
SubRip HTML tags and SubStation `{\\an8}` overrides removed, spaces collapsed, lines joined by
"\\n", as webvtt-py's `.text` and androidx's cue text) and its speaker turns (`speakers.turns`).

For the annotators (`speech_cues`) every turn becomes a `Cue` with its speaker; a cue holding
several turns shares its time among them in proportion to their length. Rolling auto-captions
repeat the line before, so a line that only repeats the previous one is dropped. `sentences` joins
cues into whole sentences without ever joining two turns. `clip_cues` holds cues to the video:
a cue past the end is dropped, one that runs over it is cut at the end, and `cue_timing` counts
them and measures how much of the cue time lies after the end, which `SubtitleRules` judges (a
subtitle file mostly after the video's end belongs to another video).

Without a subtitle file, the transcript's sentences are spread over the duration in proportion to
their length, and the cues say they are `estimated` so nothing downstream mistakes them for timing.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import Field

from assets.finevideo.speakers import Turn, label, strip_tags, turns
from assets.kit.screening import Rule, RuleSet

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_SENTENCE_END = (".", "!", "?", '"', "…", "。", "！", "？", "”", "»")
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SRT_TIME = r"\d+[,.:，．。：]\d+[,.:，．。：]\d+[,.:，．。：]?\d*"  # srt's own timestamp pattern
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME} *-[ -] *> *{_SRT_TIME}")
_INDEX = re.compile(r"^\s*-?\d+\s*$")


@dataclass(frozen=True)
class Cue:
    """Timed speech as the annotators read it: one speaker turn (or a transcript sentence)."""

    start: float
    end: float
    text: str  # without markup, dash or speaker label
    estimated: bool = False
    speaker: str | None = None
    turn: bool = False  # a marker (voice tag, dash, label) opens it: it never continues the text before


@dataclass(frozen=True)
class SubtitleCue:
    """One cue as the file has it."""

    start: float
    end: float
    text: str  # without markup, lines joined by "\n"
    raw: str  # as written, tags kept
    identifier: str = ""
    turns: tuple[Turn, ...] = ()


@dataclass(frozen=True)
class SubtitleFile:
    format: str  # "vtt", "srt", or "" when nothing in it reads as subtitles
    encoding: str
    cues: tuple[SubtitleCue, ...]
    malformed: int = 0  # cue blocks skipped: a timing line missing or unreadable


@dataclass(frozen=True)
class CueTiming:
    """How a file's cues sit against the video they are meant for."""

    cues: int
    clipped: int  # cues that run past the video's end (cut there) or start after it (dropped)
    beyond_end: float  # share of the cues' time after the end, 0-1
    last_end_s: float | None


class SubtitleRules(RuleSet):
    """A subtitle file mostly after the video's end belongs to another video (or another cut)."""

    max_beyond_end: float = Field(
        default=0.5, ge=0, le=1,
        description="largest share of the subtitles' cue time that may lie after the video's end; a right "
                    "file has at most its last cue running over, a wrong one (a longer video's) is mostly past it")

    def rules(self) -> list[Rule]:
        return [Rule(reason="subtitle_mismatch", column="subtitle_beyond_end", op="le", threshold=self.max_beyond_end)]


# -- reading -----------------------------------------------------------------------------------


def decode(data: bytes | str) -> tuple[str, str]:
    """(text with LF line endings and no byte-order mark, the encoding it was read with)."""
    if isinstance(data, str):
        text, encoding = data, "str"
    else:
        bom, encoding = next(((bom, name) for bom, name in _BOMS if data.startswith(bom)), (b"", None))
        if encoding is not None:
            text = data[len(bom):].decode(encoding, errors="replace")
        else:
            text, encoding = _guess(data)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding


def _guess(data: bytes) -> tuple[str, str]:
    half = max(1, len(data) // 2)
    if data.count(0) > half // 2:  # UTF-16 without a mark: ASCII text leaves every other byte NUL
        even, odd = data[0::2].count(0), data[1::2].count(0)
        encoding = "utf-16-le" if odd >= even else "utf-16-be"
        return data.decode(encoding, errors="replace"), encoding
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def read_subtitles(data: bytes | str) -> SubtitleFile:
    """Every cue of a WebVTT or SubRip file, in file order. Never raises on bad content: what
    cannot be read is skipped and counted."""
    text, encoding = decode(data)
    first = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    if first.startswith("WEBVTT"):
        return _vtt(text[text.index("WEBVTT"):], encoding)
    sub = _srt(text, encoding)
    if not sub.cues and "-->" in text:  # WebVTT cues without the header line
        vtt = _vtt("WEBVTT\n\n" + text, encoding)
        if vtt.cues:
            return vtt
    return sub


def _cue(start: float, end: float, raw: str, identifier: str, fmt: str) -> SubtitleCue:
    return SubtitleCue(start=start, end=end, text=strip_tags(raw, fmt), raw=raw, identifier=identifier,
                       turns=tuple(turns(raw, fmt)))


def _vtt(text: str, encoding: str) -> SubtitleFile:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        parsed = webvtt.WebVTT.from_string(text).captions
    except (MalformedFileError, MalformedCaptionError):
        parsed = []
    cues = tuple(_cue(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, c.raw_text,
                      c.identifier or "", "vtt") for c in parsed)
    timings = sum(1 for ln in text.split("\n") if "-->" in ln)
    return SubtitleFile("vtt", encoding, cues, malformed=max(0, timings - len(cues)))


def _srt_blocks(text: str) -> tuple[str, int]:
    """The SubRip text without its malformed cue blocks (an index whose timing line is missing or
    unreadable, or an unreadable timing line), and how many there were."""
    blocks, block = [], []
    for line in text.split("\n"):
        if line.strip():
            block.append(line)
        elif block:
            blocks.append(block)
            block = []
    if block:
        blocks.append(block)
    kept, malformed, k = [], 0, 0
    while k < len(blocks):
        b = blocks[k]
        k += 1
        if len(b) == 1 and _INDEX.match(b[0]) and k < len(blocks) and _SRT_TIMING.match(blocks[k][0]):
            b = b + blocks[k]  # an index, a blank line, then its timing line
            k += 1
        indexed = bool(_INDEX.match(b[0]))
        timing = b[1] if indexed and len(b) > 1 else b[0]
        if (indexed or "-->" in timing) and not _SRT_TIMING.match(timing):
            malformed += 1  # a cue whose timing line is missing or cannot be read
            continue
        kept.append("\n".join(b))
    return "\n\n".join(kept) + "\n", malformed


def _srt(text: str, encoding: str) -> SubtitleFile:
    import srt

    cleaned, malformed = _srt_blocks(text)
    try:
        parsed = list(srt.parse(cleaned, ignore_errors=True))
    except srt.SRTParseException:
        parsed = []
    cues = tuple(_cue(s.start.total_seconds(), s.end.total_seconds(), s.content, str(s.index), "srt")
                 for s in parsed)
    timings = sum(1 for ln in cleaned.split("\n") if _SRT_TIMING.match(ln))
    return SubtitleFile("srt" if cues else "", encoding, cues, malformed=malformed + max(0, timings - len(cues)))


# -- speech for the annotators -------------------------------------------------------------------


def speech_cues(sub: SubtitleFile) -> list[Cue]:
    """One `Cue` per speaker turn, in time order; cues without time or text are left out, and a
    line that repeats the one before (rolling captions) is dropped."""
    out: list[Cue] = []
    previous: tuple[str | None, str] | None = None
    for c in sorted(sub.cues, key=lambda c: c.start):
        if c.end <= c.start:
            continue
        said: list[Turn] = []
        for t in c.turns:
            lines = []
            for ln in t.text.split("\n"):
                if ln and (t.speaker, ln) != previous:
                    lines.append(ln)
                    previous = (t.speaker, ln)
            if lines:
                said.append(Turn(t.speaker, " ".join(lines), t.marked))
        total = sum(len(t.text) for t in said)
        start = c.start
        for k, t in enumerate(said):
            end = c.end if k == len(said) - 1 else round(start + (c.end - c.start) * len(t.text) / total, 3)
            out.append(Cue(round(start, 3), round(end, 3), t.text, speaker=t.speaker, turn=t.marked))
            start = end
    return out


def parse_subtitles(data: bytes | str) -> list[Cue]:
    """The speech of a WebVTT or SubRip file (bytes or text)."""
    return speech_cues(read_subtitles(data))


parse_vtt = parse_subtitles  # the name callers used when only WebVTT was read


def said(c: Cue) -> str:
    """A cue as a transcript line: `Speaker: text` when the speaker is known."""
    return f"{c.speaker}: {c.text}" if c.speaker else c.text


def estimated_cues(transcript: str, duration_s: float) -> list[Cue]:
    """Sentences laid end to end over the video, each as long as its share of the words; a
    sentence that opens with a `Name:` label is that speaker's."""
    sentences = [s.strip() for s in _SENTENCE.split(transcript or "") if s.strip()]
    words = [max(1, len(s.split())) for s in sentences]
    total = sum(words)
    cues, t = [], 0.0
    for s, w in zip(sentences, words, strict=True):
        d = duration_s * w / total
        who, rest, labelled = label(s)
        cues.append(Cue(round(t, 3), round(t + d, 3), rest if labelled and rest else s, estimated=True,
                        speaker=who if rest else None, turn=labelled and bool(rest)))
        t += d
    return cues


def _continues(run: list[Cue], c: Cue) -> bool:
    """Whether `c` goes on with the unfinished sentence `run`: it carries no marker of its own, or
    it is the same named speaker going on."""
    speaker = next((x.speaker for x in run if x.speaker), None)
    if c.speaker is not None:
        return c.speaker == speaker
    return not c.turn


def sentences(cues: list[Cue], max_words: int = 60) -> list[Cue]:
    """Cues joined into whole sentences (captions break lines mid-sentence), timed from the first
    cue's start to the last one's end; a run without final punctuation stops at `max_words`, and a
    new speaker turn always starts a new sentence. A sentence's speaker is its turn's."""
    out: list[Cue] = []
    run: list[Cue] = []

    def flush() -> None:
        speaker = next((x.speaker for x in run if x.speaker), None)
        out.append(Cue(run[0].start, run[-1].end, " ".join(x.text for x in run), any(x.estimated for x in run),
                       speaker, run[0].turn))
        run.clear()

    for c in cues:
        if run and not _continues(run, c):
            flush()
        run.append(c)
        text = " ".join(x.text for x in run)
        if text.rstrip().endswith(_SENTENCE_END) or len(text.split()) >= max_words:
            flush()
    if run:
        flush()
    return out


# -- holding cues to the video -------------------------------------------------------------------


def cue_timing(cues: Sequence[Cue | SubtitleCue], duration_s: float) -> CueTiming:
    """How many cues run past `duration_s` and what share of the cue time lies after it."""
    spans = [(c.start, c.end) for c in cues if c.end > c.start]
    total = sum(b - a for a, b in spans)
    after = sum(b - max(a, duration_s) for a, b in spans if b > duration_s)
    return CueTiming(cues=len(cues), clipped=sum(1 for c in cues if c.end > duration_s),
                     beyond_end=round(after / total, 4) if total > 0 else 0.0,
                     last_end_s=max((b for _, b in spans), default=None))


def clip_cues(cues: Sequence[Cue], duration_s: float) -> list[Cue]:
    """The cues inside the video: one that starts at or after its end is dropped, one that runs
    over it ends there."""
    return [c if c.end <= duration_s else Cue(c.start, round(duration_s, 3), c.text, c.estimated, c.speaker, c.turn)
            for c in cues if c.start < duration_s]



def subtitle_measures(sub: SubtitleFile | None, duration_s: float) -> dict[str, float | int | None]:
    """What a row stores about its subtitle file against the video: cues read, skipped as
    malformed, running past the end; the share of cue time after the end (0 without a file)."""
    if sub is None:
        return {"subtitle_cues": None, "cues_malformed": None, "cues_clipped": None, "subtitle_beyond_end": 0.0}
    t = cue_timing(sub.cues, duration_s)
    return {"subtitle_cues": t.cues, "cues_malformed": sub.malformed, "cues_clipped": t.clipped,
            "subtitle_beyond_end": t.beyond_end}


def subtitle_problem(measures: dict, duration_s: float, rules: SubtitleRules | None = None) -> tuple[str, str] | None:
    """(reason, detail) of the first rule the stored measures fail, else None."""
    for rule in SubtitleRules.rules(rules or SubtitleRules()):  # the subtitle rules of a larger set too
        if not rule.passes(measures.get(rule.column)):
            share = measures.get(rule.column)
            return rule.reason, (f"{share:.0%} of the subtitles' cue time is after the video's end ({duration_s:.1f} s; "
                                 f"{measures.get('cues_clipped')} of {measures.get('subtitle_cues')} cues run past it) "
                                 f"({rule.text()})")
    return None

# -- cues in a Task item (JSON) ------------------------------------------------------------------


def cue_row(c: Cue) -> list:
    """A cue as a Task item holds it: [start, end, text, estimated, speaker, turn]."""
    return [c.start, c.end, c.text, c.estimated, c.speaker, c.turn]


def row_cue(row: Sequence) -> Cue:
    """Inverse of `cue_row`; a row of four ([start, end, text, estimated]) has no speaker."""
    a, b, text, estimated, *rest = row
    return Cue(float(a), float(b), str(text), bool(estimated), rest[0] if rest else None,
               bool(rest[1]) if len(rest) > 1 else False)
