"""Caption cleaning: flag what a caption should not teach a model, and rewrite what can be saved.

A caption scraped or generated at scale carries debris: a creator's e-mail, a sponsor read, a model
looping on one sentence, a line cut at the token limit, a remnant of another language. Dropping every
caption with a blemish throws away good descriptions for a masked phone number, so each flag says
whether a deterministic rewrite can remove it. The rewrite is fixed-point: the cleaned text is
flagged again until nothing fixable is left, so a stored `caption_clean` never carries a fixable flag.

Detectors lean towards precision: a year range or a clock time is not a phone, "assess the class" is
not profanity, an English caption naming Tokyo or quoting a French phrase is English. A false flag
costs a good caption; a missed one costs a masked token in a large corpus.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

# The order flags are listed in, fixed one at a time in, and the first unfixable one names a rejection.
REASONS = ("non_english", "empty_or_short", "truncated", "boilerplate", "personal_data", "profanity", "repeated")
CAPTION_COLUMNS = ("caption_flags", "caption_kept", "caption_reason", "caption_clean")


@dataclass(frozen=True)
class Flag:
    reason: str
    evidence: str  # the offending span, or for personal data only its kinds (the value is what we hide)
    fixable: bool


class CaptionRules(BaseModel):
    """Thresholds of the caption flags; asset config, so a run can try others."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_words: int = Field(3, ge=1, description="Fewer words describe nothing; also the least a rewrite must keep.")
    non_latin_share: float = Field(0.5, gt=0, lt=1, description="A sentence whose letters are more than this share "
                                   "in a non-Latin script is another language (a name in brackets is not).")
    non_latin_min_letters: int = Field(4, ge=1, description="Fewer non-Latin letters are a name or a symbol.")
    foreign_min_words: int = Field(4, ge=1, description="Shorter sentences are too short for a stopword test.")
    foreign_min_stopwords: int = Field(2, ge=1, description="A sentence is another language when it has at least "
                                       "this many of that language's stopwords, and more than English ones.")
    quoted_phrase_words: int = Field(6, ge=0, description="Quoted phrases up to this long are left out of the "
                                     "language tests: an English caption may quote a sign or a line.")
    truncation_words: int = Field(12, ge=1, description="A text this long without closing punctuation was cut "
                                  "(a short one may be a label).")
    max_word_run: int = Field(3, ge=1, description="A word repeated back to back more often is degeneration.")
    max_phrase_copies: int = Field(2, ge=1, description="A phrase of 2+ words repeated back to back more often "
                                   "is degeneration.")
    max_phrase_words: int = Field(8, ge=2, description="Longest phrase searched for back-to-back copies.")
    min_repeated_sentence_words: int = Field(3, ge=1, description="A sentence this long said twice is a loop; "
                                             "shorter ones ('Yes.') may recur.")

    def describe(self) -> str:
        return (f"reject non_english (a sentence >{self.non_latin_share:.0%} non-Latin letters, or >= "
                f"{self.foreign_min_stopwords} stopwords of another language outnumbering English ones), "
                f"empty_or_short (< {self.min_words} words), truncated (ellipsis, dangling word, or "
                f">= {self.truncation_words} words unclosed) unless an earlier sentence survives; rewrite "
                f"boilerplate (sentence dropped), personal_data ([email], [phone], [url], [handle]), profanity "
                f"([profanity]), repeated (words > {self.max_word_run}x, phrases > {self.max_phrase_copies}x, "
                f"sentences of >= {self.min_repeated_sentence_words} words twice: collapsed)")


DEFAULT = CaptionRules()

# --- text units -------------------------------------------------------------------------------

# A sentence with its trailing whitespace: "".join(pieces) is the text, and dropping one keeps the rest's spacing.
_PIECE = re.compile(r"\s*\S.*?(?:[.!?…]+[\"'”’)\]]*(?=\s|\Z)|[。！？]+|\Z)\s*", re.S)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_LETTERS = re.compile(r"[^\W\d_]+")


