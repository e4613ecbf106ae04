"""The wording of a question, read without a model: its form (yes/no, how many, fill in the blank, a
wh-word) and the function words that carry none of its content.

Shared by the Q/A filters (which record each pair's form), the extractive baseline (which matches a
question's content words against page lines) and nothing that writes questions, so editing the
generation prompt never touches what these modules compute (or their assets' code versions).
"""

from __future__ import annotations

import re

STOPWORDS = frozenset([
    "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "from", "with", "and", "or", "is",
    "are", "was", "were", "be", "been", "this", "that", "these", "those", "what", "which", "who",
    "whom", "whose", "when", "where", "why", "how", "does", "do", "did", "it", "its", "as", "per",
])

YES_NO_QUESTION = re.compile(
    r"^(is|are|was|were|does|do|did|has|have|can|could|will|should)\b(?!\s+you\s+(tell|give|say|list))", re.I
)
_FORMS = (
    ("fill_blank", re.compile(r"^fill in the blank", re.I)),
    ("yes_no", YES_NO_QUESTION),
    ("summary", re.compile(r"\b(about|summar\w*|purpose)\b.*\?$", re.I)),
    ("how_many", re.compile(r"^how (many|much)\b", re.I)),
)


def question_form(question: str) -> str:
    """The form of a question, from its wording alone (works for any backend's questions)."""
    q = question.strip()
    for form, pattern in _FORMS:
        if pattern.search(q):
            return form
    wh = re.search(r"\b(what|when|who|where|which|why|how)\b", q, re.I)
    return wh[1].lower() if wh else "other"
