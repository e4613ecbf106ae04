"""The refinement loop with a scripted model that fails, answers and rewrites; every question ends
in exactly one status, at most five rewrites, failures never count as fine."""

from __future__ import annotations

import polars as pl
import pytest

from assets.cinepile.mcq import MCQ
from assets.cinepile.refinement import DEFAULTS, Check, RefinementParams, Rejected, Vote, refine
from assets.cinepile.rewriting import RewriteTask, rewrite_offline
from assets.cinepile.tables import final_rows, refinement_figures, round_rows
from assets.kit.identity import parse_record_id
from assets.kit.provenance import contract_problems, model_entry
from tests.fakes.word_vectors import encode

MAX_ROUNDS = DEFAULTS.max_rounds


def mcq(question: str, key: int = 2) -> MCQ:
    return MCQ(question=question, choices=["v", "w", "x", "y", "z"], answer_key_position=key, rationale="r",
               start_timestamp="00:01", end_timestamp="00:02")


BLIND = model_entry("blind_answer", "offline", "offline:text-only-baselines", "cinepile_blind_answer@1", "b", "f")
CONTEXT = model_entry("context_answer", "offline", "offline:scene-text-reader", "cinepile_context_answer@1", "c", "f")
WRITER = model_entry("question", "offline", "offline:grounded-scene-reader", "cinepile_question@1", "w", "f")
REWRITER = model_entry("rewrite", "offline", "offline:cue-removal", "cinepile_rewrite@1", "r", "f")


class Script:
    """A blind answerer, a context answerer and a rewriter scripted by question text:
    - blind: "cue" in the question = always the key (5/5), "fail" = the call fails in one rotation,
      anything else = always slot A of the rotation shown (right in exactly 1 of 5);
    - context: "lost" in the question = wrong, "ctxfail" = the call fails, else right;
    - rewrite: the next text from `plans[question_id]`, a str starting with "!" = the call fails,
      "?" = the rewrite came back but cannot be used (`Rejected`)."""

    def __init__(self, plans: dict[str, list[str]]):
        self.plans = {k: list(v) for k, v in plans.items()}
        self.rewrite_calls: dict[str, int] = {}
        self.rewrite_inputs: dict[str, list[str]] = {}

    def blind(self, mcqs):
        out = []
        for m in mcqs:
            if "cue" in m.question:
                out.append([Vote(m.answer_key_position, "cue", model=BLIND)] * 5)
            elif "fail" in m.question and "ctxfail" not in m.question:
                out.append([Vote(None, error="APIError: 500", model=BLIND)] + [Vote(0, model=BLIND)] * 4)
            else:
                out.append([Vote((0 - k) % 5, "slot A", model=BLIND) for k in range(5)])
        return out

    def context(self, pairs):
        return [Check(None, error="APIError: 500", model=CONTEXT) if "ctxfail" in m.question
                else Check("lost" not in m.question, model=CONTEXT) for m, _ in pairs]

    def rewrite(self, pairs):
        out = []
        for v, ctx in pairs:
            qid = ctx["question_id"]
            self.rewrite_calls[qid] = self.rewrite_calls.get(qid, 0) + 1
            self.rewrite_inputs.setdefault(qid, []).append(v.mcq.question)
            text = self.plans[qid].pop(0)
            out.append(text[1:] if text.startswith("!") else Rejected(text[1:]) if text.startswith("?")
                       else mcq(text, key=v.mcq.answer_key_position))
        return out


def run(questions: dict[str, str], plans: dict[str, list[str]], max_rounds: int = MAX_ROUNDS, degenerate_at: int = 3):
    script = Script(plans)
    triples = [(qid, mcq(q), {"question_id": qid}) for qid, q in questions.items()]
    params = RefinementParams(max_rounds=max_rounds, degenerate_at=degenerate_at)
    return refine(triples, script.blind, script.context, script.rewrite, params), script


def test_an_unusable_rewrite_is_a_round_and_the_loop_goes_on_from_the_last_version():
    [o], script = run({"q1": "cue: who is it?"}, {"q1": ["?offers a second true option", "who is it now?"]})
    assert o.status == "fixed" and script.rewrite_calls == {"q1": 2}
    assert [outcome for _, outcome in o.rounds] == ["degenerate", "invalid_rewrite", "fixed"]
    assert script.rewrite_inputs["q1"] == ["cue: who is it?", "cue: who is it?"]


