"""Real 5-option video questions (NExT-QA, `qa/nextqa_test.csv`) against the blind-bias detector.

No video is needed: the attacks see question + options only. Every attack is cross-fitted by video
(5 folds), so a question is only scored by a model that never saw its video's questions. Rows:
the file as published (rows, videos, key slots), each attack's held-out accuracy, and the detector
(five-rotation test of the offline blind answerer, plus the learned attacks at `flag_at`): the share
of the best attack's correct answers it flags, at its false-flag rate (what a random key would give).
`measure()` is shared with `bench/bench_cinepile.py`."""

from __future__ import annotations

import csv
import json
from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np

from tests.realdata.rowtable import REALDATA, Row

KIND = "qa"
FILE = "nextqa_test.csv"
TYPES = {"CW": "why", "CH": "how", "TN": "before/after", "TP": "before/after", "TC": "when", "DC": "count",
         "DL": "location", "DO": "other"}  # eval_mc.py's names; TP merged into TN as upstream scores it


def read(path: Path, limit: int | None = None):
    """(QuestionSet, question types); with `limit`, the questions of the first videos in file order
    until `limit` questions (whole videos, so folds stay by video)."""
    from assets.cinepile.attacks import QuestionSet

    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if limit is not None:
        order = list(dict.fromkeys(r["video"] for r in rows))
        keep, n = set(), 0
        sizes = Counter(r["video"] for r in rows)
        for v in order:
            if n >= limit:
                break
            keep.add(v)
            n += sizes[v]
        rows = [r for r in rows if r["video"] in keep]
    qs = QuestionSet([r["question"] for r in rows], [[r[f"a{i}"] for i in range(5)] for r in rows],
                     np.array([int(r["answer"]) for r in rows]), [r["video"] for r in rows])
    return qs, [r["type"] for r in rows]


def rotation_picks(qs, encode) -> np.ndarray:
    """The offline blind answerer's pick in each of the five rotations, as an original slot (n, 5)."""
    from assets.cinepile.answering import BlindAnswerTask
    from assets.cinepile.replies import rotate

    task = BlindAnswerTask(encode, encoder="all-MiniLM-L6-v2")
    items = [{"question": q, "choices": rotate(cs, k)} for q, cs in zip(qs.question, qs.choices, strict=True)
             for k in range(5)]
    answers = task.offline_batch(items)
    return np.array([("ABCDE".index(a.answer) - i % 5) % 5 for i, a in enumerate(answers)]).reshape(len(qs), 5)


def rotation_test(rotation_picks_: np.ndarray, degenerate_at: int = 3):
    """Refinement's five-rotation test as a function of the keys: correct in >= degenerate_at rotations."""
    return lambda keys: (rotation_picks_ == np.asarray(keys)[:, None]).sum(axis=1) >= degenerate_at


def probability_rule(scores: dict, flag_at: float):
    """The detector's first rule alone: `learned` or `answer_prior` ranks the key first with p >= flag_at."""
    from assets.cinepile.attacks import DETECTING

    def flags(keys):
        rows = np.arange(len(keys))
        return np.any([(scores[a].argmax(axis=1) == keys) & (scores[a][rows, keys] >= flag_at) for a in DETECTING],
                      axis=0)
    return flags


@cache
def measure(limit: int | None = None) -> dict:
    """Every attack's held-out accuracy, per type, and the detector's figures."""
    from assets.cinepile.attacks import (
        ATTACKS,
        DEFAULTS,
        accuracy,
        attack_flags,
        cross_fit,
        detector_figures,
        picks,
    )
    from assets.cinepile.vectors import memoized
    from resources.embeddings import EmbeddingResource

    qs, types = read(REALDATA / KIND / FILE, limit)
    encode = memoized(EmbeddingResource().encode)
    scores = cross_fit(qs, encode, DEFAULTS).scores(qs)
    learned, rotation = attack_flags(scores, DEFAULTS.flag_at), rotation_test(rotation_picks(qs, encode))
    best = max(("learned", "similarity", "answer_prior"), key=lambda a: accuracy(scores[a], qs.key))
    names = np.array([TYPES[t] for t in types])
    return {
        "questions": len(qs), "videos": len(set(qs.group)), "key_slots": Counter(map(int, qs.key)),
        "accuracy": {a: accuracy(scores[a], qs.key) for a in ATTACKS},
        "best": best,
        "by_type": {t: (int((names == t).sum()), float((picks(scores[best])[names == t] == qs.key[names == t]).mean()))
                    for t in sorted(set(names))},
        "detector": detector_figures(scores, qs.key, lambda k: learned(k) | rotation(k), target=best),
        "rotation_only": detector_figures(scores, qs.key, rotation, target=best),
        "attacks_only": detector_figures(scores, qs.key, learned, target=best),
        "probability_only": detector_figures(scores, qs.key, probability_rule(scores, DEFAULTS.flag_at), target=best),
        "flag_at": DEFAULTS.flag_at,
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def rows(limit: int | None = None) -> list[Row]:
    path = REALDATA / KIND / FILE
    published = json.loads(path.with_name(FILE + ".expect.json").read_text())["measured"]
    m = measure(limit)
    out = []
    if limit is None:
        out += [
            Row(FILE, "questions / videos", f"{published['rows']} / {published['distinct_videos']}",
                f"{m['questions']} / {m['videos']}",
                (m["questions"], m["videos"]) == (published["rows"], published["distinct_videos"])),
            Row(FILE, "key slot counts", json.dumps(published["answer_index_counts"]),
                json.dumps({str(k): m["key_slots"][k] for k in range(5)}),
                {str(k): m["key_slots"][k] for k in range(5)} == published["answer_index_counts"]),
        ]
    acc = m["accuracy"]
    d, r = m["detector"], m["rotation_only"]
    scope = f"{m['questions']} questions, 5 folds by video"
    out += [
        Row(FILE, f"best learned blind attack ({m['best']}), held out ({scope})",
            "above chance (20%) and the untrained baselines; published blind BERT 43.8% (val)",
            f"{_pct(acc[m['best']])}; similarity {_pct(acc['similarity'])}, longest {_pct(acc['longest'])}, "
            f"answer prior {_pct(acc['answer_prior'])}, key slot {_pct(acc['position_prior'])}",
            acc[m["best"]] > max(0.25, acc["longest"], acc["position_prior"])),
        Row(FILE, "detector flags the best attack's correct answers",
            ">= 80%, false-flag rate reported",
            f"{_pct(d['recall'])} (flags {_pct(d['flag_rate'])} of questions; a random key would give "
            f"{_pct(d['null_flag_rate'])}, false-flag share {_pct(d['false_flag_share'])})",
            d["recall"] >= 0.8),
        Row(FILE, "five-rotation test alone flags the best attack's correct answers",
            "less than the detector (what the learned attacks add)",
            f"{_pct(r['recall'])} (flags {_pct(r['flag_rate'])}; a random key would give {_pct(r['null_flag_rate'])}, "
            f"false-flag share {_pct(r['false_flag_share'])})",
            r["recall"] < d["recall"]),
    ]
    return out
