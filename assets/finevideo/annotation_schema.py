"""FineVideo's annotation schema, field for field, with the checks FineVideo left to luck.

The field names are FineVideo's exactly (`characterList`, `qAndA`, `start_timestamp`, ...) so a
released row is drop-in compatible. FineVideo declared them as TypedDicts, so nothing stopped a
scene from ending after the video, two scenes from overlapping or a mood from being invented; here
the validators reject that, and `LLMResource` re-asks the model with the validator's message.
Validation needs the video's duration: pass `context={"duration_s": ...}`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from assets.finevideo.timestamps import TimestampError, parse_range
from assets.kit.errors import Problems

# the mood taxonomy of FineVideo's annotation prompt: name -> its description there
MOODS: dict[str, str] = {
    "Happy": "Feeling joyful, content, or delighted.",
    "Excited": "Feeling enthusiastic, energetic, or eager.",
    "Calm": "Feeling peaceful, relaxed, or serene.",
    "Grateful": "Feeling appreciative or thankful.",
    "Proud": "Feeling satisfied with one's achievements or the achievements of others.",
    "Sad": "Feeling down, unhappy, or sorrowful.",
    "Angry": "Feeling irritated, frustrated, or furious.",
    "Anxious": "Feeling nervous, worried, or uneasy.",
    "Lonely": "Feeling isolated, disconnected, or abandoned.",
    "Bored": "Feeling uninterested, disengaged, or restless.",
    "Indifferent": "Feeling neither particularly positive nor negative.",
    "Content": "Feeling satisfied but not overly excited.",
    "Curious": "Feeling interested or inquisitive without strong emotion.",
    "Confused": "Feeling uncertain or unclear but without strong negative feelings.",
    "Pensive": "Feeling thoughtful or reflective without strong emotional engagement.",
}
QA_PAIRS = 5
END_TOLERANCE_S = 1.0  # models write whole seconds; a scene may end within a second of the video
TIME = "a time in the video: mm:ss, hh:mm:ss or 'end'"


class Timestamps(BaseModel):
    start_timestamp: str = Field(description=TIME)
    end_timestamp: str = Field(description=TIME)


class Character(BaseModel):
    characterId: str
    name: str
    description: str = Field(description="what identifies the character on screen")


class Activity(BaseModel):
    description: str
    timestamp: Timestamps


class Prop(BaseModel):
    name: str
    timestamp: Timestamps


class VideoEditingDetail(BaseModel):
    description: str = Field(description="transition, effect, music, or a segment worth removing")
    timestamps: Timestamps


class KeyMoment(BaseModel):
    timestamp: str = Field(description=TIME)
    changeDescription: str


class Mood(BaseModel):
    description: str = Field(description=f"one of: {', '.join(MOODS)} (empty when unknown)")
    keyMoments: list[KeyMoment] = Field(default_factory=list)

    @field_validator("description")
    @classmethod
    def known_mood(cls, v: str) -> str:
        name = v.strip().strip(".").strip()
        if not name:
            return ""
        for mood in MOODS:
            if mood.lower() == name.lower():
                return mood
        raise ValueError(f"mood {v!r} is not one of {', '.join(MOODS)}")


class NarrativeProgression(BaseModel):
    description: str
    timestamp: str = Field(description=TIME)


class CharacterInteraction(BaseModel):
    characters: list[str]
    description: str


class Scene(BaseModel):
    sceneId: int
    title: str
    timestamps: Timestamps
    cast: list[str] = Field(default_factory=list)
    activities: list[Activity] = Field(default_factory=list)
    props: list[Prop] = Field(default_factory=list)
    videoEditingDetails: list[VideoEditingDetail] = Field(default_factory=list)
    mood: Mood
    narrativeProgression: list[NarrativeProgression] = Field(default_factory=list)
    characterInteraction: list[CharacterInteraction] = Field(default_factory=list)
    thematicElements: str = ""
    contextualRelevance: str = ""
    dynamismScore: float = Field(ge=0.0, le=1.0, description="0 static .. 1 highly dynamic")
    audioVisualCorrelation: float = Field(
        ge=0.0, le=1.0, description="0: what we see is unrelated to the speech .. 1: highly related"
    )


class Climax(BaseModel):
    description: str
    timestamp: str = Field(description=TIME)


class Storyline(BaseModel):
    description: str
    scenes: list[int]
    climax: Climax


class QAndA(BaseModel):
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class TrimmingSuggestion(BaseModel):
    timestamps: Timestamps
    description: str


class Schema(BaseModel):
    title: str
    description: str
    characterList: list[Character] = Field(default_factory=list)
    scenes: list[Scene] = Field(min_length=1)
    storylines: Storyline
    qAndA: list[QAndA] = Field(default_factory=list, max_length=QA_PAIRS)
    trimmingSuggestions: list[TrimmingSuggestion] = Field(default_factory=list)

    @model_validator(mode="after")
    def consistent_with_the_video(self, info: ValidationInfo) -> Schema:
        duration = (info.context or {}).get("duration_s")
        problems = schema_problems(self, duration)
        if problems:  # each problem counts as one error in a row's detail (assets/kit/errors.py)
            raise Problems(problems)
        return self


def inner_timestamps(scene: Scene) -> Iterator[tuple[str, str]]:
    """(where, text) of every timestamp inside a scene."""
    for i, a in enumerate(scene.activities):
        yield f"activity {i + 1}", a.timestamp.start_timestamp
        yield f"activity {i + 1}", a.timestamp.end_timestamp
    for i, p in enumerate(scene.props):
        yield f"prop {i + 1}", p.timestamp.start_timestamp
        yield f"prop {i + 1}", p.timestamp.end_timestamp
    for i, e in enumerate(scene.videoEditingDetails):
        yield f"editing detail {i + 1}", e.timestamps.start_timestamp
        yield f"editing detail {i + 1}", e.timestamps.end_timestamp
    for i, k in enumerate(scene.mood.keyMoments):
        yield f"mood key moment {i + 1}", k.timestamp
    for i, n in enumerate(scene.narrativeProgression):
        yield f"narrative moment {i + 1}", n.timestamp


def schema_problems(s: Schema, duration_s: float | None) -> list[str]:
    """Every way the annotation contradicts itself or the video; empty when it is sound."""
    problems: list[str] = []
    limit = None if duration_s is None else duration_s + END_TOLERANCE_S

    def read(where: str, text: str, required: bool = False) -> tuple[float | None, float | None]:
        try:
            a, b = parse_range(text, end_s=duration_s)
        except TimestampError as e:
            problems.append(f"{where}: {e}")
            return None, None
        if required and a is None:
            problems.append(f"{where}: {text!r} is not a time")
        for t in dict.fromkeys((a, b)):
            if t is not None and limit is not None and t > limit:
                problems.append(f"{where}: {text!r} is after the video's end ({duration_s:.1f} s)")
        return a, b

    ids = [sc.sceneId for sc in s.scenes]
    if len(set(ids)) != len(ids):
        problems.append(f"sceneIds repeat: {ids}")
    previous_end = None
    for sc in s.scenes:
        where = f"scene {sc.sceneId}"
        start, _ = read(f"{where} start", sc.timestamps.start_timestamp, required=True)
        _, end = read(f"{where} end", sc.timestamps.end_timestamp, required=True)
        if start is not None and end is not None and end < start:
            problems.append(f"{where} ends ({end:g} s) before it starts ({start:g} s)")
        if start is not None and previous_end is not None and start < previous_end:
            problems.append(f"{where} starts at {start:g} s, before the previous scene ends ({previous_end:g} s)")
        previous_end = end if end is not None else previous_end
        for inner, text in inner_timestamps(sc):
            read(f"{where} {inner}", text)
    unknown = sorted(set(s.storylines.scenes) - set(ids))
    if unknown:
        problems.append(f"storylines name scenes that do not exist: {unknown}")
    read("climax", s.storylines.climax.timestamp)
    for i, t in enumerate(s.trimmingSuggestions):
        read(f"trimming suggestion {i + 1}", t.timestamps.start_timestamp)
        read(f"trimming suggestion {i + 1}", t.timestamps.end_timestamp)
    return problems
