"""Identity and versioning in the FineVideo group (issue 23): thresholds are rule parameters that
enter exactly their screen's code version and its run config, the dynamism measurement runs with
the configured parameters, and the same video landed in two shards is two records of which
content selection keeps one."""

from __future__ import annotations

import importlib
import sys

import dagster as dg
import polars as pl
import pytest
from pydantic import Field

from assets.finevideo import freezes, metadata_rules
from assets.kit.partitions import video_shards
from assets.kit.provenance import contract_problems, model_entry, models_series
from corpus.videos import Segment, VideoSpec, render
from resources.deployment import build_resources
from resources.storage import MediaStore
from resources.video import probe
from scripts.materialize import materialize_graph
from scripts.shards import register_landed_shards
from tests.fakes.finevideo_screens import finevideo_definitions

ASSET_MODULES = [
    "assets.finevideo.raw_metadata", "assets.finevideo.language_screen", "assets.finevideo.video_files",
    "assets.finevideo.word_density_screen", "assets.finevideo.dynamism_screen", "assets.finevideo.taxonomy_assets",
    "assets.finevideo.selection_asset", "assets.finevideo.annotation_assets", "assets.finevideo.release_assets",
    "assets.finevideo.definitions",
]


def group_versions() -> dict[str, str]:
    """Every asset of the group re-declared, as a fresh code location would, and its code version."""
    for name in ASSET_MODULES:
        importlib.import_module(name)
        importlib.reload(sys.modules[name])
    assets = sys.modules["assets.finevideo.definitions"].ASSETS
    return {a.key.to_user_string(): a.code_versions_by_key[a.key] for a in assets}


@pytest.fixture
def redeclared():
    """Restore the modules' own declarations after a test re-declared them under a patch."""
    yield group_versions
    group_versions()


class StricterDensity(metadata_rules.WordDensityRules):
    min_words_per_second: float = Field(default=0.6, ge=0)


class LaxerDynamism(freezes.DynamismRules):
    static_ratio: float = Field(default=0.5, gt=0, le=1)


class LongerFreeze(freezes.DynamismRules):
    freeze_s: float = Field(default=55.0, gt=0)


@pytest.mark.parametrize(("module", "name", "edited", "asset", "text"), [
    (metadata_rules, "WordDensityRules", StricterDensity, "word_density_screen", "words_per_second > 0.6"),
    (freezes, "DynamismRules", LaxerDynamism, "dynamism_screen", "fixed_static_fraction < 0.5"),
    (freezes, "DynamismRules", LongerFreeze, "dynamism_screen", "d=55 s"),  # a parameter of the measurement
])
def test_editing_a_threshold_default_marks_exactly_its_screen_stale(redeclared, monkeypatch, module, name, edited,
                                                                    asset, text):
    before = redeclared()
    again = redeclared()
    assert again == before  # the code version is a function of the code, not of the process
    with monkeypatch.context() as m:
        m.setattr(module, name, edited)  # the default as if edited in the source
        after = redeclared()
        assets = sys.modules["assets.finevideo.definitions"].ASSETS
        (screen,) = [a for a in assets if a.key.to_user_string() == asset]
        assert text in screen.descriptions_by_key[screen.key]  # the description states the new default
    assert {k for k in before if after[k] != before[k]} == {asset}


def test_the_rule_parameters_are_run_config_of_their_screen():
    from assets.finevideo.dynamism_screen import DynamismConfig
    from assets.finevideo.language_screen import LanguageConfig
    from assets.finevideo.word_density_screen import WordDensityConfig

    assert set(DynamismConfig.model_fields) == {"noise", "freeze_s", "segment_s", "static_ratio", "workers"}
    assert DynamismConfig().static_ratio == 0.4 and DynamismConfig().freeze_s == 50.0
    assert set(LanguageConfig.model_fields) == {"language", "min_words"}
    assert WordDensityConfig().min_words_per_second == 0.5


# -- the dynamism screen run with other parameters ------------------------------------------------

@pytest.fixture(scope="module")
def half_static(tmp_path_factory):
    """70 s: frozen 0-55 s, then moving. The fixed rule's windows are 0-60 s (a 55 s freeze: static)
    and the last 60 s, 10-70 s (45 s frozen: not), so half of its windows are static."""
    path = tmp_path_factory.mktemp("clip") / "half.mp4"
    spec = VideoSpec((Segment("testsrc", 55, frozen=True), Segment("mandelbrot", 15)), width=160, height=90, fps=5,
                     gop_s=4.0, audio=False)
    return render(spec, path)


def _stub(name: str, df: pl.DataFrame) -> dg.AssetsDefinition:
    @dg.asset(name=name, partitions_def=video_shards)
    def stub() -> pl.DataFrame:
        return df

    return stub


def _dynamism(video, tmp_path, config: dict) -> pl.DataFrame:
    from assets.finevideo.dynamism_screen import dynamism_screen

    media = MediaStore(root=str(tmp_path / "media"), cache_dir=str(tmp_path / "cache"))
    ref = media.put_file(video)
    key = {"record_id": "yt:s1:v:0", "video_id": "v", "shard": "s1", "kept": True}
    duration = probe(video).duration_s
    stubs = [_stub("language_screen", pl.DataFrame([key])),
             _stub("video_files", pl.DataFrame([{**key, "media_uri": ref.uri, "fps": 5.0}])),
             _stub("word_density_screen", pl.DataFrame([{**key, "duration_s": duration}]))]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("video_shards", ["s1"])
        result = dg.materialize([*stubs, dynamism_screen], partition_key="s1", instance=instance,
                                resources={"media": media, "io_manager": dg.mem_io_manager},
                                run_config={"ops": {"dynamism_screen": {"config": {"workers": 1, **config}}}})
        assert result.success
        assert all(e.passed for e in result.get_asset_check_evaluations())
        out = result.output_for_node("dynamism_screen")
        mat = result.asset_materializations_for_node("dynamism_screen")[0]
        assert mat.metadata["rule_params"].value == {"noise": 0.05, "freeze_s": 50.0, "segment_s": 60,
                                                     "static_ratio": 0.4, **config}
    return out


