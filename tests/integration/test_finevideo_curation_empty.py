"""When every video of every shard is rejected before labelling, each curation stage still runs,
accounts for zero rows, passes its checks and says so in the card (no model is loaded)."""

import dagster as dg
import polars as pl

from assets.finevideo.youtube_commons import normalise
from resources.warehouse import query
from scripts.materialize import materialize_graph
from tests.fakes.finevideo_screens import finevideo_definitions
from tests.integration.test_finevideo_curation import CURATION, _check_results

KEY = {"record_id": "yt:s1:a:0", "video_id": "a", "shard": "s1"}  # the raw row's id


def _screen(**kw) -> pl.DataFrame:
    row = {**KEY, "kept": True, "reason": None, "reasons": [], "detail": None, **kw}
    return pl.DataFrame([row], schema_overrides={"reason": pl.String, "detail": pl.String,
                                                 "reasons": pl.List(pl.String)})


def test_an_all_static_shard_flows_through_as_accounted_zeros(mmf_env):
    data = mmf_env.data
    raw = normalise(pl.DataFrame({"video_id": ["a"], "title": ["t"], "text": ["w " * 80], "license": ["CC-BY"]}),
                    shard="s1", source_file="s1.parquet", source_sha256="0" * 64)
    frames = {
        "raw_video_metadata": raw,
        "language_screen": _screen(word_count=80),
        "video_files": _screen(media_uri="file:///nowhere.mp4", sha256="0" * 64, duration_s=60.0, fps=10.0),
        "word_density_screen": _screen(duration_s=60.0, words_per_second=1.3),
        "dynamism_screen": _screen(kept=False, reason="static", reasons=["static"], detail="3/3 static",
                                   duration_s=60.0, fps=10.0, scene_cuts_s=None, motion_per_second=[0.0] * 60),
    }
    for asset, df in frames.items():
        (data_dir := __import__("pathlib").Path(data) / asset).mkdir(parents=True, exist_ok=True)
        df.write_parquet(data_dir / "s1.parquet")
    defs = finevideo_definitions()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("video_shards", ["s1"])
        run = materialize_graph(defs, instance, selection=[dg.AssetKey(a) for a in CURATION])
        assert run.success, [r.error for r in run.runs if not r.success]
        checks = _check_results(instance, [r.run_id for r in run.runs])
    assert checks and all(checks.values()), checks
    wh = mmf_env.warehouse_path
    for asset in ("taxonomy_labels", "curated_selection", "video_annotations", "aligned_annotations",
                  "finevideo_dataset"):
        assert query(wh, f"SELECT count(*) AS n FROM {asset}")["n"][0] == 0, asset
    funnel = query(wh, 'SELECT stage, inputs, kept FROM finevideo_dataset_card ORDER BY "order"')
    assert funnel.row(4) == ("dynamism_screen", 1, 0) and funnel["kept"][-1] == 0
