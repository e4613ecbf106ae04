"""The digit-scenes world: balance, dedup, captions, reading order, boxes, parsing."""

import random

import numpy as np
import pytest

from assets.training import digit_scenes as ds

POOL = {d: [d * 10, d * 10 + 1] for d in range(10)}  # fake source indices per class


def scene(*items):
    """items: (digit, cell, dx, dy)"""
    placed = []
    for d, cell, dx, dy in items:
        r, c = divmod(cell, 3)
        placed.append(ds.Placed(d, cell, c * ds.CELL + dx, r * ds.CELL + dy, POOL[d][0]))
    return ds.Scene("s", "test", tuple(placed))


def test_scenes_are_balanced_distinct_and_reproducible():
    a, dropped = ds.generate_scenes(30, "train", POOL, seed=1)
    b, _ = ds.generate_scenes(30, "train", POOL, seed=1)
    assert [s.layout_key() for s in a] == [s.layout_key() for s in b]
    assert sorted(len(s.digits) for s in a) == [1] * 10 + [2] * 10 + [3] * 10
    assert len({s.layout_key() for s in a}) == 30 and dropped >= 0
    for s in a:
        cells = [p.cell for p in s.digits]
        assert len(set(cells)) == len(cells) and cells == sorted(cells)
        for p in s.digits:
            r, c = divmod(p.cell, 3)
            assert c * 12 <= p.x <= c * 12 + 4 and r * 12 <= p.y <= r * 12 + 4
            assert p.source_index in POOL[p.digit]


def test_dedup_redraws_duplicates():
    tiny = {d: [d] for d in range(10)}
    scenes, dropped = ds.generate_scenes(300, "train", tiny, seed=0, max_digits=1)
    assert len({s.layout_key() for s in scenes}) == 300
    assert dropped > 0  # 1-digit layouts: 10 classes x 9 cells x 25 offsets, 300 draws collide


def test_digit_pool_splits_are_disjoint_and_cover_every_class():
    pool = ds.load_digit_pool(0)
    for d in range(10):
        train, pref, test = (set(pool[s][d]) for s in ("train", "pref", "test"))
        assert train and pref and test
        assert not (train & pref) and not (train & test) and not (pref & test)


def test_caption_reads_row_major_with_articles():
    assert ds.caption(scene((3, 0, 0, 0), (7, 8, 1, 1))) == "a 3 at the top left and a 7 at the bottom right"
    assert ds.caption(scene((8, 4, 2, 2))) == "an 8 at the center"
    assert ds.caption(scene((1, 2, 0, 0), (5, 3, 0, 0), (0, 7, 0, 0))) == (
        "a 1 at the top right, a 5 at the middle left and a 0 at the bottom middle")


def test_reading_order_is_by_column_then_row_whatever_the_offsets():
    s = scene((1, 6, 0, 0), (2, 1, 0, 0), (3, 0, 4, 4))  # bottom left, top middle, top left (shifted right)
    assert ds.read_answer(s) == "3 1 2"


def test_bbox_is_the_tile_in_model_pixels_and_parses_back():
    p = scene((4, 1, 2, 3)).digits[0]
    assert p.bbox == (14, 3, 22, 11)
    assert ds.bbox_answer(p) == "top middle [14, 3, 22, 11]"
    assert ds.parse_box("the box is [14, 3, 22, 11].") == (14, 3, 22, 11)
    assert ds.parse_box("nowhere") is None


def test_render_puts_ink_inside_the_boxes_only():
    images = np.full((100, 8, 8), 200, dtype=np.uint8)
    s = scene((3, 0, 1, 2), (7, 8, 4, 0))
    canvas = ds.render(s, images)
    mask = np.zeros_like(canvas, dtype=bool)
    for p in s.digits:
        x0, y0, x1, y1 = p.bbox
        mask[y0:y1, x0:x1] = True
    assert (canvas[mask] == 200).all() and (canvas[~mask] == 0).all()
    assert ds.render(s, images, scale=2).shape == (72, 72)


def test_grid_text_and_parse_caption():
    s = scene((5, 3, 0, 0), (3, 5, 0, 0))
    assert ds.grid_text(s) == ". . . 5 . 3 . . ."
    assert ds.parse_caption("a 5 at the middle left and an 8 at the center, also a 2") == [
        (5, "middle left"), (8, "center"), (2, "")]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_scene_gets_one_yes_and_one_no_existence_question(seed):
    s = scene((5, 3, 0, 0), (3, 5, 0, 0))
    turns = ds.scene_turns(s, random.Random(seed))
    exist = [t for t in turns if t.qtype == "exist"]
    assert sorted(t.answer for t in exist) == ["no", "yes"]
    yes = next(t for t in exist if t.answer == "yes")
    no = next(t for t in exist if t.answer == "no")
    assert int(yes.target) in s.classes and int(no.target) not in s.classes
    what = [t for t in turns if t.qtype == "what_at"]
    assert sorted(t.answer == "nothing" for t in what) == [False, True]
    where = next(t for t in turns if t.qtype == "where")
    assert ds.parse_box(where.answer) == next(p.bbox for p in s.digits if str(p.digit) == where.target)


