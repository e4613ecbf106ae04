"""When each asset refreshes, decided in one place (declarative automation) and evaluated by
automation sensors split by kind, which start RUNNING.

- Shard roots (partitioned assets with no partitioned parent): the landing sensors request them when
  a shard lands or is rewritten; automation re-runs them only when their code version changes.
- Per-shard assets downstream, fan-ins and reports: `on_new_data`, which is Dagster's `eager` with
  one change: it reacts to a parent's *data version* changing, not to a parent merely running.
  Every asset reports a content hash as its data version (assets/kit/asset_kit.versioned), so a
  re-run that reproduces the same rows starts nothing downstream, while a new shard or a changed
  row flows through. Like `eager` it waits while any parent is missing or in progress, so a
  backfill of many shards refreshes a fan-in once, after them; a shard whose latest run failed is
  not waited for (the fan-in leaves it out and says so). Or a code-version change (a new
  prompt, offline method, rule parameter or SQL file re-runs exactly the affected assets;
  unchanged model calls come back from the response cache).
- Reports (`quality`) and the provenance index use the same condition, evaluated by their own
  sensor every `REPORT_DEBOUNCE_S` seconds: a burst of shard refreshes lands as one report run,
  and `make audit` sees new records minutes after they land, not the next morning.
- Training: once when missing, then only on a code-version change; retraining on every data
  refresh is a decision for a person, not a sensor.
"""

from __future__ import annotations

import dagster as dg

KINDS = ("shard_roots", "shards", "fan_ins", "reports", "training")
TICK_S = 30
REPORT_DEBOUNCE_S = 120


def on_new_data(shards: dg.AssetSelection | None = None) -> dg.AutomationCondition:
    """`eager`, keyed on parents' data versions instead of their materializations. With `shards`
    (a fan-in's partitioned parents) it does not wait for a shard whose latest run failed (that
    shard has no output, and the fan-in names it as left out), so one broken or killed shard never
    stops every release; it still waits for shards that have not run yet, and for any other parent
    that is missing, failed or not."""
    parents_changed = dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.data_version_changed() | dg.AutomationCondition.will_be_requested()
    ).with_label("any_deps_data_changed")
    waiting = dg.AutomationCondition.any_deps_missing()
    if shards is not None:
        missing = dg.AutomationCondition.missing() & ~dg.AutomationCondition.will_be_requested()
        waiting = (
            dg.AutomationCondition.any_deps_match(missing & ~dg.AutomationCondition.execution_failed()).allow(shards)
            | dg.AutomationCondition.any_deps_match(missing).ignore(shards)
        ).with_label("any_deps_missing_but_failed_shards")
    return (
        (dg.AutomationCondition.newly_missing() | parents_changed).since_last_handled()
        & ~waiting
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("on_new_data")


def kind_of(assets_def: dg.AssetsDefinition, key: dg.AssetKey, parents: set[dg.AssetKey],
            partitioned: set[dg.AssetKey]) -> str:
    spec = assets_def.specs_by_key[key]
    if spec.group_name == "quality":
        return "reports"
    if spec.group_name == "training":
        return "training"
    if assets_def.partitions_def is not None:
        return "shards" if parents & partitioned else "shard_roots"
    return "fan_ins"


def condition_for(kind: str, shards: dg.AssetSelection | None = None) -> dg.AutomationCondition:
    """The kind's condition; `shards` are the partitioned assets, which fan-ins and reports do not
    wait for once a shard's latest run failed."""
    code_changed = dg.AutomationCondition.code_version_changed()
    if kind == "shard_roots":
        return code_changed
    if kind == "shards":
        return on_new_data() | code_changed
    if kind in ("fan_ins", "reports"):
        return on_new_data(shards) | code_changed
    return dg.AutomationCondition.on_missing() | code_changed


def apply_policy(all_assets: list) -> tuple[list, dict[str, list[dg.AssetKey]]]:
    """Every asset gets the condition of its kind; returns the assets and the keys per kind."""
    defs = [a for a in all_assets if isinstance(a, dg.AssetsDefinition)]
    partitioned = {k for a in defs if a.partitions_def is not None for k in a.keys}
    by_kind: dict[str, list[dg.AssetKey]] = {k: [] for k in KINDS}
    kinds = {
        k: kind_of(a, k, {d.asset_key for d in a.specs_by_key[k].deps}, partitioned)
        for a in defs for k in a.keys
    }
    for key, kind in kinds.items():
        by_kind[kind].append(key)
    shards = dg.AssetSelection.assets(*partitioned)
    mapped = dg.map_asset_specs(
        lambda spec: spec.replace_attributes(automation_condition=condition_for(kinds[spec.key], shards)),
        defs,
    )
    return mapped, by_kind


def automation_sensors(by_kind: dict[str, list[dg.AssetKey]]) -> list[dg.AutomationConditionSensorDefinition]:
    return [
        dg.AutomationConditionSensorDefinition(
            f"{kind}_automation",
            target=dg.AssetSelection.assets(*keys),
            default_status=dg.DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=REPORT_DEBOUNCE_S if kind == "reports" else TICK_S,
            description=f"Declarative automation for {kind.replace('_', ' ')} (see sensors/automation.py).",
        )
        for kind, keys in by_kind.items() if keys
    ]
