"""One way to declare an asset: `@kit_asset(group=...)`.

Every asset gets its group and owners, `kinds`, optional shard partitions, the blocking checks of
its kind (screens: `accounted` and `unique_ids`; contract rows: `provenance`), check results tied to
the partition they judged, a description that states its rule parameters, and a `code_version`
computed, never hand-bumped: the source closure of the asset's module (assets/kit/fingerprint.py),
the defaults of its `RuleSet`, and the fingerprint of each `Task` it runs. Editing a threshold, a
prompt or an offline method marks exactly the assets that use it stale.

`versioned(df, metadata)` returns the output with a data version hashed from its content, so a
step that recomputes the same rows reports the same data version and automation (which reacts to
data-version changes, sensors/automation.py) starts nothing downstream.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import polars as pl
from pydantic import create_model

from assets.kit.checks import screen_check_specs
from assets.kit.fingerprint import source_fingerprint
from assets.kit.screening import RuleSet
from assets.kit.task import Task

FINGERPRINT_EXEMPT = "how assets are declared; each asset's own logic is what gets hashed"
OWNERS = {"training": ["team:ml"]}
DEFAULT_OWNERS = ["team:data"]


def code_version(module: str, rules: RuleSet | None = None, tasks: Sequence[type[Task]] = (),
                 extra: Sequence[str] = ()) -> str:
    return source_fingerprint([module], *([rules.params_json()] if rules else []),
                              *(t.fingerprint() for t in tasks), *extra, length=12)


def rule_config(rules: type[RuleSet], name: str, **fields: Any) -> type[dg.Config]:
    """A run-config class whose fields are the rule parameters (defaults from the RuleSet), plus
    any other `fields` (name=(type, pydantic Field)), so the launchpad can try other thresholds."""
    params = {f: (info.annotation, info) for f, info in rules.model_fields.items()}
    return create_model(name, __base__=dg.Config, **params, **fields)


def rules_from(config: dg.Config, rules: type[RuleSet]) -> RuleSet:
    return rules(**{f: getattr(config, f) for f in rules.model_fields})


def frame_version(df: pl.DataFrame) -> str:
    """A content hash of a frame (schema and rows, in order), over its Arrow IPC bytes: every
    dtype the assets use (nested lists, structs, binary) hashes the same in every process."""
    sink = _HashSink()  # hashed as written: a large frame's bytes are never held twice
    # Arrow's oldest layout: a string column taken from a larger frame (filtered, joined) keeps views
    # into that frame's buffers, which the current layout writes out, so equal frames could hash apart
    df.rechunk().write_ipc(sink, compression="uncompressed", compat_level=pl.CompatLevel.oldest())
    return sink.digest.hexdigest()[:20]


class _HashSink(io.RawIOBase):
    def __init__(self):
        super().__init__()
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.digest.update(b)
        return len(b)


def versioned(df: pl.DataFrame | pl.LazyFrame, metadata: dict[str, Any] | None = None, rules: RuleSet | None = None,
              volatile: Sequence[str] = (), version: str | None = None) -> dg.Output:
    """The asset's output with its content hash as data version (and the rule parameters used,
    which the audit re-evaluates stored rows against). `volatile` columns (what a measurement
    cost, say CPU seconds) are left out of the hash, so measuring the same shard again reports the
    same version. A LazyFrame (a table too large for memory, streamed to storage) comes with the
    `version` its writer computed."""
    meta = dict(metadata or {})
    if rules is not None:
        meta["rule_params"] = dg.MetadataValue.json(rules.model_dump(mode="json"))
    if version is None:
        if isinstance(df, pl.LazyFrame):
            raise ValueError("a LazyFrame output needs the data version its writer computed")
        version = frame_version(df.drop([c for c in volatile if c in df.columns]))
    with warnings.catch_warnings():  # user data versions are a Dagster beta; the warning would print per step
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.Output(df, metadata=meta, data_version=dg.DataVersion(version))


# "incremental" on a fan-in whose cost follows what changed, not the pool: automation does not hold
# it to the release schedule (sensors/automation.py)
REFRESH_TAG = "mmfoundry/refresh"


def kit_asset(*, group: str, description: str, partitions_def: dg.PartitionsDefinition | None = None,
              kinds: Sequence[str] = ("polars", "parquet"), rules: RuleSet | None = None,
              tasks: Sequence[type[Task]] = (), screen: bool = False,
              check_specs: Sequence[Callable[[str, dg.PartitionsDefinition | None], dg.AssetCheckSpec]] = (),
              version_extra: Sequence[str] = (), **kwargs) -> Callable:
    """`@dg.asset` with the kit's conventions; `check_specs` are factories (asset name,
    partitions) so each check is tied to the asset's partitions. Other keyword arguments pass
    through to `dg.asset` (ins, deps, pool, op_tags, ...)."""

    def decorate(fn):
        name = kwargs.pop("name", fn.__name__)
        specs = [*(screen_check_specs(name, partitions_def) if screen else []),
                 *(make(name, partitions_def) for make in check_specs)]
        text = description if rules is None else f"{description}\n\nRules (defaults): {rules.describe()}."
        return dg.asset(
            name=name, group_name=group, owners=OWNERS.get(group, DEFAULT_OWNERS), kinds=set(kinds),
            partitions_def=partitions_def, description=text,
            code_version=code_version(fn.__module__, rules, tasks, version_extra),
            check_specs=specs or None, **kwargs,
        )(fn)

    return decorate