def test_the_dynamism_screen_judges_and_measures_with_its_configured_parameters(half_static, tmp_path):
    default = _dynamism(half_static, tmp_path, {}).row(0, named=True)
    assert (default["fixed_static_segments"], default["fixed_segments"]) == (1, 2)
    assert default["fixed_static_fraction"] == 0.5 and not default["kept"] and default["reason"] == "static"
    assert default["detail"] == "0.5 (keep if fixed_static_fraction < 0.4)"
    laxer = _dynamism(half_static, tmp_path, {"static_ratio": 0.6}).row(0, named=True)
    assert laxer["fixed_static_fraction"] == 0.5 and laxer["kept"]  # same measurement, other threshold
    longer = _dynamism(half_static, tmp_path, {"freeze_s": 56.0}).row(0, named=True)
    assert longer["fixed_static_segments"] == 0 and longer["kept"]  # the workers measured with d = 56 s
    assert longer["longest_freeze_s"] == 0.0 and default["longest_freeze_s"] == pytest.approx(55.0, abs=0.3)


# -- the same video landed in two shards ------------------------------------------------------------

def _land(landing: str) -> None:
    import os

    os.makedirs(f"{landing}/youtube_commons")
    common = {"text": ["w " * 80], "license": ["CC-BY"], "original_language": ["en"],
              "transcription_language": ["en"], "channel": ["c"], "view_count": [10]}
    for shard, ids in (("s1", ["v", "w"]), ("s2", ["v", "x"])):
        pl.DataFrame({"video_id": ids, **{k: v * 2 for k, v in common.items()}}).write_parquet(
            f"{landing}/youtube_commons/{shard}.parquet")


def _screens(data: str, raw: pl.DataFrame) -> None:
    """Every landed row kept by the four screens and labelled (stand-ins: this test is about ids)."""
    import os

    label = [model_entry("label", "offline", "offline:test:leaf-similarity", "taxonomy_label@1", "p", "f")]
    for shard, rows in raw.partition_by("shard", as_dict=True).items():
        base = rows.select("record_id", "video_id", "shard").with_columns(
            pl.lit(True).alias("kept"), pl.lit(None, dtype=pl.String).alias("reason"))
        frames = {
            "language_screen": base,
            "video_files": base.with_columns(pl.lit("file:///v.mp4").alias("media_uri"), pl.lit(5.0).alias("fps")),
            "word_density_screen": base.with_columns(pl.lit(60.0).alias("duration_s")),
            "dynamism_screen": base.with_columns(pl.lit("file:///v.mp4").alias("media_uri"),
                                                 pl.lit(60.0).alias("duration_s"), pl.lit(5.0).alias("fps")),
            "taxonomy_labels": base.with_columns(
                pl.lit("Automotive > Car Reviews").alias("category_path"),
                pl.lit("Automotive").alias("content_parent_category"),
                pl.lit("Car Reviews").alias("content_fine_category"),
                models_series([label] * base.height)),
        }
        for asset, df in frames.items():
            os.makedirs(f"{data}/{asset}", exist_ok=True)
            df.write_parquet(f"{data}/{asset}/{shard[0]}.parquet")


def test_the_same_video_in_two_shards_is_two_records_and_selection_keeps_one(mmf_env):
    _land(mmf_env.landing)
    defs = finevideo_definitions()
    with dg.instance_for_test() as instance:
        register_landed_shards(defs, instance)
        assert materialize_graph(defs, instance, selection=[dg.AssetKey("raw_video_metadata")]).success
        raw = pl.read_parquet(f"{mmf_env.data}/raw_video_metadata/*.parquet").sort("record_id")
        assert raw["record_id"].to_list() == ["yt:s1:v:0", "yt:s1:w:1", "yt:s2:v:0", "yt:s2:x:1"]
        assert raw.filter(pl.col("video_id") == "v")["source_key"].to_list() == ["yt:v", "yt:v"]
        assert contract_problems(raw) == []
        _screens(mmf_env.data, raw)
        from assets.finevideo.definitions import ASSETS

        result = dg.materialize(ASSETS, selection=[dg.AssetKey("video_duplicates"), dg.AssetKey("curated_selection")],
                                instance=instance,
                                resources=build_resources(),
                                run_config={"ops": {"curated_selection": {"config": {"budget_hours": 1.0}}}})
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"accounted": True, "unique_ids": True, "provenance": True}
    sel = result.output_for_node("curated_selection")
    assert sel.height == 4 and sel["record_id"].n_unique() == 4
    first, second = (sel.filter(pl.col("record_id") == rid).row(0, named=True) for rid in ("yt:s1:v:0", "yt:s2:v:0"))
    assert first["kept"] and first["reason"] is None
    assert (second["kept"], second["reason"], second["duplicate_of"]) == (False, "duplicate_source", "yt:s1:v:0")
    assert "yt:s1:v:0" in second["detail"]
    assert sel.filter(pl.col("kept"))["video_id"].sort().to_list() == ["v", "w", "x"]
    assert [m["role"] for m in first["models"]] == ["label"] and first["parent_ids"] == []
