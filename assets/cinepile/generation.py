"""Scene questions: a Task picks templates per scene, another writes multiple-choice questions.

CinePile's generator was an LLM given the scene text and the chosen templates. Offline, the writer
turns a template into a question grounded in the scene: each template has a question `kind` (the
kind of its category whose description its prototype is closest to), and each kind reads its answer
off the scene: who says a line, what is said right after a line, which line comes before another,
at what time a line is said or a thing is seen, what is seen at a time, the scene's measured motion
and speech levels, its mood and theme. Distractors are of the same type and come from the same
video (other speakers, other lines, other times), chosen so their lengths are closest to the key's;
only speakers and themes fall back to the rest of the corpus when the video has too few (the
rationale says so for speakers; themes always come from the corpus). A template the scene cannot ground raises `Ungroundable`
with a reason, which becomes the item's recorded rejection.

No wrong answer may be true as well: every draft's wrong-answer pool (`Draft.wrong`, stored as the
question's `distractor_pool` that the rewriter draws from) drops each option the video's facts make
true (`facts.also_true`), for the question as written and, when it quotes a line, for the wording the
rewriter turns it into ("the line at mm:ss"). An anchor that happens more than once (a line said
twice, an event text seen at several times) is kept: the question stays answerable because every
other time, speaker or line that would also fit is left out of the pool, not rejected as ambiguous.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from assets.cinepile.categories import CATEGORIES, DESCRIPTIONS, label
from assets.cinepile.facts import also_true, time_reference
from assets.cinepile.mcq import MCQ, N_CHOICES, key_position, norm, place
from assets.cinepile.pools import scene_from
from assets.cinepile.scenes import MOTION_LEVELS, SPEECH_LEVELS, SceneClip, mmss
from assets.cinepile.vectors import Encode, EncoderTask
from assets.finevideo.annotation_schema import MOODS
from assets.kit.task import Task

# kind -> (category, what it asks): the offline writer's repertoire
KINDS: dict[str, tuple[str, str]] = {
    "who_says": ("CRD", "which character says a given line of dialogue"),
    "who_first": ("CRD", "which character speaks first, who talks to whom"),
    "said_next": ("NPA", "what is said or happens right after a given moment, what comes next"),
    "said_at": ("NPA", "what a character says or does at a given moment"),
    "said_before": ("TEMP", "which of two moments comes first, what happens before another"),
    "at_time": ("TEMP", "at what time something is said or happens"),
    "seen_at": ("STA", "what object or action is visible on screen at a given moment"),
    "motion": ("STA", "how the scene is filmed, camera and on-screen movement, lighting"),
    "speech": ("STA", "what is heard in the scene, sound and how much talking"),
    "mood": ("TH", "the mood, tone and atmosphere of the scene, what emotion dominates"),
    "theme": ("TH", "the theme or topic of the scene, its message"),
}


CORPUS_NOTE = " (the video has too few speakers: some distractors are speakers of other videos)"


class Ungroundable(Exception):
    """The scene cannot ground this template: `reason` is the recorded rejection."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def template_kinds(prototypes: Sequence[str], categories: Sequence[str], encode: Encode) -> list[str]:
    """A kind per template, within its category: every kind first gets its most similar template
    (when the category has enough), the rest go to their most similar kind."""
    if not prototypes:
        return []
    kinds = list(KINDS)
    sims = encode(list(prototypes)) @ encode([KINDS[k][1] for k in kinds]).T
    out: list[str | None] = [None] * len(prototypes)
    for k_idx, kind in enumerate(kinds):
        members = [i for i, c in enumerate(categories) if c == KINDS[kind][0] and out[i] is None]
        if members:
            out[max(members, key=lambda i: sims[i, k_idx])] = kind
    for i, c in enumerate(categories):
        if out[i] is None:
            allowed = [j for j, k in enumerate(kinds) if KINDS[k][0] == c]
            out[i] = kinds[max(allowed, key=lambda j: sims[i, j])] if allowed else kinds[int(np.argmax(sims[i]))]
    return [k for k in out if k is not None]


def groundable(scene: SceneClip, pool: dict[str, Any]) -> list[str]:
    """The kinds this scene can ground (so the picker does not waste picks)."""
    said = [ln for ln in scene.lines if ln.text]
    speakers = {ln.speaker for ln in said if ln.speaker}
    out = []
    if any(ln.speaker for ln in said):
        out.append("who_says")
    if len(speakers) >= 2:
        out.append("who_first")
    if len(said) >= 2:
        out += ["said_next", "said_before"]
    if said:
        out.append("said_at")
    if said or scene.events:
        out.append("at_time")
    if scene.events and len({norm(e[1]) for e in pool["events"]}) >= N_CHOICES:
        out.append("seen_at")
    for kind, value in (("motion", scene.motion), ("speech", scene.speech), ("mood", scene.mood),
                        ("theme", scene.theme)):
        if value:
            out.append(kind)
    return out


