"""CinePile on the demo corpus: what adversarial refinement does, and what it costs.

Builds the small sample corpus into bench/out/cinepile, materializes the FineVideo chain up to
`aligned_annotations` and then the cinepile group (offline backends), and prints: the share of
blind-answerable (degenerate) questions before and after refinement, the share of degenerate
questions fixed, the share of refined questions still answered correctly with the scene text, the
offline blind baseline's accuracy on the refined test split (chance is 20%), the leaderboard, and
the cinepile group's wall-clock time (on whatever else the machine is doing). Targets from issue 4:
>= 90% of degenerate fixed, >= 95% of refined answerable with context, blind baseline within 5
points of 20%.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "cinepile"


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def _pct(x) -> str:
    return f"{100 * x:.1f}%" if isinstance(x, float | int) else str(x)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    os.environ.update({"MMFOUNDRY_DEPLOYMENT": "local", "MMFOUNDRY_DATA": str(OUT / "data"),
                       "MMFOUNDRY_LANDING": str(OUT / "landing")})
    for var in ("MMFOUNDRY_WAREHOUSE", "MMFOUNDRY_CACHE", "MMFOUNDRY_LLM_BACKEND", "MMFOUNDRY_VLM_BACKEND"):
        os.environ.pop(var, None)
    import dagster as dg
    import polars as pl

    from assets.cinepile.tables import refinement_figures
    from corpus.build import build_corpus
    from definitions import build_definitions
    from scripts.materialize import materialize_graph
    from scripts.shards import register_landed_shards

    build_corpus(OUT / "landing", seed=0, size="small")
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    cinepile = [k for k in graph.materializable_asset_keys if graph.get(k).group_name == "cinepile"]
    upstream = dg.AssetSelection.assets(dg.AssetKey("aligned_annotations"), dg.AssetKey("curated_selection")
                                        ).upstream().resolve(graph)
    with dg.instance_for_test() as instance:
        register_landed_shards(defs, instance)
        assert materialize_graph(defs, instance, selection=upstream).success
        start = time.perf_counter()
        run = materialize_graph(defs, instance, selection=cinepile)
        seconds = time.perf_counter() - start
        assert run.success, [r.error for r in run.runs]

    data = OUT / "data"
    read = {n: pl.read_parquet(data / f"{n}.parquet") for n in (
        "cinepile_scenes", "question_templates", "scene_questions", "refinement_rounds", "refined_questions",
        "cinepile_dataset", "cinepile_leaderboard")}
    f = refinement_figures(read["refinement_rounds"])
    board = read["cinepile_leaderboard"]
    blind = board.filter((pl.col("adapter") == "blind_baseline") & (pl.col("slice") == "overall"))
    blind_acc = blind["accuracy"][0] if blind.height else None
    ds = read["cinepile_dataset"]
    print(f"videos {read['cinepile_scenes']['video_record_id'].n_unique()}, scenes {read['cinepile_scenes'].height}, "
          f"templates {read['question_templates'].height}, scene questions kept "
          f"{int(read['scene_questions']['kept'].sum())}/{read['scene_questions'].height}, released {ds.height} "
          f"(test {int((ds['split'] == 'test').sum())}); cinepile group {seconds:.0f} s\n")
    rows = [
        ("degenerate before refinement", _pct(f["degenerate_share_before"]),
         f"{f['degenerate_before']}/{f['verified_questions']}", ""),
        ("degenerate after refinement", _pct(f["degenerate_share_after"]),
         f"{f['degenerate_after']}/{f['verified_questions']}", ""),
        ("degenerate questions fixed", _pct(f["fixed_share_of_degenerate"]), f"{f['fixed']}/{f['degenerate_before']}",
         ">= 90%"),
        ("refined answerable with the scene", _pct(f["answerable_share_of_refined"]), f"of {f['refined']}", ">= 95%"),
        ("blind baseline, refined test split", f"{blind_acc:.1f}%" if blind_acc is not None else "n/a",
         f"of {blind['questions'][0] if blind.height else 0}", "15-25%"),
        ("blind accuracy over rotations (refined)", _pct(f["blind_accuracy_refined_rotations"]), "", ""),
        ("rewrites tried", str(f["rewrites"]), f"max round {f['max_round']}", "<= 5"),
    ]
    _table(rows, ("figure", "value", "count", "target"))
    print()
    status = read["refined_questions"].group_by("status").len().sort("status")
    _table([(s, str(n)) for s, n in status.rows()], ("status", "questions"))
    print()
    wide = board.pivot(on="adapter", index=["slice", "value"], values="accuracy")
    _table([tuple("" if v is None else str(v) for v in r) for r in wide.rows()], tuple(wide.columns))


if __name__ == "__main__":
    main()
