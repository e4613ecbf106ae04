"""lmms-eval's CinePile scoring, restated so the release can be checked against it without lmms-eval.

Source: EvolvingLMMs-Lab/lmms-eval, `lmms_eval/tasks/cinepile/utils.py` at commit
08c9bdaab608642c0877ef0d693e0122a8b234ea (`normalize_string`, `evaluate_semantic_similarity`,
`cinepile_process_results`, `CATEGORIES`, `HARD_SPLIT`, `cinepile_aggregate_results`); the lmms-eval
0.7.3 wheel on PyPI ships the same functions. Restated, not imported: the package requires torch,
torchvision, a pinned wandb and some fifty other packages, and importing any of its tasks imports them.

A release "drops in" when lmms-eval's task can read it and aggregate it: `doc_to_visual` opens
`<videoID>.mp4`, `doc_to_text` reads `subtitles`, `question` and `choices`, `process_results` reads
`answer_key_position`, `answer_key`, `question_category`, `hard_split` and `question`, and the
aggregation indexes all five category strings.

Differences, none of which changes a score or a failure:
- `evaluate_semantic_similarity` calls `normalize_string` directly instead of `eval(normalize_fn)`;
- `cinepile_aggregate_results` returns the figures lmms-eval only logs (per category, per category
  and hard split) with the overall accuracy it returns, and counts the results it leaves out of
  every figure (a category that is not one of the five), which lmms-eval drops without a word.
Kept as lmms-eval has them: a reply that is not a string raises AttributeError; a `hard_split`
other than "True"/"False" raises KeyError('answered'); a category of the five with no result at
all raises KeyError (its `cat2score` is a `defaultdict(dict)`, so the lookup of the split fails);
an empty figure is 0, not "no data".
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from assets.cinepile.categories import CATEGORIES as _BY_CODE

CATEGORIES = list(_BY_CODE.values())
HARD_SPLIT = ["True", "False"]
ANS_KEY_MAP = {0: "A", 1: "B", 2: "C", 3: "D", 4: "E"}


def normalize_string(input_string: str) -> tuple[str | None, str]:
    """(option letter or None, option text): a bare A-E, else `Answer:` and a letter anywhere."""
    input_string = input_string.replace("*", "").strip()
    if re.match(r"^[A-E]$", input_string, re.IGNORECASE):
        return input_string.upper(), ""
    match = re.search(r"Answer:\s*([A-E])\)?\.?\s*(.*)", input_string, re.IGNORECASE)
    if match:
        return match.group(1).upper(), match.group(2).strip()
    return None, input_string.strip()


def evaluate_semantic_similarity(response: str, answer_key_number: str,
                                 answer_key_text: str) -> tuple[int, str | None, str]:
    """(1 or 0, letter read, text read). A letter must be the key's, and when both the reply and the key
    have a text the texts must match (case-insensitively); with no letter the texts must match."""
    number, text = normalize_string(response)
    if answer_key_number and number:
        if answer_key_number == number:
            if answer_key_text and text:
                return (1 if answer_key_text.lower() == text.lower() else 0), number, text
            return 1, number, text
    elif answer_key_text.lower() == text.lower():
        return 1, number, text
    return 0, number, text


def cinepile_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, dict[str, Any]]:
    """One release row (`doc`) and the model's reply (`results[0]`) as lmms-eval records them."""
    pred = results[0]
    answer = ANS_KEY_MAP[doc["answer_key_position"]]
    correct, number, text = evaluate_semantic_similarity(pred, answer, doc["answer_key"])
    return {"cinepile_accuracy": {
        "question": doc["question"], "question_category": doc["question_category"], "hard_split": doc["hard_split"],
        "correct": correct, "answer": answer, "raw_response": pred, "response_ext_number": number,
        "response_ext_text": text,
    }}


def _accuracy(correct: int, answered: int) -> float:
    return 100 * correct / answered if answered > 0 else 0


def cinepile_aggregate_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """lmms-eval's figures over `process_results` values: `accuracy` (what lmms-eval returns, %),
    `categories` (category -> %), `hard_split` (category -> {"True": %, "False": %}) and `uncounted`
    (results whose category is not one of the five, left out of every figure)."""
    cat2score: defaultdict[str, Any] = defaultdict(dict)
    for result in results:
        score = result["correct"]
        ques_category = result["question_category"]
        hard_split = result["hard_split"]
        if ques_category not in cat2score:
            cat2score[ques_category] = defaultdict(dict)
            cat2score[ques_category][HARD_SPLIT[0]] = {"correct": 0, "answered": 0}
            cat2score[ques_category][HARD_SPLIT[1]] = {"correct": 0, "answered": 0}
        cat2score[ques_category][hard_split]["answered"] += 1
        cat2score[ques_category][hard_split]["correct"] += score

    total_correct, total_answered = 0, 0
    for category in CATEGORIES:
        for hard_split in HARD_SPLIT:
            total_correct += cat2score[category][hard_split]["correct"]
            total_answered += cat2score[category][hard_split]["answered"]

    categories, splits = {}, {}
    for category in CATEGORIES:
        counts = [cat2score[category][h] for h in HARD_SPLIT]
        categories[category] = _accuracy(sum(c["correct"] for c in counts), sum(c["answered"] for c in counts))
        splits[category] = {h: _accuracy(c["correct"], c["answered"]) for h, c in zip(HARD_SPLIT, counts, strict=True)}
    uncounted = sum(s["answered"] for cat, by_split in cat2score.items() if cat not in CATEGORIES
                    for s in by_split.values())
    return {"accuracy": _accuracy(total_correct, total_answered), "categories": categories, "hard_split": splits,
            "uncounted": uncounted}