def length_matched(key: str, candidates: Sequence[str], n: int = N_CHOICES - 1) -> list[str]:
    """`n` distinct candidates (none equal to the key) whose lengths are closest to the key's."""
    seen = {norm(key)}
    out = []
    for c in sorted(candidates, key=lambda c: (abs(len(c) - len(key)), c)):
        if norm(c) not in seen and c.strip():
            seen.add(norm(c))
            out.append(c)
        if len(out) == n:
            break
    return out


def _pick(items: list, variant: int, what: str):
    if not items:
        raise Ungroundable("no_anchor", f"the scene has no {what}")
    return items[variant % len(items)]


def _need(distractors: list[str], what: str) -> None:
    if len(distractors) < N_CHOICES - 1:
        raise Ungroundable("too_few_distractors", f"{len(distractors)} other {what} (need {N_CHOICES - 1})")


@dataclass
class Draft:
    """A grounded question before its choices are laid out: the key, every same-type wrong answer
    the video offers (the rewriter draws from it too), and the time of a quoted line, if any."""
    question: str
    key: str
    wrong: list[str]
    rationale: str
    start: float
    end: float
    visual: bool = False
    quote_time: float | None = None

    def mcq(self) -> MCQ:
        ds = length_matched(self.key, self.wrong)
        pos = key_position(self.question, self.key)
        return MCQ(question=self.question, choices=place(self.key, ds, pos), answer_key_position=pos,
                   rationale=self.rationale, start_timestamp=mmss(self.start), end_timestamp=mmss(self.end),
                   visual_reliance=self.visual)


def wrong_only(kind: str, question: str, key: str, candidates: Sequence[str], pool: dict[str, Any],
               quote_time: float | None = None) -> list[str]:
    """The candidates that are wrong answers to the question by the video's facts, for its wording
    and for the rewriter's time-reference wording of a quoted line (the key's own text is no wrong answer)."""
    out = [c for c in candidates if norm(c) != norm(key)]
    for q in (question, *([time_reference(question, quote_time)] if quote_time is not None else [])):
        true = also_true(kind, q, out, key, pool)
        if true is None:
            raise ValueError(f"the video's facts cannot judge the writer's own {kind} question {q!r}")
        drop = {norm(t) for t in true}
        out = [c for c in out if norm(c) not in drop]
    return out


def _speakers(key: str, pool: dict[str, Any], wrong: Callable[[list[str]], list[str]], also: Sequence[str] = ()
              ) -> tuple[list[str], str]:
    same = wrong([s for s in dict.fromkeys([*also, *pool["speakers"]]) if s != key])
    if len(same) >= N_CHOICES - 1:
        return same, ""
    return wrong(same + [s for s in pool["corpus_speakers"] if s != key and s not in same]), CORPUS_NOTE


