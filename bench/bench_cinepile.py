"""CinePile on the demo corpus: what adversarial refinement does, and what it costs.

Builds the small sample corpus into bench/out/cinepile, materializes the FineVideo chain up to
`aligned_annotations` and then the cinepile group (offline backends), and prints: the share of
blind-answerable (degenerate) questions before and after refinement, the share of degenerate
questions fixed, the share of refined questions still answered correctly with the scene text, the
offline blind baseline's accuracy on the refined test split (chance is 20%), the leaderboard, and
the cinepile group's wall-clock time (on whatever else the machine is doing). Targets from issue 4:
>= 90% of degenerate fixed, >= 95% of refined answerable with context, blind baseline within 5
points of 20%.

Then the blind-bias figures of issue 15, before (the questions as written, split the way the
release splits) and after (the release): every learned attack fitted on the train split and scored
on the test split (goal <= 25% overall, <= 30% in every category with >= 20 questions), the worst
key text per kind against its fair share (goal <= 1.5x), second true options among timestamp and
speaker questions (goal 0), lmms-eval's CinePile aggregation on the release; and on NExT-QA's real
questions (`../shared/realdata/qa`), the best learned attack held out by video and the share of its
correct answers the detector flags (goal >= 80%) at its false-flag rate, beside the five-rotation
test alone.

`python -m bench.bench_cinepile --data DIR` prints the blind-bias figures of a release another
version built (its data folder, e.g. a `git worktree` of an older commit after its own bench run),
so a change is compared on the same corpus.
"""

from __future__ import annotations

import os
import shutil
import sys
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
    read = tables(data)
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
    _table([tuple("" if v is None else str(v).replace("\n", " ") for v in r) for r in wide.rows()],
           tuple(wide.columns))
    bias(read)


GOAL_OVERALL, GOAL_CATEGORY, MIN_CATEGORY, GOAL_RATIO = 25.0, 30.0, 20, 1.5


def _attack_rows(table) -> dict[str, tuple[float, str]]:
    """Per attack: overall accuracy and the worst category with enough questions."""
    import polars as pl

    out = {}
    for (attack,), t in table.group_by("attack", maintain_order=True):
        overall = t.filter(pl.col("slice") == "overall")["accuracy"][0]
        cats = t.filter((pl.col("slice") == "question_category") & (pl.col("questions") >= MIN_CATEGORY))
        worst = cats.sort("accuracy", descending=True).row(0, named=True) if cats.height else None
        out[attack] = (overall, f"{worst['accuracy']:.1f}% {worst['value']} (n={worst['questions']})" if worst
                       else f"no category with >= {MIN_CATEGORY}")
    return out


