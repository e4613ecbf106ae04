"""The sCM scaling study materialized at the fast profile: three sizes (one partition each), each
with its own teacher and student judged at 1/2/4 steps, then the claims read across them."""

import dagster as dg
import polars as pl

from assets.kit.provenance import contract_problems
from scripts.materialize import materialize_graph

KEYS = [dg.AssetKey("scm_scaling"), dg.AssetKey("scm_scaling_claims")]


def test_three_sizes_each_judged_at_one_two_four_steps_and_the_claims_read_across_them(mmf_env, monkeypatch):
    from assets.training.definitions import ASSETS, CHECKS
    from resources.deployment import build_resources

    monkeypatch.setenv("MMFOUNDRY_TORCH_THREADS", "1")
    monkeypatch.setenv("MMFOUNDRY_GPU_DEVICE", "cpu")
    monkeypatch.setenv("MMFOUNDRY_TRAINING_PROFILE", "fast")
    defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS, resources=build_resources())
    with dg.instance_for_test() as instance:
        run = materialize_graph(defs, instance, selection=KEYS)
        assert run.success, run.runs[-1].error
        assert sorted(r.partition_key for r in run.runs if r.partition_key) == ["large", "medium", "small"]
        size_meta = {k: instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=KEYS[0], asset_partitions=[k]), limit=1).records[0].asset_materialization.metadata
            for k in ("small", "medium", "large")}
        claims_meta = instance.get_latest_materialization_event(KEYS[1]).asset_materialization.metadata
    cells = pl.concat([pl.read_parquet(f"{mmf_env.data}/scm_scaling/{k}.parquet") for k in ("small", "medium", "large")])
    claims = pl.read_parquet(f"{mmf_env.data}/scm_scaling_claims.parquet")

    # three sizes, growing: each its own teacher (reference row) and student at 1, 2 and 4 steps
    params = {k: size_meta[k]["params"].value for k in size_meta}
    assert params["small"] < params["medium"] < params["large"]
    assert size_meta["small"]["launch"].value == "in_process"
    for size in params:
        rows = {(r["network"], r["steps"]): r for r in cells.filter(pl.col("size") == size).to_dicts()}
        students = {k: r for (net, k), r in rows.items() if net == "student"}
        assert sorted(students) == [1, 2, 4] and sum(net == "teacher" for net, _ in rows) == 1
        assert [len(eval(students[k]["t_mids"])) for k in (1, 2, 4)] == [0, 1, 3]
        assert eval(students[4]["t_mids"])[:1] == eval(students[2]["t_mids"])  # greedy: 2 steps are 4's prefix
        for k, r in students.items():
            assert r["nfe"] == k and r["ratio_lo"] <= r["ratio_to_teacher"] <= r["ratio_hi"]
            assert r["speedup_matched_lo"] <= r["speedup_matched"] <= r["speedup_matched_hi"]
            assert r["speedup_vs_reference"] > 1 and r["fd_test_lo"] <= r["fd_test"] <= r["fd_test_hi"]
            assert (r["p_no_gain"] is None) == (k == 1) and (k == 1 or 0 <= r["p_no_gain"] <= 1)
        # the 1-step student costs a fraction of the 4-step one
        assert students[1]["sec_per_sample"] < students[4]["sec_per_sample"]
        # lineage: the student and teacher rows name different checkpoints, each in the media store
        shas = {net: r["checkpoint_sha256"] for (net, _), r in rows.items()}
        assert shas["teacher"] != shas["student"]
        for (net, _), r in rows.items():
            assert r["checkpoint_uri"].endswith(f"{r['checkpoint_sha256']}.pt")
            assert [m["model"] for m in r["models"]] == [f"scm_scaling_{net}:{r['checkpoint_sha256']}"]
    assert contract_problems(cells) == [] and cells["record_id"].n_unique() == cells.height
    assert "scm_scaling:small:student:4" in cells["record_id"].to_list()

    # the claims: one row each, a verdict and a statement, resting on every cell
    assert claims["claim"].to_list() == ["consistent_across_sizes", "more_steps_narrow_gap"]
    assert contract_problems(claims) == []
    assert set(claims["parent_ids"][0]) == set(cells["record_id"])
    for r in claims.to_dicts():
        assert isinstance(r["holds"], bool) and r["statement"] and r["missing_sizes"] == []
        assert claims_meta[f"{r['claim']}/holds"].value == r["holds"]
    assert "data:image/png;base64," in claims_meta["scaling"].value