def draft(kind: str, scene: SceneClip, pool: dict[str, Any], variant: int) -> Draft:
    """A question of `kind` grounded in `scene`; raises Ungroundable."""
    lines = [ln for ln in scene.lines if ln.text]
    video_lines = pool["lines"]
    span = f"the scene from {mmss(scene.start)} to {mmss(scene.end)}"
    if kind == "who_says":
        ln = _pick([x for x in lines if x.speaker], variant, "line with a named speaker")
        q = f'Who says "{ln.text}"?'
        wrong, note = _speakers(ln.speaker, pool, lambda c: wrong_only(kind, q, ln.speaker, c, pool, ln.start))
        d = Draft(q, ln.speaker, wrong,
                  f"At {mmss(ln.start)} the subtitles give the line to {ln.speaker}.{note}", ln.start, ln.end,
                  quote_time=ln.start)
    elif kind == "who_first":
        named = [x for x in lines if x.speaker]
        if len({x.speaker for x in named}) < 2:
            raise Ungroundable("no_anchor", "fewer than two speakers in the scene")
        first = named[0]
        q = f"Who speaks first in {span}?"
        wrong, note = _speakers(first.speaker, pool, lambda c: wrong_only(kind, q, first.speaker, c, pool),
                                [x.speaker for x in named])
        d = Draft(q, first.speaker, wrong,
                  f"{first.speaker} has the scene's first line at {mmss(first.start)}.{note}", first.start, first.end)
    elif kind == "said_next":
        i = _pick(list(range(len(lines) - 1)), variant, "line followed by another")
        ln, nxt = lines[i], lines[i + 1]
        d = Draft(f'What is said right after "{ln.text}"?', nxt.text,
                  [x[3] for x in video_lines if norm(x[3]) not in (norm(ln.text), norm(nxt.text))],
                  f"The line at {mmss(ln.start)} is followed at {mmss(nxt.start)} by this one.", ln.start, nxt.end,
                  quote_time=ln.start)
    elif kind == "said_at":
        ln = _pick(lines, variant, "line")
        d = Draft(f"What does {ln.speaker or 'someone'} say at {mmss(ln.start)}?", ln.text,
                  [x[3] for x in video_lines if mmss(x[0]) != mmss(ln.start)],
                  f"The subtitles at {mmss(ln.start)} read this line.", ln.start, ln.end)
    elif kind == "said_before":
        i = _pick(list(range(1, len(lines))), variant, "line with an earlier line")
        anchor, key = lines[i], lines[i - 1]
        d = Draft(f'Which of these lines is said before "{anchor.text}"?', key.text,
                  [x[3] for x in video_lines if x[0] > anchor.start and norm(x[3]) != norm(anchor.text)],
                  f"It is said at {mmss(key.start)}, before the line at {mmss(anchor.start)}; the others come "
                  "later.", key.start, anchor.end, quote_time=anchor.start)
    elif kind == "at_time":
        moments = [(x.start, x.text, False) for x in lines] + [(e.time, e.text, True) for e in scene.events]
        t, text, seen = _pick(moments, variant, "timed line or description")
        times = dict.fromkeys([mmss(x[0]) for x in video_lines] + [mmss(e[0]) for e in pool["events"]])
        wrong = sorted((x for x in times if x != mmss(t)), key=lambda x: (abs(int(x[:2]) * 60 + int(x[3:]) - t), x))
        d = Draft(f'At what time is "{text}" said?' if not seen else f"At what time is this seen: {text}?",
                  mmss(t), wrong, f"The scene text places it at {mmss(t)}.", t, t, visual=seen)
    elif kind == "seen_at":
        e = _pick(scene.events, variant, "timed visual description")
        d = Draft(f"What is seen at {mmss(e.time)}?", e.text,
                  [x[1] for x in pool["events"] if mmss(x[0]) != mmss(e.time)],
                  f"At {mmss(e.time)} the scene description reads: {e.text}.", e.time, e.time, visual=True)
    elif kind in ("motion", "speech", "mood"):
        value = {"motion": scene.motion, "speech": scene.speech, "mood": scene.mood}[kind]
        if not value:
            raise Ungroundable("no_anchor", f"the scene has no {kind} attribute")
        levels = {"motion": MOTION_LEVELS, "speech": SPEECH_LEVELS, "mood": tuple(MOODS)}[kind]
        q = {"motion": f"How much on-screen motion is there in {span}?",
             "speech": f"How much of {span} is filled with speech?",
             "mood": f"What is the mood of {span}?"}[kind]
        d = Draft(q, value, [x for x in levels if x != value], f"The scene's measured {kind} is '{value}'.",
                  scene.start, scene.end, visual=kind == "motion")
    elif kind == "theme":
        if not scene.theme:
            raise Ungroundable("no_anchor", "the scene has no theme")
        d = Draft(f"What is {span} about?", scene.theme, [t for t in pool["corpus_themes"] if t != scene.theme],
                  f"The scene's theme is {scene.theme}.", scene.start, scene.end)
    else:
        raise Ungroundable("unknown_kind", kind)
    d.wrong = wrong_only(kind, d.question, d.key, d.wrong, pool, d.quote_time)
    _need(length_matched(d.key, d.wrong), "same-type answers in the video")
    # a sentence may straddle a cut: its evidence is the part inside this scene
    d.start = min(max(d.start, scene.start), scene.end)
    d.end = max(min(d.end, scene.end), d.start)
    return d


# -- the two Tasks -----------------------------------------------------------------------------


class TemplatePicks(BaseModel):
    template_ids: list[str] = Field(description="ids of the chosen templates, in order; repeats allowed")

    @field_validator("template_ids")
    @classmethod
    def known(cls, v: list[str], info: ValidationInfo) -> list[str]:
        ctx = info.context or {}
        unknown = [t for t in v if "known" in ctx and t not in ctx["known"]]
        if unknown:
            raise ValueError(f"unknown template ids {unknown[:5]}")
        if "n" in ctx and len(v) != ctx["n"]:
            raise ValueError(f"pick exactly {ctx['n']} templates, got {len(v)}")
        return v


