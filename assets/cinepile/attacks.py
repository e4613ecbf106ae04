"""Learned blind attacks: models that answer a multiple-choice question from its text alone.

The five-rotation test asks one answerer about one question, so it cannot see a prior the whole set
shares ("speech throughout" as the key of every speech question) or a cue only a model fitted to the
set picks up. These attacks are fitted on questions + options (never the scene) and scored on
questions they did not see: `cross_fit` splits by group (the video), so a question is only ever
scored by a model that trained on other videos' questions.

Attacks, each a score per option:
- `longest`, `similarity` (question-option cosine): the classic untrained text-only baselines;
- `position_prior`: the key's most frequent slot in the training questions;
- `answer_prior`: how often an option's text was the key when it was shown, in the training set
  (smoothed towards chance);
- `learned`: a conditional logit (logistic regression on options centred within their question) over
  the option's length, word count, overlap and similarity with the question, distinctiveness among
  the options, its sentence embedding and its elementwise product with the question's embedding.
  The embedding terms let it learn answer priors and question-type-specific preferences.

The detector flags a question when an attack with probabilities (`learned`, `answer_prior`) ranks
the key first with at least `flag_at` of its probability (chance is 1/5), or when the learned attack,
leading, and the raw question-option similarity both pick the key (the learned attack weighs
similarity among many features; agreeing with it on a lead is a cue, however unsure). The threshold is the loosest round value at which
the probability rule alone flags at least 80% of what the learned attack answers on NExT-QA's real
questions (83% at 0.30; `tests/realdata/qa.py`, README).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from assets.cinepile.mcq import N_CHOICES, norm
from assets.kit.provenance import model_entry

ROLE, MODEL = "blind_attack", "cross-fitted-text-attacks"  # provenance role and offline model name
ATTACKS = ("longest", "similarity", "position_prior", "answer_prior", "learned")
DETECTING = ("learned", "answer_prior")  # the attacks with probabilities the detector thresholds
_WORD = re.compile(r"[a-z0-9']+")

Vectors = Callable[[list[str]], np.ndarray]


class AttackParams(BaseModel):
    """The learned attacks' fitting and the detector's threshold. Part of the code version of every
    asset that runs them, and run config there."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    folds: int = Field(default=5, ge=2, le=20, description="Cross-fitting folds, split by video.")
    l2_c: float = Field(default=0.1, gt=0, description="Inverse L2 strength of the learned attack "
                                                        "(0.1 best of 0.1/0.3/1.0 on NExT-QA).")
    flag_at: float = Field(default=0.30, gt=1 / N_CHOICES, lt=1,
                           description="An attack's probability for the key, when it ranks the key first, "
                                       "at which a question counts as blind-answerable (NExT-QA: 80% of the "
                                       "learned attack's correct answers).")
    prior_smoothing: float = Field(default=5.0, gt=0, description="Pseudo-shows at chance rate in `answer_prior`.")


DEFAULTS = AttackParams()


def provenance_entry(params: AttackParams, encoder: str) -> dict[str, str]:
    """The attacks' `models` entry: offline, fitted in the run that judged the rows."""
    return model_entry(ROLE, "offline", f"offline:{MODEL}+{encoder}",
                       f"{MODEL}(folds={params.folds},C={params.l2_c},flag_at={params.flag_at})")


@dataclass(frozen=True)
class QuestionSet:
    """Questions as an attack sees them: text, five options, the key's slot and the group (video)."""

    question: list[str]
    choices: list[list[str]]
    key: np.ndarray
    group: list[str]

    def __len__(self) -> int:
        return len(self.question)

    def subset(self, idx: Sequence[int] | np.ndarray) -> QuestionSet:
        idx = list(map(int, idx))
        return QuestionSet([self.question[i] for i in idx], [self.choices[i] for i in idx], self.key[idx],
                           [self.group[i] for i in idx])

    def texts(self) -> list[str]:
        return list(dict.fromkeys(self.question + [c for cs in self.choices for c in cs]))


def _z(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=1, keepdims=True)
    return np.where(sd > 1e-9, (x - x.mean(axis=1, keepdims=True)) / np.maximum(sd, 1e-9), 0.0)


def _embedded(qs: QuestionSet, encode: Vectors) -> tuple[np.ndarray, np.ndarray]:
    texts = qs.texts()
    at = dict(zip(texts, range(len(texts)), strict=True))
    vectors = encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    q = vectors[[at[t] for t in qs.question]] if len(qs) else np.zeros((0, vectors.shape[1]))
    o = vectors[[at[c] for cs in qs.choices for c in cs]].reshape(len(qs), N_CHOICES, -1)
    return q, o