def test_a_question_without_a_cue_is_fine_and_never_rewritten():
    [o], script = run({"q1": "who is it?"}, {})
    assert o.status == "fine" and script.rewrite_calls == {}
    assert [(v.round, outcome) for v, outcome in o.rounds] == [(0, "fine")]
    assert o.rounds[0][0].blind_correct == 1


def test_a_degenerate_question_is_fixed_by_a_rewrite_that_passes_both_tests():
    [o], script = run({"q1": "cue question"}, {"q1": ["cue again", "subtle question"]})
    assert o.status == "fixed" and o.final.mcq.question == "subtle question" and o.final.round == 2
    assert [outcome for _, outcome in o.rounds] == ["degenerate", "still_degenerate", "fixed"]
    assert o.original.mcq.question == "cue question"


def test_at_most_five_rewrites_then_still_degenerate():
    [o], script = run({"q1": "cue question"}, {"q1": [f"cue {i}" for i in range(10)]})
    assert script.rewrite_calls == {"q1": MAX_ROUNDS}  # the public loop's off-by-one allowed six
    assert [v.round for v, _ in o.rounds] == [0, 1, 2, 3, 4, 5]
    assert o.status == "still_degenerate" and o.final is o.original


def test_a_rewrite_that_loses_the_context_answerer_is_not_built_upon():
    [o], script = run({"q1": "cue question"}, {"q1": ["lost one", "lost two", "lost three", "lost four", "lost five"]})
    assert o.status == "unanswerable"
    assert script.rewrite_inputs["q1"] == ["cue question"] * 5  # every round starts again from the answerable version


def test_a_failed_blind_call_makes_the_question_unverified_never_fine():
    [o], _ = run({"q1": "fail here now"}, {})
    assert o.status == "unverified" and "500" in o.reason


def test_a_failed_context_call_or_rewrite_call_makes_the_question_unverified():
    outcomes, _ = run({"q1": "cue question", "q2": "cue question"}, {"q1": ["ctxfail rewrite"], "q2": ["!APIError: 503"]})
    assert [o.status for o in outcomes] == ["unverified", "unverified"]
    assert outcomes[1].reason == "rewrite failed: APIError: 503"
    assert all(o.final is o.original for o in outcomes)


def test_zero_rounds_leaves_degenerate_questions_degenerate():
    [o], script = run({"q1": "cue question"}, {"q1": ["subtle"]}, max_rounds=0)
    assert o.status == "still_degenerate" and script.rewrite_calls == {}


def question_frame(questions: dict[str, str]) -> pl.DataFrame:
    n = len(questions)
    return pl.DataFrame({
        "record_id": list(questions), "video_record_id": ["v"] * n, "scene_record_id": ["s"] * n,
        "video_id": ["vid"] * n, "scene_id": [1] * n, "template_id": ["t"] * n, "kind": ["who_says"] * n,
        "category": ["CRD"] * n, "question_category": ["Character and Relationship Dynamics"] * n,
        "question": list(questions.values()), "models": [[WRITER]] * n,
    })


def test_the_degeneracy_threshold_is_a_parameter_of_the_loop():
    # "who is it?" is answered blind in 1 rotation of 5, "cue" questions in 5 of 5
    [fine], _ = run({"q1": "who is it?"}, {}, degenerate_at=2)
    [strict], script = run({"q1": "who is it?"}, {"q1": ["subtle question"] * 5}, degenerate_at=1)
    assert fine.status == "fine" and [outcome for _, outcome in fine.rounds] == ["fine"]
    # at 1 of 5 even the position-bias answer counts: every rewrite stays degenerate
    assert strict.status == "still_degenerate" and script.rewrite_calls == {"q1": MAX_ROUNDS}
    with pytest.raises(ValueError):
        RefinementParams(degenerate_at=6)
    with pytest.raises(ValueError):
        RefinementParams(max_rounds=6)  # the public loop's sixth rewrite stays impossible