class TemplatePickTask(EncoderTask, Task):
    """Item: {"scene_text", "templates": [{template_id, name, prototype, category, kind}], "groundable", "n"}.
    Offline: round-robin over categories, each category's templates ordered by embedding similarity
    of their prototype to the scene text, among templates whose kind the scene can ground."""

    name = "cinepile_template_pick"
    version = "1"
    response_model = TemplatePicks
    offline_model = "category-round-robin+similarity"
    temperature = 0.2

    def validation_context(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"known": {t["template_id"] for t in item["templates"]}, "n": item["n"]}

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        listed = "\n".join(f"- {t['template_id']}: {t['name']} ({t['category']}) e.g. {t['prototype']}"
                           for t in item["templates"])
        return [
            {"role": "system", "content": "You choose question templates that fit a movie scene."},
            {"role": "user", "content": (
                f"Scene:\n{item['scene_text']}\n\nTemplates:\n{listed}\n\nPick exactly {item['n']} template ids "
                "(repeats allowed) that this scene can answer well, covering different categories.")},
        ]

    def offline_batch(self, items: Sequence[dict[str, Any]]) -> list[BaseModel | Exception]:
        texts = list(dict.fromkeys([t["prototype"] for it in items for t in it["templates"]]
                                   + [it["scene_text"] for it in items]))
        vectors = dict(zip(texts, self.encode(texts), strict=True)) if texts else {}
        out: list[BaseModel | Exception] = []
        for it in items:
            try:
                out.append(self._pick(it, vectors))
            except Exception as e:  # that scene's error, the batch goes on
                out.append(e)
        return out

    def offline(self, item: dict[str, Any]) -> TemplatePicks:
        return self.offline_batch([item])[0]

    @staticmethod
    def _pick(item: dict[str, Any], vectors: dict[str, np.ndarray]) -> TemplatePicks:
        eligible = [t for t in item["templates"] if t["kind"] in set(item["groundable"])]
        if not eligible:
            raise Ungroundable("no_template", "no template's kind is groundable in this scene")
        scene = vectors[item["scene_text"]]
        by_cat: dict[str, list[dict]] = {}
        for t in sorted(eligible, key=lambda t: (-float(vectors[t["prototype"]] @ scene), t["template_id"])):
            by_cat.setdefault(t["category"], []).append(t)
        order = sorted(by_cat, key=lambda c: -float(vectors[by_cat[c][0]["prototype"]] @ scene))
        # within a category, one template per kind before any kind repeats
        for c in order:
            firsts = list({t["kind"]: t for t in reversed(by_cat[c])}.values())[::-1]
            by_cat[c] = firsts + [t for t in by_cat[c] if t not in firsts]
        picks, rnd = [], 0
        while len(picks) < item["n"]:
            for c in order:
                if len(picks) < item["n"]:
                    picks.append(by_cat[c][rnd % len(by_cat[c])]["template_id"])
            rnd += 1
        return TemplatePicks(template_ids=picks)


class QuestionWriteTask(Task):
    """Item: {"scene" (SceneClip as dict), "scene_text", "template" {template_id, name, prototype,
    category, kind}, "variant", "pool"}. Returns one MCQ whose timestamps lie inside the scene."""

    name = "cinepile_question"
    version = "1"
    response_model = MCQ
    offline_model = "grounded-scene-reader"
    temperature = 0.7

    def validation_context(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"start": item["scene"]["start"], "end": item["scene"]["end"]}

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        t = item["template"]
        return [
            {"role": "system", "content": (
                "You write multiple-choice questions about a movie scene from its subtitles and visual "
                "descriptions. Every question has exactly 5 distinct choices, one correct; distractors are "
                "plausible, of the same type as the answer and about as long; give a rationale and the "
                "start and end timestamps (mm:ss, inside the scene) of the evidence.")},
            {"role": "user", "content": (
                f"Scene:\n{item['scene_text']}\n\nTemplate {t['name']} ({label(CATEGORIES[t['category']])}: "
                f"{DESCRIPTIONS[t['category']]}), for example: {t['prototype']}\n"
                f"Write question number {item['variant'] + 1} for this template about this scene.")},
        ]

    def offline(self, item: dict[str, Any]) -> MCQ:
        return draft(item["template"]["kind"], scene_from(item["scene"]), item["pool"], item["variant"]).mcq()