def _pieces(text: str) -> list[str]:
    return _PIECE.findall(text)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _joined(pieces: list[str]) -> str:
    return "".join(pieces).strip()


# --- personal data ------------------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?://)?(?:www\.)?(?:instagram|twitter|x|tiktok|facebook|youtube|twitch)\.com/@?[\w.-]*\w",
                  re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Digit groups joined by single spaces, dots or hyphens, or + and a run of digits; `_is_phone` then
# separates phones from dates, years, ranges and grouped thousands. Colons never join: 12:30 is a time.
_PHONE = re.compile(r"(?<![\w+:./-])(?:\+\d{8,15}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}"
                    r"(?:[ .-]\d{1,8}){1,5})(?![\w:]|[.-]\d)")
_HANDLE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_](?:[\w.]{0,28}\w)?")
_YEAR = re.compile(r"1[89]\d\d|20\d\d")


def _is_phone(span: str) -> bool:
    """9-15 digits (8 after a +, E.164's range) and one kind of separator after the area code, and not
    years in a row (1990-2000-2010), a grouped number (1 000 000 000) nor a list of decimals."""
    groups = re.findall(r"\d+", span)
    digits = sum(map(len, groups))
    if span.startswith("+"):
        return 8 <= digits <= 15
    separators = set(re.findall(r"[ .-]", re.sub(r"^\(\d{1,4}\)[ .-]?", "", span)))
    thousands = len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    years = all(_YEAR.fullmatch(g) for g in groups)
    return 9 <= digits <= 15 and len(separators) <= 1 and not thousands and not years


_PERSONAL = (("url", _URL), ("email", _EMAIL), ("phone", _PHONE), ("handle", _HANDLE))


def _is_personal(kind: str, span: str) -> bool:
    return kind != "phone" or _is_phone(span)


def _personal_kinds(text: str) -> list[str]:
    return [kind for kind, pattern in _PERSONAL if any(_is_personal(kind, m[0]) for m in pattern.finditer(text))]


def _mask_personal(text: str, rules: CaptionRules) -> str:
    """URLs and e-mails first, so their digits and @ are gone before phones and handles are looked for."""
    for kind, pattern in _PERSONAL:
        text = pattern.sub(lambda m, kind=kind: f"[{kind}]" if _is_personal(kind, m[0]) else m[0], text)
    return text


# --- profanity and boilerplate ------------------------------------------------------------------

PROFANITY = ("fuck", "fucks", "fucked", "fucker", "fuckers", "fucking", "fuckin", "motherfucker", "motherfuckers",
             "shit", "shits", "shitty", "bullshit", "bitch", "bitches", "asshole", "assholes", "bastard", "bastards",
             "cunt", "cunts", "dickhead", "dickheads", "wanker", "wankers")
# Whole words only: Scunthorpe, "class" and "assess" contain no listed word.
_PROFANE = re.compile(rf"\b(?:{'|'.join(PROFANITY)})\b", re.I)

BOILERPLATE = (
    r"subscribe to (?:my|our|the|this) channel",
    r"like,? (?:comment,? )?(?:and|&) subscribe",
    r"(?:don[’']?t forget|make sure|remember) to (?:like|subscribe)",
    r"(?:hit|smash|ring|click|tap|press) (?:that|the) (?:notification )?bell",
    r"links? (?:is |are )?(?:down |below )?in the description",
    r"follow (?:me|us) on (?:instagram|twitter|tiktok|facebook|x|twitch|social media)",
    r"(?:this|today[’']?s) (?:video|episode) is (?:sponsored|brought to you) by",
    r"thanks to \w+(?: \w+)? for sponsoring",
)
_PROMO = re.compile(rf"\b(?:{'|'.join(BOILERPLATE)})\b", re.I)


def _mask_profanity(text: str, rules: CaptionRules) -> str:
    return _PROFANE.sub("[profanity]", text)


def _without_boilerplate(text: str, rules: CaptionRules) -> str:
    return _joined([p for p in _pieces(text) if not _PROMO.search(p)])


