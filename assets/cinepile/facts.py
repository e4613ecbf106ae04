"""Which options of a scene question are true, read off the video's facts.

A distractor that is also a true answer penalises a model that knows the answer: "At what time is
this seen: hard cut?" with five real cut times has five keys. So every question, whoever wrote it,
is judged against the video's pool (`pools.video_pool`: its lines [start, end, speaker, text,
scene_id], its events [time, text, source], its speakers), working only from the question's kind,
its text and its options: the anchor (a quoted line, the text after "seen: ", "the line at mm:ss",
a time, a speaker, a scene span) is parsed from the text, so LLM-written and rewritten questions are
audited the same way as the offline writer's.

Text compares are on `mcq.norm` (case and punctuation off). A quoted anchor is matched exactly; when
nothing matches exactly (an LLM quoting part of a line) it is matched as a contained phrase. Times
compare at mm:ss: an event happens at its second, a line is said at every second it spans (from its
start's second to the second before its end), so "at what time is X said" is also true at 00:06 for
a line said from 00:05 to 00:08. A question whose anchor cannot be read, or names nothing in the
video, cannot be judged: `true_options` says None rather than guessing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assets.cinepile.mcq import MCQ, norm
from assets.cinepile.pools import video_pools
from assets.cinepile.scenes import MOTION_LEVELS, SPEECH_LEVELS, mmss
from assets.finevideo.annotation_schema import MOODS
from assets.finevideo.timestamps import TimestampError, parse_range

CLOSED = ("motion", "speech", "mood", "theme")  # the key is the only true option of a closed set
KINDS = ("who_says", "who_first", "said_next", "said_at", "said_before", "at_time", "seen_at", *CLOSED)

_QUOTE = re.compile(r'"([^"]+)"|“([^”]+)”')
_SEEN = re.compile(r"\bseen:\s*(.+?)\s*\??\s*$", re.IGNORECASE | re.DOTALL)
_LINE_AT = re.compile(r"\bthe line at (\d{1,2}:\d\d(?::\d\d)?)\b", re.IGNORECASE)
_CLOCK = re.compile(r"\b\d{1,2}:\d\d(?::\d\d)?\b")
_WHO_SAYS_AT = re.compile(r"\bwhat does (.+?) say at\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Line:
    start: float
    end: float
    speaker: str
    text: str  # normalised

    def seconds(self) -> range:
        """The mm:ss seconds the line is heard in."""
        first = int(self.start + 1e-6)
        return range(first, max(first, math.ceil(self.end - 1e-6) - 1) + 1)


@dataclass(frozen=True)
class _Facts:
    lines: tuple[_Line, ...]  # said lines, in time order
    events: tuple[tuple[int, str], ...]  # (second, normalised text)


def _facts(pool: Mapping[str, Any]) -> _Facts:
    lines = sorted((float(x[0]), float(x[1]), norm(x[2] or ""), norm(x[3])) for x in pool["lines"] if norm(x[3]))
    events = tuple((int(float(e[0]) + 1e-6), norm(e[1])) for e in pool["events"] if norm(e[1]))
    return _Facts(tuple(_Line(*x) for x in lines), events)


def second(text: str) -> int | None:
    """The mm:ss second an option or anchor names, or None when it is not a time."""
    try:
        t = parse_range(str(text))[0]
    except TimestampError:
        return None
    return None if t is None else int(t + 1e-6)


def _matching(anchor: str, texts: Iterable[str]) -> list[int]:
    """Indices of `texts` equal to the anchor; when none is, of those containing it as a phrase."""
    a = norm(anchor)
    texts = list(texts)
    exact = [i for i, t in enumerate(texts) if t == a]
    if exact or not a:
        return exact
    return [i for i, t in enumerate(texts) if f" {a} " in f" {t} "]


def _anchor_lines(question: str, facts: _Facts) -> list[int] | None:
    """Indices of the lines a question points at: its quoted line, or `the line at mm:ss`."""
    q = _QUOTE.search(question)
    if q:
        found = _matching(q.group(1) or q.group(2), (ln.text for ln in facts.lines))
        return found or None
    ref = _LINE_AT.search(question)
    if ref and (s := second(ref.group(1))) is not None:
        found = [i for i, ln in enumerate(facts.lines) if s in ln.seconds()]
        return found or None
    return None


def _times(question: str) -> list[int]:
    return [s for s in (second(m.group(0)) for m in _CLOCK.finditer(question)) if s is not None]


def _true(kind: str, question: str, options: Sequence[str], key: str, facts: _Facts) -> set[str] | None:
    """The normalised options that are true, or None when the question cannot be judged."""
    opts = {norm(o) for o in options}
    if kind in CLOSED:
        return opts & {norm(key)}
    if kind == "at_time":
        seen, quote = _SEEN.search(question), _QUOTE.search(question)
        if seen:  # "this seen: X" names an event; its text may itself hold quotes
            at = {facts.events[i][0] for i in _matching(seen.group(1), (t for _, t in facts.events))}
        elif quote:  # a quoted line, or what a model quoted of a description
            texts = [ln.text for ln in facts.lines] + [t for _, t in facts.events]
            n = len(facts.lines)
            at = {s for i in _matching(quote.group(1) or quote.group(2), texts)
                  for s in (facts.lines[i].seconds() if i < n else (facts.events[i - n][0],))}
        else:
            return None
        if not at:
            return None
        return {norm(o) for o in options if second(o) in at}
    if kind == "seen_at":
        times = _times(question)
        if not times:
            return None
        return {t for s, t in facts.events if s == times[0]} & opts
    if kind == "said_at":
        times = _times(question)
        if not times:
            return None
        who = _WHO_SAYS_AT.search(question)
        speaker = norm(who.group(1)) if who and norm(who.group(1)) not in ("someone", "somebody") else None
        return {ln.text for ln in facts.lines if times[0] in ln.seconds()
                and (speaker is None or ln.speaker == speaker)} & opts
    if kind == "who_first":
        times = _times(question)
        if len(times) < 2:
            return None
        a, b = times[0], times[1]
        named = [ln for ln in facts.lines if ln.speaker and a <= (ln.start + ln.end) / 2 < b + 1]
        if not named:
            return None
        first = int(min(ln.start for ln in named) + 1e-6)
        return {ln.speaker for ln in named if int(ln.start + 1e-6) == first} & opts
    anchors = _anchor_lines(question, facts)
    if anchors is None:
        return None
    if kind == "who_says":
        return {facts.lines[i].speaker for i in anchors if facts.lines[i].speaker} & opts
    if kind == "said_next":
        return {facts.lines[i + 1].text for i in anchors if i + 1 < len(facts.lines)} & opts
    if kind == "said_before":
        latest = max(facts.lines[i].start for i in anchors)
        return {ln.text for ln in facts.lines if ln.start < latest} & opts
    raise ValueError(f"unknown question kind {kind!r} (known: {', '.join(KINDS)})")


def true_options(kind: str, question: str, options: Sequence[str], key: str, pool: Mapping[str, Any]
                 ) -> list[str] | None:
    """The options (key included) that the video's facts make a true answer to the question, in
    the options' order; None when the question's anchor cannot be read or names nothing in the video."""
    if kind not in KINDS:
        raise ValueError(f"unknown question kind {kind!r} (known: {', '.join(KINDS)})")
    found = _true(kind, question, options, key, _facts(pool))
    return None if found is None else [o for o in options if norm(o) in found]


def also_true(kind: str, question: str, options: Sequence[str], key: str, pool: Mapping[str, Any]
              ) -> list[str] | None:
    """The options other than the key that are true as well (None: cannot be judged); the key
    written another way ("0:01" for "00:01", "calm." for "Calm") is a second true option too."""
    found = true_options(kind, question, options, key, pool)
    return None if found is None else [o for o in found if o.strip() != key.strip()]


def time_reference(question: str, quote_time: float) -> str:
    """The question with its quoted line replaced by its time, as the rewriter words it from round
    3 on (`rewriting.rewrite_offline`): a distractor must be wrong for both wordings."""
    return _QUOTE.sub(f"the line at {mmss(quote_time)}", question, count=1)


def answer_domain(kind: str, pool: Mapping[str, Any]) -> list[str]:
    """Every answer of the kind's type the video (or, for speakers and themes, the corpus) offers:
    where a replacement for a true distractor is looked for."""
    if kind in ("who_says", "who_first"):
        return list(dict.fromkeys([*pool["speakers"], *pool.get("corpus_speakers", [])]))
    if kind in ("said_next", "said_at", "said_before"):
        return list(dict.fromkeys(x[3] for x in pool["lines"] if norm(x[3])))
    if kind == "at_time":
        return list(dict.fromkeys(sorted([mmss(x[0]) for x in pool["lines"]] + [mmss(e[0]) for e in pool["events"]])))
    if kind == "seen_at":
        return list(dict.fromkeys(e[1] for e in pool["events"] if norm(e[1])))
    closed = {"motion": MOTION_LEVELS, "speech": SPEECH_LEVELS, "mood": tuple(MOODS),
              "theme": tuple(pool.get("corpus_themes", []))}
    if kind in closed:
        return list(closed[kind])
    raise ValueError(f"unknown question kind {kind!r} (known: {', '.join(KINDS)})")


def second_true_options(rows: Iterable[Mapping[str, Any]], pools: Mapping[str, Mapping[str, Any]] | Any
                        ) -> list[str]:
    """Ids of the questions with an option other than the key that is also true, or a stored
    `distractor_pool` (when the row has one) holding such an option for a rewrite to bring back.
    Rows carry record_id, video_record_id, kind, question, choices and answer_key (scene_questions'
    columns); rows without choices (rejected before a question was written) have nothing to audit.
    `pools` maps a video's record id to its pool, or is the `cinepile_scenes` table they are built from."""
    if not isinstance(pools, Mapping):
        pools = video_pools(pools)
    bad = []
    for r in rows:
        if r.get("choices") is None:
            continue
        if r["video_record_id"] not in pools:
            raise ValueError(f"no facts for video {r['video_record_id']!r} of question {r['record_id']!r}")
        offered = [*r["choices"], *(r.get("distractor_pool") or [])]
        if also_true(r["kind"], r["question"], offered, r["answer_key"], pools[r["video_record_id"]]):
            bad.append(r["record_id"])
    return bad


