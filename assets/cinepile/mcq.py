"""The multiple-choice item every CinePile step passes around, and its checks.

Exactly five distinct choices, the key's position, a rationale, and start/end timestamps that lie
inside the scene (validation context `{"start": s, "end": s}`, with a second of tolerance for models
that write whole seconds). A model's answer that breaks a rule is re-asked with the message.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from assets.finevideo.timestamps import TimestampError, parse_range

N_CHOICES = 5
LETTERS = "ABCDE"
TOLERANCE_S = 1.0


def norm(text: str) -> str:
    return re.sub(r"[^\w]+", " ", str(text).lower()).strip()


def key_position(*parts: str) -> int:
    """Where the key goes: a hash of the item, so positions spread evenly and never move on rerun."""
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:8], 16) % N_CHOICES


def place(key: str, distractors: list[str], position: int) -> list[str]:
    out = list(distractors[: N_CHOICES - 1])
    out.insert(position, key)
    return out


class MCQ(BaseModel):
    question: str = Field(min_length=5)
    choices: list[str] = Field(description="exactly 5 distinct answer options")
    answer_key_position: int = Field(ge=0, le=N_CHOICES - 1, description="0-based index of the correct choice")
    rationale: str = Field(min_length=1, description="why the key is right, citing the scene")
    start_timestamp: str = Field(description="mm:ss where the evidence starts, inside the scene")
    end_timestamp: str = Field(description="mm:ss where the evidence ends, inside the scene")
    visual_reliance: bool = Field(default=False, description="the answer needs what is seen, not only the subtitles")

    @field_validator("choices")
    @classmethod
    def five_distinct(cls, v: list[str]) -> list[str]:
        v = [str(c).strip() for c in v]
        if len(v) != N_CHOICES:
            raise ValueError(f"need exactly {N_CHOICES} choices, got {len(v)}")
        if any(not c for c in v):
            raise ValueError("a choice is empty")
        if len({norm(c) for c in v}) != N_CHOICES:
            raise ValueError("choices repeat (compared without case and punctuation)")
        return v

    @model_validator(mode="after")
    def inside_the_scene(self, info: ValidationInfo) -> MCQ:
        ctx = info.context or {}
        if "start" not in ctx:
            return self
        lo, hi = ctx["start"] - TOLERANCE_S, ctx["end"] + TOLERANCE_S
        times = []
        for name in ("start_timestamp", "end_timestamp"):
            try:
                t = parse_range(getattr(self, name))[0]
            except TimestampError as e:
                raise ValueError(f"{name}: {e}") from None
            if t is None or not lo <= t <= hi:
                raise ValueError(f"{name} {getattr(self, name)!r} is outside the scene "
                                 f"({ctx['start']:.0f}-{ctx['end']:.0f} s)")
            times.append(t)
        if times[1] < times[0]:
            raise ValueError("end_timestamp is before start_timestamp")
        return self

    @property
    def answer_key(self) -> str:
        return self.choices[self.answer_key_position]