# --- language -----------------------------------------------------------------------------------

def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Contractions split at the apostrophe (don't -> don, t) count as English.
ENGLISH = _wordset("""a an the and or but if of to in on at by for with from into onto over under about after before
    between through during without within is are was were be been being am do does did have has had i you he she it we
    they me him her us them my your his its our their this that these those there here what which who whom whose when
    where why how not no nor so than too very can will just should would could may might must shall as up down out off
    again then once all any both each few more most other some such only own same while because until above below
    against s t d ll re ve m""")
# Each language's common function words, less any that are also English words (a, in, on, no, we, is...).
FOREIGN = {lang: _wordset(words) - ENGLISH for lang, words in {
    "fr": """le la les un une des du de et est sont dans sur avec pour pas ne qui que il elle ils elles nous vous je tu
        ce cette ces au aux mais ou où très sa ses leur leurs à été être avoir fait se lui y en c qu l j n ça comme tout
        tous plus""",
    "es": """el la los las un una unos unas y es son en de del con por para que se su sus lo al como más pero está
        están muy este esta estos estas hay también yo él ella ellos nosotros le les mi tu sin sobre entre cuando
        donde porque""",
    "de": """der die das und ist sind ein eine einen einem einer mit auf für nicht ich du er sie wir ihr es zu den dem
        des von im auch sich aber oder wie noch nach bei aus wird werden haben kein keine dass über unter""",
    "it": """il lo la gli le un una uno di che è e con non sono nel nella della del dei delle questo questa ma anche
        molto si mi ci da al alla sul sulla più""",
    "pt": """o os um uma e é de do da dos das em no na nos nas com para por que não se mais muito seu sua ele ela eles
        está são foi ao à""",
    "nl": """de het een en van op met voor niet dat die zijn ik je ze maar ook naar bij uit als er wordt werd heeft
        hebben deze dit""",
}.items()}
# Lower-case words inside a name: "Museo de la Ciudad de México", "Ludwig van Beethoven", "Bank of England".
NAME_PARTICLES = _wordset("de la le del della di da do dos das du van von der den ten ter y e of the and el al")
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|«[^»]*»|„[^“”]*[“”]|(?<!\w)'[^']*'(?!\w)")


def _unquoted(text: str, rules: CaptionRules) -> str:
    return _QUOTED.sub(lambda m: m[0] if len(_words(m[0])) > rules.quoted_phrase_words else " ", text)


def _is_latin(ch: str) -> bool:
    return ch.isascii() or unicodedata.name(ch, "").startswith("LATIN")


def _mostly_non_latin(sentence: str, rules: CaptionRules) -> bool:
    letters = [c for c in sentence if c.isalpha()]
    other = sum(not _is_latin(c) for c in letters)
    return other >= rules.non_latin_min_letters and other > rules.non_latin_share * len(letters)


def _name_end(words: list[str], i: int) -> int:
    """The index of the last word of a capitalised name starting at i (i when no name of 2+ words starts there)."""
    end = i
    if words[i][0].isupper():
        for j in range(i + 1, len(words)):
            if words[j][0].isupper():
                end = j
            elif words[j] not in NAME_PARTICLES:
                break
    return end


