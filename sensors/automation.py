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
- Pool-wide assets (fan-ins and reports that read every shard of a partitioned parent: the
  duplicate screens, FineVideo's selection, the releases' cards, the warehouse reports) refresh at
  most once per tick of the release schedule (`MMFOUNDRY_RELEASE_CRON`; hourly in prod, at once
  locally), when a parent's data changed since they last ran. Their cost grows with the pool (the
  selection re-ranks 1.9M candidates at 2,000 shards, 17 s) and a re-ranking can change the picks,
  so running them for every landed shard would make a shard's refresh cost grow with the pool and
  churn the release; per shard, only the shard's own steps and the provenance index (tagged
  `REFRESH_TAG: incremental`, it rebuilds only the segments whose files changed) run. What they
  start downstream (annotations, releases) follows them as before. Their first build and a
  code-version change do not wait for the schedule.
- Training: once when missing, then only on a code-version change; retraining on every data
  refresh is a decision for a person, not a sensor.
"""

from __future__ import annotations

import dagster as dg

from assets.kit.asset_kit import REFRESH_TAG

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


def on_release_schedule(cron: str) -> dg.AutomationCondition:
    """Open once a tick of `cron` has passed since the asset last ran or was requested, or while it
    has never run: a burst of new shards between two ticks refreshes a pool-wide asset once."""
    return (dg.AutomationCondition.cron_tick_passed(cron).since_last_handled()
            | dg.AutomationCondition.missing()).with_label(f"on_release_schedule({cron})")


def pool_wide(spec: dg.AssetSpec, parents: set[dg.AssetKey], partitioned: set[dg.AssetKey]) -> bool:
    """Reads every shard of a partitioned parent, and does not declare itself incremental."""
    return bool(parents & partitioned) and spec.tags.get(REFRESH_TAG) != "incremental"


def condition_for(kind: str, shards: dg.AssetSelection | None = None, release_cron: str | None = None
                  ) -> dg.AutomationCondition:
    """The kind's condition; `shards` are the partitioned assets, which fan-ins and reports do not
    wait for once a shard's latest run failed; `release_cron` gates a pool-wide fan-in or report."""
    code_changed = dg.AutomationCondition.code_version_changed()
    if kind == "shard_roots":
        return code_changed
    if kind == "shards":
        return on_new_data() | code_changed
    if kind in ("fan_ins", "reports"):
        fresh = on_new_data(shards)
        return (fresh if release_cron is None else fresh & on_release_schedule(release_cron)) | code_changed
    return dg.AutomationCondition.on_missing() | code_changed


def apply_policy(all_assets: list, release_cron: str | None = None) -> tuple[list, dict[str, list[dg.AssetKey]]]:
    """Every asset gets the condition of its kind (pool-wide ones gated by `release_cron` when it is
    set); returns the assets and the keys per kind."""
    defs = [a for a in all_assets if isinstance(a, dg.AssetsDefinition)]
    partitioned = {k for a in defs if a.partitions_def is not None for k in a.keys}
    by_kind: dict[str, list[dg.AssetKey]] = {k: [] for k in KINDS}
    parents = {k: {d.asset_key for d in a.specs_by_key[k].deps} for a in defs for k in a.keys}
    kinds = {k: kind_of(a, k, parents[k], partitioned) for a in defs for k in a.keys}
    for key, kind in kinds.items():
        by_kind[kind].append(key)
    shards = dg.AssetSelection.assets(*partitioned)

    def condition(spec: dg.AssetSpec) -> dg.AutomationCondition:
        gated = release_cron if pool_wide(spec, parents[spec.key], partitioned) else None
        return condition_for(kinds[spec.key], shards, gated)

    mapped = dg.map_asset_specs(lambda spec: spec.replace_attributes(automation_condition=condition(spec)), defs)
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
