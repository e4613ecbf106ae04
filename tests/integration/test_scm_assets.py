"""sCM teacher -> student -> report materialized through the training group's definitions in the
fast profile, and the Pipes launch path (the same training job in a separate process)."""

import dagster as dg
import polars as pl
import pytest

from assets.kit.provenance import contract_problems
from resources.gpu import GPUResource
from scripts.materialize import materialize_graph

KEYS = [dg.AssetKey(k) for k in ("scm_teacher", "scm_student", "scm_report")]


def build_definitions() -> dg.Definitions:
    from assets.training.definitions import ASSETS, CHECKS
    from resources.deployment import build_resources

    return dg.Definitions(assets=ASSETS, asset_checks=CHECKS, resources=build_resources())


@pytest.fixture
def one_thread(monkeypatch):
    monkeypatch.setenv("MMFOUNDRY_TORCH_THREADS", "1")
    monkeypatch.setenv("MMFOUNDRY_GPU_DEVICE", "cpu")
    monkeypatch.setenv("MMFOUNDRY_TRAINING_PROFILE", "fast")


def test_fast_profile_teacher_student_report(mmf_env, one_thread):
    defs = build_definitions()
    with dg.instance_for_test() as instance:
        run = materialize_graph(defs, instance, selection=KEYS)
        assert run.success, run.runs[-1].error
        meta = {k.path[-1]: instance.get_latest_materialization_event(k).asset_materialization.metadata
                for k in KEYS}
    teacher = pl.read_parquet(f"{mmf_env.data}/scm_teacher.parquet")
    student = pl.read_parquet(f"{mmf_env.data}/scm_student.parquet")
    report = pl.read_parquet(f"{mmf_env.data}/scm_report.parquet")
    # the teacher learned: its loss fell; its checkpoint is in the media store under its sha256
    assert teacher["loss"][-1] < 0.7 * teacher["loss"][0]
    sha = teacher["checkpoint_sha256"][0]
    assert teacher["checkpoint_uri"][0].endswith(f"{sha}.pt") and meta["scm_teacher"]["checkpoint_sha256"].value == sha
    assert "data:image/png;base64," in meta["scm_teacher"]["loss_curve"].value
    assert student["teacher_checkpoint_sha256"][0] == sha
    memory = meta["scm_student"]["memory_gb"].value  # RECIPES section 7: reference = the frozen teacher
    assert memory["reference_gb"] == memory["policy_gb"] > 0 and memory["optimizer_gb"] == 2 * memory["gradients_gb"]
    ratios = student.drop_nulls("ratio_1step")
    assert ratios["step"].to_list()[0] == 0 and ratios.height >= 2
    # distillation: the 1-step student beats the 1-step teacher it started from
    assert ratios["ratio_1step"][-1] < ratios["ratio_1step"][0]
    samplers = {r["sampler"]: r for r in report.filter(pl.col("section") == "sampler").to_dicts()}
    assert set(samplers) == {"teacher_reference", "teacher_2step", "student_1step", "student_2step"}
    assert samplers["student_1step"]["nfe"] == 1 and samplers["student_2step"]["nfe"] == 2
    assert samplers["student_1step"]["speedup_vs_reference"] > 1
    # intervals around every figure, and the speed-up at matched quality
    for r in samplers.values():
        assert r["fd_test_lo"] <= r["fd_test"] <= r["fd_test_hi"] and r["ratio_lo"] <= r["ratio_to_teacher"] <= r["ratio_hi"]
    one = samplers["student_1step"]
    assert one["matched_bound"] in ("", ">=", "<=") and 2 <= one["matched_nfe"] <= 126
    assert one["speedup_matched_lo"] <= one["speedup_matched"] <= one["speedup_matched_hi"] and one["speedup_matched"] > 0
    assert samplers["teacher_reference"]["matched_nfe"] is None
    sweep_times = report.filter((pl.col("section") == "heun_sweep") & pl.col("sec_per_sample").is_not_null())
    assert sweep_times.height >= 1 and sweep_times.filter("reference").height == 1
    assert sum(r["chosen"] for r in samplers.values()) == 1
    sweep = report.filter(pl.col("section") == "heun_sweep")
    assert sweep["nfe"].max() == 126 and sweep["reference"].sum() == 1
    assert meta["scm_report"]["reference_nfe"].value == sweep.filter("reference")["nfe"][0]
    floor = report.filter(pl.col("section") == "floor")
    assert floor["fd_test"][0] < samplers["teacher_2step"]["fd_test"]
    assert "data:image/png;base64," in meta["scm_report"]["sample_grid"].value
    assert meta["scm_report"]["fd_ratio_chosen"].value > 0
    assert meta["scm_report"]["speedup_matched_1step"].value == pytest.approx(one["speedup_matched"], abs=0.06)
    # provenance: step rows of a run, the final step stands for the checkpoint
    for df in (teacher, student, report):
        assert contract_problems(df) == [] and df["record_id"].n_unique() == df.height
    final = f"scm_teacher:{sha}:{teacher['step'].max()}"
    assert teacher["record_id"][-1] == final == meta["scm_student"]["teacher_checkpoint_record"].value
    assert set(teacher["parent_ids"].explode()) == {"image_source:digits"}
    assert set(student["parent_ids"].explode()) == {final}
    evaluated = {r["sampler"]: [m["model"] for m in r["models"]] for r in report.to_dicts()}
    student_final = meta["scm_student"]["checkpoint_record"].value
    assert evaluated["teacher_2step"] == [final] and evaluated["student_1step"] == [student_final]
    assert evaluated["real_vs_real"] == [] and "model" not in report.columns


def test_pipes_launch_runs_the_same_job_in_a_subprocess(mmf_env, one_thread):
    """Training and sampling both go through the Pipes process: each of the three assets records
    `launch: pipes` from the process itself, and the report's rows come back whole."""
    defs = build_definitions()
    pipes_gpu = GPUResource(device="cpu", threads=1, launch="pipes")
    names = ("scm_teacher", "scm_student", "scm_report")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [defs.get_assets_def(n) for n in names],
            resources={**defs.resources, "gpu": pipes_gpu},
            run_config={"ops": {"scm_teacher": {"config": {"profile": "fast", "steps": 20}},
                                "scm_student": {"config": {"profile": "fast", "steps": 10}},
                                "scm_report": {"config": {"profile": "fast"}}}},
            instance=instance,
        )
        assert result.success
        meta = {n: result.asset_materializations_for_node(n)[0].metadata for n in names}
        logs = [e.message for e in instance.all_logs(result.run_id)]
    assert all(m["launch"].value == "pipes" for m in meta.values())
    assert meta["scm_teacher"]["steps"].value == 20 and meta["scm_student"]["steps"].value == 10
    assert meta["scm_teacher"]["gpu_threads"].value == "1" and meta["scm_report"]["device"].value == "cpu"
    assert any("sCM teacher" in (m or "") for m in logs)  # progress streamed through the Pipes log
    df = result.output_for_node("scm_teacher")
    assert df["step"].max() == 20
    report = result.output_for_node("scm_report")
    samplers = set(report.filter(pl.col("section") == "sampler")["sampler"])
    assert samplers == {"teacher_reference", "teacher_2step", "student_1step", "student_2step"}
    assert "data:image/png;base64," in meta["scm_report"]["sample_grid"].value
    assert (mmf_env.data and df["checkpoint_uri"][0].startswith("file://"))
