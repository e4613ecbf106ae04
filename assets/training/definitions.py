"""The training group's definitions, listed explicitly (the root `definitions.py` imports them).

sCM: scm_teacher -> scm_student -> scm_report; the scaling study scm_scaling (one partition per size)
-> scm_scaling_claims.
MLLM: digit_scenes -> digit_scene_dialogues -> mllm_tokenizer -> mllm_vision_encoder,
mllm_text_decoder -> mllm_base_model -> mllm_stage1 -> mllm_stage2 -> mllm_eval.
DPO: mllm_stage2, preference_labeler -> preference_pairs -> memory_plan -> dpo_model -> hallucination_eval
-> dpo_ablation.
"""

import dagster as dg

from assets.training import goal_checks
from assets.training.dpo_assets import (
    dpo_ablation,
    dpo_model,
    hallucination_eval,
    memory_plan,
    memory_plan_fits_target,
    preference_labeler,
    preference_pairs,
)
from assets.training.mllm_assets import (
    mllm_base_model,
    mllm_eval,
    mllm_stage1,
    mllm_stage2,
    mllm_text_decoder,
    mllm_tokenizer,
    mllm_vision_encoder,
)
from assets.training.scene_assets import digit_scene_dialogues, digit_scenes
from assets.training.scm_assets import scm_report, scm_student, scm_teacher
from assets.training.scm_scaling_assets import scm_scaling, scm_scaling_claims

ASSETS: list[dg.AssetsDefinition] = [
    scm_teacher, scm_student, scm_report, scm_scaling, scm_scaling_claims,
    digit_scenes, digit_scene_dialogues,
    mllm_tokenizer, mllm_vision_encoder, mllm_text_decoder, mllm_base_model, mllm_stage1, mllm_stage2, mllm_eval,
    preference_labeler, preference_pairs, memory_plan, dpo_model, hallucination_eval, dpo_ablation,
]

CHECKS: list[dg.AssetChecksDefinition] = [memory_plan_fits_target, *goal_checks.CHECKS]
