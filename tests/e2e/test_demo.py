"""`make demo`'s script end to end on the tiny corpus, in a private data root and instance."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from resources.warehouse import view_name

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_materializes_everything_and_exposes_every_asset_in_the_warehouse(tmp_path, monkeypatch):
    env = dict(os.environ)
    env.update({"DAGSTER_HOME": str(tmp_path / "home"), "MMFOUNDRY_DATA": str(tmp_path / "data"),
                "PYTHONPATH": str(ROOT)})
    env.pop("MMFOUNDRY_LANDING", None)
    (tmp_path / "home").mkdir()
    proc = subprocess.run([sys.executable, "-m", "scripts.demo", "--size", "tiny"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "group" in proc.stdout and "make ui" in proc.stdout

    monkeypatch.setenv("MMFOUNDRY_DATA", env["MMFOUNDRY_DATA"])
    from definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        names = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        names |= {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        for key in graph.materializable_asset_keys:
            assert view_name(key.path) in names, f"no warehouse view for {key.to_user_string()}"
        assert con.sql("SELECT count(*) FROM raw_video_metadata").fetchall()[0][0] > 0
        from assets.quality.sql_models import MODELS

        empty = [m.name for m in MODELS if con.sql(f'SELECT count(*) FROM "{m.name}"').fetchall()[0][0] == 0]
        assert not empty, f"report tables left empty by the demo: {empty}"
        released = con.sql("SELECT min(record_id) FROM finevideo_dataset").fetchall()[0][0]
        rejected = con.sql("SELECT min(record_id) FROM provenance_index WHERE NOT kept").fetchall()[0][0]
    for record_id, expected in [(released, "released in: finevideo_dataset"), (rejected, "rejected at ")]:
        out = subprocess.run([sys.executable, "-m", "scripts.audit", record_id], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and expected in out.stdout and "code_version" in out.stdout, out.stderr
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
