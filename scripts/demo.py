"""`make demo`: build the sample corpus, materialize every asset on the embedded defaults, print a
summary, and say how to open the UI on the same instance.

Usage: python -m scripts.demo [--size tiny|small] [--seed N] [--select GROUP[,GROUP]]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fail(message: str) -> None:
    print(f"demo: error: {message}", file=sys.stderr)
    sys.exit(2)


def summary_rows(defs, warehouse) -> list[tuple[str, str, str, str, str]]:
    """Rows, kept and rejected per asset, read through `warehouse` (a `resources.warehouse.Warehouse`:
    the local file, or views over remote data)."""
    from resources.warehouse import view_name

    rows = []
    graph = defs.resolve_asset_graph()
    names = [view_name(k.path) for k in graph.materializable_asset_keys]
    with warehouse.read_connection(names) as con:
        views = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        for key in graph.toposorted_asset_keys:
            node = graph.get(key)
            if not node.is_materializable:
                continue
            name = view_name(key.path)
            group = node.group_name or ""
            if name not in views and name not in tables:
                rows.append((group, key.to_user_string(), "-", "-", "-"))
                continue
            cols = {c[0] for c in con.sql(f'DESCRIBE "{name}"').fetchall()}
            if "kept" in cols:
                n, k = con.sql(f'SELECT count(*), count(*) FILTER (WHERE kept) FROM "{name}"').fetchall()[0]
                rows.append((group, key.to_user_string(), str(n), str(k), str(n - k)))
            else:
                (n,) = con.sql(f'SELECT count(*) FROM "{name}"').fetchall()[0]
                rows.append((group, key.to_user_string(), str(n), "", ""))
    groups = list(dict.fromkeys(r[0] for r in rows))
    return sorted(rows, key=lambda r: groups.index(r[0]))  # stable: pipeline order within a group


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default=os.environ.get("MMFOUNDRY_DEMO_SIZE", "small"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--select", default="", help="comma-separated groups (default: all)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    # the summary is the demo's output: library deprecation notices (transformers, peft) only bury it
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(peft|transformers|torch)\.")

    from resources.settings import ConfigError, is_remote, load_settings

    try:
        settings = load_settings()
    except ConfigError as e:
        _fail(str(e))
    started = time.perf_counter()

    from corpus.build import MANIFEST, build_corpus

    landing = Path(settings.landing)
    if is_remote(settings.landing) or (landing.exists() and not (landing / MANIFEST).exists()):
        print(f"using the landing zone {settings.landing} as it is (no sample corpus manifest)")
    elif not landing.exists() and os.environ.get("MMFOUNDRY_LANDING"):
        _fail(f"landing zone {settings.landing} does not exist (unset MMFOUNDRY_LANDING to build the sample)")
    else:
        t0 = time.perf_counter()
        build_corpus(landing, seed=args.seed, size=args.size)
        print(f"sample corpus ready in {settings.landing} ({time.perf_counter() - t0:.1f} s)")

    import dagster as dg

    try:
        from definitions import defs
    except ConfigError as e:
        _fail(str(e))

    from scripts.materialize import materialize_graph
    from scripts.pools import apply_pool_limits
    from scripts.shards import register_landed_shards

    instance = dg.DagsterInstance.get()
    apply_pool_limits(instance)
    added = register_landed_shards(defs, instance)
    for name, keys in added.items():
        print(f"partitions {name}: {len(keys)} shard(s) registered")

    selection = None
    if args.select:
        groups = {g.strip() for g in args.select.split(",") if g.strip()}
        graph = defs.resolve_asset_graph()
        selection = [k for k in graph.materializable_asset_keys if graph.get(k).group_name in groups]

    def progress(run) -> None:
        where = f"[{run.partition_key}]" if run.partition_key else ""
        status = "ok" if run.success else f"FAILED: {run.error}"
        print(f"  {', '.join(run.assets)} {where} {run.seconds:.1f}s {status}", flush=True)

    print("materializing ...")
    result = materialize_graph(defs, instance, selection=selection,
                               tags={"mmfoundry/trigger": "demo"}, on_run=progress)

    from resources.warehouse import Warehouse, sync_views

    graph = defs.resolve_asset_graph()
    sync_views(settings.warehouse_path, settings.data, [k.path for k in graph.materializable_asset_keys],
               settings.storage_options)
    warehouse = Warehouse(database=settings.warehouse_path, data_root=settings.data,
                          storage_options=settings.storage_options)

    print()
    print_table(("group", "asset", "rows", "kept", "rejected"), summary_rows(defs, warehouse))
    print()
    print(f"{len(result.runs)} runs in {time.perf_counter() - started:.0f} s; "
          f"warehouse: {settings.warehouse_path} (one view per asset)")
    print("open the UI on these runs: make ui  ->  http://127.0.0.1:3000")
    if not result.success:
        failed = [r for r in result.runs if not r.success]
        print(f"demo: {len(failed)} run(s) failed: {failed[0].error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