def bias(read: dict, real_questions: bool = True) -> None:
    import polars as pl

    from assets.cinepile.bias_report import attack_table, crossfit_table, prior_table
    from assets.cinepile.categories import CATEGORIES
    from assets.cinepile.facts import also_true, second_true_options
    from assets.cinepile.lmms_eval_scoring import cinepile_aggregate_results, cinepile_process_results
    from assets.cinepile.pools import video_pools
    from assets.cinepile.replies import letter
    from assets.cinepile.tables import video_splits
    from assets.cinepile.vectors import memoized
    from resources.embeddings import EmbeddingResource

    encode = memoized(EmbeddingResource().encode)
    written = read["scene_questions"].filter(pl.col("kept"))
    cats: dict[str, set[str]] = {}
    for v, c in written.select("video_id", "category").iter_rows():
        cats.setdefault(v, set()).add(CATEGORIES[c])
    split, _ = video_splits(cats, 0.3)  # the release's default split rule, applied to the questions as written
    written = written.with_columns(split=pl.col("video_id").replace_strict(split))
    release = read["cinepile_dataset"]
    tables = {}
    for name, df in (("before", written), ("after", release)):
        tables[name] = attack_table(df.filter(pl.col("split") == "train"), df.filter(pl.col("split") == "test"), encode)
    n_test = {k: int((df["split"] == "test").sum()) for k, df in (("before", written), ("after", release))}
    before, after = _attack_rows(tables["before"]), _attack_rows(tables["after"])
    print(f"\nlearned blind attacks, fitted on the train split, test split accuracy (before: {n_test['before']} "
          f"questions as written; after: {n_test['after']} released)")
    _table([(a, f"{before[a][0]:.1f}%", f"{after[a][0]:.1f}%", before[a][1], after[a][1],
             "yes" if after[a][0] <= GOAL_OVERALL and not _worse(after[a][1]) else "NO") for a in after],
           ("attack", "before", "after", "worst category before", "worst category after",
            f"<= {GOAL_OVERALL:.0f}% / {GOAL_CATEGORY:.0f}%"))
    crossed = {name: _attack_rows(crossfit_table(df, encode)) for name, df in (("before", written),
                                                                              ("after", release))}
    print(f"\nthe same attacks cross-fitted by video over the whole set (each question scored by a model that never "
          f"saw its video; {written.height} questions as written, {release.height} released)")
    _table([(a, f"{crossed['before'][a][0]:.1f}%", f"{crossed['after'][a][0]:.1f}%", crossed["before"][a][1],
             crossed["after"][a][1]) for a in crossed["after"]],
           ("attack", "before", "after", "worst category before", "worst category after"))
    by_kind = tables["after"].filter(pl.col("slice") == "kind").pivot(on="attack", index=["value", "questions"],
                                                                        values="accuracy")
    print("\nafter, per question kind (test split, %)")
    _table([tuple(str(v) for v in r) for r in by_kind.rows()], tuple(by_kind.columns))

    print("\nworst key text per kind: key rate when shown over chance (texts shown >= 10 times)")
    pb, pa = prior_table(written), prior_table(release)
    pt = prior_table(release.filter(pl.col("split") == "test"))
    kinds = sorted(set(pb["kind"]) | set(pa["kind"]))

    def worst(t, k):
        r = t.filter(pl.col("kind") == k)
        return f"{r['ratio'][0]:.2f}x {r['text'][0]!r} ({r['keys'][0]}/{r['shown'][0]})" if r.height else "-"

    _table([(k, worst(pb, k), worst(pa, k), worst(pt, k)) for k in kinds],
           ("kind", "before", "after", "after, test split"))
    top = max(float(t["ratio"].max()) if t.height else 0.0 for t in (pa, pt))
    print(f"highest after (release and test split): {top:.2f}x (goal <= {GOAL_RATIO}x): "
          f"{'yes' if top <= GOAL_RATIO else 'NO'}")

    stored = {r["record_id"]: r for r in read["scene_questions"].iter_rows(named=True)}
    facts = video_pools(read["cinepile_scenes"])
    for name, df in (("as written", written), ("released", release)):
        audited = [r for r in df.iter_rows(named=True) if r["kind"] in (
            "at_time", "who_says", "who_first", "said_at", "seen_at", "said_next", "said_before")]
        offered = second_true_options([{k: v for k, v in r.items() if k != "distractor_pool"} for r in audited], facts)
        pooled = second_true_options([{**r, "distractor_pool": stored[r.get("question_id", r["record_id"])][
            "distractor_pool"]} for r in audited], facts)
        unjudged = sum(also_true(r["kind"], r["question"], r["choices"], r["answer_key"],
                                 facts[r["video_record_id"]]) is None for r in audited)
        print(f"second true options, {name}: {len(offered)} of {len(audited)} timestamp/speaker/line questions offer "
              f"one ({len(pooled)} counting the stored distractor pools a rewrite draws from; {unjudged} not judgeable)")

    docs = release.filter(pl.col("split") == "test")
    for who, reply in (("answer key", lambda d: letter(d["answer_key_position"])), ("always A", lambda d: "A")):
        results = [cinepile_process_results(d, [reply(d)])["cinepile_accuracy"] for d in docs.iter_rows(named=True)]
        try:
            fig = cinepile_aggregate_results(results)
            print(f"lmms-eval CinePile aggregation on the test split, {who}: {fig['accuracy']:.1f}% "
                  f"(uncounted {fig['uncounted']})")
        except KeyError as e:
            print(f"lmms-eval CinePile aggregation on the test split, {who}: FAILS (KeyError {e})")
    if real_questions:
        nextqa()


def _worse(worst_category: str) -> bool:
    return worst_category[0].isdigit() and float(worst_category.split("%")[0]) > GOAL_CATEGORY


def nextqa() -> None:
    from tests.realdata.qa import FILE, KIND, measure
    from tests.realdata.rowtable import REALDATA

    if not (REALDATA / KIND / FILE).is_file():
        print(f"\nNExT-QA: no real questions at {REALDATA / KIND / FILE}: skipped")
        return
    m = measure()
    d, r, attacks, prob = m["detector"], m["rotation_only"], m["attacks_only"], m["probability_only"]
    print(f"\nNExT-QA test split ({m['questions']} real questions, {m['videos']} videos), attacks held out by video "
          "(5 folds), accuracy")
    _table([(a, f"{100 * v:.1f}%") for a, v in m["accuracy"].items()], ("attack", "accuracy"))
    _table([(t, str(n), f"{100 * a:.1f}%") for t, (n, a) in m["by_type"].items()],
           ("type", "questions", f"{m['best']} accuracy"))
    print(f"\ndetector (flag_at {m['flag_at']}) against the best attack ({m['best']}, {100 * d['attack_accuracy']:.1f}%)")
    _table([(name, f"{100 * x['recall']:.1f}%", f"{100 * x['flag_rate']:.1f}%", f"{100 * x['null_flag_rate']:.1f}%",
             f"{100 * x['false_flag_share']:.1f}%") for name, x in (
               ("five-rotation test alone (before)", r), (f"learned attacks, p >= {m['flag_at']} only", prob),
               ("learned attacks (p rule + agreement)", attacks), ("rotations + learned attacks (after)", d))],
           ("detector", "flags its correct answers (goal >= 80%)", "flag rate", "random-key flag rate",
            "false-flag share"))


def tables(data: Path) -> dict:
    import polars as pl

    return {n: pl.read_parquet(data / f"{n}.parquet") for n in (
        "cinepile_scenes", "question_templates", "scene_questions", "refinement_rounds", "refined_questions",
        "cinepile_dataset", "cinepile_leaderboard")}


if __name__ == "__main__":
    if "--data" in sys.argv:
        bias(tables(Path(sys.argv[sys.argv.index("--data") + 1])), real_questions=False)
    else:
        main()
