"""Question templates: the bank embedded, clustered, and each cluster named (CinePile's step 1).

k is chosen by the silhouette score (cosine) over a range of k, KMeans on unit vectors. Per cluster
a `TemplateTask` returns a template name, a prototypical question and a category. Offline, without
a model: the prototype is the medoid (the member with the highest mean cosine to the others), the
name joins the cluster's most distinctive terms (tf-idf with each cluster as one document, so words
every cluster uses score low), and the category is the one its members are most similar to: each
member's similarity to a category is its best cosine to that category's cue questions
(`categories.CUES`), averaged over the members.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, field_validator

from assets.cinepile.categories import CATEGORIES, CUES, DESCRIPTIONS, label
from assets.cinepile.vectors import Encode, EncoderTask
from assets.kit.task import Task

NAME_TERMS = 3
SHOWN_MEMBERS = 12
_GENERIC = {"does", "scene", "happens", "when", "the", "what", "which", "who", "why", "how"}


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray
    k: int
    silhouettes: dict[int, float]


def k_candidates(n: int, k_min: int, k_max: int, step: int = 5) -> list[int]:
    """Every `step`-th k in [k_min, k_max] (capped at n - 1), then refined around the best."""
    hi = max(2, min(k_max, n - 1))
    lo = max(2, min(k_min, hi))
    return sorted(set(range(lo, hi + 1, step)) | {hi})


def cluster(vectors: np.ndarray, k_min: int = 5, k_max: int = 60, seed: int = 0, step: int = 5) -> Clustering:
    """KMeans at a coarse grid of k, then at every k within `step` of the best grid point; the k with
    the best cosine silhouette wins (ties: smaller k). Each fit is one KMeans++ start: the silhouette
    curve is flat near its top, and a grid of single fits costs a tenth of an exhaustive search."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(vectors)
    if n < 3:
        return Clustering(np.zeros(n, dtype=int), 1 if n else 0, {})
    scores: dict[int, float] = {}
    fits: dict[int, np.ndarray] = {}

    def fit(k: int) -> None:
        if k in scores:
            return
        labels = KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(vectors)
        if len(set(labels)) > 1:
            scores[k], fits[k] = float(silhouette_score(vectors, labels, metric="cosine")), labels

    grid = k_candidates(n, k_min, k_max, step)
    for k in grid:
        fit(k)
    if not scores:
        return Clustering(np.zeros(n, dtype=int), 1, {})
    best = max(scores, key=lambda k: (round(scores[k], 6), -k))
    for k in range(max(grid[0], best - step + 1), min(grid[-1], best + step - 1) + 1):
        fit(k)
    best = max(scores, key=lambda k: (round(scores[k], 6), -k))
    return Clustering(fits[best], best, dict(sorted(scores.items())))


def medoid(vectors: np.ndarray) -> int:
    sims = vectors @ vectors.T
    return int(np.argmax(sims.sum(axis=1)))


def distinctive_terms(cluster_texts: Sequence[str], n: int = NAME_TERMS) -> list[list[str]]:
    """Top tf-idf terms of each cluster (one document per cluster)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(stop_words="english", token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z']+\b")
    m = vec.fit_transform(cluster_texts)
    vocab = np.array(vec.get_feature_names_out())
    out = []
    for i in range(m.shape[0]):
        row = m.getrow(i).toarray().ravel()
        order = [j for j in np.argsort(-row, kind="stable") if row[j] > 0 and vocab[j] not in _GENERIC]
        out.append([str(vocab[j]) for j in order[:n]])
    return out


class TemplateSpec(BaseModel):
    name: str = Field(min_length=1, description="a short snake_case template name")
    prototypical_question: str = Field(min_length=5)
    category: str = Field(description=f"one of {', '.join(CATEGORIES)}")

    @field_validator("category")
    @classmethod
    def known(cls, v: str) -> str:
        code = " ".join(v.split()).upper()
        for c, name in CATEGORIES.items():
            if code in (c, label(name).upper()):
                return c
        raise ValueError(f"category {v!r} is not one of {', '.join(CATEGORIES)}")


class TemplateTask(EncoderTask, Task):
    """Item: {"cluster_id", "questions" (members), "terms" (distinctive terms)}."""

    name = "cinepile_template"
    version = "1"
    response_model = TemplateSpec
    offline_model = "medoid+tfidf+category-similarity"
    temperature = 0.2

    def __init__(self, encode: Encode, *, encoder: str):
        super().__init__(encode, encoder=encoder)
        self._categories: np.ndarray | None = None

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        cats = "\n".join(f"- {c} ({label(CATEGORIES[c])}): {d}" for c, d in DESCRIPTIONS.items())
        shown = "\n".join(f"- {q}" for q in item["questions"][:SHOWN_MEMBERS])
        return [
            {"role": "system", "content": "You organise movie comprehension questions into reusable templates."},
            {"role": "user", "content": (
                f"These questions were clustered together:\n{shown}\n\nGive the cluster a short snake_case "
                "template name, write one prototypical question with placeholders in angle brackets "
                f"(e.g. <character>), and pick its category code:\n{cats}")},
        ]

    def _cue_vectors(self) -> np.ndarray:
        if self._categories is None:
            self._categories = self.encode([c for code in CATEGORIES for c in CUES[code]])
        return self._categories

    def offline(self, item: dict[str, Any]) -> TemplateSpec:
        questions = list(item["questions"])
        if not questions:
            raise ValueError("empty cluster")
        vectors = self.encode(questions)
        sims = vectors @ self._cue_vectors().T
        per_category, at = [], 0
        for code in CATEGORIES:
            per_category.append(sims[:, at : at + len(CUES[code])].max(axis=1).mean())
            at += len(CUES[code])
        code = list(CATEGORIES)[int(np.argmax(per_category))]
        prototype = questions[medoid(vectors)]
        terms = item.get("terms") or re.findall(r"[a-z]+", prototype.lower())[:NAME_TERMS]
        return TemplateSpec(name="_".join(terms) or f"cluster_{item['cluster_id']}",
                            prototypical_question=prototype, category=code)
