"""The wording of a question, read without a model: its form (yes/no, how many, fill in the blank, a
wh-word) and the function words that carry none of its content. English and Korean: a Korean
question is yes/no when it ends as a question (…니까?, …요?) without an interrogative word (무엇,
누구, 언제, …), which is how the offline generator and a model ask one.

Shared by the Q/A filters (which record each pair's form), the extractive baseline (which matches a
question's content words against page lines) and nothing that writes questions, so editing the
generation prompt never touches what these modules compute (or their assets' code versions).
"""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = frozenset([
    "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "from", "with", "and", "or", "is",
    "are", "was", "were", "be", "been", "this", "that", "these", "those", "what", "which", "who",
    "whom", "whose", "when", "where", "why", "how", "does", "do", "did", "it", "its", "as", "per",
])

# the answers of a yes/no question, in the languages the generators write
YES_NO_ANSWERS = frozenset(["yes", "no", "예", "아니요", "네", "아니오"])
# Korean interrogative words and the English wh-word each stands for
KOREAN_WH = {"무엇": "what", "뭐": "what", "누구": "who", "누가": "who", "언제": "when", "어디": "where",
             "어느": "which", "어떤": "which", "왜": "why", "어떻게": "how", "몇": "how_many", "얼마": "how_many"}
_KOREAN_WH = re.compile("|".join(KOREAN_WH))
_KOREAN_QUESTION_END = re.compile(r"[가-힣](?:니까|나요|까요|가요|예요|에요|어요|아요|죠)\?$")

YES_NO_QUESTION = re.compile(
    r"^(is|are|was|were|does|do|did|has|have|can|could|will|should)\b(?!\s+you\s+(tell|give|say|list))", re.I
)
_FORMS = (
    ("fill_blank", re.compile(r"^(?:fill in the blank|다음 문장의 빈칸)", re.I)),
    ("yes_no", YES_NO_QUESTION),
    ("summary", re.compile(r"\b(about|summar\w*|purpose)\b.*\?$|관한 것|요약|목적", re.I)),
    ("how_many", re.compile(r"^how (many|much)\b", re.I)),
)


HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
KOREAN_AT = 0.3  # share of the letters in Hangul from which a text is Korean


def language(texts: list[str]) -> str:
    """"ko" when Hangul is at least KOREAN_AT of the letters of `texts`, else "en"."""
    letters = [c for t in texts for c in t if c.isalpha()]
    hangul = sum(bool(HANGUL.match(c)) for c in letters)
    return "ko" if letters and hangul >= KOREAN_AT * len(letters) else "en"


def is_yes_no(question: str) -> bool:
    """An English question opening with an auxiliary, or a Korean one asking without a wh-word."""
    q = question.strip()
    return bool(YES_NO_QUESTION.match(q)) or (bool(_KOREAN_QUESTION_END.search(q)) and not _KOREAN_WH.search(q))


def question_form(question: str) -> str:
    """The form of a question, from its wording alone (works for any backend's questions)."""
    q = question.strip()
    for form, pattern in _FORMS:
        if pattern.search(q) or (form == "yes_no" and is_yes_no(q)):
            return form
    wh = re.search(r"\b(what|when|who|where|which|why|how)\b", q, re.I)
    if wh:
        return wh[1].lower()
    korean = _KOREAN_WH.search(q)
    return KOREAN_WH[korean[0]] if korean else "other"


# Korean template words (a word less its particle, see `_korean_stem`): how the offline generator
# and a model ask in Korean, never what about
KOREAN_TEMPLATE_WORDS = frozenset([
    "문서", "적힌", "무엇", "무엇입니까", "무엇인가요", "표", "값", "알려", "주시겠습니까", "주세요", "이", "그",
    "제목", "무엇이라고", "불립니까", "다음", "문장", "빈칸", "채우십시오", "관한", "것입니까", "내용", "한",
    "문장으로", "말하면", "절", "것", "어떻게", "됩니까", "있습니까", "입니까", "나와", "나온",
])
# particles and endings glued to a Korean word, longest first
KOREAN_PARTICLES = ("입니까", "이라고", "에서는", "으로", "에서", "에게", "까지", "부터", "은(는)", "을(를)",
                    "이(가)", "은", "는", "이", "가", "을", "를", "의", "에", "로", "와", "과", "도")


def _korean_stem(word: str) -> str:
    """A Korean word less the particle or copula glued to its end ("금액은" -> "금액")."""
    for ending in KOREAN_PARTICLES:
        if word.endswith(ending) and len(word) > len(ending):
            return word[: -len(ending)]
    return word


def without_korean_template(question: str) -> str:
    """The question less its Korean template words, each remaining Korean word less its particle."""
    out = []
    for word in unicodedata.normalize("NFKC", question).casefold().split():
        if HANGUL.search(word):
            word = _korean_stem(word.strip("?.!,:\"'"))
            if word in KOREAN_TEMPLATE_WORDS:
                continue
            word = re.sub(r"^([\d.]+)절$", r"\1", word)  # "3절": section 3
        out.append(word)
    return " ".join(out)
