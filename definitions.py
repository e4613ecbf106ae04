"""The one code location: every group under `assets/`, resources for the chosen deployment,
landing-zone sensors. Loaded by workspace.yaml (module `definitions`, working directory `.`)."""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

import assets as assets_pkg
from assets.quality.provenance_assets import build_provenance_index
from resources.deployment import build_resources
from sensors.automation import apply_policy, automation_sensors
from sensors.landing import SHARD_SOURCES, build_landing_sensor


def discover_groups() -> list[str]:
    """Every subpackage of `assets` is a group of the same name."""
    return sorted(m.name for m in pkgutil.iter_modules(assets_pkg.__path__) if m.ispkg)


def load_groups() -> tuple[list, list]:
    all_assets, all_checks = [], []
    for group in discover_groups():
        module = importlib.import_module(f"assets.{group}")
        all_assets += dg.load_assets_from_package_module(module, group_name=group)
        all_checks += dg.load_asset_checks_from_package_module(module)
    return all_assets, all_checks


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
    all_assets, all_checks = load_groups()
    all_assets.append(build_provenance_index(all_assets))
    validate_sql_models(all_assets)
    all_assets, keys_by_kind = apply_policy(all_assets)
    sensors = [build_landing_sensor(src, partitioned_by(all_assets, src.partitions_def))
               for src in SHARD_SOURCES]
    sensors += automation_sensors(keys_by_kind)
    return dg.Definitions(
        assets=all_assets,
        asset_checks=all_checks,
        sensors=sensors,
        resources=build_resources(),
    )


defs = build_definitions()