def text_features(qs: QuestionSet, encode: Vectors) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(features (n, 5, f) centred within each question, the untrained baselines' raw scores)."""
    if not len(qs):
        raise ValueError("no questions to attack")
    q, o = _embedded(qs, encode)
    length = np.array([[len(c) for c in cs] for cs in qs.choices], dtype=float).reshape(-1, N_CHOICES)
    words = [[set(_WORD.findall(c.lower())) for c in cs] for cs in qs.choices]
    n_words = np.array([[len(w) for w in ws] for ws in words], dtype=float).reshape(-1, N_CHOICES)
    qw = [set(_WORD.findall(t.lower())) for t in qs.question]
    overlap = np.array([[len(qw[i] & w) for w in words[i]] for i in range(len(qs))], dtype=float
                       ).reshape(-1, N_CHOICES)
    similarity = np.einsum("nd,nkd->nk", q, o)
    pair = np.einsum("nkd,njd->nkj", o, o)
    distinct = 1.0 - (pair.sum(axis=2) - 1.0) / (N_CHOICES - 1)
    scalars = np.stack([_z(length), _z(np.log1p(length)), _z(n_words), _z(overlap), _z(similarity),
                        _z(distinct)], axis=-1)
    f = np.concatenate([scalars, o, o * q[:, None, :]], axis=-1)
    return f - f.mean(axis=1, keepdims=True), {"longest": length, "similarity": similarity}


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _one_hot(keys: np.ndarray) -> np.ndarray:
    return (np.arange(N_CHOICES)[None, :] == np.asarray(keys)[:, None]).astype(float)


@dataclass
class Attacker:
    """The trained attacks of one training set; `scores` answers any questions with them."""

    model: object | None  # the learned attack's logistic regression (None: fewer than 2 training questions)
    key_counts: Counter
    shown_counts: Counter
    slot_counts: np.ndarray
    params: AttackParams

    def scores(self, features: np.ndarray, raw: dict[str, np.ndarray], choices: Sequence[Sequence[str]]
               ) -> dict[str, np.ndarray]:
        """Per attack, a (n, 5) score; `learned` and `answer_prior` as probabilities."""
        n = features.shape[0]
        if self.model is not None and n:
            learned = _softmax(self.model.decision_function(features.reshape(n * N_CHOICES, -1)).reshape(n, N_CHOICES))
        else:
            learned = np.full((n, N_CHOICES), 1 / N_CHOICES)
        a = self.params.prior_smoothing
        rate = np.array([[(self.key_counts[norm(c)] + a / N_CHOICES) / (self.shown_counts[norm(c)] + a) for c in cs]
                         for cs in choices]).reshape(n, N_CHOICES)
        return {**raw, "position_prior": np.tile(self.slot_counts, (n, 1)),
                "answer_prior": rate / rate.sum(axis=1, keepdims=True), "learned": learned}


def train(qs: QuestionSet, features: np.ndarray, params: AttackParams = DEFAULTS) -> Attacker:
    from sklearn.linear_model import LogisticRegression

    n = len(qs)
    model = None
    if n >= 2:
        y = _one_hot(qs.key).ravel()
        model = LogisticRegression(C=params.l2_c, max_iter=500).fit(features.reshape(n * N_CHOICES, -1), y)
    keys = Counter(norm(cs[k]) for cs, k in zip(qs.choices, qs.key, strict=True))
    shown = Counter(norm(c) for cs in qs.choices for c in cs)
    slots = np.bincount(np.asarray(qs.key, dtype=int), minlength=N_CHOICES).astype(float)
    return Attacker(model, keys, shown, slots, params)


def picks(scores: np.ndarray) -> np.ndarray:
    """The chosen option per question; ties go to the first (an attack without a lead is not
    cheating, and the key's slot is spread evenly)."""
    return scores.argmax(axis=1)


def fold_of(groups: Sequence[str], folds: int) -> dict[str, int]:
    """Groups to folds, balanced by size: the largest groups first, each to the lightest fold, ties by name."""
    sizes = Counter(groups)
    load = [0] * folds
    out: dict[str, int] = {}
    for g in sorted(sizes, key=lambda g: (-sizes[g], g)):
        f = min(range(folds), key=lambda i: (load[i], i))
        out[g], load[f] = f, load[f] + sizes[g]
    return out


@dataclass
class CrossFit:
    """One attacker per fold, each trained on the other folds' groups. `scores` answers a question
    of group g with the attacker that never saw g."""

    folds: dict[str, int]
    attackers: list[Attacker]
    encode: Vectors

    def scores(self, qs: QuestionSet) -> dict[str, np.ndarray]:
        features, raw = text_features(qs, self.encode)
        out = {a: np.zeros((len(qs), N_CHOICES)) for a in ATTACKS}
        fold = np.array([self.folds.get(g, -1) for g in qs.group])
        if (fold < 0).any():
            unseen = sorted({g for g, f in zip(qs.group, fold, strict=True) if f < 0})
            raise KeyError(f"groups never cross-fitted: {unseen[:5]}")
        for f, attacker in enumerate(self.attackers):
            idx = np.flatnonzero(fold == f)
            if len(idx):
                part = attacker.scores(features[idx], {k: v[idx] for k, v in raw.items()},
                                       [qs.choices[i] for i in idx])
                for a in ATTACKS:
                    out[a][idx] = part[a]
        return out


def cross_fit(qs: QuestionSet, encode: Vectors, params: AttackParams = DEFAULTS) -> CrossFit:
    folds = fold_of(qs.group, min(params.folds, max(2, len(set(qs.group)))))
    features, _ = text_features(qs, encode)
    fold = np.array([folds[g] for g in qs.group])
    attackers = [train(qs.subset(np.flatnonzero(fold != f)), features[fold != f], params)
                 for f in range(max(folds.values(), default=-1) + 1)]
    return CrossFit(folds, attackers, encode)


def train_test(train_qs: QuestionSet, test_qs: QuestionSet, encode: Vectors, params: AttackParams = DEFAULTS
               ) -> dict[str, np.ndarray]:
    """Every attack trained on `train_qs`, its scores on `test_qs` (the release's split test)."""
    f_train, _ = text_features(train_qs, encode)
    f_test, raw = text_features(test_qs, encode)
    return train(train_qs, f_train, params).scores(f_test, raw, test_qs.choices)


@dataclass(frozen=True)
class Verdict:
    """The detector's view of one question: the attack that flagged it (or the most confident one),
    its pick and its probability for the key."""

    attack: str
    pick: int
    p_key: float
    flagged: bool


def verdicts(scores: dict[str, np.ndarray], keys: np.ndarray, flag_at: float) -> list[Verdict]:
    out = []
    agree = picks(scores["learned"]) == picks(scores["similarity"])
    for i, k in enumerate(np.asarray(keys, dtype=int)):
        best = None
        for a in DETECTING:
            p = scores[a][i]
            pick = int(p.argmax())
            v = Verdict(a, pick, float(p[k]), bool(pick == k and p[k] >= flag_at))
            if best is None or (v.flagged, v.p_key) > (best.flagged, best.p_key):
                best = v
        learned = scores["learned"][i]
        leads = learned[k] > max(np.delete(learned, k)) and learned[k] > 1 / N_CHOICES + 1e-6
        if not best.flagged and agree[i] and leads:
            best = Verdict("learned+similarity", int(k), float(learned[k]), True)
        out.append(best)
    return out


def accuracy(scores: np.ndarray, keys: np.ndarray) -> float:
    return float((picks(scores) == np.asarray(keys)).mean()) if len(keys) else float("nan")


def attack_flags(scores: dict[str, np.ndarray], flag_at: float) -> Callable[[np.ndarray], np.ndarray]:
    """The detector's learned part as a function of the keys (so it can be asked about other keys)."""
    return lambda keys: np.array([v.flagged for v in verdicts(scores, keys, flag_at)], dtype=bool)


def detector_figures(scores: dict[str, np.ndarray], keys: np.ndarray, flags: Callable[[np.ndarray], np.ndarray],
                     target: str = "learned") -> dict[str, float]:
    """How a detector's flags (`flags(keys)`) relate to what the `target` attack answers.

    - `recall`: share of the attack's correct answers that are flagged;
    - `flag_rate`: share of questions flagged;
    - `null_flag_rate`: share flagged if the key were a random option (each of the five slots taken
      as the key of every question, averaged): what chance gives;
    - `false_flag_share`: null_flag_rate / flag_rate, the part of the flags chance explains."""
    keys = np.asarray(keys, dtype=int)
    if not len(keys):
        return {"questions": 0}
    correct = picks(scores[target]) == keys
    flagged = flags(keys)
    null = float(np.mean([flags(np.full(len(keys), k)).mean() for k in range(N_CHOICES)]))
    rate = float(flagged.mean())
    return {"questions": len(keys), "attack_accuracy": float(correct.mean()),
            "recall": float(flagged[correct].mean()) if correct.any() else float("nan"),
            "flag_rate": rate, "null_flag_rate": null, "false_flag_share": null / rate if rate else float("nan")}
