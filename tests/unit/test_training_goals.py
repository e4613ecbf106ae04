"""The training goals fail where a result misses them: ERROR at the profiles the figures are
measured at, WARN at the fast smoke profile, computed from the rows the asset wrote."""

import dagster as dg
import polars as pl
import pytest

from assets.training import goal_checks, goals


def _eval_rows(qa_right: int, boxes: list[float], dialogues_right: int) -> pl.DataFrame:
    rows = [{"stage": "stage2", "kind": "qa", "qtype": "count", "score": float(i < qa_right), "dialogue_id": None}
            for i in range(100)]
    rows += [{"stage": "stage2", "kind": "qa", "qtype": "where", "score": s, "dialogue_id": None} for s in boxes]
    for d in range(10):
        rows += [{"stage": "stage2", "kind": "dialogue", "qtype": "count", "score": float(d < dialogues_right or t == 0),
                  "dialogue_id": f"d{d}"} for t in range(2)]
    rows += [{"stage": "base", "kind": "qa", "qtype": "count", "score": 1.0, "dialogue_id": None}] * 5  # not judged
    return pl.DataFrame(rows, infer_schema_length=None)


def _run_checks(frame: pl.DataFrame, profile: str) -> dict[str, dg.AssetCheckEvaluation]:
    @dg.asset(name="mllm_eval")
    def stand_in():
        return dg.Output(frame, metadata={"profile": profile})

    checks = [goal_checks.stage2_qa_goal, goal_checks.grounding_goal, goal_checks.dialogue_goal]
    result = dg.materialize([stand_in, *checks], instance=dg.DagsterInstance.ephemeral())
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


@pytest.mark.parametrize(("profile", "severity"), [("default", dg.AssetCheckSeverity.ERROR),
                                                   ("large", dg.AssetCheckSeverity.ERROR),
                                                   ("fast", dg.AssetCheckSeverity.WARN)])
def test_missed_goals_fail_with_the_profiles_severity(profile, severity):
    missed = _run_checks(_eval_rows(qa_right=90, boxes=[0.6] * 6 + [0.2] * 4, dialogues_right=5), profile)
    assert {name: e.passed for name, e in missed.items()} == {
        "stage2_qa_goal": False, "grounding_goal": False, "dialogue_goal": False}
    assert {e.severity for e in missed.values()} == {severity}
    assert missed["stage2_qa_goal"].metadata["qa_accuracy"].value == pytest.approx(0.9)
    assert missed["grounding_goal"].metadata["bbox_acc50"].value == pytest.approx(0.6)
    assert missed["dialogue_goal"].metadata["dialogue_all_correct"].value == pytest.approx(0.5)


def test_met_goals_pass():
    met = _run_checks(_eval_rows(qa_right=93, boxes=[0.6] * 7 + [0.2] * 3, dialogues_right=6), "default")
    assert all(e.passed for e in met.values()), {n: e.metadata for n, e in met.items()}
    assert goals.is_smoke("fast") and not goals.is_smoke("default")


@pytest.mark.parametrize(("ratio", "speedup", "passed"), [(1.2, 30.0, True), (1.2, 20.0, False), (1.6, 40.0, False)])
def test_scm_goal_needs_both_the_matched_speedup_and_the_fd_ratio(ratio, speedup, passed):
    one = {"section": "sampler", "sampler": "student_1step", "ratio_to_teacher": ratio, "ratio_lo": ratio - 0.1,
           "ratio_hi": ratio + 0.1, "speedup_matched": speedup, "speedup_matched_lo": speedup - 5,
           "speedup_matched_hi": speedup + 5, "matched_bound": "", "matched_nfe": 20.0, "speedup_vs_reference": 50.0}

    @dg.asset(name="scm_report")
    def stand_in():
        return dg.Output(pl.DataFrame([one, {**one, "sampler": "student_2step"}]), metadata={"profile": "default"})

    result = dg.materialize([stand_in, goal_checks.scm_speedup_goal], instance=dg.DagsterInstance.ephemeral())
    (judged,) = result.get_asset_check_evaluations()
    assert judged.passed is passed and judged.severity == dg.AssetCheckSeverity.ERROR
    assert judged.metadata["speedup_matched"].value == speedup
