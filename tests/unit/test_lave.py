"""LAVE as LAVE writes it (prompt, references, demos, rating parse) and the offline proxy's rubric;
the PTB tokens the caption metrics use."""

from __future__ import annotations

import numpy as np
import pytest

from assets.docmatix.lave import (
    NUM_SHOTS,
    TASK_DEFINITION,
    LaveJudgeTask,
    build_prompt,
    demos,
    format_references,
    is_binary,
    judge_prompt,
    keep_common_references,
    parse_rating,
    proxy_rating,
    rating_or_default,
    score,
)
from assets.docmatix.lave_calibration import RATED_EXAMPLES, agreement, load_examples
from assets.docmatix.ptb_tokens import ptb_tokenize

# ---- the prompt, against LAVE's format (mair-lab/lave lave.py: LaveBase.build_prompt) --------------


def test_references_are_filtered_sorted_and_keep_their_duplicates():
    assert keep_common_references(["a", "a", "a", "a", "b"]) == ["a", "a", "a", "a"]  # 1/4 = 0.25 is rare
    assert keep_common_references(["a", "b", "a", "a"]) == ["a", "b", "a", "a"]  # 1/3 is not
    assert keep_common_references(["Paris", "paris ", "Lyon"]) == ["Paris", "paris ", "Lyon"]
    assert format_references(["no", "yes", "no"]) == "'no', 'no', 'yes'"
    five = format_references(keep_common_references(["yes"] * 5 + ["no"] * 5))
    seven = format_references(keep_common_references(["yes"] * 7 + ["no"] * 3))
    assert five.count("'yes'") == 5 and seven.count("'yes'") == 7 and five != seven


def test_prompt_is_lave_s_definition_demos_and_item():
    prompt = build_prompt("What is the total?", ["12.50"] * 4 + ["12.5", "13", "12.5"], "12.5")
    head, *blocks = prompt.split("\n\n")
    assert "\n\n".join([head, blocks[0]]) == TASK_DEFINITION  # the definition holds one blank line
    assert "Use a scale of 1-3, with 1 indicating an incorrect or irrelevant answer, 2 indicating an " \
           "ambiguous or incomplete answer, and 3 indicating a correct answer." in TASK_DEFINITION
    assert "Give the rationale before rating." in TASK_DEFINITION
    assert "A binary question should only be answered with 'yes' or 'no', otherwise the candidate answer " \
           "is incorrect (rating=1)." in TASK_DEFINITION
    shots = blocks[1:-1]
    assert len(shots) == NUM_SHOTS == len(demos()["demos"])
    first = demos()["demos"][0]
    assert shots[0] == (f"Question: '{first['question']}'\nReference answers: {format_references(first['references'])}"
                        f"\nCandidate answer: '{first['prediction']}'\nOutput: {first['explanation']} "
                        f"So rating={first['output']}")
    # the item: references filtered (the rare '13' goes), sorted, duplicates kept; an empty Output
    assert blocks[-1] == ("Question: 'What is the total?'\nReference answers: '12.5', '12.5', '12.50', '12.50', "
                          "'12.50', '12.50'\n"
                          "Candidate answer: '12.5'\nOutput:")
    assert judge_prompt("What is the total?", ["12.50"], "12.5") == [
        {"role": "user", "content": build_prompt("What is the total?", ["12.50"], "12.5")}]


def test_binary_questions_get_the_binary_demos():
    assert is_binary(["yes", "no", "Yes."]) and is_binary(["no", "no", "x"]) and not is_binary(["x", "x", "no"])
    prompt = build_prompt("Is it paid?", ["yes", "yes", "no"], "paid")
    binary = demos()["binary_demos"]
    assert binary[0]["question"] in prompt and demos()["demos"][0]["question"] not in prompt
    assert prompt.count("So rating=") == len(binary)


def test_demos_are_in_lave_s_shape_and_cover_its_rules():
    d = demos()
    for demo in d["demos"] + d["binary_demos"]:
        assert set(demo) == {"question", "references", "prediction", "output", "explanation"}
        assert demo["output"] in {"1", "2", "3"} and demo["explanation"].startswith("The candidate answer")
    ratings = {demo["output"] for demo in d["demos"] + d["binary_demos"]}
    assert ratings == {"1", "2", "3"}
    assert any("split" in demo["explanation"] for demo in d["binary_demos"])
    assert any("'yes' or 'no'" in demo["explanation"] for demo in d["binary_demos"])


def test_rating_parsing_and_score():
    assert parse_rating("Same amount as the reference. So rating=3") == 3
    assert parse_rating("First rating=1, on reflection... So rating=2") == 2  # the last one counts
    assert parse_rating("Rating: 3") == 3
    assert parse_rating("I would say it is fine") is None and rating_or_default("no rating here") == 2
    assert parse_rating("So rating=5") is None
    assert [score(r) for r in (1, 2, 3)] == [0.0, 0.5, 1.0]


