"""The two model steps of FineVideo's annotation: describe the video, then structure the description.

FineVideo asked Gemini 1.5 Pro for a free-form description of the whole video (its prompt is kept
below nearly verbatim), then had GPT-4o turn that text into the schema through instructor, and
when the structuring failed validation or was cut off, asked Gemini again with "be concise".
`video_description` is the first step: Gemini gets the video itself (inline), an OpenAI-compatible
VLM gets frames sampled at scene midpoints plus the timed transcript (it cannot hear the audio).
`video_annotation` is the second: text in, `Schema` out, repaired with "be concise" on truncation.

Offline, the description is an outline of the measured scenes (cut times, motion, speech) and the
annotation is `grounded_annotation.annotate` on the same signals; nothing is invented.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from assets.finevideo.annotation_schema import MOODS, QA_PAIRS, Schema
from assets.finevideo.encoders import encoder_name
from assets.finevideo.grounded_annotation import (
    VideoSignals,
    annotate,
    dynamism,
    mood_vectors,
)
from assets.finevideo.shot_frames import scene_spans
from assets.finevideo.subtitles import row_cue, said
from assets.finevideo.timestamps import format_timestamp
from assets.kit.task import Task

GEMINI_INLINE_BYTES = 20 * 1024 * 1024  # larger videos need the File API: frames instead
CONCISE = " be concise with your answer"

DESCRIBE_PROMPT = """Study the video and provide the following details about the video and the semantic scenes that compose it:

- characterList: a list of characters that appear in the whole video and a visual description that should allow me to identify them just seeing an image of them.
- scenes: a list of the scenes with the following properties:
  - start/end timestamps of the scene
  - list of all the characters that appear in the scene
  - list of all activities and their timestamps
  - list of all props and their timestamps
  - list of all video editing details and their start/end timestamps. Details include transitions, effects, music as well as suggestions like segments of the scene that could be removed and why
  - scene mood with notes on how the visuals, audio and context contribute to it. Use the following moods, returning only the name in your answer: {moods}
    - specific mood changing moments inside the scene, report the timestamp and what we transition from/to in any of the dimensions (visual / auditive)
  - scene narrative progression and plot development
    - specific narrative moments inside the scene. Report the timestamp and what happened
  - character interaction and dynamics descriptions and their start/end timestamps
  - specific thematic elements and descriptions
  - specific relevant happenings to create deeper meanings and subtexts not explicitly stated that contribute to the richness and depth of the content, timestamp and descriptions
  - dynamism score of the scene. Score between 0 and 1. 1 is highly dynamic
  - audio - visual correlation score. Score between 0 and 1. 0 what we see is not correlated with the speech and 1 is highly correlated

- storylines: a list of the different storylines found and which scenes belong to it.
  - Specify where is the climax (scene and timestamp) and if the content is being presented a narrative story, or is it more like a collection of facts or non-narrative information
  - if there are scenes not matching storylines, explain how those scenes contribute to the video
- looking at the overall video and the storylines, which segments of the video could be trimmed to make it more dynamic?
- q&a: a list of {qa} questions/answers about the video that focus on fine details (objects and or activities), overall story reasoning and mood. Focus on Q&A aspects captured on the audio and the video whenever possible difficult to get only by looking at the transcription."""

STRUCTURE_PROMPT = """Convert the description of a video below into the JSON schema, keeping its content.
The video lasts {duration} (mm:ss). Every timestamp must lie inside the video, written as mm:ss.
Scenes come in order and do not overlap. A mood is one of: {moods}. Give at most {qa} q&a pairs.
Video title: {title}"""


class VideoDescription(BaseModel):
    text: str = Field(description="the full free-form description of the video")


def signals(item: dict[str, Any]) -> VideoSignals:
    return VideoSignals(
        title=item.get("title") or "",
        duration_s=float(item["duration_s"]),
        cues=[row_cue(c) for c in item.get("cues") or []],
        cuts_s=[float(c) for c in item.get("cuts") or []],
        motion_per_second=[float(m) for m in item.get("motion") or []],
        freeze_intervals=[(float(a), float(b)) for a, b in item.get("freezes") or []],
        category=(item.get("category") or "").rsplit(" > ", 1)[-1],
        transcript=item.get("transcript") or "",
    )


def _mmss(seconds: float) -> str:
    return format_timestamp(seconds)[3:8] if seconds < 3600 else format_timestamp(seconds)[:8]


def outline(v: VideoSignals) -> str:
    """The offline description: each measured scene with its motion and what is said in it."""
    lines = [f"{v.title} ({_mmss(v.duration_s)})"]
    for k, (a, b) in enumerate(scene_spans(v.cuts_s, v.duration_s), start=1):
        speech = " ".join(said(c) for c in v.cues
                          if a <= (c.start + c.end) / 2 < b or (b == v.duration_s and c.start >= b))
        lines.append(f"Scene {k}, {_mmss(a)}-{_mmss(b)}, motion {dynamism(v.motion_per_second, a, b):.2f}: "
                     f"{speech or '(no speech)'}")
    return "\n".join(lines)


def transcript_lines(item: dict[str, Any]) -> str:
    """The timed transcript a model reads, one turn a line, `Speaker: ` before a named speaker's."""
    cues = [row_cue(c) for c in item.get("cues") or []]
    return "\n".join(f"[{_mmss(c.start)}-{_mmss(c.end)}] {said(c)}" for c in cues)


