"""Caption review as two model Tasks: one flags a caption, one rewrites a fixable one.

Offline, both are the rules of captions.py (regular expressions, word lists, script and stopword
counts, repeat detection), so a flag names the evidence a person can check and a rewrite is a
deterministic cleanup (masking, dropping promo sentences and fragments, collapsing repeats). With a
model backend the same Tasks ask the model, with the same reasons and the same answer shapes, so
what a release says about its captions does not depend on which backend wrote it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from assets.hygiene.captions import DEFAULT, REASONS, CaptionRules, clean_caption, flag_caption
from assets.kit.task import Task

FLAG_PROMPT = """You review one caption written for a video, before it is released as training data.
List every problem it has, using only these names:
- personal_data: an email address, phone number, or a person's social media handle or profile link
- profanity: swear words or slurs
- boilerplate: channel promotion ("subscribe", "hit the bell", "link in the description", sponsor reads)
- non_english: a sentence in another language (a quoted phrase or a proper name is fine)
- truncated: the text stops mid-sentence or mid-word
- repeated: the same word, phrase or sentence repeated back to back (text degeneration)
- empty_or_short: fewer than {min_words} words
Set fixable to false when the caption cannot be saved by masking, deleting a sentence or collapsing
repeats (non_english, empty_or_short, or a truncation with no complete sentence before it).

Caption:
{text}"""
REWRITE_PROMPT = """Rewrite this video caption so that it has none of these problems: {flags}.
Mask personal data as [email], [phone], [url] or [handle] and swear words as [profanity]; delete
channel promotion sentences; collapse repeated words or sentences to one; drop a final sentence that
was cut off. Change nothing else: same facts, same wording elsewhere, English.

Caption:
{text}"""


class CaptionFlags(BaseModel):
    flags: list[str] = Field(default_factory=list, description=f"problem names, from: {', '.join(REASONS)}")
    fixable: bool = True

    @field_validator("flags")
    @classmethod
    def known(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(REASONS))
        if unknown:
            raise ValueError(f"unknown caption problems {unknown}; use only {list(REASONS)}")
        return [r for r in REASONS if r in v]


class CaptionRewrite(BaseModel):
    text: str = Field(min_length=1)


class _CaptionTask(Task):
    """Both caption Tasks answer offline from the same rules, which are part of their answers' identity."""

    offline_model = "caption-rules"
    temperature = 0.0

    def __init__(self, rules: CaptionRules = DEFAULT):
        self.rules = rules

    def config(self) -> dict[str, Any]:
        return self.rules.model_dump(mode="json")


class CaptionFlagTask(_CaptionTask):
    name = "caption_flags"
    version = "1"
    response_model = CaptionFlags
    max_tokens = 80

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"role": "user", "content": FLAG_PROMPT.format(min_words=self.rules.min_words, text=item["text"])}]

    def offline(self, item: dict[str, Any]) -> CaptionFlags:
        flags = flag_caption(item["text"], self.rules)
        return CaptionFlags(flags=[f.reason for f in flags], fixable=all(f.fixable for f in flags)
                            and clean_caption(item["text"], flags, self.rules) is not None)


class CaptionRewriteTask(_CaptionTask):
    name = "caption_rewrite"
    version = "1"
    response_model = CaptionRewrite
    max_tokens = 600

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"role": "user", "content": REWRITE_PROMPT.format(flags=", ".join(item["flags"]), text=item["text"])}]

    def offline(self, item: dict[str, Any]) -> CaptionRewrite:
        clean = clean_caption(item["text"], flag_caption(item["text"], self.rules), self.rules)
        if clean is None:
            raise ValueError(f"not fixable by the rules: {', '.join(item['flags'])}")
        return CaptionRewrite(text=clean)
