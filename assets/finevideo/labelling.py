"""The `taxonomy_label` Task: one leaf of the taxonomy per video.

The prompt follows FineVideo (the leaf list, then title, channel and the transcript cut to 5,000
characters, "return only the category") but lists full paths, since leaf names repeat, and leaves
out YouTube tags and categories, whose removal improved FineVideo's labels sharply. The response
model admits only a leaf path of the current taxonomy (passed as validation context); a bare leaf
name is accepted when it is unique and stored as its path. An answer outside the list is re-asked
with the validator's message and, if still invalid, recorded as a failed label.

Offline, the label is the leaf whose path is most similar to the video's title + transcript
(sentence embeddings); `margin` is how far ahead of the runner-up it is, the labeller's confidence.
The offline model recorded for a label is the embedding model the task was given (its `encoder`
name, which follows the embeddings resource and so MMFOUNDRY_EMBEDDING_MODEL), never an assumed one.

`LabelRules` screen the labels on stored columns: the label's error (a failed label) and whether the
chosen leaf is a discard-only category.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from assets.finevideo.encoders import encoder_name
from assets.finevideo.taxonomy import SEPARATOR, join_path, split_path
from assets.kit.screening import Rule, RuleSet
from assets.kit.task import Task

# leaf vectors per (encoder, leaves): every shard of a run labels against the same taxonomy
_LEAF_VECTORS: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
TRANSCRIPT_CHARS = 5000
EMBED_CHARS = 1500  # MiniLM reads 256 word pieces; more text only costs time

PROMPT = """Given those categories: {leaves}
Classify a youtube video given its closed captioning and some metadata details. RETURN ONLY the selected category and nothing else!
Title: {title}
Channel: {channel}
Closed Caption: {transcript}"""


class TaxonomyLabel(BaseModel):
    category: str = Field(description="one category path from the list, exactly as written there")

    @field_validator("category")
    @classmethod
    def must_be_a_leaf(cls, v: str, info: ValidationInfo) -> str:
        leaves: Sequence[str] | None = (info.context or {}).get("leaf_paths")
        if leaves is None:
            return v
        text = v.strip().strip("\"'`").strip()
        path = join_path(split_path(text))
        if path in leaves:
            return path
        by_name = [p for p in leaves if p.rsplit(SEPARATOR, 1)[-1].lower() == text.lower()]
        if len(by_name) == 1:
            return by_name[0]
        if len(by_name) > 1:
            raise ValueError(f"{text!r} names several categories; answer with the full path, one of {by_name}")
        raise ValueError(f"{text!r} is not one of the categories; answer with one path from the list exactly")


def leaf_text(path: str) -> str:
    """What the offline labeller compares a video with: the path from the leaf up, which ranks
    the specific name first (measured on the sample corpus: 0.97 top-1 vs 0.93 root first)."""
    return " < ".join(reversed(split_path(path)))


def video_text(item: dict[str, Any]) -> str:
    return f"{item.get('title') or ''}. {(item.get('text') or '')[:EMBED_CHARS]}"


class TaxonomyLabelTask(Task):
    name = "taxonomy_label"
    version = "1"
    response_model = TaxonomyLabel
    offline_model = "leaf-similarity"
    temperature = 0.0
    max_tokens = 60

    def __init__(self, leaf_paths: Sequence[str], encode: Callable[[list[str]], np.ndarray], encoder: str = ""):
        """`encoder` names the embedding model `encode` runs (the asset passes the embeddings
        resource's model name); with a name, leaf vectors are reused across tasks."""
        self.leaf_paths = list(leaf_paths)
        self._encode = encode
        self._encoder = encoder
        self.encoder = encoder_name(encode, encoder)
        self._leaf_vectors: np.ndarray | None = None
        self._memo: dict[str, np.ndarray] = {}  # the asset scores every video, the offline path again

    def offline_model_used(self) -> str:
        return f"{self.encoder}:{self.offline_model}"

    def config(self) -> dict[str, Any]:
        return {"encoder": self.encoder, "embed_chars": EMBED_CHARS}

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        prompt = PROMPT.format(
            leaves="\n".join(f"- {p}" for p in self.leaf_paths),
            title=item.get("title") or "",
            channel=item.get("channel") or "",
            transcript=(item.get("text") or "")[:TRANSCRIPT_CHARS],
        )
        return [{"role": "user", "content": prompt}]

    def validation_context(self, item: Any) -> dict[str, Any]:
        return {"leaf_paths": self.leaf_paths}

    def similarities(self, items: Sequence[dict[str, Any]]) -> np.ndarray:
        """Cosine similarity of each video to each leaf, shape (items, leaves)."""
        if not items:
            return np.zeros((0, len(self.leaf_paths)), dtype=np.float32)
        if self._leaf_vectors is None:
            key = (self._encoder, tuple(self.leaf_paths))
            vectors = _LEAF_VECTORS.get(key) if self._encoder else None
            if vectors is None:
                vectors = self._encode([leaf_text(p) for p in self.leaf_paths])
                if self._encoder:
                    _LEAF_VECTORS[key] = vectors
            self._leaf_vectors = vectors
        texts = [video_text(it) for it in items]
        new = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if new:
            self._memo.update(zip(new, self._encode(new), strict=True))
        return np.stack([self._memo[t] for t in texts]) @ self._leaf_vectors.T

    def offline(self, item: dict[str, Any]) -> TaxonomyLabel:
        return self.offline_batch([item])[0]

    def offline_batch(self, items: Sequence[dict[str, Any]]) -> list[BaseModel | Exception]:
        sims = self.similarities(items)
        return [TaxonomyLabel(category=self.leaf_paths[int(np.argmax(row))]) for row in sims]


class LabelRules(RuleSet):
    """A video keeps its label unless labelling failed or the label is a discard-only category."""

    def rules(self) -> list[Rule]:
        return [
            Rule(reason="label_failed", column="label_error", op="is_null"),
            Rule(reason="discard_only_category", column="discard_only", op="is_false", shown="category_path"),
        ]


def confidence(sims: np.ndarray, leaf_paths: Sequence[str], labels: Sequence[str | None]
               ) -> list[tuple[float | None, float | None, str | None]]:
    """(similarity of the chosen leaf, its lead over the best other leaf, that leaf) per video.

    For the offline labeller this is top-1 minus top-2; for a model's label the same measure says
    how strongly the embeddings agree (a negative margin: they prefer another leaf)."""
    index = {p: i for i, p in enumerate(leaf_paths)}
    out = []
    for row, label in zip(sims, labels, strict=True):
        if label is None or label not in index:
            out.append((None, None, None))
            continue
        j = index[label]
        others = row.copy()
        others[j] = -np.inf
        k = int(np.argmax(others))
        out.append((round(float(row[j]), 4), round(float(row[j] - row[k]), 4), leaf_paths[k]))
    return out
