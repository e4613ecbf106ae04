"""Who speaks in a subtitle cue: the cue's text split into speaker turns.

Subtitles mark a change of speaker in four ways, and a cue can hold several turns:
- WebVTT voice spans, `<v Kyle Huey>Not ready yet?</v>`: the span's name is the speaker; text after
  a closing `</v>` is a new turn with no speaker.
- Dialogue dashes, one turn per dash: `- Why?` / `- Now!` on two lines, or `- Why? - Now!` on one
  (a dash after sentence-final punctuation), en and em dashes as in Spanish `—¿Qué? —Nada.`, and
  YouTube's `>>` speaker-change marker. A dash turn has no name unless a label follows the dash.
- Name labels at the start of a line, `Maria: We need flour` or `DR. SMITH: Sit down`: one to four
  capitalised words (particles such as "de" or "van" allowed inside, a number such as "Man 2"
  allowed at the end) and a colon. A label alone on its line names the lines after it. Words that
  introduce a line without naming anyone ("Note:", "Step 3:", "Warning:") are not names, and a
  colon followed by a quotation ("Digo: "Le doy..."") is reported speech, not a label.
- SDH bracket labels, `[Alba] En 1928,`: a capitalised name in brackets followed by speech. Sound
  descriptions in brackets (`[Music]`, `[Applause]`, `[ríe]`) are not speakers.

A turn that no marker opens (`marked=False`) continues whatever was being said before it, possibly
in the previous cue; `subtitles.sentences` uses that to join a sentence split over cues without
joining two speakers' turns.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_NAME_CHARS = 40


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# words that start a line with a colon without naming a speaker (compared lower-cased, first word)
NOT_NAMES = _words("""
note notes nb warning caution tip tips step steps update edit example examples question questions answer
chapter part lesson episode season day week round level stage phase option method rule track scene act
ingredients directions instructions conclusion summary pros cons price cost time date location address
website email phone fact facts bonus hint spoiler disclaimer ps p.s translation translations subtitles
captions caption source sources credit credits music lyrics chorus verse outro intro title subtitle result
results problem solution remember important reminder listen look so well now then also and but or total
recipe goal goals topic topics reason reasons rules tl;dr tldr fyi q&a yes no okay ok first second third
fourth fifth next finally last here there why how what when where which this that these those it my your our
their his her the an in on at for from with to of by as if because however meanwhile today tomorrow
yesterday later before after again plus minus also
""")
# what a bracket at the start of a cue describes when it is not a speaker (any word, lower-cased)
SOUNDS = _words("""
music musical song singing sings applause applauding clapping laughter laughing laughs laugh chuckles
chuckling giggles cheering cheers cheer inaudible indistinct silence silent noise noises sighs sigh sighing
foreign crosstalk gasps gasp screams scream screaming shouting yelling whispers whispering sound sounds
bell bells phone ringing rings door knock knocking thunder explosion gunshot gunshots static beep beeping
beeps buzzing engine footsteps wind rain crying sobbing coughs coughing groans grunts breathing panting
humming whistling barking dog birds chirping sirens siren horn music playing upbeat dramatic suspenseful
tense soft loud continues continuing playing plays off-screen offscreen voiceover narration chatter
música risas aplausos silencio ríe ríen suspira gritos llanto teléfono puerta musique rires
""")
PARTICLES = _words("de da di del della der den van von la le du dos das do bin al el ibn mac st. y e")
QUOTES = "\"'“”„«»‘’‚"

_TAG = re.compile(r"<([^<>]*)>")
_VOICE = re.compile(r"^v(?:\.[^\s>]*)*[ \t\f]+(.+)$", re.DOTALL)
_SSA = re.compile(r"\{\\[^{}]*\}")  # {\an8}, {\i1}: SubStation override tags (a space after "{" is text)
_SRT_TAG = re.compile(r"</?[A-Za-z][^<>]*>")  # <i>, <font color="..">: SubRip keeps other "<" as text
_SPACES = re.compile(r"[ \t\f\u00a0]+")
_DASH = r"\-‐‑–—―"
_LEAD = re.compile(rf"^(?:>>+|[{_DASH}]+(?=\s*[^\d\s{_DASH}]))\s*")
# a second turn inside a line: a dash after sentence-final punctuation, or YouTube's ">>" anywhere
_MID = re.compile(rf"(?<=[.!?…。！？\"'”’»)\]])\s+(?=[{_DASH}]\s*[^\d\s{_DASH}])|\s+(?=>>)")
_LABEL = re.compile(rf"^(?P<name>[^\W\d_][^:：\n]{{0,{MAX_NAME_CHARS - 1}}}?)\s*[:：](?:\s+(?P<rest>\S.*)|\s*)$",
                    re.DOTALL)
_BRACKET = re.compile(rf"^\[(?P<name>[^\[\]\n]{{1,{MAX_NAME_CHARS}}})\]\s*(?P<rest>\S.*)$", re.DOTALL)
_NAME_WORD = re.compile(r"^[^\W\d_][\w.'’-]*$")
_NUMBER_WORD = re.compile(r"^#?\d{1,3}$")


@dataclass(frozen=True)
class Turn:
    speaker: str | None
    text: str  # the turn's lines (tags, dashes and labels removed), joined by "\n"
    marked: bool  # a marker (voice span, dash, label) opens it; False: it continues what came before


def clean_text(text: str) -> str:
    """Text as shown: each line's runs of spaces collapsed and its ends trimmed, empty lines
    dropped (as a player lays it out; androidx's SubRip parser does the same)."""
    lines = (_SPACES.sub(" ", ln).strip() for ln in text.split("\n"))
    return "\n".join(ln for ln in lines if ln)


def strip_tags(raw: str, fmt: str = "vtt") -> str:
    """The cue text without markup: WebVTT cue tags (`<c.x>`, `<i>`, `<v Name>`, `<00:01.000>`),
    SubRip's HTML tags and SubStation `{\\...}` overrides; WebVTT character references unescaped."""
    text = _SSA.sub("", raw)
    return clean_text(html.unescape(_TAG.sub("", text)) if fmt == "vtt" else _SRT_TAG.sub("", text))


def voice_segments(raw: str, fmt: str = "vtt") -> list[tuple[str | None, bool, str]]:
    """(voice name, opened by a voice tag, text without tags) in order. A `</v>` ends the voice:
    what follows is a segment of its own, with no voice."""
    text = _SSA.sub("", raw)
    if fmt != "vtt":
        return [(None, False, _SRT_TAG.sub("", text))]
    out: list[tuple[str | None, bool, list[str]]] = [(None, False, [])]
    pos = 0
    for m in _TAG.finditer(text):
        out[-1][2].append(text[pos:m.start()])
        pos = m.end()
        tag = m.group(1).strip()
        voice = _VOICE.match(tag)
        if voice:
            out.append((clean_name(voice.group(1)), True, []))
        elif tag == "/v" or tag.startswith("/v "):
            out.append((None, True, []))
    out[-1][2].append(text[pos:])
    segments = [(who, opened, html.unescape("".join(parts))) for who, opened, parts in out]
    return [s for s in segments if s[2].strip()]


def clean_name(name: str) -> str | None:
    name = _SPACES.sub(" ", html.unescape(name)).strip()
    return name or None


def is_name(name: str) -> bool:
    """One to four words, the first capitalised; inner words capitalised or particles ("de",
    "van"); the last may be a number ("Man 2", "Speaker #3"); not a word that introduces a line."""
    words = name.split()
    if not 1 <= len(words) <= 4 or len(name) > MAX_NAME_CHARS or words[0].lower().rstrip(".") in NOT_NAMES:
        return False
    if _NUMBER_WORD.match(words[-1]) and len(words) > 1:
        words = words[:-1]
    if not all(_NAME_WORD.match(w) for w in words) or not words[0][0].isupper():
        return False
    return all(w[0].isupper() or w.lower() in PARTICLES or any(ch.isupper() for ch in w) for w in words[1:])


def label(line: str) -> tuple[str | None, str, bool]:
    """(speaker, rest of the line, the line is a label) for a `Name:` or `[Name]` label at the start
    of `line`; (None, line, False) without one."""
    m = _LABEL.match(line)
    if m and is_name(m.group("name").strip()):
        rest = (m.group("rest") or "").strip()
        if not rest or rest[0] not in QUOTES:
            return m.group("name").strip(), rest, True
    b = _BRACKET.match(line)
    if b:
        name = b.group("name").strip()
        if is_name(name) and not any(w.lower().strip(".,!") in SOUNDS for w in name.split()):
            return name, b.group("rest").strip(), True
    return None, line, False


def _pieces(line: str) -> Iterator[tuple[bool, str]]:
    """(opened by a dash, text) for each dialogue turn of one line."""
    for part in _MID.split(line):
        part = part.strip()
        lead = _LEAD.match(part)
        if lead:
            part = part[lead.end():].strip()
        if part:
            yield bool(lead), part


def turns(raw: str, fmt: str = "vtt") -> list[Turn]:
    """The speaker turns of one cue's raw text (tags still in it)."""
    out: list[tuple[str | None, list[str], bool]] = []
    for voice, opened, text in voice_segments(raw, fmt):
        started, pending, fresh = False, None, False
        for line in clean_text(text).split("\n"):
            for dashed, piece in _pieces(line):
                who, rest, labelled = label(piece)
                if labelled and not rest:  # "MARIA:" alone names the lines after it
                    pending, fresh = who, True
                    continue
                speaker = who if labelled else pending or voice
                opens = dashed or labelled or fresh or (opened and not started)
                if opens or not out:
                    out.append((speaker, [rest], bool(opens)))
                else:
                    out[-1][1].append(rest)
                started, fresh = True, False
    return [Turn(speaker, "\n".join(lines), marked) for speaker, lines, marked in out]