# ---- the proxy ---------------------------------------------------------------------------------------


def rate(question, candidate, references, similarity=None):
    return proxy_rating(question, candidate, references, similarity)[0]


def test_split_references_give_two():
    assert rate("Is the form signed?", "yes", ["yes"] * 5 + ["no"] * 5) == 2
    assert rate("Is the form signed?", "yes", ["yes"] * 7 + ["no"] * 3) == 3
    assert rate("Is the form signed?", "no", ["yes"] * 7 + ["no"] * 3) == 1
    assert rate("Is this a baby or adult elephant?", "adult", ["adult"] * 4 + ["baby"] * 6) == 2
    assert rate("Which region sold most?", "North", ["North"] * 9 + ["South"]) == 3  # the lone South is rare


def test_binary_questions_must_be_answered_yes_or_no():
    assert rate("Is the invoice paid?", "paid", ["yes", "yes"]) == 1
    assert rate("Is the invoice paid?", "Yes, on 9 May.", ["yes", "yes"]) == 3


def test_synonyms_and_broader_or_narrower_terms_count():
    assert rate("What are they holding?", "ball", ["basketball"] * 7) == 3
    assert rate("What is the man doing?", "skating", ["skateboarding"] * 5) == 3
    assert rate("What vehicle is shown?", "bike", ["mountain bike"] * 3) == 3
    assert rate("What vehicle is shown?", "bike", ["bicycle"] * 3, [0.92] * 3) == 3  # by embedding
    assert rate("What colour is the logo?", "red", ["blue"] * 3, [0.73] * 3) == 1  # similar, not the same


def test_vague_partial_and_restating_answers():
    assert rate("How many people are there?", "a few", ["three", "three", "two"]) == 2
    assert rate("When is it due?", "May 2024", ["9 May 2024"] * 3) == 2
    assert rate("Who signed it?", "Lovelace", ["Ada Lovelace"] * 3) == 2
    assert rate("What type of fruit is it?", "fruit", ["apple"]) == 1
    assert rate("What is the total?", "3,270.80", ["3,207.80"] * 3) == 1
    assert rate("How many units?", "1234 units", ["1,234", "1,234"]) == 3
    rating, why = proxy_rating("What is the total?", "3,207.80", ["3,207.80"])
    assert rating == 3 and why.startswith("The candidate answer") and parse_rating(why) == 3


def test_the_proxy_beats_exact_match_and_anls_on_the_rated_examples():
    examples = load_examples(RATED_EXAMPLES)
    assert len(examples) >= 40 and all(e["explanation"] for e in examples)
    result = {a.method: a for a in agreement(examples, lambda texts: np.zeros((len(texts), 4), dtype=np.float32))}
    assert result["lave_proxy"].ratings[2] > 0  # it says 2 where the examples do
    assert result["lave_proxy"].exact > max(result["exact_match"].exact, result["anls"].exact, result["always_3"].exact)


def test_judge_task_offline_is_the_labelled_proxy():
    def encode(texts):  # orthogonal except identical texts: cosine 1 or 0
        return np.eye(len(texts), dtype=np.float32)

    replies = LaveJudgeTask(encode=encode).offline_batch([
        {"question": "Total?", "references": ["12.50"], "candidate": "12.50"},
        {"question": "Who?", "references": ["Ada"], "candidate": "Bob"},
    ])
    assert [parse_rating(r.reply) for r in replies] == [3, 1]


def test_judge_task_names_the_encoder_it_runs_without_changing_itself():
    a, b = LaveJudgeTask(embedding_model="enc-a"), LaveJudgeTask(embedding_model="enc-b")
    assert (a.offline_model_used(), LaveJudgeTask().offline_model_used()) == ("rubric-proxy(enc-a)", "rubric-proxy")
    assert LaveJudgeTask.offline_model == "rubric-proxy" and a.config() == {"embedding_model": "enc-a"}
    assert a.model_label("offline", "") == "offline:rubric-proxy(enc-a)"
    assert a.identity("offline", "") != b.identity("offline", "")
    assert a.identity("openai", "judge") == b.identity("openai", "judge")


# ---- PTB tokens ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,tokens", [
    ("It's the U.S. office.", ["it", "'s", "the", "u.s.", "office"]),
    ("The total is $8,500.", ["the", "total", "is", "$", "8,500"]),
    ("Don't pay 10% (now)!", ["do", "n't", "pay", "10", "%", "now"]),
    ("at 10:30, see 2011-12", ["at", "10:30", "see", "2011-12"]),
    ('a "quoted" well-known word', ["a", "quoted", "well-known", "word"]),
])
def test_ptb_tokens(text, tokens):
    assert ptb_tokenize(text) == tokens
