"""The training goals (`goals.py`) as asset checks that can fail: ERROR at the profiles the
figures are measured at, WARN at `fast`. Each recomputes its figure from the rows the asset
wrote (the per-item scores), not from the asset's own summary, and reads the run's profile from
the materialization it judges.
"""

import dagster as dg
import polars as pl

from assets.training import goals
from assets.training.dpo_assets import chair_of, hallucination_eval
from assets.training.mllm_assets import mllm_eval
from assets.training.scm_assets import scm_report

FINGERPRINT_EXEMPT = "checks judge an output; they do not make it"


def _profile(context: dg.AssetCheckExecutionContext, asset: str) -> str | None:
    event = context.instance.get_latest_materialization_event(dg.AssetKey(asset))
    meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
    return meta["profile"].value if "profile" in meta else None


def _result(context, asset: str, passed: bool, metadata: dict) -> dg.AssetCheckResult:
    profile = _profile(context, asset)
    severity = dg.AssetCheckSeverity.WARN if goals.is_smoke(profile) else dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(passed=bool(passed), severity=severity, metadata={"profile": profile or "", **metadata})


def _stage2(mllm_eval: pl.DataFrame) -> dict[str, float]:
    from assets.training.mllm_metrics import summarise

    return summarise(mllm_eval.filter(pl.col("stage") == "stage2").to_dicts())


@dg.asset_check(asset=mllm_eval, description=f"Stage 2 answers >= {goals.STAGE2_QA:.0%} of held-out count, "
                "existence, region and reading questions exactly (ERROR at default/large, WARN at fast).")
def stage2_qa_goal(context: dg.AssetCheckExecutionContext, mllm_eval: pl.DataFrame) -> dg.AssetCheckResult:
    qa = _stage2(mllm_eval).get("qa_accuracy", 0.0)
    return _result(context, "mllm_eval", qa >= goals.STAGE2_QA, {"qa_accuracy": qa, "goal": goals.STAGE2_QA})


@dg.asset_check(asset=mllm_eval, description=f"Stage 2's box for 'where is the N?' overlaps the truth at IoU >= 0.5 "
                f"on >= {goals.GROUNDING_ACC50:.0%} of held-out grounding questions (ERROR at default/large).")
def grounding_goal(context: dg.AssetCheckExecutionContext, mllm_eval: pl.DataFrame) -> dg.AssetCheckResult:
    s = _stage2(mllm_eval)
    acc50 = s.get("bbox_acc50", 0.0)
    return _result(context, "mllm_eval", acc50 >= goals.GROUNDING_ACC50,
                   {"bbox_acc50": acc50, "bbox_iou": s.get("bbox_iou", 0.0), "goal": goals.GROUNDING_ACC50})


@dg.asset_check(asset=mllm_eval, description=f"Stage 2 gets >= {goals.DIALOGUE_ALL_CORRECT:.0%} of held-out "
                "multi-turn dialogues right in every turn, after its own earlier answers (ERROR at default/large).")
def dialogue_goal(context: dg.AssetCheckExecutionContext, mllm_eval: pl.DataFrame) -> dg.AssetCheckResult:
    s = _stage2(mllm_eval)
    whole = s.get("dialogue_all_correct", 0.0)
    return _result(context, "mllm_eval", whole >= goals.DIALOGUE_ALL_CORRECT,
                   {"dialogue_all_correct": whole, "dialogue_turn_accuracy": s.get("dialogue_turn_accuracy", 0.0),
                    "goal": goals.DIALOGUE_ALL_CORRECT})


@dg.asset_check(asset=hallucination_eval, description=f"DPO lowers CHAIR by >= {goals.CHAIR_REDUCTION:.0%} relative "
                f"while Cover drops by at most {goals.COVER_DROP_POINTS:g} points (ERROR at default/large).")
def dpo_lowers_chair(context: dg.AssetCheckExecutionContext, hallucination_eval: pl.DataFrame) -> dg.AssetCheckResult:
    caps = hallucination_eval.filter(pl.col("task") == "caption")
    before, after = (chair_of(caps.filter(pl.col("variant") == v)) for v in ("before_dpo", "after_dpo"))
    rel = (before["CHAIR"] - after["CHAIR"]) / before["CHAIR"] if before["CHAIR"] else 0.0
    cover_drop = 100 * (before["Cover"] - after["Cover"])
    return _result(context, "hallucination_eval", rel >= goals.CHAIR_REDUCTION and cover_drop <= goals.COVER_DROP_POINTS,
                   {"chair_before": before["CHAIR"], "chair_after": after["CHAIR"], "chair_relative_reduction": rel,
                    "cover_drop_points": cover_drop})


@dg.asset_check(asset=scm_report, description=f"The 1-step sCM student is >= {goals.SCM_SPEEDUP:g}x faster than the "
                f"teacher at matched quality, at an FD ratio <= {goals.SCM_FD_RATIO} to the teacher's reference "
                "sampler (ERROR at default/large, WARN at fast).")
def scm_speedup_goal(context: dg.AssetCheckExecutionContext, scm_report: pl.DataFrame) -> dg.AssetCheckResult:
    one = scm_report.filter((pl.col("section") == "sampler") & (pl.col("sampler") == "student_1step")).row(0, named=True)
    # a matched NFE at the sweep's cheapest point is only an upper bound on the speed-up
    passed = (one["ratio_to_teacher"] <= goals.SCM_FD_RATIO and one["speedup_matched"] >= goals.SCM_SPEEDUP
              and one["matched_bound"] != "<=")
    return _result(context, "scm_report", passed, {
        "fd_ratio": one["ratio_to_teacher"], "fd_ratio_ci95": [one["ratio_lo"], one["ratio_hi"]],
        "speedup_matched": one["speedup_matched"],
        "speedup_matched_ci95": [one["speedup_matched_lo"], one["speedup_matched_hi"]],
        "matched_nfe": f"{one['matched_bound']}{one['matched_nfe']:.2f}", "speedup_vs_reference": one["speedup_vs_reference"]})


CHECKS = [stage2_qa_goal, grounding_goal, dialogue_goal, dpo_lowers_chair, scm_speedup_goal]
