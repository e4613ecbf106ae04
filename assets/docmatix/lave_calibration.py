"""How well the offline LAVE proxy agrees with rated examples, beside exact match, ANLS and a
constant rating: the figures that say what `lave_proxy` is worth.

Examples are LAVE-format records ({question, references, prediction, output, explanation}); the
project's are in `data/lave_rated_examples.jsonl`, and LAVE's published demos can be read
from their JSON files the same way. Exact match and ANLS are put on LAVE's scale as
1 + round(2 * score) (exact match gives 1 or 3; ANLS 0.6 gives 2).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assets.docmatix.lave import keep_common_references, proxy_ratings
from assets.docmatix.metrics import anls_item, exact_match_item

RATED_EXAMPLES = Path(__file__).with_name("data") / "lave_rated_examples.jsonl"


def load_examples(path: Path) -> list[dict[str, Any]]:
    """LAVE-format examples from a .jsonl file or a JSON list (LAVE's demo files)."""
    text = path.read_text(encoding="utf-8")
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines() if x.strip()]
    for r in rows:
        if int(r["output"]) not in (1, 2, 3) or not r["references"]:
            raise ValueError(f"{path}: a rated example needs references and an output in 1-3: {r}")
    return rows


def _on_scale(score: float) -> int:
    return 1 + round(2 * score)


@dataclass(frozen=True)
class Agreement:
    method: str
    exact: float  # share of examples rated as the human rated them
    within_one: float  # share off by at most one step
    ratings: dict[int, int]  # how often the method gave each rating


def agreement(examples: Sequence[dict[str, Any]], encode: Callable[[list[str]], np.ndarray]) -> list[Agreement]:
    """Per method (lave_proxy, exact match, ANLS, always 3), its agreement with the examples' ratings."""
    truth = [int(e["output"]) for e in examples]
    items = [{"question": e["question"], "references": e["references"], "candidate": e["prediction"]} for e in examples]
    common = [keep_common_references(e["references"]) for e in examples]
    methods = {
        "lave_proxy": [r for r, _ in proxy_ratings(items, encode)],
        "exact_match": [_on_scale(exact_match_item(e["prediction"], c)) for e, c in zip(examples, common, strict=True)],
        "anls": [_on_scale(anls_item(e["prediction"], c)) for e, c in zip(examples, common, strict=True)],
        "always_3": [3] * len(examples),
    }
    n = len(examples) or 1
    return [Agreement(name, round(sum(g == t for g, t in zip(got, truth, strict=True)) / n, 3),
                      round(sum(abs(g - t) <= 1 for g, t in zip(got, truth, strict=True)) / n, 3),
                      {k: got.count(k) for k in (1, 2, 3)})
            for name, got in methods.items()]


def disagreements(examples: Sequence[dict[str, Any]], encode: Callable[[list[str]], np.ndarray]) -> list[tuple]:
    """(question, prediction, human rating, proxy rating, proxy rationale) where the two differ."""
    items = [{"question": e["question"], "references": e["references"], "candidate": e["prediction"]} for e in examples]
    return [(e["question"], e["prediction"], int(e["output"]), r, why)
            for e, (r, why) in zip(examples, proxy_ratings(items, encode), strict=True) if r != int(e["output"])]