@dataclass
class Settled:
    """A written question after its options were judged against the video's facts."""
    mcq: MCQ
    pool: list[str]  # wrong same-type answers a rewrite may draw from, none of them true
    replaced: list[str]  # the true distractors swapped out
    judged: bool  # False: the facts could not read the question's anchor, nothing was changed
    problem: str | None = None  # why the question cannot be kept (no wrong answer left to swap in)


def settle(kind: str, m: MCQ, pool: list[str], facts: dict[str, Any]) -> Settled:
    """Swap every distractor the facts make true for the wrong answer closest in length to the key:
    first from the question's own pool, then from every answer of its type in the video."""
    key = m.answer_key
    true = also_true(kind, m.question, m.choices, key, facts)
    if true is None:
        return Settled(m, pool, [], judged=False)
    true_in_pool = also_true(kind, m.question, pool, key, facts) or []
    wrong = [c for c in pool if c not in true_in_pool and norm(c) != norm(key)]
    if not true:
        return Settled(m, wrong, [], judged=True)
    domain = answer_domain(kind, facts)
    domain_true = also_true(kind, m.question, domain, key, facts) or []
    spare, seen = [], {norm(c) for c in m.choices}
    for c in [*wrong, *(c for c in domain if c not in domain_true)]:
        if norm(c) not in seen:
            seen.add(norm(c))
            spare.append(c)
    choices = list(m.choices)
    for i, c in enumerate(m.choices):
        if c not in true:
            continue
        if not spare:
            return Settled(m, wrong, [], judged=True, problem=(
                f"also true: {'; '.join(true)}; no wrong {kind} answer is left to put in their place"))
        best = min(spare, key=lambda x: (abs(len(x) - len(key)), x))
        spare.remove(best)
        choices[i] = best
    fixed = MCQ.model_validate({**m.model_dump(), "choices": choices})
    known = {norm(w) for w in wrong}
    new = [c for i, c in enumerate(choices) if i != m.answer_key_position and norm(c) not in known]
    return Settled(fixed, wrong + new, true, judged=True)
