"""The one code location: each group's explicit definitions (`assets/<group>/definitions.py`),
the provenance index over all of them, resources for the chosen deployment, landing-zone and
automation sensors. Loaded by workspace.yaml (module `definitions`, working directory `.`)."""

from __future__ import annotations

import importlib

import dagster as dg

from assets.quality.provenance_assets import build_provenance_index, provenance_edges
from resources.deployment import build_executor, build_resources
from resources.settings import load_settings
from sensors.automation import apply_policy, automation_sensors
from sensors.landing import SHARD_SOURCES, build_landing_sensor

GROUPS = ("finevideo", "cinepile", "docmatix", "training", "quality")


def load_groups() -> tuple[list, list, list]:
    """Every group's ASSETS, CHECKS and JOBS, in the order of GROUPS."""
    all_assets, all_checks, all_jobs = [], [], []
    for group in GROUPS:
        module = importlib.import_module(f"assets.{group}.definitions")
        all_assets += module.ASSETS
        all_checks += module.CHECKS
        all_jobs += getattr(module, "JOBS", [])
    return all_assets, all_checks, all_jobs


def partitioned_by(all_assets: list, partitions_def: dg.PartitionsDefinition) -> dg.AssetSelection | None:
    keys = [k for a in all_assets if isinstance(a, dg.AssetsDefinition) and a.partitions_def == partitions_def
            for k in a.keys]
    return dg.AssetSelection.assets(*keys) if keys else None


def validate_sql_models(all_assets: list) -> None:
    """Unknown tables in SQL models or checks fail at load time with the file named."""
    from assets.quality.check_specs import load_checks
    from assets.quality.sql_models import MODELS, SQL_DIR
    from assets.quality.sql_parse import SqlModelError, check_known

    known = {k.path[-1] for a in all_assets if isinstance(a, dg.AssetsDefinition) for k in a.keys}
    check_known(MODELS, known)
    unknown = sorted({c.table for c in load_checks(SQL_DIR / "checks.yml")} - known)
    if unknown:
        raise SqlModelError(f"checks.yml names tables no asset provides: {', '.join(unknown)}")


def build_definitions() -> dg.Definitions:
    all_assets, all_checks, all_jobs = load_groups()
    all_assets += [build_provenance_index(all_assets), provenance_edges]
    validate_sql_models(all_assets)
    all_assets, keys_by_kind = apply_policy(all_assets, load_settings().release_cron)
    sensors = [build_landing_sensor(src, partitioned_by(all_assets, src.partitions_def))
               for src in SHARD_SOURCES]
    sensors += automation_sensors(keys_by_kind)
    return dg.Definitions(
        assets=all_assets,
        asset_checks=all_checks,
        jobs=all_jobs,
        sensors=sensors,
        resources=build_resources(),
        executor=build_executor(),
    )


defs = build_definitions()