def _without_names(words: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(words):
        end = _name_end(words, i)
        if end == i:
            out.append(words[i])
        i = end + 1
    return out


def _foreign_stopwords(sentence: str, rules: CaptionRules) -> bool:
    words = [w.lower() for w in _without_names(_LETTERS.findall(sentence))]
    if len(words) < rules.foreign_min_words:
        return False
    english = sum(w in ENGLISH for w in words)
    foreign = max(sum(w in stops for w in words) for stops in FOREIGN.values())
    return foreign >= rules.foreign_min_stopwords and foreign > english


def _foreign_sentence(text: str, rules: CaptionRules) -> str | None:
    return next((p.strip() for p in _pieces(_unquoted(text, rules))
                 if _mostly_non_latin(p, rules) or _foreign_stopwords(p, rules)), None)


# --- truncation ---------------------------------------------------------------------------------

_CLOSERS = "[\"'”’)\\]]*"
_ELLIPSIS = re.compile(rf"(?:\.\.\.|…){_CLOSERS}\Z")
_CLOSED = re.compile(rf"[.!?。！？]{_CLOSERS}\Z")
_CUT_MARK = re.compile(r"[-–—,;:]\Z")
DANGLING = _wordset("""a an the and or but of to in on at by for with from into onto as is are was were that which who
    whose his her their its my your our while than""")


def _is_truncated(text: str, rules: CaptionRules) -> bool:
    tail = text.rstrip()
    if _ELLIPSIS.search(tail):
        return True
    if _CLOSED.search(tail) or not tail:
        return False
    if _CUT_MARK.search(tail):
        return True
    words = _words(tail)
    return len(words) >= rules.truncation_words or bool(words) and words[-1].lower() in DANGLING


def _drop_fragment(text: str, rules: CaptionRules) -> str:
    return _joined(_pieces(text)[:-1])


# --- repetition ---------------------------------------------------------------------------------


def _sentence_key(piece: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _words(piece))


def _repeated_sentence(pieces: list[str], rules: CaptionRules) -> str | None:
    seen = set()
    for p in pieces:
        key = _sentence_key(p)
        if len(key) >= rules.min_repeated_sentence_words and key in seen:
            return p.strip()
        seen.add(key)
    return None


def _dedupe_sentences(pieces: list[str], rules: CaptionRules) -> list[str]:
    seen, out = set(), []
    for p in pieces:
        key = _sentence_key(p)
        if len(key) < rules.min_repeated_sentence_words or key not in seen:
            out.append(p)
        seen.add(key)
    return out


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens, each with the whitespace after it (so joining them gives the text back)."""
    return re.findall(r"\S+\s*", text.strip())


def _norm(token: str) -> str:
    return re.sub(r"^\W+|\W+$", "", token.lower())


def _first_run(norms: list[str], rules: CaptionRules) -> tuple[int, int, int] | None:
    """(start, phrase length n, copies) of the first back-to-back run over the limits, shortest phrases first.
    Copies of an n-token phrase are n-apart equal tokens: r such matches in a row make 1 + r // n copies."""
    for n in range(1, rules.max_phrase_words + 1):
        need = n * (rules.max_word_run if n == 1 else rules.max_phrase_copies)
        run = 0
        for j in range(len(norms) - n):
            run = run + 1 if norms[j] and norms[j] == norms[j + n] else 0
            if run == need:
                start, end = j - run + 1, j + 1
                while end + n < len(norms) and norms[end] == norms[end + n]:
                    end += 1
                return start, n, 1 + (end - start) // n
    return None


def _collapse_runs(text: str, rules: CaptionRules) -> str:
    """Keep one copy of each run; its last token comes from the last copy, which carries the closing punctuation."""
    tokens = _tokens(text)
    while run := _first_run([_norm(t) for t in tokens], rules):
        start, n, copies = run
        del tokens[start + n - 1:start + copies * n - 1]
    return "".join(tokens).strip()


def _repetition(text: str, rules: CaptionRules) -> str | None:
    sentence = _repeated_sentence(_pieces(text), rules)
    if sentence:
        return sentence
    run = _first_run([_norm(t) for t in _tokens(text)], rules)
    return None if run is None else "".join(_tokens(text)[run[0]:run[0] + run[1] * run[2]]).strip()


def _without_repeats(text: str, rules: CaptionRules) -> str:
    return _collapse_runs(_joined(_dedupe_sentences(_pieces(text), rules)), rules)


# --- flags and rewrite --------------------------------------------------------------------------


def _tail(text: str, chars: int = 80) -> str:
    return text.strip()[-chars:]


def _flag_non_english(text: str, rules: CaptionRules) -> Flag | None:
    sentence = _foreign_sentence(text, rules)
    return None if sentence is None else Flag("non_english", sentence, False)


def _flag_short(text: str, rules: CaptionRules) -> Flag | None:
    return Flag("empty_or_short", text.strip(), False) if len(_words(text)) < rules.min_words else None


def _flag_truncated(text: str, rules: CaptionRules) -> Flag | None:
    if not _is_truncated(text, rules):
        return None
    return Flag("truncated", _tail(_pieces(text)[-1]), len(_words(_drop_fragment(text, rules))) >= rules.min_words)


def _flag_boilerplate(text: str, rules: CaptionRules) -> Flag | None:
    m = _PROMO.search(text)
    if m is None:
        return None
    return Flag("boilerplate", m[0], len(_words(_without_boilerplate(text, rules))) >= rules.min_words)


def _flag_personal(text: str, rules: CaptionRules) -> Flag | None:
    kinds = _personal_kinds(text)
    return Flag("personal_data", ", ".join(kinds), True) if kinds else None


def _flag_profanity(text: str, rules: CaptionRules) -> Flag | None:
    words = dict.fromkeys(m[0].lower() for m in _PROFANE.finditer(text))
    return Flag("profanity", ", ".join(words), True) if words else None


def _flag_repeated(text: str, rules: CaptionRules) -> Flag | None:
    evidence = _repetition(text, rules)
    return None if evidence is None else Flag("repeated", _tail(evidence), True)


_DETECTORS = (_flag_non_english, _flag_short, _flag_truncated, _flag_boilerplate, _flag_personal, _flag_profanity,
              _flag_repeated)
_FIXERS: dict[str, Callable[[str, CaptionRules], str]] = {
    "truncated": _drop_fragment, "boilerplate": _without_boilerplate, "personal_data": _mask_personal,
    "profanity": _mask_profanity, "repeated": _without_repeats,
}


def flag_caption(text: str, rules: CaptionRules = DEFAULT) -> list[Flag]:
    """Every problem found, in `REASONS` order, at most one flag per reason."""
    return [flag for detect in _DETECTORS if (flag := detect(text, rules)) is not None]


def _rewrite(text: str, flags: list[Flag], rules: CaptionRules) -> tuple[str, str | None]:
    """(text, None) once nothing fixable is left, or (text so far, the unfixable reason that stopped it).
    One reason is fixed per pass and the text flagged again: a fix may expose another problem (dropping
    a promo sentence can leave a fragment), and each fix either masks all its matches or shortens the
    text, so the passes end."""
    while True:
        stop = next((f.reason for f in flags if not f.fixable), None)
        if stop or not flags:
            return text, stop
        text = _FIXERS[flags[0].reason](text, rules)
        flags = flag_caption(text, rules)


def clean_caption(text: str, flags: list[Flag], rules: CaptionRules = DEFAULT) -> str | None:
    """The rewrite without any fixable flag (`text` itself when `flags` is empty); None when a flag, or
    a flag the rewrite runs into (nothing left after the promo), cannot be fixed."""
    clean, stop = _rewrite(text, flags, rules)
    return None if stop else clean


def _verdict(text: str | None, rules: CaptionRules) -> tuple[list[str], bool, str | None, str | None]:
    flags = flag_caption(text or "", rules)
    clean, stop = _rewrite(text or "", flags, rules)
    return [f.reason for f in flags], stop is None, stop, text if stop else clean


def screen_captions(df: pl.DataFrame, column: str = "caption", rules: CaptionRules = DEFAULT) -> pl.DataFrame:
    """`df` with `caption_flags` (reasons found on the original), `caption_kept`, `caption_reason` (the
    unfixable reason that rejects it, else null) and `caption_clean` (the rewrite, else the original),
    so the original and its rewrite are stored side by side and every row is kept in the output."""
    schema = dict(zip(CAPTION_COLUMNS, (pl.List(pl.String), pl.Boolean, pl.String, pl.String), strict=True))
    verdicts = pl.DataFrame([_verdict(t, rules) for t in df[column].to_list()], schema=schema, orient="row")
    return df.with_columns(verdicts.get_columns())
