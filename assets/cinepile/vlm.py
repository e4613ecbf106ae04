"""The leaderboard's model adapter: any OpenAI-compatible endpoint, in lmms-eval's CinePile prompt.

Kept out of `answering.py` so that editing this prompt marks only the leaderboard's predictions
stale, not the refinement that runs the blind and context answerers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from assets.cinepile.answering import read_scene
from assets.cinepile.replies import format_options, letter
from assets.kit.task import Task


class Reply(BaseModel):
    reply: str = Field(description="free text; the last line should read 'Answer: X'")


PRE_PROMPT = ("You will be provided with subtitles from a specific scene of a movie and a question about it. "
              "Answer with the letter of the correct option.")
POST_PROMPT = "Answer with the option's letter from the given choices directly, as 'Answer: X'."


class VLMAnswerTask(Task):
    """lmms-eval's CinePile prompt layout (pre-prompt, subtitles, question with `- A) ...` options,
    post-prompt); the reply is parsed like lmms-eval. Item: {"question", "choices", "subtitles",
    "scene_text"}. Offline it is the scene-text reader, so a run without an endpoint still exercises
    the parser."""

    name = "cinepile_vlm_answer"
    version = "1"
    response_model = Reply
    offline_model = "scene-text-reader"
    temperature = 0.0

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"role": "user", "content": (
            f"{PRE_PROMPT}\n\n**Subtitles:**\n{item['subtitles']}\n\n"
            f"{format_options(item['question'], item['choices'])}\n{POST_PROMPT}")}]

    def offline(self, item: dict[str, Any]) -> Reply:
        i, _, _ = read_scene(item["question"], item["choices"], item["scene_text"])
        return Reply(reply=f"Answer: {letter(i)}) {item['choices'][i]}")