def test_round_and_refined_rows_declare_their_parents_and_the_models_that_made_and_judged_them():
    questions = {"question:s:t:0": "cue question", "question:s:t:1": "who is it?"}
    outcomes, _ = run(questions, {"question:s:t:0": ["cue again", "subtle question"]})
    rewrites = {("question:s:t:0", r): {"model": REWRITER, "error": None} for r in (1, 2)}
    rounds = round_rows(outcomes, question_frame(questions), rewrites, degenerate_at=3)
    assert contract_problems(rounds) == []
    assert rounds["record_id"].to_list() == [
        "round:(question:s:t:0):0", "round:(question:s:t:0):1", "round:(question:s:t:0):2",
        "round:(question:s:t:1):0"]
    assert [parse_record_id(r)[1][0] for r in rounds["record_id"]] == rounds["question_id"].to_list()
    assert rounds["parent_ids"].to_list() == [[q] for q in rounds["question_id"]]
    roles = [[m["role"] for m in ms] for ms in rounds["models"].to_list()]
    assert roles[0] == ["question"] + ["blind_answer"] * 5 + ["context_answer"]  # written, then judged
    assert roles[1] == roles[2] == ["rewrite"] + ["blind_answer"] * 5 + ["context_answer"]
    assert rounds["degenerate_at"].unique().to_list() == [3]
    final = final_rows(rounds, question_frame(questions))
    assert contract_problems(final) == []
    fixed = final.row(0, named=True)
    assert fixed["record_id"] == "refined:(question:s:t:0)" and fixed["status"] == "fixed"
    assert fixed["parent_ids"] == ["question:s:t:0", "round:(question:s:t:0):2"]
    assert fixed["models"][0]["role"] == "rewrite" and (fixed["degenerate_before"], fixed["degenerate_after"]) == (
        True, False)
    fine = final.row(1, named=True)
    assert fine["parent_ids"] == ["question:s:t:1", "round:(question:s:t:1):0"]
    assert fine["models"][0] == WRITER


def test_the_rewriter_identity_follows_its_encoder():
    task = RewriteTask(encode, encoder="word-vectors")
    assert task.offline_model_used() == "cue-removal+word-vectors"
    assert task.identity("offline", "") != RewriteTask(encode, encoder="other").identity("offline", "")


def test_every_question_is_accounted_for_in_the_tables():
    questions = {"q1": "who is it?", "q2": "cue question", "q3": "cue question", "q4": "fail question", "q5": "cue question"}
    plans = {"q2": ["fine now"], "q3": [f"cue {i}" for i in range(5)], "q5": ["lost one"] * 5}
    outcomes, _ = run(questions, plans)
    scene_questions = question_frame(questions)
    rounds = round_rows(outcomes, scene_questions, {}, degenerate_at=3)
    assert rounds.filter(pl.col("is_final")).height == 5
    assert rounds["record_id"].n_unique() == rounds.height
    final = final_rows(rounds, scene_questions)
    assert dict(final.select("question_id", "status").rows()) == {
        "q1": "fine", "q2": "fixed", "q3": "still_degenerate", "q4": "unverified", "q5": "unanswerable"}
    assert final.height == int(final["kept"].sum()) + int((~final["kept"]).sum()) == 5
    assert final.filter(~pl.col("kept"))["reason"].null_count() == 0
    figures = refinement_figures(rounds)
    assert figures["degenerate_before"] == 3 and figures["verified_questions"] == 4
    assert figures["fixed_share_of_degenerate"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["degenerate_after"] == 2 and figures["refined"] == 2
    assert figures["answerable_share_of_refined"] == 1.0


def test_offline_rewrite_keeps_the_key_and_draws_same_type_distractors():
    m = MCQ(question='Who says "the oven is hot"?', choices=["Maria", "Tom", "Lena", "Sam", "Kim"],
            answer_key_position=0, rationale="r", start_timestamp="00:10", end_timestamp="00:12")
    pool = ["Tom", "Lena", "Sam", "Kim", "Priya", "Dana", "Elena", "Bo"]
    for r in range(1, 6):
        new = rewrite_offline(m, pool, r, encode, time_of_quote=10.0)
        assert new.answer_key == "Maria" and len(set(new.choices)) == 5
        assert set(new.choices) - {"Maria"} <= set(pool)
        assert ("the line at 00:10" in new.question) == (r >= 3)


def test_offline_rewrite_refuses_without_enough_distractors():
    with pytest.raises(ValueError, match="same-type distractors"):
        rewrite_offline(mcq("what is it?"), ["w", "x", "v"], 1, encode)
