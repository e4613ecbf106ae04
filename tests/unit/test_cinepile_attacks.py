"""Learned blind attacks, the detector's figures, answer priors and the set-level gates, on small
question sets built here (a fixed random vector per text stands in for the sentence encoder)."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl
import pytest

from assets.cinepile.attacks import (
    DEFAULTS,
    AttackParams,
    QuestionSet,
    accuracy,
    attack_flags,
    cross_fit,
    detector_figures,
    fold_of,
    text_features,
    train_test,
    verdicts,
)
from assets.cinepile.gates import gate
from assets.cinepile.mcq import norm
from assets.cinepile.priors import Item, PriorParams, allowed_keys, balance, ratios, rematch


def encode(texts: list[str]) -> np.ndarray:
    out = []
    for t in texts:
        v = np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:8], 16)).normal(size=32)
        out.append(v / np.linalg.norm(v))
    return np.array(out, dtype=np.float32)


LEVELS = ["no speech", "a few words", "some talking", "much talking", "speech throughout"]
WORDS = [f"word{i}" for i in range(60)]


def cue_free(n: int, seed: int = 0, videos: int = 20) -> QuestionSet:
    """Random distinct options, random key slots: nothing to learn."""
    rng = np.random.default_rng(seed)
    choices = [[f"{WORDS[j]} {WORDS[(j * 7 + i) % 60]}" for j in rng.choice(60, 5, replace=False)] for i in range(n)]
    return QuestionSet([f"question {i} about the scene" for i in range(n)], choices, rng.integers(0, 5, n),
                       [f"v{i % videos}" for i in range(n)])


def speech_prior(n: int, seed: int = 0, videos: int = 20) -> QuestionSet:
    """The demo defect: every speech question has the same five options and the key 'speech throughout'."""
    rng = np.random.default_rng(seed)
    choices, keys = [], []
    for _ in range(n):
        order = list(rng.permutation(LEVELS))
        choices.append(order)
        keys.append(order.index("speech throughout"))
    return QuestionSet([f"How much of the scene from 00:{i % 60:02d} is filled with speech?" for i in range(n)],
                       choices, np.array(keys), [f"v{i % videos}" for i in range(n)])


def test_folds_split_by_video_and_balance_sizes():
    groups = ["a"] * 10 + ["b"] * 6 + ["c"] * 5 + ["d"] * 3 + ["e"] * 1
    folds = fold_of(groups, 2)
    assert set(folds) == set("abcde")
    load = [sum(groups.count(g) for g, f in folds.items() if f == k) for k in range(2)]
    assert abs(load[0] - load[1]) <= 1


def test_a_question_is_only_scored_by_a_fold_that_never_saw_its_video():
    qs = speech_prior(60, videos=6)
    cf = cross_fit(qs, encode, AttackParams(folds=3))
    for f in cf.folds.values():
        seen = sum(cf.attackers[f].slot_counts)
        assert seen == sum(1 for g in qs.group if cf.folds[g] != f)
        assert seen < len(qs)


def test_a_prior_confined_to_one_video_is_invisible_to_the_fold_that_scores_it():
    # every video has its own key text: only a model that saw the video's questions could use it
    rng = np.random.default_rng(4)
    questions, choices, keys, groups = [], [], [], []
    for v in range(12):
        for i in range(10):
            opts = [f"video{v} answer"] + [f"filler {rng.integers(1000)} {j}" for j in range(4)]
            order = list(rng.permutation(5))
            choices.append([opts[j] for j in order])
            keys.append(order.index(0))
            questions.append(f"question {i} of video {v}")
            groups.append(f"v{v}")
    qs = QuestionSet(questions, choices, np.array(keys), groups)
    scores = cross_fit(qs, encode).scores(qs)
    assert accuracy(scores["answer_prior"], qs.key) < 0.35
    # one fold's attacker scoring every video, the four fifths it saw included, reads the prior: a
    # question routed to a fold that saw its video would be caught here
    features, raw = text_features(qs, encode)
    leaked = cross_fit(qs, encode).attackers[0].scores(features, raw, qs.choices)["answer_prior"]
    assert accuracy(leaked, qs.key) > 0.5


def test_the_attacks_learn_a_prior_the_whole_set_shares():
    qs = speech_prior(200)
    scores = cross_fit(qs, encode).scores(qs)
    assert accuracy(scores["answer_prior"], qs.key) == 1.0
    assert accuracy(scores["learned"], qs.key) > 0.9
    flagged = [v.flagged for v in verdicts(scores, qs.key, DEFAULTS.flag_at)]
    assert sum(flagged) / len(qs) > 0.9


def test_a_cue_free_set_stays_near_chance_and_is_rarely_flagged():
    qs = cue_free(500)
    scores = cross_fit(qs, encode).scores(qs)
    for attack in ("learned", "answer_prior", "similarity", "longest"):
        assert accuracy(scores[attack], qs.key) < 0.3, attack
    fig = detector_figures(scores, qs.key, attack_flags(scores, DEFAULTS.flag_at))
    # with no cue it flags no more than a random key would give
    assert fig["flag_rate"] <= fig["null_flag_rate"] + 0.05


def test_detector_figures_count_what_chance_gives():
    scores = {"learned": np.array([[0.9, 0.025, 0.025, 0.025, 0.025]] * 4),
              "answer_prior": np.full((4, 5), 0.2), "similarity": np.tile([0.0, 1, 0, 0, 0], (4, 1))}
    keys = np.array([0, 0, 1, 2])
    fig = detector_figures(scores, keys, attack_flags(scores, 0.3))
    assert fig["attack_accuracy"] == 0.5 and fig["recall"] == 1.0 and fig["flag_rate"] == 0.5
    # slot 0 as every key flags all four, the other slots none: 4 / 20 questions-keys
    assert fig["null_flag_rate"] == pytest.approx(0.2)
    assert fig["false_flag_share"] == pytest.approx(0.4)


def test_two_attacks_of_different_kinds_picking_the_key_flag_it_however_unsure():
    learned = np.array([[0.24, 0.19, 0.19, 0.19, 0.19]] * 2)
    scores = {"learned": learned, "answer_prior": np.full((2, 5), 0.2),
              "similarity": np.array([[0.9, 0.1, 0.1, 0.1, 0.1], [0.1, 0.9, 0.1, 0.1, 0.1]])}
    v = verdicts(scores, np.array([0, 0]), flag_at=0.3)
    assert v[0].flagged and v[0].attack == "learned+similarity"
    assert not v[1].flagged  # the similarity attack picks another option


def test_train_test_scores_the_test_split_with_the_train_split_only():
    train, test = speech_prior(100, seed=1), cue_free(50, seed=2)
    scores = train_test(train, test, encode)
    # 'speech throughout' never appears in the test split: the prior it learned gives no lead
    assert accuracy(scores["answer_prior"], test.key) < 0.4
    assert scores["learned"].shape == (50, 5)


def _items(keys_of: list[str], kind: str = "speech") -> list[Item]:
    return [Item(f"q{i:03d}", kind, tuple(LEVELS), LEVELS.index(k)) for i, k in enumerate(keys_of)]


def test_balance_leaves_no_text_above_its_share_even_below_the_reporting_threshold():
    items = _items(["speech throughout"] * 34)
    dropped = balance(items, PriorParams())
    kept = [it for it in items if it.id not in dropped]
    assert len(kept) == 1 and len(dropped) == 33
    assert all("speech throughout" in d for d in dropped.values())
    # the last ids go first, so reruns drop the same questions
    assert kept[0].id == "q000"


def test_balance_keeps_a_balanced_kind_whole_and_trims_a_skewed_one():
    fair = _items([LEVELS[i % 5] for i in range(50)])
    assert balance(fair) == {}
    skewed = _items(["speech throughout"] * 20 + [LEVELS[i % 4] for i in range(20)])
    dropped = balance(skewed)
    kept = [it for it in skewed if it.id not in dropped]
    n_key = sum(it.key_text == norm("speech throughout") for it in kept)
    assert n_key == allowed_keys(len(kept)) == 8 and len(kept) == 28
    assert max(ratios(kept).values()) <= 1.5


def test_rematch_shows_each_key_text_about_five_times_per_key():
    moods = [f"mood{i}" for i in range(15)]
    keys = ["mood0"] * 5 + ["mood1"] * 3 + [f"mood{2 + i % 13}" for i in range(22)]
    items = [Item(f"q{i:03d}", "mood", (k, *[m for m in moods if m != k][-4:]), 0) for i, k in enumerate(keys)]
    pools = {it.id: [m for m in moods if m != it.choices[0]] for it in items}
    before = ratios(items, PriorParams(min_shown=5))
    new = rematch(items, pools)
    after_items = [Item(it.id, it.kind, (it.choices[0], *new[it.id]), 0) for it in items]
    after = ratios(after_items, PriorParams(min_shown=5))
    assert before[("mood", "mood0")] > 3
    assert after[("mood", "mood0")] <= 1.5
    assert all(it.choices[0] not in new[it.id] and len(set(new[it.id])) == 4 for it in items)


def test_gate_drops_attacked_and_prior_questions_with_reasons():
    qs = speech_prior(60)
    free = cue_free(60, seed=3)
    df = pl.DataFrame({
        "record_id": [f"s{i:03d}" for i in range(60)] + [f"f{i:03d}" for i in range(60)],
        "video_id": qs.group + free.group, "kind": ["speech"] * 60 + ["other"] * 60,
        "question": qs.question + free.question, "choices": qs.choices + free.choices,
        "answer_key_position": list(map(int, qs.key)) + list(map(int, free.key)),
    })
    gated = gate(df, encode, DEFAULTS, PriorParams())
    speech = {k: g for k, g in gated.items() if k.startswith("s")}
    assert len(speech) >= 59
    assert {g.reason for g in speech.values()} <= {"blind_attack", "key_prior"}
    assert sum(k.startswith("f") for k in gated) <= 12