class VideoDescriptionTask(Task):
    """Step 1: free text about the video. `mode` is "video" (Gemini) or "frames" (OpenAI-compatible)."""

    name = "video_description"
    version = "1"
    response_model = VideoDescription
    offline_model = "measured-outline"
    temperature = 0.0

    def __init__(self, mode: str = "frames"):
        if mode not in ("video", "frames"):
            raise ValueError(f"mode must be 'video' or 'frames', not {mode!r}")
        self.mode = mode

    def _prompt(self, item: dict[str, Any]) -> str:
        text = DESCRIBE_PROMPT.format(moods=", ".join(MOODS), qa=QA_PAIRS)
        text += f"\nThe video lasts {_mmss(float(item['duration_s']))} (mm:ss)."
        return text + (CONCISE if item.get("concise") else "")

    def messages(self, item: dict[str, Any]) -> list[Any]:
        path = item.get("video_path")
        if self.mode == "video" and path and Path(path).stat().st_size <= GEMINI_INLINE_BYTES:
            from google.genai import types

            video = types.Part.from_bytes(data=Path(path).read_bytes(), mime_type="video/mp4")
            return [types.Content(role="user", parts=[video, types.Part.from_text(text=self._prompt(item))])]
        parts: list[dict[str, Any]] = [{"type": "text", "text": self._prompt(item)}]
        parts.append({"type": "text", "text": "Frames sampled at the middle of each shot follow, then "
                      "the timed transcript (you cannot hear the audio).\n"})
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in item.get("frames") or []]
        parts.append({"type": "text", "text": "Transcript:\n" + transcript_lines(item)})
        return [{"role": "user", "content": parts}]

    def offline(self, item: dict[str, Any]) -> VideoDescription:
        return VideoDescription(text=outline(signals(item)))


class VideoAnnotationTask(Task):
    """Step 2: the description (and the title) into FineVideo's `Schema`."""

    name = "video_annotation"
    version = "1"
    response_model = Schema
    offline_model = "grounded-signals"
    temperature = 0.0

    def __init__(self, encode: Callable[[list[str]], np.ndarray], encoder: str = ""):
        """`encoder` names the embedding model `encode` runs (moods are chosen by its similarity)."""
        self._encode = encode
        self.encoder = encoder_name(encode, encoder)
        self._moods: np.ndarray | None = None

    def offline_model_used(self) -> str:
        return f"{self.offline_model}+{self.encoder}"

    def config(self) -> dict[str, Any]:
        return {"encoder": self.encoder}

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        system = STRUCTURE_PROMPT.format(duration=_mmss(float(item["duration_s"])), moods=", ".join(MOODS),
                                         qa=QA_PAIRS, title=item.get("title") or "")
        return [{"role": "system", "content": system},
                {"role": "user", "content": item.get("description") or ""}]

    def validation_context(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"duration_s": float(item["duration_s"])}

    def repair(self, messages: list[dict[str, Any]], error: Exception) -> list[dict[str, Any]]:
        return [*messages, {"role": "user", "content": "Be concise with your answer: fewer, shorter "
                                                       "entries, every field still filled in."}]

    def offline(self, item: dict[str, Any]) -> Schema:
        if self._moods is None:
            self._moods = mood_vectors(self._encode)
        return annotate(signals(item), self._encode, self._moods)