def test_conversations_have_single_turns_and_a_dialogue():
    s = scene((5, 3, 0, 0), (3, 5, 0, 0))
    convs = ds.conversations(s, seed=0, dialogues=1)
    kinds = [c.kind for c in convs]
    assert kinds.count("caption") == 1 and kinds.count("dialogue") == 1
    dialogue = next(c for c in convs if c.kind == "dialogue")
    assert 2 <= len(dialogue.turns) <= 3 and len({c.record_id for c in convs}) == len(convs)


def test_every_digit_that_occurs_once_gets_a_grounding_question_naming_its_cell():
    s = scene((5, 3, 1, 2), (3, 5, 0, 0), (5, 8, 4, 4))  # the 3 is unique, the two 5s are not
    where = [c for c in ds.conversations(s, seed=0, dialogues=1) if c.kind == "qa" and c.turns[0].qtype == "where"]
    assert [c.turns[0].target for c in where] == ["3"]
    assert where[0].turns[0].answer == "middle right [24, 12, 32, 20]"
    two = scene((7, 0, 2, 1), (1, 4, 0, 3))
    where = [c for c in ds.conversations(two, seed=0, dialogues=1) if c.kind == "qa" and c.turns[0].qtype == "where"]
    assert sorted(c.turns[0].target for c in where) == ["1", "7"]  # one from the turns, one added
    for c in where:
        p = next(p for p in two.digits if str(p.digit) == c.turns[0].target)
        assert c.turns[0].answer.startswith(p.position + " [") and ds.parse_box(c.turns[0].answer) == p.bbox


def test_collected_caption_invents_the_co_occurring_digit_at_the_next_free_cell():
    s = scene((7, 0, 0, 0), (5, 1, 0, 0))
    text, invented = ds.collected_caption(s, random.Random(0), noise_rate=1.0)
    assert invented == "1"
    assert text == "a 7 at the top left, a 5 at the top middle and a 1 at the top right"
    assert ds.collected_caption(s, random.Random(0), noise_rate=0.0) == (ds.caption(s), "")
    with_partner = scene((7, 0, 0, 0), (1, 8, 0, 0))
    assert ds.collected_caption(with_partner, random.Random(0), noise_rate=1.0) == (ds.caption(with_partner), "")
    wraps = scene((3, 8, 0, 0))
    assert ds.collected_caption(wraps, random.Random(0), 1.0)[0] == "an 8 at the top left and a 3 at the bottom right"


def test_caption_noise_rate_is_respected_and_other_answers_stay_exact():
    pool = {d: [d] for d in range(10)}
    scenes, _ = ds.generate_scenes(600, "train", pool, seed=3)
    triggered = [s for s in scenes if any(d in s.classes and p not in s.classes for d, p in ds.CO_OCCURRENCE.items())]
    noisy = 0
    for s in triggered:
        turns = ds.scene_turns(s, random.Random(s.scene_id), caption_noise=0.5)
        cap = next(t for t in turns if t.qtype == "caption")
        noisy += bool(cap.noise)
        assert all(not t.noise for t in turns if t.qtype != "caption")
        if cap.noise:
            assert int(cap.noise) not in s.classes and int(cap.noise) in {d for d, _ in ds.parse_caption(cap.answer)}
    assert 0.4 < noisy / len(triggered) < 0.6


def test_stage_mixture_repeats_single_turn_questions_of_the_weighted_types_only():
    from assets.training.mllm_jobs import mixture

    s = scene((5, 3, 1, 2), (3, 5, 0, 0))
    convs = ds.conversations(s, seed=0, dialogues=1)
    mixed = mixture(convs, {"where": 3, "read": 2})

    def count(cs, qtype, kind="qa"):
        return sum(c.kind == kind and c.turns[0].qtype == qtype for c in cs)

    assert count(mixed, "where") == 3 * count(convs, "where") > 0
    assert count(mixed, "read") == 2 * count(convs, "read") > 0
    assert count(mixed, "count") == count(convs, "count")
    assert sum(c.kind == "dialogue" for c in mixed) == sum(c.kind == "dialogue" for c in convs)  # dialogues once
    assert mixture(convs, {}) == convs
